"""Every lesson grades through the real nbgrader: solutions get full marks, blanks zero.

Graded as instructors grade (docs/instructors/): the course's nbgrader_config.py, the
sandboxed grading kernel, submissions in instructor/submitted/. The parent process never
has FMNIST_FAST: the grading kernel sets it itself. The awkward cases are in
test_grading_cases.py.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from fmnist_utils.tooling.lessons import run_nbgrader

from .conftest import LESSON_IDS, LESSONS
from .grading_helpers import Submissions, export, grading_env_or_skip, make_course
from .mistake_bank import NOISE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A course with every lesson registered and two submissions per lesson."""
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=True)
        root, db = make_course(tmp_path_factory.mktemp("course") / "course", LESSONS)
        for lesson in LESSONS:
            subs = Submissions(root, lesson.lesson_id)
            subs.submit("perfect", subs.notebook())
            subs.submit("blank", subs.notebook(blank=True))
        yield root, db


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_solutions_get_full_marks_and_blanks_zero(course: tuple[Path, str], lesson_id: str) -> None:
    root, db = course
    done = run_nbgrader(["autograde", lesson_id, "--force"], root, db)
    assert done.returncode == 0, done.stdout + done.stderr
    scores = export(root, db)
    perfect, maximum = (float(scores[(lesson_id, "perfect")][k]) for k in ("score", "max_score"))
    blank = float(scores[(lesson_id, "blank")]["score"])
    assert maximum >= 3, f"{lesson_id} should have graded exercises worth points"
    assert perfect == maximum, f"{lesson_id}: the solutions scored {perfect} of {maximum}"
    assert blank == 0, f"{lesson_id}: the untouched student copy scored {blank}"
    said = done.stdout + done.stderr
    false_notes = [line for line in said.splitlines() if f"perfect/{lesson_id}" in line
                   and ("Note on" in line or "FLAGGED" in line)]  # fmt: skip
    assert not false_notes, f"{lesson_id}: the solution's grading says {false_notes}"
    graded = root / "instructor" / "autograded" / "perfect" / lesson_id / f"{lesson_id}.ipynb"
    assert graded.is_file()
    noisy = [
        output["text"]
        for cell in nbformat.read(graded, as_version=4).cells
        for output in cell.get("outputs", [])
        if output.get("name") == "stderr" and NOISE.search(output.get("text", ""))
    ]
    assert not noisy, f"{lesson_id}: TensorFlow/absl log lines in the graded notebook: {noisy}"
