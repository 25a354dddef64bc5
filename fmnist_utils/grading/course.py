"""A course as nbgrader sees it, and how long grading its lessons took.

- :class:`Course` -- a course's folders and gradebook, read from its
  ``nbgrader_config.py`` as nbgrader reads them;
- :func:`read_durations`, :func:`record_durations` -- the seconds one submission of
  each lesson last took to grade (``instructor/parallel-logs/durations.json``), which
  every autograde run records and the parallel grader orders its jobs by.

Nothing runs at import time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DURATIONS", "Course", "read_durations", "record_durations"]


@dataclass
class Course:
    """The directories and gradebook of a course, read from its ``nbgrader_config.py``.

    Attributes
    ----------
    root : pathlib.Path
        The course folder.
    db_url : str
        The gradebook.
    coursedir : nbgrader.coursedir.CourseDirectory
        nbgrader's view of the folders.
    """

    root: Path
    db_url: str
    coursedir: Any = field(repr=False)

    @classmethod
    def load(cls, root: Path) -> Course:
        """Read the course's config, as nbgrader does."""
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        coursedir = CourseDirectory(config=config)
        return cls(root=root, db_url=coursedir.db_url, coursedir=coursedir)

    def folder(self, step: str, student: str, lesson: str) -> Path:
        """Return the folder of one submission at one step (``submitted_directory``, ...)."""
        return Path(self.coursedir.format_path(getattr(self.coursedir, step), student, lesson))


DURATIONS = "durations.json"
"""Under ``instructor/parallel-logs``: how long one submission of each lesson last took."""


def read_durations(logs: Path) -> dict[str, Any]:
    """Read the seconds one submission of each lesson last took (empty if none or unreadable)."""
    try:
        last = json.loads((logs / DURATIONS).read_text())
    except (OSError, ValueError):
        return {}
    return last if isinstance(last, dict) else {}


def record_durations(logs: Path, seconds: dict[str, float]) -> None:
    """Remember the seconds one student's submission of each lesson took, for the ordering.

    Parameters
    ----------
    logs : pathlib.Path
        The folder of ``durations.json`` (``instructor/parallel-logs``); made if missing.
    seconds : dict
        Seconds per lesson; lessons not named keep their last value.
    """
    logs.mkdir(parents=True, exist_ok=True)
    last = read_durations(logs)
    last.update({lesson: round(value, 2) for lesson, value in seconds.items()})
    (logs / DURATIONS).write_text(json.dumps(last, indent=1, sort_keys=True) + "\n")
