"""Inside the learner's grading kernel: find the hooks a notebook installs, to flag it.

The tests do not run in this kernel (they run in a kernel of their own:
:mod:`fmnist_utils.grading.trusted`), so nothing here protects a grade; what it finds
tells the instructor whose code to read. The grader
(:mod:`fmnist_utils.grading.integrity`) calls :func:`capture` once, before any student
code runs, then :func:`check` after every code cell, each through an
``execute_request``'s ``user_expressions`` (evaluated after the request's empty code,
outside IPython's input transformers).

What is compared with the captured state: IPython's input and AST transformers, event callbacks,
custom exception handler, the methods that compile and run cells, ``sys.settrace`` /
``sys.setprofile`` (and threading's), ``sys.displayhook`` / ``excepthook``, the
``builtins`` module, ``numpy.testing``'s and ``unittest``'s assert helpers, and the
``sys.modules`` entries of the modules tests import. Every difference found is
reported ("input transformer installed"), so the grader can flag the submission;
:func:`note` adds a finding of a check (an ``ndarray`` subclass returned to it).

This is a best effort inside a process the student controls: code that rewrites this
module, the kernel's message handling or the interpreter's memory can still lie.
docs/instructors/grading-defends.md says which cheats remain possible. Importing this module
runs nothing.
"""

from __future__ import annotations

import builtins
import json
import sys
import threading
from typing import Any

__all__ = ["capture", "check", "note"]

_MODULES = ("builtins", "sys", "math", "numpy", "numpy.testing", "unittest", "IPython")
_SHELL_METHODS = (
    "run_cell",
    "run_cell_async",
    "run_ast_nodes",
    "run_code",
    "transform_cell",
    "transform_ast",
    "showtraceback",
    "_run_cell",
    "should_run_async",
)
# event callbacks libraries register for honest notebooks (module: function names)
_LIBRARY_CALLBACKS = {
    "matplotlib_inline.backend_inline": ("flush_figures", "configure_once"),
    "matplotlib.pyplot": ("_draw_all_if_interactive",),
}
# names libraries add to builtins when imported (pybind11 modules: TensorFlow)
_LIBRARY_BUILTINS = ("__pybind11_internals",)
_state: dict[str, Any] = {}
_notes: list[str] = []


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


def _testing_helpers() -> dict[str, dict[str, Any]]:
    """Return the public functions of the assert-helper modules tests use, by module."""
    out: dict[str, dict[str, Any]] = {}
    for name in ("numpy.testing", "unittest"):
        module = sys.modules.get(name)
        if module is None:
            try:
                module = __import__(name, fromlist=["_"])
            except ImportError:
                continue
        out[name] = {k: v for k, v in vars(module).items() if not k.startswith("_")}
    case = sys.modules.get("unittest")
    if case is not None:
        out["unittest.TestCase"] = dict(vars(case.TestCase))
    return out


def capture(nonce: str) -> str:
    """Remember the clean state (call before any student code runs).

    Parameters
    ----------
    nonce : str
        Echoed first, so the grader knows the answer comes from here.

    Returns
    -------
    str
        ``nonce`` followed by an empty JSON list.
    """
    ip = _shell()
    _state.clear()
    _state["input_cleanup"] = list(ip.input_transformers_cleanup)
    _state["input_post"] = list(ip.input_transformers_post)
    _state["ast"] = list(ip.ast_transformers)
    _state["events"] = {k: list(v) for k, v in ip.events.callbacks.items()}
    _state["custom_exc"] = (ip.custom_exceptions, ip.CustomTB)
    _state["compile"] = ip.compile
    _state["instance"] = {k: v for k, v in vars(ip).items() if k in _SHELL_METHODS}
    _state["classes"] = [(cls, dict(vars(cls))) for cls in type(ip).__mro__ if cls is not object]
    _state["hooks"] = (sys.displayhook, sys.excepthook)
    _state["builtins"] = dict(vars(builtins))
    _state["modules"] = {name: sys.modules.get(name) for name in _MODULES}
    _state["testing"] = _testing_helpers()
    _state["threads"] = {t.ident for t in threading.enumerate()}
    _notes.clear()
    return _report(nonce, [])


def note(finding: str) -> None:
    """Record a finding for the next report (used by :mod:`fmnist_utils.grading.checks`).

    Parameters
    ----------
    finding : str
        What was found, in plain words.
    """
    if len(_notes) < 20:
        _notes.append(finding)


