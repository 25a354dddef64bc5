"""A learner's copy runs without error until its first exercise, which asks for an answer.

(That every solution runs to the end, with full marks, is checked by the grading
tests: tests/test_grading.py.)
"""

from __future__ import annotations

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from fmnist_utils.tooling.lessons import Lesson
from fmnist_utils.tooling.profiler import run_notebook

from .conftest import LESSONS

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.lesson_id)
def test_student_copy_runs_until_its_first_exercise(lesson: Lesson) -> None:
    cells = nbformat.read(lesson.release_ipynb, as_version=4).cells
    first_solution = next(
        i for i, cell in enumerate(cells) if cell.metadata.get("nbgrader", {}).get("solution")
    )
    with pytest.raises(CellExecutionError) as raised:
        run_notebook(lesson.release_ipynb, fast=True, timeout=300)
    error = raised.value
    assert error.ename == "NotImplementedError", (
        f"{lesson.release_ipynb.name} failed with {error.ename} before a learner reached an "
        f"exercise:\n{error}"
    )
    # the cell that raised comes at or after the first exercise
    failing_source = str(error).split("------------------")[1].strip()
    failing = next(
        i
        for i, cell in enumerate(cells)
        if cell.source.strip() and cell.source.strip() in failing_source
    )
    assert failing >= first_solution, f"cell {failing + 1} failed before the first exercise"
