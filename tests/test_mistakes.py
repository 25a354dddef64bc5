"""Feedback that teaches: every typical wrong answer is caught, and told what is wrong.

For each wrong answer of the mistake bank (``tests/mistakes/NN_slug.toml``): the checks
it is meant to meet catch it (the visible ones, or where only they can, the hidden
ones), with an ``AssertionError`` whose message names the property (the bank's
``message`` regex) and the lesson section to reread, and the grader, which runs the
tests in a kernel of their own and the answer in the learner's, says exactly the same
(so does it for every solution). The lesson, solutions and hidden
tests included, runs to the end (so every solution passes its checks), and no cell
prints TensorFlow's or absl's C++ log lines. Every hidden check carries a message.
"""

from __future__ import annotations

import ast
import re

import pytest

from fmnist_utils.tooling.lessons import Lesson, source_notebook

from .conftest import LESSONS
from .mistake_bank import NOISE, LessonRun, Mistake, load_bank, run_lesson, split_test_cell

BY_ID = {lesson.lesson_id: lesson for lesson in LESSONS}
MISTAKES = [m for lesson in LESSONS for m in load_bank(lesson.lesson_id)]
MIN_PER_EXERCISE = 4

_runs: dict[str, LessonRun] = {}


def lesson_run(lesson_id: str) -> LessonRun:
    """Run a lesson with its mistake bank once per test session."""
    if lesson_id not in _runs:
        lesson = BY_ID[lesson_id]
        _runs[lesson_id] = run_lesson(lesson, load_bank(lesson_id))
    return _runs[lesson_id]


def _graded_exercises(lesson: Lesson) -> list[str]:
    return [
        c.metadata["nbgrader"]["grade_id"]
        for c in source_notebook(lesson).cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    "mistake", MISTAKES, ids=lambda m: f"{m.lesson_id}-{m.exercise}-{m.name.replace(' ', '_')}"
)
def test_wrong_answer_is_caught_with_a_message(mistake: Mistake) -> None:
    outcome = lesson_run(mistake.lesson_id).outcomes[(mistake.exercise, mistake.name)]
    run = _runs[mistake.lesson_id]
    assert mistake.caught_by in ("visible", "hidden"), f"{mistake.name}: caught_by?"
    if mistake.caught_by == "visible":
        error = outcome.visible
        assert error is not None, f"{mistake.name}: the visible checks let it pass"
    else:
        assert outcome.visible is None, (
            f"{mistake.name}: the visible checks catch it ({outcome.visible}): say caught_by = "
            "'visible' in the bank"
        )
        error = outcome.hidden
        assert error is not None, f"{mistake.name}: passes the visible and the hidden checks"
    assert error.startswith("AssertionError: ") and len(error) > len("AssertionError: ") + 20, (
        f"{mistake.name}: the learner should get an AssertionError that explains, got {error!r}"
    )
    assert re.search(mistake.message, error, re.I), (
        f"{mistake.name}: the message should name the property ({mistake.message!r}): {error}"
    )
    named = [h for h in run.headings if h in error]
    assert named, f"{mistake.name}: the message should name the section to reread: {error}"
    graded = (outcome.graded_visible, outcome.graded_hidden)
    assert graded == (outcome.visible, outcome.hidden), (
        f"{mistake.name}: graded, the checks say {graded}; in the learner's kernel "
        f"{(outcome.visible, outcome.hidden)}"
    )


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.lesson_id)
def test_every_exercise_has_its_mistakes(lesson: Lesson) -> None:
    bank = load_bank(lesson.lesson_id)
    assert bank, (
        f"tests/mistakes/{lesson.lesson_id}.toml is missing or empty: every graded exercise "
        "needs its typical wrong answers (CONTRIBUTING.md, 'The mistake bank')"
    )
    counts = {name: 0 for name in _graded_exercises(lesson)}
    for mistake in bank:
        assert mistake.exercise in counts, f"{mistake.name}: no exercise {mistake.exercise!r}"
        counts[mistake.exercise] += 1
    few = {name: n for name, n in counts.items() if n < MIN_PER_EXERCISE}
    assert not few, f"{lesson.lesson_id}: fewer than {MIN_PER_EXERCISE} wrong answers: {few}"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.lesson_id)
def test_lesson_prints_no_tensorflow_log_lines(lesson: Lesson) -> None:
    noisy = [
        f"cell {number}: {text.strip()}"
        for number, text in lesson_run(lesson.lesson_id).stderr
        if NOISE.search(text)
    ]
    assert not noisy, "TensorFlow/absl log lines reach the learner:\n" + "\n".join(noisy)


def bare_hidden_checks(source: str) -> list[int]:
    """Line numbers (in the hidden part) of asserts and np.testing calls without a message."""
    _, hidden = split_test_cell(source)
    bare = []
    for node in ast.walk(ast.parse(hidden)):
        if isinstance(node, ast.Assert) and node.msg is None:
            bare.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr.startswith("assert_")
            and not any(k.arg == "err_msg" for k in node.keywords)
        ):
            bare.append(node.lineno)
    return bare


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.lesson_id)
def test_every_hidden_check_has_a_message(lesson: Lesson) -> None:
    bare = []
    for cell in source_notebook(lesson).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            bare += [
                f"{meta['grade_id']}, hidden line {n}" for n in bare_hidden_checks(cell.source)
            ]
    assert not bare, "hidden checks without a message for the learner:\n" + "\n".join(bare)
