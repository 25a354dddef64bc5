"""The grading report: what an instructor wants to see after grading a class.

For each lesson: every learner's points per exercise, score, late flag and flags; per
exercise the mean, the share of full marks and the three most common failure messages
(read from the graded notebooks' error outputs); the submissions that could not be
graded or need a look. Read from the gradebook with nbgrader's Python API.

It is printed after every ``nbgrader autograde`` (and ``python -m
fmnist_utils.grading.parallel``), and on demand::

    python -m fmnist_utils.grading.report 01_pixels_and_labels   # or several, or --all

and written to ``instructor/reports/<lesson>.html`` (one page, no JavaScript, readable
offline) and ``instructor/reports/<lesson>.csv``. Nothing runs at import time.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fmnist_utils.grading import failures as failed
from fmnist_utils.grading import receipts
from fmnist_utils.grading.admit import printable, visible
from fmnist_utils.grading.cells import exercise_titles, failure_of, is_test_cell

__all__ = [
    "Exercise",
    "LessonReport",
    "Submission",
    "after_autograde",
    "collect",
    "iso_time",
    "late_text",
    "main",
    "print_and_write",
    "submission_line",
    "to_csv",
    "to_html",
    "to_text",
]

TOP_FAILURES = 3
"""How many of the most common failure messages each exercise lists."""
NOT_GRADED = "handed in but not graded: see the log"
TERMINAL_ROWS = 60
"""Classes up to this size get their full table in the terminal too."""

_KERNEL_FLAGS = {
    "NotExecuted": "kernel died: later cells not run",
    "DeadKernelError": "kernel died: later cells not run",
    "CellTimeoutError": "a cell ran past the time limit",
}


@dataclass
class Exercise:
    """One exercise of a lesson: its test cell, title and points."""

    test_id: str
    title: str
    points: float


@dataclass
class Submission:
    """One learner's graded (or ungraded) submission of a lesson."""

    student: str
    name: str
    graded: bool
    score: float = 0.0
    max_score: float = 0.0
    timestamp: datetime | None = None
    seconds_late: float = 0.0
    points: dict[str, float] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    received_by: str = ""
    learner_time: str = ""

    @property
    def late(self) -> bool:
        """Whether it was handed in after the due date."""
        return self.seconds_late > 0


@dataclass
class LessonReport:
    """Everything the report shows about one lesson."""

    lesson: str
    duedate: datetime | None
    exercises: list[Exercise]
    submissions: list[Submission]
    not_handed_in: list[str]

    @property
    def graded(self) -> list[Submission]:
        """The submissions that were graded."""
        return [s for s in self.submissions if s.graded]

    def mean(self, test_id: str) -> float | None:
        """Mean points of one exercise over the graded submissions."""
        graded = self.graded
        return sum(s.points.get(test_id, 0.0) for s in graded) / len(graded) if graded else None

    def full_share(self, exercise: Exercise) -> float | None:
        """Share (0-1) of graded submissions with full marks on one exercise."""
        graded = self.graded
        if not graded:
            return None
        full = sum(1 for s in graded if s.points.get(exercise.test_id, 0.0) >= exercise.points)
        return full / len(graded)

    def top_failures(self, test_id: str) -> list[tuple[str, int]]:
        """Return the most common failure messages of one exercise, with their counts."""
        found = Counter(s.failures[test_id] for s in self.graded if test_id in s.failures)
        return found.most_common(TOP_FAILURES)


