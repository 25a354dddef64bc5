"""Limits per submission, and what a grading kernel may say to the instructor.

Used by :class:`fmnist_utils.grading.sandbox.SandboxedExecute`:

- :class:`Deadline` -- a total time per notebook (``SandboxedExecute.notebook_timeout``);
  each cell's own limit (``Execute.timeout``) never runs past it;
- :class:`OutputUsage` -- output kept per cell and per notebook, measured as it
  arrives; past a limit it is dropped, with one note in the cell;
- :func:`wrapper_environment` -- the explicit environment the sandbox wrapper starts
  with (never the grading process's whole environment);
- :func:`relay_output` -- the kernel's stdout and stderr are pipes read here, each
  line logged as the student's, control characters escaped, up to a cap.

Memory, processes and disk are limited by the wrapper
(``kernels/fmnist-grader/sandbox_kernel.py``). Nothing here runs at import time.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from nbformat.v4 import new_output

from fmnist_utils.grading.outputs import is_noise

__all__ = ["Deadline", "OutputUsage", "relay_output", "wrapper_environment"]

_WRAPPER = Path(__file__).parent / "kernels" / "fmnist-grader" / "sandbox_kernel.py"
# what the wrapper reads for itself, besides what it passes into the sandbox (its ENV_KEEP)
_WRAPPER_OWN = ("PATH", "HOME", "TMPDIR")


@cache
def _wrapper_variables() -> tuple[frozenset[str], tuple[str, ...]]:
    """Read the wrapper's allow-list (``ENV_KEEP``) from the script itself: one source.

    Returns
    -------
    tuple
        The exact names, and the prefixes (``FMNIST_SANDBOX_*`` always included).
    """
    spec = importlib.util.spec_from_file_location("fmnist_sandbox_kernel", _WRAPPER)
    if spec is None or spec.loader is None:  # pragma: no cover - the file ships with us
        raise ImportError(f"cannot read the sandbox wrapper {_WRAPPER}")
    wrapper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wrapper)  # constants and functions only: main() is not run
    keep: tuple[str, ...] = wrapper.ENV_KEEP
    names = {k for k in keep if not k.endswith("*")} | {*_WRAPPER_OWN, wrapper.OPT_OUT_VAR}
    prefixes = tuple(k[:-1] for k in keep if k.endswith("*")) + ("FMNIST_SANDBOX_",)
    return frozenset(names), prefixes


def wrapper_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the variables of ``environ`` the sandbox wrapper needs, and no others.

    Parameters
    ----------
    environ : mapping
        The grading process's environment.

    Returns
    -------
    dict
        A new dict: never ``FMNIST_GRADEBOOK_URL`` or anything else the grader holds.
    """
    names, prefixes = _wrapper_variables()
    return {k: v for k, v in environ.items() if k in names or k.startswith(prefixes)}


class Deadline:
    """A notebook's total time limit.

    Parameters
    ----------
    seconds : int
        The limit; 0 or less for none.
    """

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self.start = time.monotonic()

    def left(self) -> float | None:
        """Return the seconds left, or None without a limit."""
        if self.seconds <= 0:
            return None
        return self.seconds - (time.monotonic() - self.start)

    def over(self) -> bool:
        """Tell whether the time is up."""
        left = self.left()
        return left is not None and left <= 0

    def cap(self, timeout: int | None) -> int | None:
        """Return ``timeout`` (a cell's limit, None for none), never past the deadline."""
        left = self.left()
        if left is None:
            return timeout
        left_s = max(1, int(left + 0.999))
        return left_s if timeout is None else min(timeout, left_s)


def _size(msg: dict[str, Any]) -> int:
    content = msg.get("content", {})
    if msg.get("msg_type") == "stream":
        return len(content.get("text", ""))
    return len(json.dumps(content.get("data", content), default=str))


class OutputUsage:
    """Output kept per cell and per notebook, as it arrives.

    Parameters
    ----------
    per_cell, per_notebook : int
        The limits, in bytes (characters of text, or of the JSON of rich output).
    """

    def __init__(self, per_cell: int, per_notebook: int) -> None:
        self.per_cell = per_cell
        self.per_notebook = per_notebook
        self.cell = 0
        self.total = 0
        self.index = -1
        self.noted: set[int] = set()

    def start_cell(self, index: int) -> None:
        """Start counting a new cell."""
        self.index, self.cell = index, 0

    def allow(self, outs: list[Any], msg: dict[str, Any], index: int) -> bool:
        """Tell whether to keep one output message; past a limit, add a note once."""
        if msg.get("msg_type") not in ("stream", "display_data", "execute_result", "error"):
            return True
        size = _size(msg)
        if msg.get("msg_type") == "error":
            size = min(size, 10_000)  # an error always shows (it decides the score)
        if self.cell + size <= self.per_cell and self.total + size <= self.per_notebook:
            self.cell += size
            self.total += size
            return True
        if msg.get("msg_type") == "error":
            outs.append(new_output("error", **{k: msg["content"].get(k, "") for k in ("ename",)},
                                   evalue=str(msg["content"].get("evalue", ""))[:2000],
                                   traceback=[]))  # fmt: skip
            return False
        if index not in self.noted:
            self.noted.add(index)
            which = "cell" if self.cell + size > self.per_cell else "notebook"
            limit = self.per_cell if which == "cell" else self.per_notebook
            outs.append(
                new_output(
                    "stream",
                    name="stdout",
                    text=f"\n[output truncated: over the grader's limit of {limit // 1024} KiB "
                    f"of output per {which}]\n",
                )
            )
        return False


def _printable(line: str) -> str:
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in line)


def relay_output(process: Any, who: str, log: Any, max_lines: int = 200) -> None:
    """Log a kernel's stdout and stderr lines as the student's, in background threads.

    The pipes are always read to the end (a full pipe would block the kernel); only the
    first ``max_lines`` lines are logged.

    Parameters
    ----------
    process : subprocess.Popen
        The kernel (the sandbox wrapper), started with ``stdout`` and ``stderr`` pipes.
    who : str
        ``student/lesson``, named on every line.
    log : logging.Logger
        Where the lines go.
    max_lines : int, optional
        Lines logged per stream.
    """

    def pump(stream: Any, name: str) -> None:
        count = 0
        for raw in iter(lambda: stream.readline(4096), b""):
            text = _printable(raw.decode("utf-8", "replace").rstrip("\n"))
            if is_noise(text):  # TensorFlow's start-up chatter: not the student's
                continue
            count += 1
            if count <= max_lines:
                log.info("[kernel %s of %s, student's output] %s", name, who, text)
            elif count == max_lines + 1:
                log.info("[kernel %s of %s] more lines not shown", name, who)
        stream.close()

    for stream, name in ((process.stdout, "stdout"), (process.stderr, "stderr")):
        if stream is not None:
            threading.Thread(target=pump, args=(stream, name), daemon=True).start()
