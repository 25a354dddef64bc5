"""The trusted side of the grading channel: run the tests, reach the learner's code as data.

The grader runs every graded test cell in a kernel of its own (the *tests kernel*),
never in the learner's. :func:`install` prepares that kernel once per notebook:

- it listens on a Unix socket that the learner's kernel connects to while a test runs
  (:func:`fmnist_utils.grading.bridge.serve`);
- before each cell it finds the names the cell uses but does not define. A name the
  lesson imports (``np``, ``keras``, ``photo``) is imported here, from this process's
  own packages. Every other name is asked of the learner's kernel: a function becomes
  a :class:`LearnerFunction`, which calls it there; a value crosses as plain data
  (:mod:`~fmnist_utils.grading.wire`);
- after the cell those names are forgotten, so the next test sees the notebook as it
  is then.

So the comparisons, messages and printed score of every test are computed here, by
NumPy and Keras of this process, and the learner's code only ever sees the inputs a
test gives it. An answer that is not plain data fails the test with a message saying
what came back. Nothing runs at import time.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import socket
import tempfile
from typing import Any

from fmnist_utils.grading import keras_wire, wire

__all__ = [
    "LearnerError",
    "LearnerFunction",
    "Session",
    "free_names",
    "install",
    "lesson_imports",
    "serve_code",
    "take_findings",
]

_BUILTINS = frozenset(dir(builtins))
_FINDINGS: list[str] = []


def take_findings() -> list[str]:
    """Return, and forget, what the learner's answers tried to pass off as plain data.

    The grader asks after every test cell and flags the submission for each finding
    (``an ndarray subclass (Liar) was returned by ramp(...)``).
    """
    found = list(_FINDINGS)
    _FINDINGS.clear()
    return found


def _note(posing: list[str], where: str) -> None:
    for what in posing:
        if len(_FINDINGS) < 20:
            _FINDINGS.append(f"{what} was {where}")


class LearnerError(Exception):
    """An error of a type the learner's code defined, raised in the learner's function."""


def serve_code(path: str) -> str:
    """Return the code the learner's kernel runs to answer one test's requests."""
    return f"__import__('fmnist_utils.grading.bridge', fromlist=['serve']).serve({path!r})"


def _bound(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for item in ast.walk(node):
        if isinstance(item, ast.Name) and isinstance(item.ctx, ast.Store | ast.Del):
            names.add(item.id)
        elif isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(item.name)
        elif isinstance(item, ast.arg):
            names.add(item.arg)
        elif isinstance(item, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in item.names)
        elif isinstance(item, ast.ExceptHandler) and item.name:
            names.add(item.name)
        elif isinstance(item, ast.MatchAs | ast.MatchStar) and item.name:
            names.add(item.name)
    return names


def free_names(source: str) -> list[str]:
    """Names a cell reads but never binds, in order of first use (builtins left out).

    Parameters
    ----------
    source : str
        Python source (already transformed from IPython syntax).

    Returns
    -------
    list of str
        Empty when the source does not parse (the cell then fails on its own).
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    bound = _bound(tree)
    seen: dict[str, None] = {}
    for item in ast.walk(tree):
        if isinstance(item, ast.Name) and isinstance(item.ctx, ast.Load):
            if item.id not in bound and item.id not in _BUILTINS:
                seen.setdefault(item.id, None)
    return list(seen)


def lesson_imports(cells: list[dict[str, Any]]) -> dict[str, str]:
    """Return the lesson's own imports, by the name each binds: the tests' trusted names.

    Parameters
    ----------
    cells : list of dict
        The cells of the instructor's copy of the notebook (the release).

    Returns
    -------
    dict
        ``name -> import statement`` for every top-level ``import`` of a code cell
        that is not a solution cell, except names a solution cell defines (those are
        the learner's to write).
    """
    imports: dict[str, str] = {}
    learners: set[str] = set()
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            learners |= _bound(tree)
            continue
        for node in tree.body:
            if (
                isinstance(node, ast.Import | ast.ImportFrom)
                and getattr(node, "module", "") != "__future__"
            ):
                for alias in node.names:
                    one = type(node)(**{**node.__dict__, "names": [alias]})
                    imports[(alias.asname or alias.name).split(".")[0]] = ast.unparse(one)
    return {name: code for name, code in imports.items() if name not in learners}