def iso_time(when: datetime | None) -> str:
    """Write a gradebook time (naive UTC) as ISO 8601 with its zone, or ``""``."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds")


def late_text(seconds: float) -> str:
    """Say how late, in words: ``"on time"``, ``"late by 2 h 5 min"``, ``"late by 3 days"``."""
    if seconds <= 0:
        return "on time"
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"late by {days} day{'s' if days > 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"late by {hours} h {minutes} min"
    return f"late by {max(minutes, 1)} min"


def _exercises(gb: Any, lesson: str, root: Path) -> list[Exercise]:
    """Return the lesson's test cells in notebook order, titled from its source notebook."""
    assignment = gb.find_assignment(lesson)
    points = {c.name: float(c.max_score) for nb in assignment.notebooks for c in nb.grade_cells}
    order: list[str] = []
    titles: dict[str, str] = {}
    source = root / "solutions" / lesson / f"{lesson}.ipynb"
    if source.is_file():
        cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
        titles = exercise_titles(cells)
        order = [c["metadata"]["nbgrader"]["grade_id"] for c in cells if is_test_cell(c)]
    order += sorted(set(points) - set(order))
    return [Exercise(t, titles.get(t, t), points[t]) for t in order if t in points]


def _graded_notebook(course: Any, student: str, lesson: str) -> dict | None:
    folder = course.folder("autograded_directory", student, lesson)
    path = folder / f"{lesson}.ipynb"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _notebook_facts(nb: dict) -> tuple[dict[str, str], list[str]]:
    """Failure messages per test cell, and flags, read from a graded notebook."""
    failures: dict[str, str] = {}
    # why the grader flagged it (ApplyFlags): a rejection's reason, a hook it found
    flags = [f for f in nb.get("metadata", {}).get("fmnist_grader", {}).get("flags", [])
             if "note:" not in f]  # fmt: skip
    rejected = any(f.startswith("REJECTED") for f in flags)
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and not rejected:
                flag = _KERNEL_FLAGS.get(output.get("ename", ""))
                if flag and flag not in flags:
                    flags.append(flag)
        if is_test_cell(cell):
            failure = failure_of(cell)
            if failure is not None:
                failures[cell["metadata"]["nbgrader"]["grade_id"]] = failure.message
    return failures, flags


