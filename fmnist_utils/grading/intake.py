"""Take submissions in safely: private copies of regular files, checked names and times.

``nbgrader autograde`` runs outside the sandbox, with the instructor's rights, and acts
on the submitted folders as it finds them: it would follow a symbolic link a student
left there (writing the graded notebook over the gradebook, ``chmod``-ing or copying
the link's target into feedback) or block forever on a fifo named ``timestamp.txt``.
So, before nbgrader looks at any submission, :func:`take` copies every submitted
folder of the lesson being graded into a fresh private folder
(``instructor/.intake-<pid>-*``, mode 0700) and points nbgrader's
``submitted_directory`` at the copy:

- only regular files with a single link and directories are copied, through file
  descriptors opened with ``O_NOFOLLOW`` (no path is ever resolved through a link);
- a symbolic link, a hard link, a device, a fifo or a socket anywhere in the folder,
  a folder too deep, too many files or too many bytes make the whole submission
  *rejected*: nbgrader grades an empty notebook in its place, the sandbox does not run
  it, every test scores 0, and the reason is in the log and the gradebook comments;
- a student folder whose name could be a path (``..``, a leading dot, a ``/``) is
  refused; a file whose name is not plain ASCII letters, digits and ``_.@+-`` is
  left out of the copy, with a note that shows its name escaped;
- each notebook is then checked before anything parses it
  (:func:`~fmnist_utils.grading.admit.admit_notebook`: size, cells, format, grading
  metadata); one that fails is rejected like a link;
- ``timestamp.txt`` is the learner's own claim: the copy's is replaced by the receipt
  (:mod:`~fmnist_utils.grading.receipts`), which nbgrader then reads for lateness, or
  removed when the hand-in time is unknown (never late).

A parallel grader's job course says which of its copies were admitted already
(:data:`ADMITTED`), so they are not checked twice. :class:`SafeNameCollector` does the
name checks on ``nbgrader zip_collect``'s file names and records their receipts.
Nothing here runs at import time.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbgrader.plugins import FileNameCollectorPlugin

from fmnist_utils.grading import failures, receipts
from fmnist_utils.grading.admit import Caps, Refused, admit_notebook, read_time, visible

__all__ = [
    "ADMITTED",
    "active",
    "NAME",
    "CopyLimits",
    "Intake",
    "Rejected",
    "SafeNameCollector",
    "take",
    "taken_folder",
    "rejection",
    "safe_copy",
    "safe_name",
    "stamp_time",
]

NAME = re.compile(r"^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]{0,99}$")
"""A student id, lesson or file name that is safe as one path component."""

ADMITTED = ".fmnist-admitted.json"
"""File in a parallel job's instructor area: its copies, already admitted, and rejections."""

_REJECTED: dict[tuple[str, str], str] = {}
_TAKEN: dict[str, str] = {}


def safe_name(name: str) -> bool:
    """Tell whether ``name`` is safe as one path component (no ``..``, ``/`` or leading dot).

    Parameters
    ----------
    name : str
        A student id, lesson id or file name.

    Returns
    -------
    bool
        True when it is.
    """
    return bool(NAME.match(name)) and ".." not in name


def active() -> bool:
    """Tell whether this process graded from intake copies (``nbgrader autograde``)."""
    return bool(_TAKEN)


def rejection(student: str, lesson: str) -> str | None:
    """Return why this process's intake rejected a submission, or None.

    Parameters
    ----------
    student, lesson : str
        The submission.

    Returns
    -------
    str or None
        The reason, as written to the log.
    """
    return _REJECTED.get((student, lesson))


class Rejected(Exception):
    """A submission holds something the grader must not act on."""


@dataclass
class CopyLimits:
    """How much one submission may hold.

    Attributes
    ----------
    max_bytes : int
        Bytes of all files together.
    max_files : int
        Files and folders together.
    max_depth : int
        Folders inside folders.
    """

    max_bytes: int = 50 * 2**20
    max_files: int = 500
    max_depth: int = 8
    used_bytes: int = field(default=0, init=False)
    used_files: int = field(default=0, init=False)
    skipped: list[str] = field(default_factory=list, init=False)
    digest: Any = field(default_factory=hashlib.sha256, init=False)