def _rebuilt_error(reply: dict[str, Any], name: str) -> BaseException:
    ename = str(reply.get("ename", "Exception"))
    evalue = str(reply.get("evalue", ""))
    kind = getattr(builtins, ename, None)
    if reply.get("builtin") and isinstance(kind, type) and issubclass(kind, Exception):
        try:
            return kind(evalue)
        except Exception:  # - a builtin that wants other arguments
            pass
    return LearnerError(f"{name}(...) raised {ename}: {evalue}")


class Channel:
    """The listening socket, and the connection of the learner's kernel during one cell.

    Parameters
    ----------
    path : str
        Where to listen.
    timeout : float
        Seconds to wait for the learner's kernel to connect, and for each answer.
    """

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(path):
            os.unlink(path)
        self.listener.bind(path)
        self.listener.listen(4)
        self.connection: socket.socket | None = None
        self.problem: str | None = None
        self.limits = wire.Limits()

    def open(self) -> None:
        """Accept the learner kernel's connection for this cell."""
        self.problem = None
        self.listener.settimeout(min(self.timeout, 30))  # an idle kernel connects at once
        try:
            self.connection, _ = self.listener.accept()
            self.connection.settimeout(self.timeout)
        except OSError as error:
            self.connection = None
            self.problem = f"the notebook's kernel did not answer ({error or 'timed out'})"

    def request(self, header: dict[str, Any], buffers: list[bytes] = ()) -> tuple[Any, list[bytes]]:  # type: ignore[assignment]
        """Send one request and return the answer (a dict header, buffers).

        Raises
        ------
        AssertionError
            When the learner's kernel does not answer in time, or answers garbage.
        """
        if self.connection is None:
            raise AssertionError(self.problem or "the notebook's kernel is not reachable")
        try:
            wire.send(self.connection, header, list(buffers))
            reply, data = wire.receive(self.connection, self.limits)
        except (OSError, wire.WireError) as error:
            self.drop()
            what = "took too long" if isinstance(error, TimeoutError) else str(error)
            self.problem = f"the notebook's kernel stopped answering: {what}"
            raise AssertionError(self.problem) from None
        if type(reply) is not dict:
            raise AssertionError("the notebook's kernel sent an invalid answer")
        return reply, data

    def drop(self) -> None:
        """Close this cell's connection (the learner's side stops answering)."""
        if self.connection is not None:
            try:
                wire.send(self.connection, {"op": "done"})
            except OSError:
                pass
            self.connection.close()
            self.connection = None


class LearnerFunction:
    """A function of the learner's notebook, called in the learner's kernel.

    Arguments cross as data; so does the result, which is checked and rebuilt here. An
    argument the function changed in place (an array, a model it compiled) is changed
    here too, and a function that returns one of its arguments returns this side's
    object.
    """

    def __init__(self, name: str, channel: Channel) -> None:
        self.__name__ = name
        self._channel = channel

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the learner's function on copies of the arguments; return its checked result."""
        name = self.__name__
        try:
            tree, buffers = wire.encode((args, kwargs))
        except wire.Refused as error:
            raise TypeError(
                f"{name}(...) cannot be given {error}: only plain data crosses"
            ) from None
        reply, data = self._channel.request({"op": "call", "name": name, "args": tree}, buffers)
        kind = reply.get("kind")
        if kind == "raised":
            raise _rebuilt_error(reply, name)
        if kind == "missing":
            raise NameError(f"name {name!r} is not defined")
        if kind == "refused":
            raise AssertionError(
                f"{name}(...) returned {str(reply.get('what'))[:300]}, which cannot be checked: "
                "return plain data (NumPy arrays, numbers, strings, lists, tuples, dicts) or a "
                "Keras model"
            )
        arguments = [*args, *kwargs.values()]
        posing: list[str] = []
        try:
            value = wire.decode(reply.get("value"), data, self._channel.limits, arguments, posing)
            _note(posing, f"returned by {name}(...)")
            self._write_back(reply.get("after"), data, arguments)
        except wire.WireError as error:
            raise AssertionError(
                f"{name}(...) sent back something that is not valid data: {error}"
            ) from None
        return value

    def _write_back(self, after: Any, data: list[bytes], arguments: list[Any]) -> None:
        import numpy as np

        if type(after) is not list:
            return
        for item in after:
            if type(item) is not list or len(item) != 2 or type(item[0]) is not int:
                raise wire.WireError("an invalid record of changed arguments")
            index, tree = item
            if not 0 <= index < len(arguments):
                raise wire.WireError("a changed argument that was not given")
            original = arguments[index]
            state = wire.decode(tree, data, self._channel.limits)
            if type(original) is np.ndarray and type(state) is np.ndarray:
                if state.shape == original.shape and original.flags.writeable:
                    if not np.array_equal(state.astype(original.dtype, copy=False), original):
                        np.copyto(original, state, casting="unsafe")
            elif type(original).__qualname__ == "RecordingModel" and hasattr(state, "seen"):
                original.seen[:] = state.seen
            elif type(state) is dict and hasattr(original, "get_compile_config"):
                _apply_model_state(original, state)