def collect(course: Any, lesson: str) -> LessonReport:
    """Read one lesson's results from the gradebook and the graded notebooks.

    Parameters
    ----------
    course : fmnist_utils.grading.course.Course
        The course (its gradebook and folders).
    lesson : str
        The lesson (nbgrader assignment).

    Returns
    -------
    LessonReport
        Its exercises and every learner's submission.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url) as gb:
        assignment = gb.find_assignment(lesson)
        exercises = _exercises(gb, lesson, course.root)
        notebooks = [nb.name for nb in assignment.notebooks]
        submissions: dict[str, Submission] = {}
        for sub in assignment.submissions:
            student = sub.student
            name = " ".join(x for x in (student.first_name, student.last_name) if x)
            entry = Submission(
                student=student.id,
                name=name,
                graded=True,
                score=float(sub.score or 0.0),
                max_score=float(sub.max_score or 0.0),
                timestamp=sub.timestamp,
                seconds_late=float(sub.total_seconds_late or 0.0),
            )
            for exercise in exercises:
                for notebook in notebooks:
                    try:
                        grade = gb.find_grade(exercise.test_id, notebook, lesson, student.id)
                    except MissingEntry:
                        continue
                    entry.points[exercise.test_id] = float(grade.score or 0.0)
            nb = _graded_notebook(course, student.id, lesson)
            if nb is None:  # in the gradebook, but nbgrader could not grade it
                entry.graded = False
                entry.flags.append(NOT_GRADED)
            else:
                if sub.needs_manual_grade:
                    entry.flags.append("needs manual grading")
                if any(n.flagged for n in sub.notebooks):
                    entry.flags.append("flagged by a grader")
                entry.failures, kernel_flags = _notebook_facts(nb)
                entry.flags += kernel_flags
                # refused at intake, never run: scored 0, but no measure of the exercises
                entry.graded = not any(f.startswith("REJECTED") for f in kernel_flags)
            submissions[student.id] = entry
        students = {s.id: s for s in gb.students}
        duedate = assignment.duedate
    # handed in, but nbgrader could not grade it (not a notebook, renamed, ...)
    submitted_root = course.folder("submitted_directory", "STUDENT", lesson).parent.parent
    if submitted_root.is_dir():
        for folder in sorted(submitted_root.iterdir()):
            if (folder / lesson).is_dir() and folder.name not in submissions:
                student = students.get(folder.name)
                name = " ".join(
                    x for x in (getattr(student, "first_name", None),
                                getattr(student, "last_name", None)) if x
                )  # fmt: skip
                submissions[folder.name] = Submission(
                    student=folder.name,
                    name=name,
                    graded=False,
                    flags=[NOT_GRADED],
                )
    instructor = course.root / "instructor"
    for student, cause in failed.read(instructor).get(lesson, {}).items():
        entry = submissions.setdefault(student, Submission(student=student, name="", graded=False))
        entry.graded = False
        entry.flags = [f for f in entry.flags if f != NOT_GRADED] + [f"not graded: {cause}"]
    for (where, student), receipt in receipts.read_receipts(instructor).items():
        if where == lesson and student in submissions:
            entry = submissions[student]
            entry.received_by, entry.learner_time = receipt.how, receipt.claimed or ""
            if receipt.disagrees():
                entry.flags.append(f"its own timestamp.txt says {receipt.claimed}, "
                                   f"received {receipt.received} ({receipt.how})")  # fmt: skip
            elif not receipt.received and receipt.claimed:
                claim = f"its own timestamp.txt says {receipt.claimed}, not used"
                entry.flags.append(f"hand-in time unknown (copied in by hand, no receipt); {claim}")
    missing = sorted(set(students) - set(submissions))
    return LessonReport(
        lesson, duedate, exercises, sorted(submissions.values(), key=lambda s: s.student), missing
    )


def _points(value: float) -> str:
    return f"{value:g}"


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f} %"


def to_text(report: LessonReport, *, full_table: bool | None = None) -> str:
    """Write the report as plain text for the terminal."""
    graded = report.graded
    total = sum(e.points for e in report.exercises)
    lines = [
        f"=== Grading report: {report.lesson} — {len(graded)} graded, "
        f"{len(report.submissions) - len(graded)} not graded, "
        f"{len(report.not_handed_in)} not handed in"
        + (f"; due {iso_time(report.duedate)}" if report.duedate else ""),
    ]
    if graded:
        scores = sorted(s.score for s in graded)
        mean = sum(scores) / len(scores)
        median = scores[len(scores) // 2]
        lines.append(
            f"Score: mean {mean:.2f} / {total:g}, median {median:g}, "
            f"full marks {sum(1 for s in scores if s >= total)}, zero {scores.count(0.0)}, "
            f"late {sum(1 for s in graded if s.late)}"
        )
    lines.append("Per exercise (mean points, share with full marks, most common failures):")
    for ex in report.exercises:
        mean = report.mean(ex.test_id)
        lines.append(
            f"  {ex.title} [{ex.test_id}]: mean "
            f"{'–' if mean is None else f'{mean:.2f}'} / {ex.points:g}, "
            f"full marks {_percent(report.full_share(ex))}"
        )
        for message, count in report.top_failures(ex.test_id):
            lines.append(f"      {count} × {printable(message)}")
    attention = [s for s in report.submissions if s.flags]
    if attention:
        lines.append("Need a look:")
        lines += [f"  {visible(s.student)}: {printable('; '.join(s.flags))}" for s in attention]
    if full_table if full_table is not None else len(report.submissions) <= TERMINAL_ROWS:
        ids = [e.test_id for e in report.exercises]
        lines.append("Learners (points per exercise, in the order above):")
        for s in report.submissions:
            cells = " ".join(_points(s.points.get(t, 0.0)) for t in ids) if s.graded else "—"
            lines.append(
                f"  {visible(s.student):<18} {_points(s.score):>5} / {_points(total)}  [{cells}]  "
                f"{late_text(s.seconds_late) if s.graded else 'not graded'}"
            )
    if report.not_handed_in:
        lines.append("Not handed in: " + ", ".join(report.not_handed_in))
    return "\n".join(lines)


def csv_header(report: LessonReport) -> list[str]:
    """Return the CSV's columns: the learner, the totals, lateness, flags, one per exercise."""
    return [
        "student_id", "name", "graded", "score", "max_score", "timestamp", "received_by",
        "learner_timestamp", "late", "seconds_late", "flags",
        *[e.test_id for e in report.exercises],
    ]  # fmt: skip


