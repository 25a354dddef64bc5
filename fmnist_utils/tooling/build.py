"""Build the lessons' derived files from their sources, and check they are up to date.

From each ``solutions/NN_slug/NN_slug.py`` this module derives, deterministically:

1. ``solutions/NN_slug/NN_slug.ipynb`` -- the paired source notebook;
2. ``lessons/NN_slug/NN_slug.ipynb``  -- the student copy, made by nbgrader's
   ``generate_assignment`` (solutions and hidden tests removed), a notebook only:
   no Jupytext pairing, so a learner's save never writes a text file.

nbgrader runs (through its Python API, in this process) in a temporary copy of the
course, and only the files above are copied back, so a learner's own files under
``lessons/`` are never touched; a derived file with uncommitted edits is never
overwritten without ``force``. ``python -m fmnist_utils.tooling build`` and ``check``
call :func:`build` and :func:`stale_files`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from fmnist_utils.files import atomic_write, differing

from .lessons import (
    IGNORED_SOURCE_FILES,
    LESSON_ID,
    RELEASE_DIR,
    SOURCE_DIR,
    CourseError,
    Lesson,
    find_lessons,
    source_notebook,
    with_bin_on_path,
)


def _student_copies(course: Path, lesson_ids: list[str]) -> None:
    """Run nbgrader's ``generate_assignment`` for the lessons, in this one process.

    Parameters
    ----------
    course : pathlib.Path
        A scratch course folder holding ``nbgrader_config.py`` and the sources.
    lesson_ids : list of str
        The lessons to release into ``course/lessons``.

    Raises
    ------
    CourseError
        If nbgrader cannot generate a student copy.
    """
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    # a scratch gradebook, whatever FMNIST_GRADEBOOK_URL says
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = with_bin_on_path(path)
    try:
        api = NbGraderAPI(config=config)
        for lesson_id in lesson_ids:
            result = api.generate_assignment(lesson_id, force=True)
            copy = Lesson(lesson_id, course)
            if not result.get("success") or not copy.release_ipynb.is_file():
                raise CourseError(
                    f"nbgrader could not make the student copy of {lesson_id}:\n"
                    f"{result.get('log', '')}{result.get('error', '')}"
                )
    finally:
        os.environ["PATH"] = path


def _without_pairing(path: Path) -> bytes:
    """Return a student notebook without Jupytext's pairing metadata.

    A learner who saves it then writes the notebook only, never a text twin.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("jupytext", None)
    text = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def render(root: Path, lessons: list[Lesson]) -> dict[Path, bytes]:
    """Produce every derived file of the given lessons, without touching the course.

    Parameters
    ----------
    root : pathlib.Path
        The course directory.
    lessons : list of Lesson
        The lessons to build.

    Returns
    -------
    dict
        Each derived file's path in the course, mapped to its contents.

    Raises
    ------
    CourseError
        If nbgrader cannot generate a student copy.
    """
    import jupytext

    out: dict[Path, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="fmnist-build-") as tmp_name:
        tmp = Path(tmp_name)
        shutil.copy2(root / "nbgrader_config.py", tmp / "nbgrader_config.py")
        for lesson in lessons:
            copy = Lesson(lesson.lesson_id, tmp)
            shutil.copytree(
                lesson.source_py.parent,
                copy.source_py.parent,
                ignore=shutil.ignore_patterns("*.ipynb", *IGNORED_SOURCE_FILES),
            )
            text = jupytext.writes(source_notebook(lesson), fmt="ipynb")
            copy.source_ipynb.write_text(text, encoding="utf-8")
            out[lesson.source_ipynb] = text.encode("utf-8")
        _student_copies(tmp, [lesson.lesson_id for lesson in lessons])
        for lesson in lessons:
            copy = Lesson(lesson.lesson_id, tmp)
            for path in sorted(copy.release_dir.rglob("*")):
                if path.is_file():
                    out[lesson.release_dir / path.relative_to(copy.release_dir)] = (
                        _without_pairing(path) if path == copy.release_ipynb else path.read_bytes()
                    )
    return out


def _has_uncommitted_edits(path: Path, root: Path) -> bool:
    """Tell whether git sees local edits to ``path`` (a file git does not know counts too)."""
    done = subprocess.run(
        ["git", "status", "--porcelain", "--", str(path)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:  # not a git checkout: be careful, treat as edited
        return True
    return bool(done.stdout.strip())


def stale_files(root: Path, lessons: list[Lesson] | None = None) -> list[str]:
    """List the derived files that are missing or out of date.

    Parameters
    ----------
    root : pathlib.Path
        The course directory.
    lessons : list of Lesson, optional
        The lessons to check (default: all).

    Returns
    -------
    list of str
        One line per problem, naming the file; empty when all is up to date.
    """
    lessons = find_lessons(root) if lessons is None else lessons
    problems = [
        f"{path.relative_to(root)}: {'out of date' if path.is_file() else 'missing'}"
        for path in differing(render(root, lessons))
    ]
    known = {lesson.lesson_id for lesson in find_lessons(root)}  # all, even when checking some
    release = root / RELEASE_DIR
    if release.is_dir():
        for folder in sorted(release.iterdir()):
            if folder.is_dir() and LESSON_ID.match(folder.name) and folder.name not in known:
                problems.append(f"{folder.relative_to(root)}: no source in {SOURCE_DIR}/")
    return problems


def build(root: Path, lessons: list[Lesson] | None = None, *, force: bool = False) -> list[Path]:
    """Regenerate the derived files of the lessons, safely.

    Parameters
    ----------
    root : pathlib.Path
        The course directory.
    lessons : list of Lesson, optional
        The lessons to build (default: all).
    force : bool, optional
        Overwrite derived files even when they hold uncommitted edits.

    Returns
    -------
    list of pathlib.Path
        The files written (unchanged files are left alone).

    Raises
    ------
    CourseError
        If a derived file that would change holds uncommitted edits and
        ``force`` is false; nothing is written then.
    """
    lessons = find_lessons(root) if lessons is None else lessons
    planned = differing(render(root, lessons))
    if not force:
        edited = [p for p in planned if p.exists() and _has_uncommitted_edits(p, root)]
        if edited:
            names = "\n  ".join(str(p.relative_to(root)) for p in edited)
            raise CourseError(
                "These generated files hold edits that are not committed, and rebuilding "
                f"would overwrite them:\n  {names}\n"
                "Edit the solutions/NN_slug/NN_slug.py source instead. If the edits belong "
                "there, copy them over first (jupytext --sync solutions/NN_slug/NN_slug.ipynb); "
                "then rebuild with `make lessons FORCE=1`."
            )
    for path, data in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda out, data=data: out.write(data))
    return sorted(planned)
