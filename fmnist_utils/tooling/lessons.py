"""The course's lessons: where their files live, reading a source, running nbgrader.

The only files an author edits are ``solutions/NN_slug/NN_slug.py`` (Jupytext
py:percent with nbgrader cell metadata); :mod:`fmnist_utils.tooling.build` derives the
rest from them. This module finds the course and its lessons, reads a source as a
notebook, and runs nbgrader's command line in a course folder (for tests, benchmarks
and the container checks). The grading package reads the answer markers from here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LESSON_ID = re.compile(r"^\d\d_[a-z0-9_]+$")
SOURCE_DIR = "solutions"
RELEASE_DIR = "lessons"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
IGNORED_SOURCE_FILES = {".ipynb_checkpoints", "__pycache__"}


class CourseError(RuntimeError):
    """A problem in the course's files that an author must fix."""


@dataclass(frozen=True)
class Lesson:
    """One lesson: its id and where its files live.

    Attributes
    ----------
    lesson_id : str
        The nbgrader assignment name, ``NN_slug``.
    root : pathlib.Path
        The course directory (the one holding ``nbgrader_config.py``).
    """

    lesson_id: str
    root: Path

    @property
    def source_py(self) -> Path:
        """The py:percent source, the only file an author edits."""
        return self.root / SOURCE_DIR / self.lesson_id / f"{self.lesson_id}.py"

    @property
    def source_ipynb(self) -> Path:
        """The notebook paired with the source."""
        return self.source_py.with_suffix(".ipynb")

    @property
    def release_dir(self) -> Path:
        """The folder of the student copy."""
        return self.root / RELEASE_DIR / self.lesson_id

    @property
    def release_ipynb(self) -> Path:
        """The student notebook."""
        return self.release_dir / f"{self.lesson_id}.ipynb"


def find_root(start: Path | None = None) -> Path:
    """Find the course directory: the nearest folder with ``nbgrader_config.py``.

    Parameters
    ----------
    start : pathlib.Path, optional
        Where to start looking (default: the current directory).

    Returns
    -------
    pathlib.Path
        The course directory.

    Raises
    ------
    CourseError
        If no parent folder holds ``nbgrader_config.py``.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file() and (folder / SOURCE_DIR).is_dir():
            return folder
    raise CourseError(
        f"No course found at or above {here}: run this from the course repository "
        "(the folder with nbgrader_config.py and solutions/)."
    )


def find_lessons(root: Path) -> list[Lesson]:
    """List the lessons of a course, in order.

    Parameters
    ----------
    root : pathlib.Path
        The course directory.

    Returns
    -------
    list of Lesson
        One entry per folder of ``solutions/`` (none if there is no such folder).

    Raises
    ------
    CourseError
        If a folder of ``solutions/`` is misnamed or lacks its ``.py`` source.
    """
    lessons: list[Lesson] = []
    if not (root / SOURCE_DIR).is_dir():
        return lessons
    for folder in sorted((root / SOURCE_DIR).iterdir()):
        if not folder.is_dir() or folder.name in IGNORED_SOURCE_FILES:
            continue
        if not LESSON_ID.match(folder.name):
            raise CourseError(
                f"{folder}: a lesson folder must be named NN_slug (two digits, an "
                "underscore, lower-case words joined by underscores), e.g. 01_pixels_and_labels."
            )
        lesson = Lesson(folder.name, root)
        if not lesson.source_py.is_file():
            raise CourseError(
                f"{folder}: missing the lesson source {lesson.source_py.name}; every lesson "
                "folder holds one py:percent file named like the folder."
            )
        lessons.append(lesson)
    return lessons


def source_notebook(lesson: Lesson):
    """Read a lesson's py:percent source as a notebook with stable cell ids.

    Parameters
    ----------
    lesson : Lesson
        The lesson to read.

    Returns
    -------
    nbformat.NotebookNode
        The notebook; graded cells get their ``grade_id`` as cell id, the
        others ``cell-NNN`` by position, so building twice gives the same bytes.

    Raises
    ------
    CourseError
        If two cells share a ``grade_id``.
    """
    import jupytext

    text = lesson.source_py.read_text(encoding="utf-8")
    nb = jupytext.reads(text, fmt="py:percent")
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            if grade_id in seen:
                raise CourseError(
                    f"{lesson.source_py}: cells {seen[grade_id] + 1} and {index + 1} share "
                    f"grade_id {grade_id!r}; every graded cell needs its own."
                )
            seen[grade_id] = index
            cell.id = grade_id
        else:
            cell.id = f"cell-{index:03d}"
    return nb


def select_lessons(root: Path, names: list[str]) -> list[Lesson]:
    """Return the named lessons (all when ``names`` is empty); an unknown name is an error."""
    lessons = find_lessons(root)
    if not names:
        return lessons
    by_id = {lesson.lesson_id: lesson for lesson in lessons}
    unknown = [name for name in names if name not in by_id]
    if unknown:
        raise CourseError(f"Unknown lesson(s) {', '.join(unknown)}; known: {', '.join(by_id)}.")
    return [by_id[name] for name in names]


def lessons_of(root: Path, files: list[str]) -> list[Lesson]:
    """Return the lessons that files under ``solutions/`` or ``lessons/`` belong to."""
    ids = set()
    for name in files:
        parts = Path(name).resolve().relative_to(root.resolve()).parts
        if len(parts) > 1 and parts[0] in (SOURCE_DIR, RELEASE_DIR) and LESSON_ID.match(parts[1]):
            ids.add(parts[1])
    return [lesson for lesson in find_lessons(root) if lesson.lesson_id in ids]


def with_bin_on_path(path: str) -> str:
    """Return a ``PATH`` value with this environment's ``bin/`` first.

    nbgrader shells out to ``alembic``, which must come from the same environment.

    Parameters
    ----------
    path : str
        The ``PATH`` to extend.

    Returns
    -------
    str
        ``path`` with the running interpreter's folder in front.
    """
    return f"{Path(sys.executable).parent}{os.pathsep}{path}"


def prose_words(lesson: Lesson) -> int:
    """Count the words a learner reads in a lesson: its markdown cells, display math left out.

    Parameters
    ----------
    lesson : Lesson
        The lesson to count.

    Returns
    -------
    int
        The number of words (runs of letters) outside ``$$...$$`` blocks.
    """
    text = " ".join(c.source for c in source_notebook(lesson).cells if c.cell_type == "markdown")
    return len(re.findall(r"[A-Za-z][A-Za-z'’-]*", re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)))


def run_nbgrader(args: list[str], cwd: Path, db_url: str) -> subprocess.CompletedProcess:
    """Run an nbgrader command the way an instructor would.

    Parameters
    ----------
    args : list of str
        The arguments after ``nbgrader``.
    cwd : pathlib.Path
        The course directory to run in.
    db_url : str
        The gradebook to use.

    Returns
    -------
    subprocess.CompletedProcess
        The finished process, its output captured as text.
    """
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        env={
            **os.environ,
            "PATH": with_bin_on_path(os.environ.get("PATH", "")),
            "FMNIST_GRADEBOOK_URL": db_url,
        },
        capture_output=True,
        text=True,
        check=False,
    )
