"""Build temporary courses and classes of submissions, and read back their grades."""

from __future__ import annotations

import ast
import copy
import csv
import os
import shutil
import sqlite3
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from fmnist_utils.tooling.lessons import Lesson, run_nbgrader, source_notebook

from .conftest import ROOT
from .support import in_ci, skip_or_fail

TINY = textwrap.dedent(
    '''\
    # %% [markdown]
    # # A tiny lesson

    # %% nbgrader={"grade": false, "grade_id": "double", "locked": false, "schema_version": 3, "solution": true, "task": false}
    def double(x):
        """Return twice x."""
        ### BEGIN SOLUTION
        return 2 * x
        ### END SOLUTION


    # %% nbgrader={"grade": true, "grade_id": "double_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
    """Check that double doubles."""
    assert double(2) == 4, "double(2) should be 4"
    ### BEGIN HIDDEN TESTS
    assert double(-7) == -14, "double(-7) should be -14"
    ### END HIDDEN TESTS

    # %% nbgrader={"grade": false, "grade_id": "triple", "locked": false, "schema_version": 3, "solution": true, "task": false}
    def triple(x):
        """Return three times x."""
        ### BEGIN SOLUTION
        return 3 * x
        ### END SOLUTION


    # %% nbgrader={"grade": true, "grade_id": "triple_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
    """Check that triple triples."""
    assert triple(2) == 6, "triple(2) should be 6"
    ### BEGIN HIDDEN TESTS
    assert triple(-7) == -21, "triple(-7) should be -21"
    ### END HIDDEN TESTS
    '''
)


def sandbox_or_skip() -> None:
    """Skip (locally) or fail (in CI) when the bubblewrap sandbox does not work here."""
    from fmnist_utils.grading.sandbox import sandbox_problem

    problem = sandbox_problem()
    if problem is None:
        return
    skip_or_fail(f"the grading sandbox does not work on this machine: {problem}")


def grading_env_or_skip(patch: pytest.MonkeyPatch, *, trusted: bool) -> None:
    """Prepare the environment of nbgrader runs: never FMNIST_FAST in the parent.

    Trusted submissions (solutions, blanks) are graded without the sandbox where it
    does not work locally; untrusted ones skip. CI always needs the sandbox.
    """
    from fmnist_utils.grading.sandbox import OPT_OUT_VAR, sandbox_problem

    patch.delenv("FMNIST_FAST", raising=False)  # the grading kernel sets it itself
    patch.delenv(OPT_OUT_VAR, raising=False)
    if trusted and sandbox_problem() is not None and not in_ci():
        patch.setenv(OPT_OUT_VAR, "1")
        return
    sandbox_or_skip()