def _kind(mode: int, nlink: int) -> str | None:
    """Name what makes a directory entry unsafe, or None for a plain file or folder."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return None
    if stat.S_ISREG(mode):
        return "a hard link (a file with several names)" if nlink > 1 else None
    if stat.S_ISFIFO(mode):
        return "a fifo"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _copy_file(dir_fd: int, name: str, dest: Path, limits: CopyLimits, where: str) -> None:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        problem = _kind(st.st_mode, st.st_nlink)
        if problem:  # swapped after the first look
            raise Rejected(f"{where} is {problem}")
        limits.used_bytes += st.st_size
        if limits.used_bytes > limits.max_bytes:
            raise Rejected(f"the submission holds more than {limits.max_bytes // 2**20} MiB")
        # what the learner handed in, but for their own time (a claim, kept apart)
        hashed = where.partition("/")[2].partition("/")[2] != "timestamp.txt"
        if hashed:
            limits.digest.update(f"{where.split('/', 2)[-1]}\0{st.st_size}\0".encode())
        out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            left = st.st_size
            while left > 0:
                chunk = os.read(fd, min(left, 2**20))
                if not chunk:
                    break
                os.write(out, chunk)
                if hashed:
                    limits.digest.update(chunk)
                left -= len(chunk)
        finally:
            os.close(out)
        os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
    finally:
        os.close(fd)


def _copy_dir(dir_fd: int, dest: Path, limits: CopyLimits, where: str, depth: int) -> None:
    if depth > limits.max_depth:
        raise Rejected(f"{where} is nested more than {limits.max_depth} folders deep")
    dest.mkdir(mode=0o700)
    with os.scandir(dir_fd) as entries:
        names = sorted(e.name for e in entries)
    for name in names:
        here = f"{where}/{name}"
        if not safe_name(name):  # never opened: its name could fool a log or a path
            limits.skipped.append(f"{where}/{visible(name)}")
            continue
        limits.used_files += 1
        if limits.used_files > limits.max_files:
            raise Rejected(f"the submission holds more than {limits.max_files} files")
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        problem = _kind(st.st_mode, st.st_nlink)
        if problem:
            raise Rejected(f"{here} is {problem}")
        if stat.S_ISDIR(st.st_mode):
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            try:
                _copy_dir(sub, dest / name, limits, here, depth + 1)
            finally:
                os.close(sub)
        else:
            _copy_file(dir_fd, name, dest / name, limits, here)


def _open_below(root: Path, parts: list[str]) -> int:
    """Open ``root/parts...`` as a folder, never through a link below ``root``."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for part in parts:
        try:
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError as error:
            os.close(fd)
            raise Rejected(f"{'/'.join(parts)} is not a plain folder ({error.strerror})") from error
        os.close(fd)
        fd = nxt
    return fd


def safe_copy(root: Path, parts: list[str], dest: Path, limits: CopyLimits | None = None) -> None:
    """Copy the folder ``root/parts...`` to ``dest`` (new), regular files and folders only.

    Parameters
    ----------
    root : pathlib.Path
        A trusted folder (the instructor's).
    parts : list of str
        The path below it, one component each (student, lesson).
    dest : pathlib.Path
        Where the copy goes; must not exist; made with mode 0700, files 0600.
    limits : CopyLimits, optional
        Size limits (default :class:`CopyLimits`).

    Raises
    ------
    Rejected
        With what was found (a link, a device, too big, ...); ``dest`` may then hold
        part of the copy.
    """
    limits = limits or CopyLimits()
    fd = _open_below(root, parts)
    try:
        _copy_dir(fd, dest, limits, "/".join(parts), 0)
    finally:
        os.close(fd)


