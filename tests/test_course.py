"""The lesson build: derived files up to date, no outputs, no answers in student copies."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import nbformat
import pytest

from fmnist_utils.tooling.build import build, stale_files
from fmnist_utils.tooling.lessons import (
    HIDDEN_MARKERS,
    SOLUTION_MARKERS,
    CourseError,
    Lesson,
    find_lessons,
    lessons_of,
    source_notebook,
)

from .conftest import LESSONS, ROOT
from .support import repository_files

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
    '''
)


@pytest.fixture
def tiny_course(tmp_path: Path) -> Path:
    """A course with one tiny lesson, in a fresh git repository."""
    shutil.copy2(ROOT / "nbgrader_config.py", tmp_path)
    source = tmp_path / "solutions" / "01_tiny" / "01_tiny.py"
    source.parent.mkdir(parents=True)
    source.write_text(TINY)
    (source.parent / "picture.txt").write_text("a data file the lesson reads\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


def _commit_all(root: Path) -> None:
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "build"],
        cwd=root,
        check=True,
    )


@pytest.mark.slow
def test_build_makes_student_copy_without_answers(tiny_course: Path) -> None:
    written = build(tiny_course, force=False)
    lesson = Lesson("01_tiny", tiny_course)
    assert lesson.source_ipynb in written and lesson.release_ipynb in written
    student = lesson.release_ipynb.read_text()
    assert "return 2 * x" not in student and "double(-7)" not in student
    assert "raise NotImplementedError()" in student
    assert "double(2) == 4" in student, "the visible self-check must stay"
    # no text twin of the student copy, and not the source's .py: the data file is shipped
    assert not (lesson.release_dir / "01_tiny.py").exists()
    assert "jupytext" not in nbformat.read(lesson.release_ipynb, as_version=4).metadata
    assert (lesson.release_dir / "picture.txt").is_file()
    assert stale_files(tiny_course) == []
    # building twice writes nothing: the output is deterministic
    assert build(tiny_course) == []


@pytest.mark.slow
def test_build_reports_stale_and_keeps_learner_files(tiny_course: Path) -> None:
    other = tiny_course / "solutions" / "02_other" / "02_other.py"
    other.parent.mkdir()
    other.write_text(TINY)
    build(tiny_course)
    _commit_all(tiny_course)
    lesson = Lesson("01_tiny", tiny_course)
    mine = lesson.release_dir / "my_notes.ipynb"
    mine.write_text("{}")
    lesson.source_py.write_text(TINY.replace("A tiny lesson", "A tiny, changed lesson"))
    problems = stale_files(tiny_course)
    assert problems == [
        "solutions/01_tiny/01_tiny.ipynb: out of date",
        "lessons/01_tiny/01_tiny.ipynb: out of date",
    ]
    # what the pre-commit hook does: check only the lesson of the changed file
    changed = lessons_of(tiny_course, [str(lesson.source_py)])
    assert changed == [lesson]
    assert stale_files(tiny_course, changed) == problems, "other lessons are not orphans"
    build(tiny_course)
    assert mine.read_text() == "{}", "a learner's own file in lessons/ must survive a rebuild"
    assert stale_files(tiny_course) == []


@pytest.mark.slow
def test_build_refuses_to_overwrite_uncommitted_edits(tiny_course: Path) -> None:
    build(tiny_course)
    _commit_all(tiny_course)
    lesson = Lesson("01_tiny", tiny_course)
    edited = lesson.release_ipynb.read_text().replace("A tiny lesson", "my own notes")
    lesson.release_ipynb.write_text(edited)
    with pytest.raises(CourseError, match=r"lessons/01_tiny/01_tiny.ipynb"):
        build(tiny_course)
    assert lesson.release_ipynb.read_text() == edited, "nothing may be written on refusal"
    build(tiny_course, force=True)
    assert "my own notes" not in lesson.release_ipynb.read_text()


def test_duplicate_grade_ids_are_named(tiny_course: Path) -> None:
    lesson = Lesson("01_tiny", tiny_course)
    lesson.source_py.write_text(TINY.replace('"grade_id": "double_tests"', '"grade_id": "double"'))
    with pytest.raises(CourseError, match=r"cells 2 and 3 share grade_id 'double'"):
        source_notebook(lesson)


def test_misnamed_lesson_folder_is_named(tiny_course: Path) -> None:
    (tiny_course / "solutions" / "Lesson 2").mkdir()
    with pytest.raises(CourseError, match=r"Lesson 2: a lesson folder must be named NN_slug"):
        find_lessons(tiny_course)


def test_lesson_folder_without_source_is_named(tiny_course: Path) -> None:
    (tiny_course / "solutions" / "02_empty").mkdir()
    with pytest.raises(CourseError, match=r"02_empty: missing the lesson source 02_empty.py"):
        find_lessons(tiny_course)


# --- the real course -------------------------------------------------------------------


def test_course_has_lessons() -> None:
    ids = [lesson.lesson_id for lesson in LESSONS]
    assert ids, "solutions/ holds no lesson"
    assert [i[:2] for i in ids] == [f"{n:02d}" for n in range(1, len(ids) + 1)], (
        f"lessons must be numbered 01, 02, ... without gaps; found {ids}"
    )


@pytest.mark.slow
def test_derived_files_are_up_to_date() -> None:
    problems = stale_files(ROOT)
    assert not problems, "run `make lessons`:\n" + "\n".join(problems)


def test_no_notebook_holds_outputs() -> None:
    dirty = []
    for path in (ROOT / name for name in repository_files("*.ipynb")):
        nb = json.loads(path.read_text())
        for index, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                dirty.append(f"{path.relative_to(ROOT)} cell {index + 1}")
    assert not dirty, "clear the outputs (make lessons) of: " + ", ".join(dirty)


def _regions(source: str, markers: tuple[str, str]) -> list[str]:
    begin, end = (re.escape(m) for m in markers)
    return re.findall(rf"{begin}\n(.*?)\n[ \t]*{end}", source, flags=re.DOTALL)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.lesson_id)
def test_student_copy_holds_no_answer(lesson: Lesson) -> None:
    marker_words = [*SOLUTION_MARKERS, *HIDDEN_MARKERS, "BEGIN SOLUTION", "HIDDEN TESTS"]
    for path in lesson.release_dir.rglob("*"):
        if path.is_file() and path.suffix in {".ipynb", ".py", ".txt", ".md"}:
            text = path.read_text()
            for word in marker_words:
                assert word not in text, f"{path.relative_to(ROOT)} contains {word!r}"
    student = {
        cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source
        for cell in nbformat.read(lesson.release_ipynb, as_version=4).cells
    }
    for cell in source_notebook(lesson).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        for region in _regions(cell.source, SOLUTION_MARKERS) + _regions(
            cell.source, HIDDEN_MARKERS
        ):
            for line in region.splitlines():
                code = line.strip()
                if len(code) > 12 and not code.startswith("#"):
                    assert code not in student.get(grade_id, ""), (
                        f"{lesson.release_ipynb.relative_to(ROOT)} cell {grade_id!r} "
                        f"leaks answer line {code!r}"
                    )


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.lesson_id)
def test_student_copy_is_a_notebook_only(lesson: Lesson) -> None:
    """A learner's file browser shows one file per lesson, and saving writes no text twin."""
    assert not lesson.release_ipynb.with_suffix(".py").exists()
    assert "jupytext" not in nbformat.read(lesson.release_ipynb, as_version=4).metadata
    import jupytext.config

    config = jupytext.config.find_jupytext_configuration_file(str(lesson.release_dir))
    formats = jupytext.config.load_jupytext_configuration_file(config).formats if config else ""
    assert "py" not in str(formats), f"{config} pairs the student notebooks with text files"


def test_readme_figure_is_drawn_from_real_data(tmp_path: Path) -> None:
    from matplotlib.image import imread

    from fmnist_utils.tooling.cli import main

    out = tmp_path / "grid.png"
    assert main(["readme-figure", "--out", str(out)]) == 0
    image = imread(out)
    assert image.shape[0] > 400 and image.shape[1] > 400, image.shape
    assert image[..., :3].std() > 0.1, "the figure should show images, not a blank canvas"