def to_csv(report: LessonReport, path: Path) -> None:
    """Write one row per learner who handed in (times in ISO 8601 with their zone)."""
    total = sum(e.points for e in report.exercises)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_header(report))
        for s in report.submissions:
            writer.writerow(
                [s.student, s.name, "yes" if s.graded else "no", _points(s.score),
                 _points(s.max_score or total), iso_time(s.timestamp), s.received_by,
                 s.learner_time, "yes" if s.late else "no", f"{s.seconds_late:.0f}",
                 "; ".join(s.flags),
                 *[_points(s.points.get(e.test_id, 0.0)) for e in report.exercises]]
            )  # fmt: skip


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { background: #fde2e1; } td.full { background: #e3f4e1; }
tr.late td.when { color: #a04000; font-weight: bold; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
"""


def to_html(report: LessonReport) -> str:
    """Write the report as one HTML page: escaped, no JavaScript, no external file."""
    e = html.escape
    total = sum(x.points for x in report.exercises)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Grading report: {e(report.lesson)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Grading report: {e(report.lesson)}</h1>",
        f"<p>{e(to_text(report, full_table=False).splitlines()[1] if report.graded else '')}</p>",
        f"<p>Due {e(iso_time(report.duedate) or 'date not set')}. Made "
        f"{e(iso_time(datetime.now(UTC)))}.</p>",
        "<table><caption>Per exercise</caption><tr><th>exercise</th><th>points</th>"
        "<th>mean</th><th>full marks</th><th>most common failures</th></tr>",
    ]
    for ex in report.exercises:
        mean = report.mean(ex.test_id)
        failures = "<br>".join(
            f"{n} × {e(printable(m))}" for m, n in report.top_failures(ex.test_id)
        )
        out.append(
            f"<tr><td>{e(ex.title)}<br><code>{e(ex.test_id)}</code></td>"
            f'<td class="num">{ex.points:g}</td>'
            f'<td class="num">{"–" if mean is None else f"{mean:.2f}"}</td>'
            f'<td class="num">{_percent(report.full_share(ex))}</td><td>{failures}</td></tr>'
        )
    out.append("</table>")
    attention = [s for s in report.submissions if s.flags]
    if attention:
        out.append("<h2>Need a look</h2><ul>")
        out += [
            f"<li><b>{e(s.student)}</b>: {e(printable('; '.join(s.flags)))}</li>" for s in attention
        ]
        out.append("</ul>")
    head = "".join(f"<th>{e(x.title)}<br>({x.points:g})</th>" for x in report.exercises)
    out.append(
        "<table><caption>Learners</caption><tr><th>learner</th><th>name</th>"
        f"<th>score / {total:g}</th><th>handed in</th><th>late</th>{head}<th>flags</th></tr>"
    )
    for s in report.submissions:
        cells = []
        for x in report.exercises:
            got = s.points.get(x.test_id, 0.0)
            kind = "full" if got >= x.points else "zero" if got == 0 else ""
            tip = e(printable(s.failures.get(x.test_id, "")), quote=True)
            cells.append(f'<td class="num {kind}" title="{tip}">{_points(got)}</td>')
        out.append(
            f'<tr class="{"late" if s.late else ""}"><td>{e(s.student)}</td><td>{e(s.name)}</td>'
            f'<td class="num">{_points(s.score) if s.graded else "not graded"}</td>'
            f'<td class="when">{e(iso_time(s.timestamp))}</td>'
            f'<td class="when">{e(late_text(s.seconds_late))}</td>{"".join(cells)}'
            f"<td>{e(printable('; '.join(s.flags)))}</td></tr>"
        )
    out.append("</table>")
    if report.not_handed_in:
        out.append(f"<p>Not handed in: {e(', '.join(report.not_handed_in))}</p>")
    out.append("</body></html>")
    return "\n".join(out)


def reports_folder(course: Any) -> Path:
    """``instructor/reports/`` beside the autograded folder (made if missing)."""
    folder = course.folder("autograded_directory", "STUDENT", "LESSON").parents[2] / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def print_and_write(root: Path, lessons: list[str], course: Any = None) -> list[Path]:
    """Print each lesson's report and write its HTML and CSV in ``instructor/reports``.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from fmnist_utils.grading.course import Course

    course = course or Course.load(root)
    written = []
    for lesson in lessons:
        report = collect(course, lesson)
        folder = reports_folder(course)
        page, table = folder / f"{lesson}.html", folder / f"{lesson}.csv"
        page.write_text(to_html(report), encoding="utf-8")
        to_csv(report, table)
        print(to_text(report))
        print(f"Report written to {page} and {table}\n", flush=True)
        written += [page, table]
    return written


def submission_line(c: Any, root: Path, lesson: str, student: str) -> str:
    """One line about a submission just graded: student, score, late or not, flags."""
    from nbgrader.coursedir import CourseDirectory

    from fmnist_utils.grading.course import Course

    course = Course(root, c.CourseDirectory.db_url, CourseDirectory(config=c))
    report = collect(course, lesson)
    found = next((s for s in report.submissions if s.student == student), None)
    if found is None:
        return f"[fmnist] {visible(student)}: not graded (see above)"
    flags = f"; {'; '.join(found.flags)}" if found.flags else ""
    return (
        f"[fmnist] {visible(student)}: {_points(found.score)} / {_points(found.max_score)}, "
        f"{late_text(found.seconds_late)}{flags}"
    )


def after_autograde(c: Any, root: Path, instructor: Path, argv: list[str]) -> None:
    """Print and write the report of the lesson ``nbgrader autograde`` just graded."""
    from nbgrader.coursedir import CourseDirectory

    from fmnist_utils.grading.course import Course

    rest = argv[argv.index("autograde") + 1 :] if "autograde" in argv else []
    lessons = [a for a in rest if not a.startswith("-")][:1]
    if not lessons:
        return
    try:
        course = Course(root, c.CourseDirectory.db_url, CourseDirectory(config=c))
        print_and_write(root, lessons, course)
    except Exception as error:  # the grades are saved; say why, go on
        sys.stderr.write(f"[fmnist] no grading report: {type(error).__name__}: {error}\n")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; see the module docstring."""
    from fmnist_utils.grading.course import Course
    from fmnist_utils.tooling.lessons import find_root

    parser = argparse.ArgumentParser(
        prog="python -m fmnist_utils.grading.report",
        description="Print a lesson's grading report; write it as HTML and CSV.",
    )
    parser.add_argument("lessons", nargs="*", help="lessons, e.g. 01_pixels_and_labels")
    parser.add_argument("--all", action="store_true", help="every lesson in the gradebook")
    args = parser.parse_args(argv)
    root = find_root()
    course = Course.load(root)
    lessons = list(args.lessons)
    if args.all:
        from nbgrader.api import Gradebook

        with Gradebook(course.db_url) as gb:
            lessons = [a.name for a in gb.assignments]
    if not lessons:
        parser.error("name a lesson, or --all")
    print_and_write(root, lessons, course)
    return 0


if __name__ == "__main__":
    sys.exit(main())
