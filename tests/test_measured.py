"""Measured figures have one source: ``benchmarks/results.json``.

The measurements page's block (docs/maintainers/measurements.md) is exactly what ``python -m benchmarks.run --page``
renders from the results file, and no lesson's text states a measured figure (an
accuracy with decimals, a time in seconds, a peak in GiB): a lesson that shows one
prints it in a code cell from a JSON record (the results file, or the shipped
weights' ``fmnist_utils/weights/classic_cnn.json``), so it cannot go stale.
"""

from __future__ import annotations

import re

import pytest

from benchmarks import page, results
from fmnist_utils.tooling.lessons import find_lessons, source_notebook

from .conftest import ROOT

MEASURED = {
    "an accuracy with decimals": re.compile(r"\b\d{1,3}[.,]\d+\s*(?:%|per ?cent)", re.IGNORECASE),
    "a time in seconds": re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:s|sec|secs|seconds?)\b(?!['’])"),
    "a memory peak in GiB or GB": re.compile(r"\b\d+[.,]\d+\s*(?:GiB|GB|MiB|MB)\b"),
}


# Figures that look measured but are not, by lesson: each with the reason.
NOT_MEASURED = {
    ("08_evaluate_and_look_inside", "99.9 %"): "a confidence the text discusses, not a result",
    ("09_improve_the_cnn", "1.5 GB"): "the course's memory target, not a measurement",
}


def measured_figures(text: str, lesson_id: str = "") -> list[tuple[str, str]]:
    """The measured-looking figures in a text: (what kind, the words around it)."""
    found = []
    for kind, pattern in MEASURED.items():
        for match in pattern.finditer(text):
            if (lesson_id, " ".join(match.group(0).split())) in NOT_MEASURED:
                continue
            start, end = max(0, match.start() - 40), min(len(text), match.end() + 20)
            found.append((kind, " ".join(text[start:end].split())))
    return found


def test_the_patterns_find_measured_figures_and_leave_other_numbers() -> None:
    text = "It reached 91.64 % in 179 s and peaked at 1.39 GiB."
    assert [kind for kind, _ in measured_figures(text)] == list(MEASURED)
    plain = "Estimated time: 35–45 minutes. 60,000 images of 28 × 28 pixels, 10 classes, 2 GB."
    assert measured_figures(plain) == []


def test_the_page_block_is_what_the_results_file_renders() -> None:
    data = results.read()
    shown = page.page_block(page.PAGE.read_text(encoding="utf-8"))
    expected = page.render(data, mark_loaded=True)
    assert shown == expected, (
        "docs/maintainers/measurements.md's block differs from benchmarks/results.json: run "
        "`python -m benchmarks.run --page` (add --mark-loaded for figures measured under load)"
    )


def test_the_hub_pages_sizing_is_what_the_results_file_renders() -> None:
    data = results.read()
    text = page.HUB_PAGE.read_text(encoding="utf-8")
    shown = page.page_block(text, page.SIZING_BEGIN, page.SIZING_END)
    assert shown == page.render_sizing(data, mark_loaded=True), (
        "docs/instructors/hub.md's sizing differs from benchmarks/results.json: run "
        "`python -m benchmarks.run --page` (add --mark-loaded for figures measured under load)"
    )
    assert "hub_sizing" in data["records"], "the hub's sizing has not been measured"


def test_every_record_says_where_and_how_it_was_measured() -> None:
    records = results.read()["records"]
    for key, record in records.items():
        missing = {"section", "key", "date", "machine", "commit", "command", "load", "result"}
        missing -= set(record)
        assert not missing, f"results.json record {key} lacks {sorted(missing)}"
        assert record["key"] == key
        assert len(record["load"]["before"]) == 3 and len(record["load"]["after"]) == 3, key


@pytest.mark.parametrize("lesson", find_lessons(ROOT), ids=lambda x: x.lesson_id)
def test_no_lesson_text_states_a_measured_figure(lesson) -> None:
    offenders = []
    for index, cell in enumerate(source_notebook(lesson).cells):
        if cell.cell_type == "markdown":
            offenders += [f"cell {index + 1}: {kind}: …{words}…" for kind, words in
                          measured_figures(cell.source, lesson.lesson_id)]  # fmt: skip
    assert not offenders, (
        f"{lesson.source_py.relative_to(ROOT)} states measured figures in its text; print them "
        "from a JSON record in a code cell instead (benchmarks/results.json or the shipped "
        "weights' record), so they follow the measurements:\n" + "\n".join(offenders)
    )
