"""What a killed grading run leaves behind, and how the next run clears it.

Each grading kernel is recorded while it runs (:func:`record_kernel`), and the next
``nbgrader autograde`` in the course stops any kernel whose grading process is gone
(:func:`stop_leftover_kernels`). Each grading process also makes scratch folders under
``/tmp`` (the kernel's connection folder, the copy of the submission it works on),
named after the process (:func:`scratch_folder`): the next run removes those whose
process is gone (:func:`remove_leftover_scratch`). A pid and its start time name one
process for good, so nothing of a run still going is touched. Nothing here runs at
import time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["record_kernel", "remove_leftover_scratch", "scratch_folder", "stop_leftover_kernels"]

SCRATCH_ROOT = Path("/tmp")
"""Where grading processes make their scratch folders (short: a Unix socket lives there)."""

_SCRATCH_NAME = re.compile(r"fmg-(?:in-)?(\d+)\.(\d+)-")


def _stat(pid: int) -> list[str] | None:
    """Return the fields of ``/proc/PID/stat`` after the name, or None if it is gone.

    A zombie counts as gone.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return None if fields[0] in "ZX" else fields


def _start_time(pid: int) -> int | None:
    """Return when process ``pid`` started (clock ticks after boot), or None if gone.

    A pid and its start time name one process for good: pids are reused, the pair is
    not.
    """
    fields = _stat(pid)
    return None if fields is None else int(fields[19])


def _group(pgid: int) -> list[int]:
    """Return the live processes of process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def _cwd(pid: int) -> str:
    """Return the working folder of process ``pid`` (``?`` when it cannot be read)."""
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return "?"


def record_kernel(folder: Path, pid: int) -> Path | None:
    """Write down a running kernel wrapper, its grading process and its working folder.

    Returns
    -------
    pathlib.Path or None
        The record (removed when the kernel is cleaned up), or None if the folder
        cannot be written (grading goes on; only the leftover check is lost).
    """
    me = os.getpid()
    info = {
        "pid": pid,
        "start": _start_time(pid),
        "grader": me,
        "grader_start": _start_time(me),
        "folder": _cwd(pid),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    record = folder / f"{pid}.json"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(record, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(info, out)
    except OSError:
        return None
    return record


def stop_leftover_kernels(folder: Path, wait: float = 10.0) -> list[str]:
    """Stop every grading kernel recorded in ``folder`` whose grading process is gone.

    The wrapper leads a process group of its own, which bwrap and the kernel
    inherit; the group gets ``SIGKILL`` when the wrapper is still the one recorded
    (same pid, same start time, the wrapper's command), or, if the wrapper is gone,
    when members of its group still work in the recorded folder. Records of a run
    still going (another ``nbgrader autograde`` in the course) are left alone;
    stale ones are removed.

    Parameters
    ----------
    folder : pathlib.Path
        The records (:attr:`SandboxedExecute.kernels_dir`).
    wait : float
        Seconds to wait for the stopped processes to be gone.

    Returns
    -------
    list of str
        One line per kernel stopped: its pid, the submission folder it graded and
        since when.
    """
    stopped: list[str] = []
    if not folder.is_dir():
        return stopped
    groups = []
    for record in sorted(folder.glob("*.json")):
        try:
            info = json.loads(record.read_text(encoding="utf-8"))
            pid, start = int(info["pid"]), info["start"]
            grader, grader_start = int(info["grader"]), info["grader_start"]
        except (OSError, ValueError, KeyError, TypeError):
            record.unlink(missing_ok=True)  # unreadable: nothing to act on
            continue
        if grader_start is not None and _start_time(grader) == grader_start:
            continue  # its grading run is still going
        if start is not None and _start_time(pid) == start:
            try:
                ours = b"sandbox_kernel.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                ours = False
            members = _group(pid) if ours else []
        else:  # the wrapper died: what is left of the group it led, in its folder
            members = [m for m in _group(pid) if _cwd(m) == info.get("folder")]
        if members:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            else:
                groups.append(pid)
                stopped.append(
                    f"pid {pid}, grading {info.get('folder', '?')} since {info.get('since', '?')}"
                )
        record.unlink(missing_ok=True)
    deadline = time.monotonic() + wait
    while any(_group(g) for g in groups) and time.monotonic() < deadline:
        time.sleep(0.1)
    return stopped


def scratch_folder(kind: str) -> str:
    """Make a private scratch folder under ``/tmp`` named after this grading process.

    Parameters
    ----------
    kind : str
        ``""`` for a kernel's connection folder, ``"in-"`` for the copy of a submission.

    Returns
    -------
    str
        The new folder (0700): ``/tmp/fmg-<kind><pid>.<start>-<random>``.
    """
    me = os.getpid()
    root = SCRATCH_ROOT if SCRATCH_ROOT.is_dir() else None
    return tempfile.mkdtemp(prefix=f"fmg-{kind}{me}.{_start_time(me)}-", dir=root)


def remove_leftover_scratch(root: Path = SCRATCH_ROOT) -> list[Path]:
    """Remove the scratch folders of grading processes that are gone (killed runs).

    Only folders of this user, named by :func:`scratch_folder`, and never through a
    link; a folder whose process still runs (another grading run) is kept.

    Parameters
    ----------
    root : pathlib.Path
        Where the scratch folders are (default ``/tmp``).

    Returns
    -------
    list of pathlib.Path
        The folders removed.
    """
    removed = []
    with os.scandir(root) as entries:
        for entry in entries:
            match = _SCRATCH_NAME.match(entry.name)
            if match is None:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                continue
            if str(_start_time(int(match[1]))) == match[2]:
                continue  # its grading process still runs
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed
