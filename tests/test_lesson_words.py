"""The lessons speak of clothes and networks, never of the course's machinery."""

from __future__ import annotations

import re

import nbformat
import pytest

from fmnist_utils.tooling.lessons import find_lessons

from .conftest import ROOT

MACHINERY = re.compile(
    r"autograd(er|ing)|\bgrader\b|README|benchmark|load average|first version|"
    r"\bthe tests\b|hidden tests?\b|\brecipe key|\bCI\b|nbgrader",
    re.IGNORECASE,
)
QUICK_RUN_LESSON = "02_learning_one_weight"
"""The one lesson that explains the quick run, in learner terms (never by its setting)."""


def _prose(nb) -> list[tuple[int, str]]:
    """Markdown lines, and comment lines of code cells that are not graded tests."""
    out = []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            continue
        for line in cell.source.splitlines():
            if cell.cell_type == "markdown" or line.lstrip().startswith("#"):
                out.append((index, line))
    return out


@pytest.mark.parametrize("lesson", find_lessons(ROOT), ids=lambda lesson: lesson.lesson_id)
def test_no_machinery_in_the_lesson_text(lesson) -> None:
    nb = nbformat.read(lesson.release_ipynb, as_version=4)
    found = [f"cell {i}: {line.strip()}" for i, line in _prose(nb) if MACHINERY.search(line)]
    found += [f"cell {i}: {line.strip()}" for i, line in _prose(nb) if "FMNIST_" in line]
    assert not found, f"{lesson.lesson_id} speaks of the course's machinery:\n" + "\n".join(found)


def test_the_quick_run_is_explained_once() -> None:
    lesson = next(x for x in find_lessons(ROOT) if x.lesson_id == QUICK_RUN_LESSON)
    nb = nbformat.read(lesson.release_ipynb, as_version=4)
    assert sum("*quick run*" in line for _, line in _prose(nb)) == 1
