"""A grading log an instructor can read: no expected warnings, one line per submission.

For ``nbgrader autograde`` only (:mod:`~fmnist_utils.grading.config` installs
:func:`summary_hook` and calls :func:`start`):

- explains once, at the start, nbgrader's ``Attribute 'checksum' for cell ... has
  changed!`` warnings, which every submission of a test cell with hidden tests triggers
  (the student copy lacks the hidden tests, by design), and shows them no more:
  :class:`QuietOverwriteCells` still restores every test cell, and names a test cell the
  learner really edited in one line;
- silences SQLAlchemy's ``SAWarning`` lines nbgrader triggers, and the start-up lines
  TensorFlow's C++ code writes to stderr in every grading kernel
  (:func:`fmnist_utils.grading.outputs.is_noise`), which no setting turns off;
- gives a learner nbgrader created without a name their id as last name (the
  formgrader would show "None, None");
- ends each submission with one line: student, score, late or on time, and any flag
  (:func:`fmnist_utils.grading.report.submission_line`);
- prints the lesson's grading report when the run ends, and writes its HTML and CSV
  (:func:`fmnist_utils.grading.report.after_autograde`).

Nothing runs at import time.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells

from fmnist_utils.grading import failures
from fmnist_utils.grading.admit import printable, visible
from fmnist_utils.grading.outputs import is_noise

__all__ = [
    "PREFIX",
    "QuietOverwriteCells",
    "filter_stderr",
    "name_unnamed",
    "start",
    "summary_hook",
]

PREFIX = "[fmnist]"
"""How the course's own lines in the grading log start."""


EXPLAINED = (
    f"{PREFIX} Test cells are graded with their hidden tests, restored from the gradebook; "
    "nbgrader's 'checksum has changed' warnings for them are expected and not shown. "
    "A test cell a learner edited is named."
)


def _normalised(source: str) -> list[str]:
    return [line.rstrip() for line in source.strip().splitlines() if line.strip()]


class QuietOverwriteCells(OverwriteCells):
    """nbgrader's ``OverwriteCells``, silent about test cells that only lack hidden tests."""

    def preprocess_cell(self, cell: Any, resources: Any, cell_index: int) -> Any:
        """Restore one cell from the gradebook; tell whether the learner changed it."""
        self._fmg_expected = False
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None:
            try:
                source = self.gradebook.find_source_cell(
                    grade_id, self.notebook_id, self.assignment_id
                ).source
            except Exception:  # nbgrader itself reports a missing cell
                source = None
            if source is not None:
                released = cell.copy()
                released.source = source
                ClearHiddenTests(parent=self)._remove_hidden_test_region(released)
                self._fmg_expected = _normalised(released.source) == _normalised(cell.source)
        return super().preprocess_cell(cell, resources, cell_index)

    def report_change(self, name: str, attr: str, old: Any, new: Any) -> None:
        """Report a change, unless it is the checksum of an untouched test cell."""
        if attr == "checksum" and getattr(self, "_fmg_expected", False):
            return
        if attr == "checksum":
            self.log.warning(
                "%s test cell %s was edited in the submission: graded with the original test",
                PREFIX,
                name,
            )
            return
        super().report_change(name, attr, old, new)


def name_unnamed(db_url: str, student: str) -> None:
    """Give a learner nbgrader created without a name their id as last name.

    nbgrader adds unknown learners when it grades them, with no name, and its formgrader
    then lists them as "None, None". Names set with ``nbgrader db student add`` or
    ``import`` are kept.
    """
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        found = gb.find_student(student)
        if found.last_name is None and found.first_name is None:
            gb.update_or_create_student(
                student, last_name=student, first_name="", email=found.email or ""
            )


def _after_run(c: Any, root: Path, instructor: Path, argv: list[str]) -> None:
    """Name the learners of submissions nbgrader could not grade, then print the report."""
    from nbgrader.api import Gradebook

    from fmnist_utils.grading import report

    try:
        with Gradebook(c.CourseDirectory.db_url) as gb:
            students = [s.id for s in gb.students]
        for student in students:
            name_unnamed(c.CourseDirectory.db_url, student)
    except Exception as error:  # names are cosmetic: say why, go on
        sys.stderr.write(f"{PREFIX} could not name unnamed learners: {error}\n")
    mark_failures(c.CourseDirectory.db_url, instructor)
    report.after_autograde(c, root, instructor, argv)


