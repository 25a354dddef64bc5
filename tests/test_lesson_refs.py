"""Where the docs say a module is a lesson's, that lesson uses it."""

from __future__ import annotations

import importlib
import re

import pytest

from fmnist_utils.tooling.lessons import find_lessons

from .conftest import ROOT

# "- :mod:`fmnist_utils.filters` -- lesson 5's ..." and "| `filters.py` | lesson 5's ..."
CLAIMS = [
    (
        ROOT / "fmnist_utils" / "__init__.py",
        re.compile(r":mod:`fmnist_utils\.(\w+)` -- [Ll]esson (\d+)'s"),
    ),
    (ROOT / "CONTRIBUTING.md", re.compile(r"\| `(\w+)\.py` \| [Ll]esson (\d+)'s")),
]


def _claims() -> list[tuple[str, str, int]]:
    found = []
    for path, pattern in CLAIMS:
        for module, number in pattern.findall(path.read_text(encoding="utf-8")):
            found.append((path.name, module, int(number)))
    return found


def test_the_module_maps_name_lessons() -> None:
    assert len(_claims()) >= 6, "the module maps no longer say which lesson uses what"


@pytest.mark.parametrize(("doc", "module", "number"), _claims())
def test_a_module_said_to_be_a_lessons_is_used_there(doc: str, module: str, number: int) -> None:
    lessons = {int(lesson.lesson_id.split("_", 1)[0]): lesson for lesson in find_lessons(ROOT)}
    assert number in lessons, f"{doc}: there is no lesson {number}"
    source = lessons[number].source_py.read_text(encoding="utf-8")
    mod = importlib.import_module(f"fmnist_utils.{module}")
    names = getattr(mod, "__all__", None) or [
        n for n, v in vars(mod).items()
        if not n.startswith("_") and getattr(v, "__module__", None) == mod.__name__
    ]  # fmt: skip
    used = [n for n in names if re.search(rf"\b{re.escape(n)}\b", source)]
    assert used or f"fmnist_utils.{module}" in source, (
        f"{doc} says {module} is lesson {number}'s, but that lesson uses none of {names}"
    )


GLOSSARY = ROOT / "docs" / "learners" / "glossary.md"
ROW = re.compile(
    r"^\| ([^|]+?) \| [^|]+ \| \[lesson (\d+)[^\]]*\]\(\.\./lessons/(\w+)\.ipynb\) \|$", re.M
)


def test_the_glossary_sends_each_term_to_the_lesson_that_explains_it() -> None:
    from fmnist_utils.tooling.lessons import source_notebook

    lessons = {lesson.lesson_id: lesson for lesson in find_lessons(ROOT)}
    rows = ROW.findall(GLOSSARY.read_text(encoding="utf-8"))
    assert len(rows) >= 20, "the glossary's rows are not read: is the table's layout changed?"
    wrong = []
    for term, number, lesson_id in rows:
        lesson = lessons.get(lesson_id)
        if lesson is None or int(lesson_id[:2]) != int(number):
            wrong.append(f"{term}: lesson {number} links to {lesson_id}")
            continue
        prose = " ".join(
            c.source for c in source_notebook(lesson).cells if c.cell_type == "markdown"
        ).lower()
        first = re.split(r"[,(]", term)[0].strip().lower()
        if first not in prose:
            wrong.append(f"{term}: lesson {number} never says {first!r}")
    assert not wrong, "glossary rows that point to the wrong place:\n" + "\n".join(wrong)