def make_course(
    dest: Path, lessons: list[Lesson], *, tiny: bool | tuple[str, ...] = False
) -> tuple[Path, str]:
    """Make a course in ``dest``: the config, the lessons' sources, registered in a gradebook.

    Returns the course root and its gradebook URL. Every lesson is registered with
    ``nbgrader generate_assignment`` (student copy in ``instructor/release``). ``tiny``
    adds the tiny lesson as ``01_tiny`` (``True``) or under each id given.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "nbgrader_config.py", dest)
    ids = []
    for lesson in lessons:
        shutil.copytree(lesson.source_py.parent, dest / "solutions" / lesson.lesson_id)
        ids.append(lesson.lesson_id)
    for tiny_id in ("01_tiny",) if tiny is True else tiny or ():
        source = dest / "solutions" / tiny_id / f"{tiny_id}.py"
        source.parent.mkdir(parents=True)
        source.write_text(TINY)
        nbformat.write(source_notebook(Lesson(tiny_id, dest)), source.with_suffix(".ipynb"))
        ids.append(tiny_id)
    db = f"sqlite:///{dest / 'instructor' / 'gradebook.db'}"
    for lesson_id in ids:
        done = run_nbgrader(
            [
                "generate_assignment",
                lesson_id,
                "--force",
                "--CourseDirectory.release_directory=instructor/release",
            ],
            dest,
            db,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return dest, db


@dataclass(frozen=True)
class Exercise:
    """A graded exercise: the answer cell and the test cell after it."""

    answer_id: str
    test_id: str
    points: float


class Submissions:
    """Make submissions of one lesson of a course built by :func:`make_course`."""

    def __init__(self, root: Path, lesson_id: str, release: Path | None = None) -> None:
        self.root = root
        self.lesson_id = lesson_id
        self.source = nbformat.read(
            root / "solutions" / lesson_id / f"{lesson_id}.ipynb", as_version=4
        )
        release = release or root / "instructor" / "release" / lesson_id / f"{lesson_id}.ipynb"
        self.release = nbformat.read(release, as_version=4)
        self.exercises: list[Exercise] = []
        answer = None
        for cell in self.source.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and not meta.get("grade"):
                answer = meta["grade_id"]
            elif meta.get("grade") and not meta.get("solution") and answer is not None:
                self.exercises.append(Exercise(answer, meta["grade_id"], float(meta["points"])))
                answer = None
        self.total = sum(e.points for e in self.exercises)

    def solution(self, grade_id: str) -> str:
        """The instructor's source of an answer cell."""
        for cell in self.source.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                return cell.source
        raise KeyError(grade_id)

    def wrong(self, grade_id: str) -> str:
        """A wrong answer that runs: the solution, its names then rebound to a dud."""
        source = self.solution(grade_id)
        names = []
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names.append(node.name)
            elif isinstance(node, ast.Assign):
                names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        assert names, f"{grade_id}: no name defined in the answer cell"
        return source + "\n\n" + "\n".join(f"{n} = lambda *args, **kwargs: None" for n in names)

    def notebook(self, answers: dict[str, str] | None = None, *, blank: bool = False):
        """The student copy with every answer filled in (or none), some replaced."""
        nb = copy.deepcopy(self.release)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id and cell.metadata["nbgrader"].get("solution") and not blank:
                cell.source = self.solution(grade_id)
            if grade_id in (answers or {}):
                cell.source = answers[grade_id]
        return nb

    def folder(self, student: str) -> Path:
        """The submission folder of a student."""
        return self.root / "instructor" / "submitted" / student / self.lesson_id

    def submit(self, student: str, nb, name: str | None = None) -> Path:
        """Put a notebook where a collected submission goes."""
        path = self.folder(student) / (name or f"{self.lesson_id}.ipynb")
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        return path


def export(root: Path, db: str) -> dict[tuple[str, str], dict[str, str]]:
    """Run ``nbgrader export`` and read the CSV: {(lesson, student): row}."""
    out = root / "instructor" / "grades.csv"
    done = run_nbgrader(["export", "--to", str(out)], root, db)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(out, newline="") as handle:
        return {(row["assignment"], row["student_id"]): row for row in csv.DictReader(handle)}


def dump(db: str, students: list[str] | None = None) -> list[tuple]:
    """Every graded cell of a SQLite gradebook, comparable between runs."""
    from fmnist_utils.grading.parallel import dump_gradebook

    rows = dump_gradebook(db)
    return [row for row in rows if students is None or row[0] in students]


def sqlite_path(db: str) -> Path:
    """The file of a sqlite:/// URL."""
    assert db.startswith("sqlite:///"), db
    return Path(db[len("sqlite:///") :])


def integrity_ok(db: str) -> bool:
    """Tell whether SQLite finds the gradebook file intact."""
    with sqlite3.connect(sqlite_path(db)) as con:
        return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def processes_working_in(root: Path) -> list[int]:
    """The processes whose working folder is inside ``root`` (a kernel, bwrap, its wrapper)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if os.readlink(proc / "cwd").startswith(str(root)):
                    found.append(int(proc.name))
            except OSError:
                pass
    return found