def _apply_model_state(model: Any, state: dict[str, Any]) -> None:
    """Give ``model`` the weights and compile settings its copy had after a call."""
    weights = state.get("weights")
    if type(weights) is list:
        current = model.get_weights()
        if len(weights) == len(current) and all(
            getattr(w, "shape", None) == c.shape for w, c in zip(weights, current, strict=True)
        ):
            model.set_weights(weights)
    settings = state.get("compile")
    if type(settings) is str:
        try:
            keras_wire.compile_settings(model, json.loads(settings))
        except Exception as error:  # - Keras refuses an unsafe or invalid setting
            raise wire.WireError(
                f"compile settings that cannot be rebuilt safely ({error})"
            ) from None


class Session:
    """The tests kernel's side of one notebook: imports, the channel, cell hooks.

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell
        The tests kernel's shell.
    channel : Channel
        The socket the learner's kernel connects to.
    imports : dict
        The lesson's imports (:func:`lesson_imports`).
    """

    def __init__(self, shell: Any, channel: Channel, imports: dict[str, str]) -> None:
        self.shell = shell
        self.channel = channel
        self.imports = imports
        self.fetched: dict[str, Any] = {}

    def _value(self, name: str) -> Any:
        reply, data = self.channel.request({"op": "get", "name": name})
        kind = reply.get("kind")
        if kind == "function":
            return LearnerFunction(name, self.channel)
        if kind == "value":
            posing: list[str] = []
            try:
                value = wire.decode(reply.get("value"), data, self.channel.limits, posing=posing)
                _note(posing, f"held by `{name}`")
                return value
            except wire.WireError as error:
                return wire.foreign(
                    "object", "", f"`{name}`: something that is not valid data ({error})"
                )
        if kind == "refused":
            return wire.foreign("object", "", f"`{name}` holds {str(reply.get('what'))[:300]}")
        raise KeyError(name)

    def pre_run_cell(self, info: Any) -> None:
        """Bring in what the cell uses: the lesson's imports, then the learner's names."""
        namespace = self.shell.user_ns
        try:
            source = self.shell.transform_cell(info.raw_cell)
        except Exception:  # - the cell fails on its own when it runs
            source = info.raw_cell
        names = free_names(source)
        for name in names:
            if name in self.imports and name not in namespace:
                exec(self.imports[name], namespace)
        self.channel.open()
        for name in names:
            if name in namespace:
                continue
            try:
                namespace[name] = self.fetched[name] = self._value(name)
            except KeyError:
                continue  # not defined in the notebook: the cell's NameError says so
            except AssertionError as error:
                namespace[name] = self.fetched[name] = wire.foreign(
                    "object", "", f"`{name}`: {error}"
                )

    def post_run_cell(self, result: Any) -> None:
        """Forget the learner's names and let the learner's kernel go."""
        namespace = self.shell.user_ns
        for name, value in self.fetched.items():
            if namespace.get(name) is value:
                del namespace[name]
        self.fetched = {}
        self.channel.drop()


def install(
    shell: Any, path: str, shared: str, imports: dict[str, str], timeout: float = 120
) -> Session:
    """Prepare the tests kernel for one notebook; called by the grader, once.

    Parameters
    ----------
    shell : InteractiveShell
        ``get_ipython()`` of the tests kernel.
    path : str
        The Unix socket to listen on.
    shared : str
        A folder both kernels see at the same path: temporary files a test makes
        (``tempfile``) go there, so the learner's function can open them.
    imports : dict
        The lesson's imports (:func:`lesson_imports`).
    timeout : float, optional
        Seconds the learner's kernel may take to connect, and to answer each request.

    Returns
    -------
    Session
        The hooks, registered with the shell.
    """
    tempfile.tempdir = shared
    os.environ["TMPDIR"] = shared
    session = Session(shell, Channel(path, timeout), imports)
    shell.events.register("pre_run_cell", session.pre_run_cell)
    shell.events.register("post_run_cell", session.post_run_cell)
    return session
