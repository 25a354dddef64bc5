"""Limits per submission, and what a grading kernel may say to the instructor.

Used by :class:`fmnist_utils.grading.sandbox.SandboxedExecute`:

- :class:`Deadline` -- a total time per notebook (``SandboxedExecute.notebook_timeout``);
  each cell's own limit (``Execute.timeout``) never runs past it;
- :class:`OutputUsage` -- output kept per cell and per notebook, measured as it
  arrives; past a limit it is dropped, with one note in the cell;
- :func:`wrapper_environment` -- the explicit environment the sandbox wrapper starts
  with (never the grading process's whole environment);
- :class:`CappedClient` -- the grader's end of a kernel's channels: a message over
  ``max_message`` bytes is dropped by ZeroMQ before it is read, so the grader's own
  memory stays bounded whatever a kernel sends;
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

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from nbformat.v4 import new_output

from fmnist_utils.grading.admit import printable
from fmnist_utils.grading.outputs import is_noise

__all__ = ["CappedClient", "Deadline", "OutputUsage", "relay_output", "wrapper_environment"]

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


class CappedClient(AsyncKernelClient):
    """A kernel client whose sockets drop any message over the course's ``max_message``.

    ZeroMQ's ``MAXMSGSIZE``: the message is refused while it arrives, never held whole
    in the grader's memory; the kernel's side is disconnected and reconnects.
    """

    def _context_default(self) -> zmq.asyncio.Context:
        from fmnist_utils.grading.config import LIMITS

        context = super()._context_default()
        context.setsockopt(zmq.MAXMSGSIZE, LIMITS.max_message)
        return context

    def reopen_output(self) -> None:
        """Make the output (iopub) channel anew: ZeroMQ drops one that sent too much."""
        self.iopub_channel.close()
        self._iopub_channel = None  # made again on first use, as by start_channels
        self.iopub_channel.start()


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
            _shorten_error(msg["content"])
            size = min(size, 10_000)  # an error always shows (it decides the score)
        if self.charge(size):
            return True
        if msg.get("msg_type") == "error":
            outs.append(new_output("error", **{k: msg["content"].get(k, "") for k in ("ename",)},
                                   evalue=str(msg["content"].get("evalue", ""))[:2000],
                                   traceback=[]))  # fmt: skip
            return False
        self.note(outs, index, size)
        return False

    def charge(self, size: int) -> bool:
        """Count ``size`` more bytes kept, if both limits allow it; tell whether they did."""
        if self.cell + size <= self.per_cell and self.total + size <= self.per_notebook:
            self.cell += size
            self.total += size
            return True
        return False

    def note(self, outs: list[Any], index: int, size: int) -> None:
        """Add the note saying output was dropped, once per cell."""
        if index in self.noted:
            return
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

    def allow_update(self, msg: dict[str, Any], copies: int, outs: list[Any]) -> bool:
        """Tell whether to apply a display update that replaces ``copies`` outputs.

        An update (``update_display_data``, or a new display with an id shown before)
        rewrites every output shown with that id: each copy counts as output kept. Past
        a limit, the note goes in ``outs`` (the running cell's outputs).
        """
        size = _size(msg) * max(copies, 1)
        if self.charge(size):
            return True
        self.note(outs, self.index, size)
        return False


def _shorten_error(content: dict[str, Any], limit: int = 10_000) -> None:
    """Keep an error's name, the start of its message and the end of its traceback."""
    content["evalue"] = str(content.get("evalue", ""))[:2000]
    lines = [str(line)[:2000] for line in content.get("traceback", []) or []]
    kept: list[str] = []
    for line in reversed(lines):  # the last frames say where it failed
        if sum(map(len, kept)) + len(line) > limit:
            kept.append("[traceback shortened by the grader]")
            break
        kept.append(line)
    content["traceback"] = kept[::-1]


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
            text = printable(raw.decode("utf-8", "replace").rstrip("\n"))
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