def mark_failures(db_url: str, instructor: Path) -> None:
    """Give each submission nbgrader could not grade 0 and a flag, and say so, one line each."""
    for lesson, students in failures.read(instructor).items():
        for student, cause in students.items():
            try:
                failures.mark_ungraded(db_url, lesson, student, cause)
            except Exception as error:  # say it, go on with the others
                cause += f" (and its old grades could not be cleared: {error})"
            sys.stderr.write(f"{PREFIX} {visible(student)}: NOT GRADED: {cause}\n")


def _shown(line: bytes) -> bytes:
    """One line as the terminal may show it: control characters made visible."""
    return printable(line.decode("utf-8", "replace")).encode("utf-8")


def filter_stderr() -> None:
    """Pass this process's stderr, and its children's, through a filter.

    Grading kernels inherit the file descriptor 2 of ``nbgrader``, and ipykernel copies
    their C-level output there; nbgrader's log quotes the learner's errors. This puts a
    pipe in its place, with a thread passing every line through to the real stderr with
    its control characters made visible (no escape code of a learner's reaches the
    terminal), TensorFlow's start-up lines dropped; at exit the pipe is drained.
    """
    sys.stderr.flush()
    real = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)

    def pump() -> None:
        with os.fdopen(read, "rb", buffering=0) as pipe:
            pending = b""
            while chunk := pipe.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                if len(pending) > 65536:  # a line without end: pass it on in pieces
                    lines.append(pending)
                    pending = b""
                out = [_shown(ln) for ln in lines if not is_noise(ln.decode("utf-8", "replace"))]
                if out:
                    os.write(real, b"\n".join(out) + b"\n")
            if pending and not is_noise(pending.decode("utf-8", "replace")):
                os.write(real, _shown(pending))

    thread = threading.Thread(target=pump, name="fmnist-stderr-filter", daemon=True)
    thread.start()

    def drain() -> None:
        sys.stderr.flush()
        os.dup2(real, 2)  # closes the pipe's last write end held by this process
        thread.join(timeout=5)

    atexit.register(drain)


def _say_memory() -> None:
    """Write the grading process's own peak memory (its kernels not counted).

    Linux's ``VmHWM``: the peak of this process's own memory since it started (the
    ``ru_maxrss`` of ``getrusage`` would include its parent's at the fork).
    """
    try:
        status = Path("/proc/self/status").read_text()
        peak = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmHWM:")))
    except (OSError, StopIteration, ValueError):
        return
    sys.stderr.write(f"{PREFIX} the grader's own memory peaked at {peak / 1024:.0f} MiB\n")


def start(c: Any, root: Path, instructor: Path, argv: list[str]) -> None:
    """Quiet the log of this ``nbgrader autograde`` run, and print the report at its end.

    Parameters
    ----------
    c : traitlets.config.Config
        The config being loaded.
    root : pathlib.Path
        The course folder.
    instructor : pathlib.Path
        The instructor area.
    argv : list of str
        The command line.
    """
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
    if os.environ.get("FMNIST_GRADING_LOG") != "raw":
        filter_stderr()
    failures.Watch(instructor).install()
    atexit.register(_say_memory)
    sys.stderr.write(EXPLAINED + "\n")
    if os.environ.get("FMNIST_PARALLEL_WORKER") != "1":
        atexit.register(_after_run, c, root, instructor, argv)


def summary_hook(c: Any, root: Path, finished: Any) -> Any:
    """Return nbgrader's post-convert hook: ``finished``, then the submission's log line.

    Parameters
    ----------
    c : traitlets.config.Config
        The config being loaded (the gradebook's URL).
    root : pathlib.Path
        The course folder.
    finished : callable
        The hook to call first (:meth:`recovery.InProgress.finished`).

    Returns
    -------
    callable
        The hook: it writes one line per submission (student, score, late, flags).
    """
    from fmnist_utils.grading import report

    def post(assignment: str, student: str, notebooks: list[str]) -> None:
        finished(assignment=assignment, student=student, notebooks=notebooks)
        if not notebooks:
            return
        submission = Path(notebooks[0]).parent  # submitted/<student>/<lesson>
        student, assignment = submission.parent.name, submission.name
        failures.clear(root / "instructor", assignment, student)
        try:
            name_unnamed(c.CourseDirectory.db_url, student)
            line = report.submission_line(c, root, assignment, student)
        except Exception as error:  # a log line must never stop grading
            line = f"{PREFIX} {visible(student)}: no summary ({type(error).__name__}: {error})"
        sys.stderr.write(line + "\n")

    return post
