"""Every lesson grades through the real nbgrader: solutions get full marks, blanks zero."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from fmnist_utils.course import Lesson, run_nbgrader

from .conftest import LESSON_IDS, LESSONS, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def fast_grading():
    """Grading kernels inherit nbgrader's environment: grade in the fast setting, as CI does."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FMNIST_FAST", "1")
        yield


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A course with every lesson released and two submissions per lesson."""
    root = tmp_path_factory.mktemp("course")
    db = f"sqlite:///{root / 'gradebook.db'}"
    shutil.copy2(ROOT / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "solutions", root / "solutions")
    for lesson in LESSONS:
        done = run_nbgrader(["generate_assignment", lesson.lesson_id, "--force"], root, db)
        assert done.returncode == 0, done.stderr
        copy = Lesson(lesson.lesson_id, root)
        for student, notebook in (("perfect", copy.source_ipynb), ("blank", copy.release_ipynb)):
            target = root / "submitted" / student / lesson.lesson_id / notebook.name
            target.parent.mkdir(parents=True)
            shutil.copy2(notebook, target)
    return root, db


def _scores(root: Path, db: str) -> dict[tuple[str, str], tuple[float, float]]:
    done = run_nbgrader(["export", "--to", str(root / "grades.csv")], root, db)
    assert done.returncode == 0, done.stderr
    with open(root / "grades.csv", newline="") as handle:
        return {
            (row["assignment"], row["student_id"]): (float(row["score"]), float(row["max_score"]))
            for row in csv.DictReader(handle)
        }


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_solutions_get_full_marks_and_blanks_zero(course: tuple[Path, str], lesson_id: str) -> None:
    root, db = course
    done = run_nbgrader(["autograde", lesson_id, "--force"], root, db)
    assert done.returncode == 0, done.stdout + done.stderr
    scores = _scores(root, db)
    perfect, maximum = scores[(lesson_id, "perfect")]
    blank, _ = scores[(lesson_id, "blank")]
    assert maximum >= 3, f"{lesson_id} should have graded exercises worth points"
    assert perfect == maximum, f"{lesson_id}: the solutions scored {perfect} of {maximum}"
    assert blank == 0, f"{lesson_id}: the untouched student copy scored {blank}"
