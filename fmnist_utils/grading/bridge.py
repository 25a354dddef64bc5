"""The learner's side of the grading channel: answer the tests' requests, data only.

While a graded test cell runs, the grader has the learner's (sandboxed) kernel call
:func:`serve`. It connects to the Unix socket of the trusted process that runs the
test (:mod:`~fmnist_utils.grading.trusted`) and answers its requests until told to
stop:

- ``get NAME``: the value of a name of the notebook, or that it is a function;
- ``call NAME`` with arguments: call the notebook's function on them, and send back
  the result and the state of the arguments after the call (so a test can see that a
  function changed its input, or compiled the model it was given);
- ``done``.

Only data crosses (:mod:`~fmnist_utils.grading.wire`); the test's code and its
expected values never enter this process, and nothing this process sends is more than
an answer to check. Everything here runs in the learner's process, so nothing here is
trusted. Nothing runs at import time.
"""

from __future__ import annotations

import builtins
import functools
import socket
import types
from typing import Any

from fmnist_utils.grading import wire

__all__ = ["serve"]

_FUNCTIONS = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    functools.partial,
)
_MAX_MESSAGE = 2000


def _namespace() -> dict[str, Any]:
    from IPython import get_ipython

    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def _encoded(value: Any, keep: dict[int, int] | None = None) -> tuple[Any, list[bytes]]:
    try:
        tree, buffers = wire.encode(value, keep, foreign=True)
    except wire.Refused as error:
        return {"kind": "refused", "what": str(error)[:_MAX_MESSAGE]}, []
    return {"kind": "value", "value": tree}, buffers


def _get(namespace: dict[str, Any], name: str) -> tuple[Any, list[bytes]]:
    if name not in namespace:
        return {"kind": "missing"}, []
    value = namespace[name]
    if isinstance(value, _FUNCTIONS):
        return {"kind": "function"}, []
    return _encoded(value)


def _raised(error: BaseException) -> dict[str, Any]:
    kind = type(error)
    try:
        text = str(error)
    except Exception:  # - a learner's __str__ may itself fail
        text = "(the error's message could not be read)"
    return {
        "kind": "raised",
        "ename": kind.__name__[:200],
        "builtin": getattr(builtins, kind.__name__, None) is kind,
        "evalue": text[:_MAX_MESSAGE],
    }


def _after(arguments: list[Any]) -> tuple[list[Any], list[bytes]]:
    """Encode the arguments a call may have changed in place.

    Arrays and the course's stand-in model whole; a Keras model as its weights and
    compile settings only (its architecture cannot change in place).
    """
    import json

    import numpy as np

    trees, buffers = [], []
    for index, value in enumerate(arguments):
        module = type(value).__module__.split(".")[0]
        state: Any = None
        if type(value) is np.ndarray or module == "fmnist_utils":
            state = value
        elif module == "keras" and hasattr(value, "get_compile_config"):
            compiled = getattr(value, "compiled", False)
            state = {
                "weights": list(value.get_weights()),
                "compile": json.dumps(value.get_compile_config()) if compiled else None,
            }
        if state is None:
            continue
        try:
            tree, data = wire.encode(state)
        except (wire.Refused, TypeError, ValueError):
            continue
        trees.append([index, _shift(tree, len(buffers))])
        buffers += data
    return trees, buffers


def _shift(tree: Any, offset: int) -> Any:
    """Renumber the buffer references of ``tree`` by ``offset`` (messages share one list)."""
    if isinstance(tree, list):
        return [_shift(item, offset) for item in tree]
    if isinstance(tree, dict):
        out = {key: _shift(item, offset) for key, item in tree.items()}
        if "buf" in tree and "$" in tree:
            out["buf"] = tree["buf"] + offset
        return out
    return tree


def _call(
    namespace: dict[str, Any], name: str, header: dict[str, Any], buffers: list[bytes]
) -> tuple[Any, list[bytes]]:
    function = namespace.get(name)
    if function is None or not callable(function):
        return {"kind": "missing"}, []
    request = wire.decode(header.get("args"), buffers, functions=namespace)
    args, kwargs = request
    arguments = [*args, *kwargs.values()]
    try:
        result = function(*args, **kwargs)
    except Exception as error:
        return _raised(error), []
    reply, data = _encoded(result, {id(a): i for i, a in enumerate(arguments)})
    after, more = _after(arguments)
    reply["after"] = _shift(after, len(data))
    return reply, data + more


def serve(path: str) -> None:
    """Answer the test's requests on the Unix socket ``path`` until it says ``done``.

    Parameters
    ----------
    path : str
        The socket the trusted process listens on.
    """
    namespace = _namespace()
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    channel.connect(path)
    try:
        while True:
            try:
                header, buffers = wire.receive(channel)
            except wire.WireError:
                return
            if not isinstance(header, dict) or header.get("op") == "done":
                return
            name = str(header.get("name", ""))
            try:
                if header.get("op") == "get":
                    reply, data = _get(namespace, name)
                else:
                    reply, data = _call(namespace, name, header, buffers)
            except Exception as error:  # - reported to the test as what happened
                reply, data = _raised(error), []
            wire.send(channel, reply, data)
    finally:
        channel.close()
