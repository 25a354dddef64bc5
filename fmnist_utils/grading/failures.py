"""Submissions nbgrader could not grade: recorded against their learner, never a stale score.

When nbgrader fails on one submission (an error of its own, an unresponsive kernel),
it logs a traceback, removes the half-graded folder and goes on; the learner's grades
from an earlier run stay in the gradebook as if they were current. Here:

- :class:`Watch`, a handler on nbgrader's log, records each such failure, with its
  cause in one line, in ``instructor/grading-failures.json``; grading the submission
  later removes it (:func:`clear`);
- :func:`mark_ungraded` gives the submission's grades 0 in the gradebook, flags it and
  writes the cause into its comments, so that no export or report shows an old score
  for a submission that was not graded; the next successful run replaces all of it.

The report and each run's summary name these learners and the cause. Nothing here runs
at import time.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

__all__ = ["FILE", "Watch", "clear", "mark_ungraded", "read", "record"]

FILE = "grading-failures.json"
"""The failures' file, in the instructor area."""


def read(instructor: Path) -> dict[str, dict[str, str]]:
    """Return ``{lesson: {student: cause}}`` of the submissions not graded."""
    try:
        data = json.loads((instructor / FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(instructor: Path, data: dict[str, dict[str, str]]) -> None:
    data = {lesson: students for lesson, students in data.items() if students}
    path = instructor / FILE
    if not data:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(f".{FILE}.{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


def record(instructor: Path, lesson: str, student: str, cause: str) -> None:
    """Record that a submission could not be graded, and why."""
    data = read(instructor)
    data.setdefault(lesson, {})[student] = cause
    _write(instructor, data)


def clear(instructor: Path, lesson: str, student: str) -> None:
    """Forget a failure: the submission was graded."""
    data = read(instructor)
    if data.get(lesson, {}).pop(student, None) is not None:
        _write(instructor, data)


def mark_ungraded(db_url: str, lesson: str, student: str, cause: str) -> bool:
    """Give a submission that could not be graded 0, flagged, with the cause as comment.

    Parameters
    ----------
    db_url : str
        The gradebook.
    lesson, student : str
        The submission.
    cause : str
        Why it was not graded.

    Returns
    -------
    bool
        True when the gradebook held the submission (from an earlier run).
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            submission = gb.find_submission(lesson, student)
        except MissingEntry:
            return False
        for nb in submission.notebooks:
            nb.flagged = True
            for grade in nb.grades:
                grade.auto_score = 0.0
            for comment in nb.comments:
                comment.auto_comment = f"Not graded: {cause}"
        gb.db.commit()
    return True


class Watch(logging.Filter):
    """Record the submissions nbgrader's log says it could not grade.

    A filter on nbgrader's logger, not a handler: traitlets replaces the logger's
    handlers when it applies the log format from the config, and keeps its filters.

    Parameters
    ----------
    instructor : pathlib.Path
        Where :data:`FILE` is.
    """

    def __init__(self, instructor: Path) -> None:
        super().__init__()
        self.instructor = instructor
        self.pending: tuple[str, str] | None = None
        self.failed: dict[tuple[str, str], str] = {}

    def _submission(self, path: object) -> tuple[str, str]:
        folder = Path(str(path).rstrip("/"))
        return folder.name, folder.parent.name

    def filter(self, record: logging.LogRecord) -> bool:
        """Read one line of nbgrader's log; let every line through."""
        if record.levelno < logging.ERROR:
            return True
        try:
            text = str(record.msg)
            if text.startswith("There was an error processing assignment: ") and record.args:
                self.pending = self._submission(record.args[0])
                self._fail(*self.pending, "nbgrader stopped on an error")
            elif text.startswith("While processing assignment %s, the kernel") and record.args:
                self._fail(*self._submission(record.args[0]),
                           "the kernel became unresponsive and could not be stopped")  # fmt: skip
            elif self.pending is not None and "Traceback" in record.getMessage():
                lines = [ln for ln in record.getMessage().splitlines() if ln.strip()]
                self._fail(*self.pending, f"nbgrader stopped on an error: {lines[-1].strip()}")
                self.pending = None
        except Exception:  # reading the log must never stop grading
            pass
        return True

    def _fail(self, lesson: str, student: str, cause: str) -> None:
        from fmnist_utils.grading.admit import visible

        cause = visible(cause, 300)[1:-1]  # escaped, without the quotes
        self.failed[(lesson, student)] = cause
        record(self.instructor, lesson, student, cause)

    def install(self, name: str = "AutogradeApp") -> Watch:
        """Attach to nbgrader's log (the app's logger) and return self."""
        logging.getLogger(name).addFilter(self)
        return self