def stamp_time(folder: Path) -> dt.datetime | None:
    """Read the ``timestamp.txt`` of an intake copy or graded folder as a time.

    Parameters
    ----------
    folder : pathlib.Path
        The folder (its ``timestamp.txt`` is a regular file, not a link, under 1000 bytes).

    Returns
    -------
    datetime.datetime or None
        The time (naive UTC), or None when there is none or it is not a time.
    """
    path = folder / "timestamp.txt"
    if not path.is_file() or path.is_symlink() or path.stat().st_size >= 1000:
        return None
    return read_time(path.read_text(errors="replace"))


class Intake:
    """Private copies of the submitted folders of one grading run.

    Parameters
    ----------
    submitted : pathlib.Path
        The course's submitted folder (``instructor/submitted``).
    dest : pathlib.Path
        An empty private folder; copies go to ``dest/<student>/<lesson>``.
    limits : CopyLimits, optional
        Size limits per submission.
    release_folders : list of pathlib.Path, optional
        Folders holding the lessons' student copies (``lessons/``, ``instructor/release/``):
        a rejected submission is replaced by the student copy, never run.
    instructor : pathlib.Path, optional
        The instructor area: its receipts (:mod:`~fmnist_utils.grading.receipts`) and,
        in a parallel job's course, :data:`ADMITTED`. None: neither.
    caps : admit.Caps, optional
        What one notebook may be (default: the course's limits).
    """

    def __init__(
        self,
        submitted: Path,
        dest: Path,
        limits: CopyLimits | None = None,
        release_folders: list[Path] | None = None,
        instructor: Path | None = None,
        caps: Caps | None = None,
    ) -> None:
        self.submitted = submitted
        self.dest = dest
        self.release_folders = release_folders or []
        self.limits = limits or CopyLimits()
        self.instructor = instructor
        if caps is None:
            from fmnist_utils.grading.config import LIMITS

            caps = Caps(LIMITS.max_notebook_bytes, LIMITS.max_cells)
        self.caps = caps
        self.rejected: dict[tuple[str, str], str] = {}
        self.reasons: dict[tuple[str, str], str] = {}
        self.messages: list[str] = []
        admitted = instructor / ADMITTED if instructor is not None else None
        self.admitted: dict[str, str | None] | None = None
        if admitted is not None and admitted.is_file():
            self.admitted = json.loads(admitted.read_text())

    def _say(self, text: str) -> None:
        self.messages.append(text)
        sys.stderr.write(f"[fmnist intake] {text}\n")

    def take(self, lessons: list[str] | None = None) -> None:
        """Copy every submission of ``lessons`` (default: all) into :attr:`dest`."""
        if not self.submitted.is_dir():
            return
        for student in sorted(os.listdir(self.submitted)):
            if not safe_name(student):
                self._say(f"a student folder named {visible(student)}: not a safe student "
                          "id (letters, digits, _.@+-): not graded.")  # fmt: skip
                continue
            try:
                self._take_student(student, lessons)
            except Exception as error:  # one learner's failure is that learner's alone
                what = f"{type(error).__name__}: {visible(str(error))}"
                self._say(f"{student}: could not be taken in ({what}): not graded.")

    def _take_student(self, student: str, lessons: list[str] | None) -> None:
        st = os.lstat(self.submitted / student)
        if not stat.S_ISDIR(st.st_mode):
            self._say(f"{student}: not a plain folder (a link?): not graded.")
            return
        for lesson in sorted(os.listdir(self.submitted / student)):
            if lessons is not None and lesson not in lessons:
                continue
            if not safe_name(lesson):
                self._say(f"{student}/{visible(lesson)}: not a safe lesson name: not graded.")
                continue
            try:
                self.take_one(student, lesson)
            except Exception as error:
                shutil.rmtree(self.dest / student / lesson, ignore_errors=True)
                what = f"it could not be taken in ({type(error).__name__}: {visible(str(error))})"
                self._say(f"{student}/{lesson}: {what}: not graded.")
                if self.instructor is not None:
                    failures.record(self.instructor, lesson, student, what)

    def take_one(self, student: str, lesson: str) -> Path:
        """Copy one submission, check it, and put its receipt in its ``timestamp.txt``.

        A rejected one becomes the lesson's student copy, never run, with the reason.
        """
        out = self.dest / student / lesson
        out.parent.mkdir(mode=0o700, exist_ok=True)
        limits = CopyLimits(self.limits.max_bytes, self.limits.max_files, self.limits.max_depth)
        reason, notes = None, []
        try:
            safe_copy(self.submitted, [student, lesson], out, limits)
        except Rejected as error:
            reason = str(error)
        except OSError as error:
            reason = f"it could not be read safely ({error.strerror or error})"
        if self.admitted is not None:  # a parallel job: checked by the grader that made it
            decided = self.admitted.get(f"{student}/{lesson}", "not admitted by the grader")
            if reason is not None:
                self._replace(out, student, lesson, reason)
            elif decided is not None:  # the copy is the stand-in already
                self.reject(student, lesson, decided, None)
            return out
        notes += [f"left out a file with an unsafe name: {name}" for name in limits.skipped]
        if reason is None:
            release = next((p for p in self.releases(lesson) if p.is_file()), None)
            try:
                for notebook in sorted(out.glob("*.ipynb")):
                    notes += admit_notebook(notebook, self.caps, release)
            except Refused as error:
                reason = str(error)
        for note in notes:
            self._say(f"{student}/{lesson}: {note}")
        if reason is not None:
            self._replace(out, student, lesson, reason)
            return out
        if self.instructor is not None:
            receipt = receipts.record(
                self.instructor,
                lesson,
                student,
                digest=limits.digest.hexdigest(),
                claimed=stamp_time(out),
            )
            stamp = out / "timestamp.txt"
            if stamp.is_dir():  # the learner's folder of that name
                shutil.rmtree(stamp)
            stamp.unlink(missing_ok=True)  # the learner's claim: never what nbgrader reads
            if receipt.received:
                stamp.write_text(receipt.received + "\n")
            if receipt.disagrees():
                self._say(f"{student}/{lesson}: received {receipt.received} ({receipt.how}); "
                          f"the learner's own timestamp.txt says {receipt.claimed}.")  # fmt: skip
        return out

    def _replace(self, out: Path, student: str, lesson: str, reason: str) -> None:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(mode=0o700)
        self.reject(student, lesson, reason, out)

    def reject(self, student: str, lesson: str, reason: str, out: Path | None) -> None:
        """Record a rejection; in ``out``, put the lesson's student copy in its place."""
        import nbformat

        text = f"REJECTED {student}/{lesson}: {reason}. Graded 0 without running it."
        self.rejected[(student, lesson)] = text
        self.reasons[(student, lesson)] = reason
        _REJECTED[(student, lesson)] = text
        self._say(text)
        if out is None:
            return
        blank = next((p for p in self.releases(lesson) if p.is_file()), None)
        nb = nbformat.read(blank, as_version=4) if blank else nbformat.v4.new_notebook()
        nbformat.write(nb, out / f"{lesson}.ipynb")

    def decisions(self) -> dict[str, str | None]:
        """Return what a parallel job's course needs (:data:`ADMITTED`): reason or None each."""
        out: dict[str, str | None] = {}
        for student in sorted(os.listdir(self.dest)):
            for lesson in sorted(os.listdir(self.dest / student)):
                out[f"{student}/{lesson}"] = self.reasons.get((student, lesson))
        return out

    def releases(self, lesson: str) -> list[Path]:
        """Return where the lesson's student copy may be (the stand-in for a rejected one)."""
        return [folder / lesson / f"{lesson}.ipynb" for folder in self.release_folders]


