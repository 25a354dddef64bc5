"""The style guide's machine-checkable rules, for every lesson (see CONTRIBUTING.md)."""

from __future__ import annotations

import ast
import re

import pytest

from fmnist_utils.tooling import timing
from fmnist_utils.tooling.lessons import Lesson, prose_words, source_notebook
from fmnist_utils.tooling.site import lesson_summary

from .conftest import LESSONS

lessons = pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.lesson_id)


def _grade_cells(lesson: Lesson):
    return [c for c in source_notebook(lesson).cells if c.metadata.get("nbgrader", {}).get("grade")]


@lessons
def test_opens_with_title_objectives_and_time(lesson: Lesson) -> None:
    first = source_notebook(lesson).cells[0]
    number = int(lesson.lesson_id[:2])
    assert first.cell_type == "markdown", "the first cell must be the title, in markdown"
    assert re.match(rf"# Lesson {number} — ", first.source), (
        f"the first line must be '# Lesson {number} — Title', got {first.source.splitlines()[0]!r}"
    )
    assert "## Learning objectives" in first.source, "the first cell lists learning objectives"
    assert "Estimated time: about" in first.source, "the first cell states the estimated time"


@lessons
def test_time_estimate_follows_the_rule(lesson: Lesson) -> None:
    """The first cell's time is the documented rule's, and no lesson takes much over an hour."""
    first = source_notebook(lesson).cells[0].source
    expected = timing.estimate(lesson)
    assert expected.sentence() in first, (
        f"the first cell should say {expected.sentence()!r} (the rule in "
        "fmnist_utils/tooling/timing.py): run `python -m fmnist_utils.tooling times --write`"
    )
    assert expected.total <= 65, (
        f"{lesson.lesson_id} takes a newcomer about {expected.total} minutes: move material to the "
        "further exercises or to another lesson"
    )


BOLD_TERM = re.compile(r"^\*\*(?P<term>[^*]+)\*\*")
MAX_NEW_IDEAS = 6


@lessons
def test_names_at_most_six_new_ideas_and_explains_each(lesson: Lesson) -> None:
    """The first cell lists the lesson's new ideas, and each is used again further down."""
    cells = source_notebook(lesson).cells
    assert "## New ideas" in cells[0].source, (
        "the first cell needs a '## New ideas' list: one '- **term**: a few words' bullet per idea"
    )
    ideas = lesson_summary(lesson)["ideas"]  # the list the website shows, read the same way
    terms = [m["term"] for idea in ideas if (m := BOLD_TERM.match(idea))]
    assert 1 <= len(terms) <= MAX_NEW_IDEAS, (
        f"{lesson.lesson_id} lists {len(terms)} new ideas; a newcomer can take about "
        f"{MAX_NEW_IDEAS} per lesson: move the rest to another lesson or the further exercises"
    )
    body = " ".join(c.source for c in cells[1:] if c.cell_type == "markdown").lower()
    missing = [t for t in terms if t.lower() not in body]
    assert not missing, f"{lesson.lesson_id} lists {missing} as new ideas but never explains them"


def test_the_rule_counts_every_part() -> None:
    lesson = LESSONS[0]
    base = timing.estimate(lesson, run_seconds=0)
    slow = timing.estimate(lesson, run_seconds=185)
    assert slow.waiting == 3 and base.waiting == 0
    assert "3 waiting for the computer" in slow.sentence()
    assert "waiting" not in base.sentence()
    assert base.exercises == 3 * sum(
        c.metadata["nbgrader"].get("points", 0) for c in _grade_cells(lesson)
    )
    assert base.reading == round(prose_words(lesson) / timing.WORDS_PER_MINUTE)


@lessons
def test_setup_cell_checks_versions_and_seeds(lesson: Lesson) -> None:
    code = next(c for c in source_notebook(lesson).cells if c.cell_type == "code")
    assert "check_versions()" in code.source, "the setup cell calls check_versions()"
    assert "set_random_seed(" in code.source, (
        "the setup cell calls keras.utils.set_random_seed (or, without Keras, "
        "fmnist_utils.environment.set_random_seed)"
    )


@lessons
def test_ends_with_a_summary(lesson: Lesson) -> None:
    headings = [
        line
        for cell in source_notebook(lesson).cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]
    assert "## Summary" in headings, "a lesson ends with a '## Summary' section"
    after = headings[headings.index("## Summary") + 1 :]
    assert after in ([], ["## Further exercises"]), f"only Further exercises may follow: {after}"


@lessons
def test_has_three_graded_exercises_with_docstrings(lesson: Lesson) -> None:
    graded = _grade_cells(lesson)
    assert len(graded) >= 3, f"at least three graded exercises, found {len(graded)}"
    for cell in graded:
        meta = cell.metadata["nbgrader"]
        assert meta.get("points", 0) > 0, f"{meta['grade_id']}: a graded cell needs points"
        body = ast.parse(cell.source).body
        assert body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant), (
            f"{meta['grade_id']}: a test cell opens with a docstring saying what it checks"
        )
        assert "assert" in cell.source, f"{meta['grade_id']}: a test cell asserts something"


@lessons
def test_solutions_sit_inside_function_bodies(lesson: Lesson) -> None:
    for cell in source_notebook(lesson).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code" and "def " in cell.source:
            for line in cell.source.splitlines():
                if "### BEGIN SOLUTION" in line:
                    assert line.startswith("    "), (
                        f"{meta['grade_id']}: put ### BEGIN SOLUTION inside the function body, "
                        "so the signature and docstring stay visible"
                    )


def test_no_star_imports_and_no_helpers_defined_twice() -> None:
    names: dict[str, str] = {}
    for other in LESSONS:
        for cell in source_notebook(other).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.ImportFrom):
                    assert all(a.name != "*" for a in node.names), f"{other.lesson_id}: star import"
                if isinstance(node, ast.FunctionDef) and not cell.metadata.get("nbgrader", {}).get(
                    "solution"
                ):
                    if node.name in names and names[node.name] != other.lesson_id:
                        pytest.fail(
                            f"{node.name} is defined in {names[node.name]} and {other.lesson_id}: "
                            "move it to fmnist_utils"
                        )
                    names[node.name] = other.lesson_id
