"""Grade exports that fit: the course's ``nbgrader export``, and CSVs Canvas and Moodle import.

``nbgrader_config.py`` makes :class:`CourseExport` the plugin of ``nbgrader export``:

- only lessons someone handed in (``--assignment LESSON`` for one lesson;
  ``--CourseExport.all_lessons=True`` for every registered lesson, as stock nbgrader);
- times with their zone (``2025-03-07 16:58:00+00:00``), a ``late`` column (``yes`` or
  ``no``), ``seconds_late``, and ``handed_in`` to tell a zero from nothing handed in.

For a learning platform's gradebook, one row per learner and one column per lesson::

    nbgrader export --exporter fmnist_utils.grading.exports.CanvasExport --to instructor/canvas.csv
    nbgrader export --exporter fmnist_utils.grading.exports.MoodleExport --to instructor/moodle.csv

:class:`CanvasExport` writes Canvas' gradebook import format: the columns ``Student``,
``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then one per lesson, and a
``Points Possible`` row; each learner is identified by ``SIS Login ID`` (their nbgrader
id). :class:`MoodleExport` writes what Moodle's "Import grades from CSV" reads: a header
row, ``Username`` and ``Email address`` to map learners by, then one numeric column per
lesson. A lesson not handed in is left empty (no grade) in both. Nothing runs at import.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Bool

__all__ = [
    "CANVAS_IDENTITY",
    "COURSE_COLUMNS",
    "CanvasExport",
    "CourseExport",
    "MoodleExport",
    "zoned",
]

COURSE_COLUMNS = [
    "assignment", "student_id", "last_name", "first_name", "email", "handed_in",
    "timestamp", "duedate", "late", "seconds_late", "raw_score",
    "late_submission_penalty", "score", "max_score",
]  # fmt: skip
"""The columns of :class:`CourseExport`'s CSV (nbgrader's, and handed_in, late, seconds_late)."""

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
"""The learner columns Canvas' gradebook import expects, in its order."""

MOODLE_IDENTITY = ["Username", "Email address", "First name", "Last name"]
"""The learner columns of the Moodle CSV (map ``Username`` or ``Email address``)."""


def zoned(when: datetime | None) -> str:
    """Write a gradebook time (naive, UTC) with its zone: ``2025-03-07 16:58:00+00:00``."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(sep=" ", timespec="seconds")


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


class _Exporter(ExportPlugin):
    """What the course's exports share: which lessons and learners, and each score."""

    all_lessons = Bool(
        False, help="Also export lessons nobody handed in (nbgrader's default)."
    ).tag(config=True)

    def destination(self, default: str) -> str:
        """Return ``--to``, or ``default``."""
        return self.to or default

    def lessons(self, gradebook: Gradebook) -> list[Any]:
        """Return the lessons to export: named, or handed in (all with ``all_lessons``)."""
        named = [str(a) for a in self.assignment]
        chosen = []
        for assignment in gradebook.assignments:
            if named and assignment.name not in named:
                continue
            if named or self.all_lessons or assignment.num_submissions > 0:
                chosen.append(assignment)
        unknown = sorted(set(named) - {a.name for a in chosen})
        if unknown:
            raise ValueError(f"no lesson {', '.join(unknown)} in the gradebook")
        return chosen

    def learners(self, gradebook: Gradebook) -> list[Any]:
        """Return the learners to export (``--student``, else all)."""
        named = {str(s) for s in self.student}
        return [s for s in gradebook.students if not named or s.id in named]

    @staticmethod
    def submission(gradebook: Gradebook, lesson: str, student: str) -> Any:
        """Return a learner's submission of a lesson, or None."""
        try:
            return gradebook.find_submission(lesson, student)
        except MissingEntry:
            return None


class CourseExport(_Exporter):
    """nbgrader's CSV export, per lesson handed in, with zoned times and a late column."""

    def export(self, gradebook: Gradebook) -> None:
        """Write one row per learner and lesson (see the module docstring)."""
        dest = self.destination("grades.csv")
        lessons = self.lessons(gradebook)
        learners = self.learners(gradebook)
        with open(dest, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, COURSE_COLUMNS)
            writer.writeheader()
            for assignment in lessons:
                for student in learners:
                    sub = self.submission(gradebook, assignment.name, student.id)
                    raw = float(sub.score) if sub else 0.0
                    penalty = float(sub.late_submission_penalty or 0.0) if sub else 0.0
                    late = float(sub.total_seconds_late or 0.0) if sub else 0.0
                    writer.writerow(
                        {
                            "assignment": assignment.name,
                            "student_id": student.id,
                            "last_name": student.last_name or "",
                            "first_name": student.first_name or "",
                            "email": student.email or "",
                            "handed_in": "yes" if sub else "no",
                            "timestamp": zoned(sub.timestamp) if sub else "",
                            "duedate": zoned(assignment.duedate),
                            "late": "yes" if late > 0 else "no",
                            "seconds_late": f"{late:.0f}",
                            "raw_score": _number(raw),
                            "late_submission_penalty": _number(penalty),
                            "score": _number(max(0.0, raw - penalty)),
                            "max_score": _number(float(assignment.max_score)),
                        }
                    )
        self.log.info(
            "Exported %d lesson(s) x %d learner(s) to %s", len(lessons), len(learners), dest
        )


class _LmsExport(_Exporter):
    """One row per learner, one score column per lesson; empty when not handed in."""

    identity: list[str] = []

    def identify(self, student: Any) -> list[str]:
        """Return the learner's identity cells, in :attr:`identity`'s order."""
        raise NotImplementedError

    def extra_rows(self, lessons: list[Any]) -> list[list[str]]:
        """Return rows written between the header and the learners."""
        return []

    def export(self, gradebook: Gradebook) -> None:
        """Write the CSV (see the module docstring)."""
        dest = self.destination(f"{type(self).__name__.lower()}.csv")
        lessons = self.lessons(gradebook)
        with open(dest, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.identity + [a.name for a in lessons])
            writer.writerows(self.extra_rows(lessons))
            for student in self.learners(gradebook):
                scores = []
                for assignment in lessons:
                    sub = self.submission(gradebook, assignment.name, student.id)
                    if sub is None:
                        scores.append("")
                    else:
                        penalty = float(sub.late_submission_penalty or 0.0)
                        scores.append(_number(max(0.0, float(sub.score) - penalty)))
                writer.writerow(self.identify(student) + scores)
        self.log.info("Wrote %s for %s's gradebook import", dest, type(self).__name__[:-6])


class CanvasExport(_LmsExport):
    """Canvas' gradebook import CSV: learners by ``SIS Login ID``, a Points Possible row."""

    identity = CANVAS_IDENTITY

    def identify(self, student: Any) -> list[str]:
        """Return ``Student`` (Last, First), empty ``ID``, ``SIS User ID``, login, section."""
        name = ", ".join(x for x in (student.last_name, student.first_name) if x) or student.id
        return [name, "", "", student.id, ""]

    def extra_rows(self, lessons: list[Any]) -> list[list[str]]:
        """Return the ``Points Possible`` row (it sets new assignments' points)."""
        blanks = [""] * (len(CANVAS_IDENTITY) - 1)
        return [["Points Possible", *blanks, *[_number(float(a.max_score)) for a in lessons]]]


class MoodleExport(_LmsExport):
    """Moodle's CSV grade import: map ``Username`` (or ``Email address``) to the user."""

    identity = MOODLE_IDENTITY

    def identify(self, student: Any) -> list[str]:
        """Return the username (nbgrader id), email and names."""
        return [student.id, student.email or "", student.first_name or "", student.last_name or ""]