def _lessons_named(args: list[str]) -> list[str] | None:
    """Return the lesson an ``nbgrader autograde`` command line names, if any."""
    rest = args[args.index("autograde") + 1 :] if "autograde" in args else []
    for i, arg in enumerate(rest):
        if arg.startswith("--assignment="):
            return [arg.split("=", 1)[1]]
        if arg == "--assignment" and i + 1 < len(rest):
            return [rest[i + 1]]
    positional = [a for a in rest if not a.startswith("-")]
    flags_with_value = {"--student", "--notebook", "--log-level", "--db", "--course"}
    for i, arg in enumerate(rest):
        if arg in flags_with_value and i + 1 < len(rest) and rest[i + 1] in positional:
            positional.remove(rest[i + 1])
    return positional[:1] or None


def _sweep(instructor: Path) -> None:
    """Remove intake folders left by runs that are gone (killed)."""
    for old in instructor.glob(".intake-*"):
        pid = old.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(old, ignore_errors=True)


def take(c: Any, root: Path, instructor: Path, argv: list[str]) -> str:
    """Copy the submissions ``nbgrader autograde`` will grade into a private intake folder.

    Parameters
    ----------
    c : traitlets.config.Config
        The config being loaded (its submitted and release folders).
    root : pathlib.Path
        The course folder.
    instructor : pathlib.Path
        The instructor area; the intake folder is made inside it (removed at exit).
    argv : list of str
        The command line (the lesson it names, if any).

    Returns
    -------
    str
        The intake copy's ``submitted`` folder, relative to ``root``: nbgrader's
        ``CourseDirectory.submitted_directory`` for this run.
    """
    submitted = Path(c.CourseDirectory.submitted_directory)
    submitted = submitted if submitted.is_absolute() else root / submitted
    instructor.mkdir(parents=True, exist_ok=True)
    _sweep(instructor)
    dest = Path(tempfile.mkdtemp(prefix=f".intake-{os.getpid()}-", dir=instructor))
    atexit.register(shutil.rmtree, dest, True)
    (dest / "submitted").mkdir(mode=0o700)
    release = Path(c.CourseDirectory.release_directory or "lessons")
    folders = [root / release, instructor / "release"]
    Intake(submitted, dest / "submitted", release_folders=folders, instructor=instructor).take(
        _lessons_named(argv)
    )
    _TAKEN[str(root)] = os.path.relpath(dest / "submitted", root)
    return _TAKEN[str(root)]