def _library_callback(callback: Any) -> bool:
    """Tell whether an event callback is one ``%matplotlib inline`` registers."""
    module = getattr(callback, "__module__", None)
    name = getattr(callback, "__name__", None)
    if module not in _LIBRARY_CALLBACKS or name not in _LIBRARY_CALLBACKS[module]:
        return False
    return getattr(sys.modules.get(module), name, None) is callback


def _changes() -> list[str]:
    """Compare the kernel with the state :func:`capture` recorded; name each difference."""
    ip = _shell()
    s = _state
    if not s:
        return ["the grader's clean state is missing (capture was not called)"]
    found: list[str] = []
    for attr, key, what in (
        ("input_transformers_cleanup", "input_cleanup", "input transformer"),
        ("input_transformers_post", "input_post", "input transformer"),
        ("ast_transformers", "ast", "AST transformer"),
    ):
        if list(getattr(ip, attr)) != s[key]:
            found.append(what)
    for event, callbacks in ip.events.callbacks.items():
        clean = s["events"].get(event, [])
        if any(cb not in clean and not _library_callback(cb) for cb in callbacks):
            found.append(f"{event} event callback")
    if (ip.custom_exceptions, ip.CustomTB) != s["custom_exc"]:
        found.append("custom exception handler")
    if ip.compile is not s["compile"]:
        found.append("cell compiler replaced")
    for name in _SHELL_METHODS:
        if name in vars(ip) and vars(ip)[name] is not s["instance"].get(name):
            found.append(f"shell method {name} replaced")
    for cls, clean in s["classes"]:
        for name in _SHELL_METHODS:
            if vars(cls).get(name) is not clean.get(name):
                found.append(f"shell method {cls.__name__}.{name} replaced")
    if sys.gettrace() is not None or threading.gettrace() is not None:
        found.append("sys.settrace hook")
    if sys.getprofile() is not None or threading.getprofile() is not None:
        found.append("sys.setprofile hook")
    if sys.displayhook is not s["hooks"][0]:
        found.append("sys.displayhook replaced")
    if sys.excepthook is not s["hooks"][1]:  # libraries may set it; IPython does not use it
        found.append("note: sys.excepthook replaced")
    table = vars(builtins)
    changed = [
        k
        for k in sorted(set(table) | set(s["builtins"]))
        if table.get(k) is not s["builtins"].get(k)
        and k not in ("_", "__", "___")  # IPython's output cache
        and not (k not in s["builtins"] and k.startswith(_LIBRARY_BUILTINS))
    ]
    if changed:
        found.append(f"builtins changed: {', '.join(changed[:5])}")
    user_builtins = ip.user_ns.get("__builtins__")
    if user_builtins is not None and user_builtins is not builtins and user_builtins is not table:
        found.append("__builtins__ replaced in the notebook")
    for name, module in s["modules"].items():
        if module is not None and sys.modules.get(name) is not module:
            found.append(f"module {name} replaced in sys.modules")
    for name, clean in s["testing"].items():
        if name == "unittest.TestCase":
            target = s["modules"].get("unittest") or sys.modules.get("unittest")
            space = vars(target.TestCase) if target else {}
        else:
            space = vars(sys.modules[name]) if name in sys.modules else {}
        bad = sorted(k for k, v in clean.items() if space.get(k) is not v)
        if bad:
            found.append(f"{name} helpers replaced: {', '.join(bad[:5])}")
    extra = [
        t
        for t in threading.enumerate()
        if t.ident not in s["threads"]
        and t.is_alive()
        and not type(t).__module__.startswith(_KERNEL_THREADS)
    ]
    if extra:
        found.append(f"note: {len(extra)} background thread(s) started by the notebook")
    found += _notes
    _notes.clear()
    return sorted(set(found))


_KERNEL_THREADS = ("zmq.", "ipykernel.")
"""Modules whose threads the kernel's own machinery starts on demand, not the notebook:
pyzmq's garbage collector thread appears the first time a large output is sent."""


def _report(nonce: str, found: list[str]) -> str:
    return nonce + json.dumps(found)


def check(nonce: str) -> str:
    """Report what changed since :func:`capture`, without changing anything.

    Parameters
    ----------
    nonce : str
        Echoed first.

    Returns
    -------
    str
        ``nonce`` followed by a JSON list of findings.
    """
    return _report(nonce, _changes())