def taken_folder(root: Path) -> str:
    """Return the intake folder :func:`take` made for ``root`` in this process."""
    return _TAKEN[str(root)]


class SafeNameCollector(FileNameCollectorPlugin):
    """nbgrader's file-name collector, refusing unsafe names and future timestamps."""

    def collect(self, submitted_file: str) -> dict[str, Any] | None:
        """Read one downloaded file's name; None (skipped, with a warning) when unsafe."""
        info = super().collect(submitted_file)
        if not info:
            return info
        student, file_id = str(info.get("student_id", "")), str(info.get("file_id", ""))
        for what, value in (("student id", student), ("file name", file_id)):
            if not safe_name(value):
                self.log.warning(
                    "Skipped %s: its %s %s could be a path (no '..', '/' or leading '.').",
                    submitted_file,
                    what,
                    json.dumps(value),
                )
                return None
        stamp = info.get("timestamp")
        if stamp:
            when = read_time(str(stamp))
            if when is None:
                return info  # nbgrader reports it
            now = dt.datetime.now(dt.UTC)
            aware = when.replace(tzinfo=dt.UTC)
            if aware > now:
                self.log.warning(
                    "%s: its time %s is in the future: taken as now.", submitted_file, stamp
                )
                info["timestamp"] = now.strftime("%Y-%m-%d %H:%M:%S UTC")
                aware = now
            # the learning system's time is the receipt (the learner cannot set it)
            coursedir = getattr(self.parent, "coursedir", None)
            if coursedir is not None and safe_name(coursedir.assignment_id):
                receipts.record(
                    Path(coursedir.root) / "instructor",
                    coursedir.assignment_id,
                    student,
                    received=aware.astimezone(dt.UTC).replace(tzinfo=None),
                    how="zip_collect",
                )
        return info
