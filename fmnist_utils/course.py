"""Maintainers' tools: build the lessons from their sources, and check them.

The only files an author edits are ``solutions/NN_slug/NN_slug.py``
(Jupytext py:percent with nbgrader cell metadata). From each one this module
derives, deterministically:

1. ``solutions/NN_slug/NN_slug.ipynb`` -- the paired source notebook;
2. ``lessons/NN_slug/NN_slug.ipynb``  -- the student copy, made by nbgrader's
   ``generate_assignment`` (solutions and hidden tests removed), a notebook only:
   no Jupytext pairing, so a learner's save never writes a text file.

nbgrader runs (through its Python API, in this process) in a temporary copy of the
course, and only the files above are copied back, so a learner's own files under
``lessons/`` are never touched; a derived file with uncommitted edits is never
overwritten without ``--force``.

Command line::

    python -m fmnist_utils.course build [--force] [LESSON ...]
    python -m fmnist_utils.course check [FILE ...]
    python -m fmnist_utils.course data
    python -m fmnist_utils.course readme-figure
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .files import atomic_write

LESSON_ID = re.compile(r"^\d\d_[a-z0-9_]+$")
SOURCE_DIR = "solutions"
README_FIGURE = ".github/readme/fashion_mnist_grid.png"
RELEASE_DIR = "lessons"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
_IGNORED_SOURCE_FILES = {".ipynb_checkpoints", "__pycache__"}


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
        if not folder.is_dir() or folder.name in _IGNORED_SOURCE_FILES:
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


def _nbgrader_env(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    # nbgrader shells out to alembic: put this environment's bin/ first on PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["FMNIST_GRADEBOOK_URL"] = db_url
    return env


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
        env=_nbgrader_env(db_url),
        capture_output=True,
        text=True,
        check=False,
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
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{path}"  # nbgrader shells out to alembic
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
                ignore=shutil.ignore_patterns("*.ipynb", *_IGNORED_SOURCE_FILES),
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


@dataclass(frozen=True)
class RunResult:
    """What running a notebook cost.

    Attributes
    ----------
    seconds : float
        Wall time from kernel start to the last cell's end.
    peak_rss_bytes : int
        The kernel's peak resident memory (Linux ``VmHWM``; 0 where unknown).
    """

    seconds: float
    peak_rss_bytes: int


def _peak_rss(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def run_notebook(
    path: Path, *, fast: bool = True, timeout: int = 600, env: dict[str, str] | None = None
) -> RunResult:
    """Execute a notebook top to bottom in a fresh kernel, in its own folder.

    Parameters
    ----------
    path : pathlib.Path
        The ``.ipynb`` to run; it is read, never written.
    fast : bool, optional
        Run with ``FMNIST_FAST=1`` (the default) or without it.
    timeout : int, optional
        Seconds any one cell may take.
    env : dict, optional
        Extra environment variables for the kernel.

    Returns
    -------
    RunResult
        Wall time and peak kernel memory.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raises; the message shows the cell and its traceback.
    """
    import time

    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    kernel_env = dict(os.environ)
    kernel_env.pop("FMNIST_FAST", None)
    if fast:
        kernel_env["FMNIST_FAST"] = "1"
    kernel_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    kernel_env.update(env or {})
    km = KernelManager(kernel_name="python3")
    start = time.perf_counter()
    km.start_kernel(cwd=str(path.parent), env=kernel_env)
    try:
        client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3")
        client.execute()
        seconds = time.perf_counter() - start
        pid = km.provisioner.process.pid if km.provisioner is not None else None
        peak = _peak_rss(pid) if pid else 0
    finally:
        km.shutdown_kernel(now=True)
    return RunResult(seconds=seconds, peak_rss_bytes=peak)


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
    problems = []
    for path, data in render(root, lessons).items():
        rel = path.relative_to(root)
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif path.read_bytes() != data:
            problems.append(f"{rel}: out of date")
    known = {lesson.lesson_id for lesson in lessons}
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
    planned = {
        path: data
        for path, data in render(root, lessons).items()
        if not path.is_file() or path.read_bytes() != data
    }
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


def readme_figure(out: Path) -> Path:
    """Draw the README's picture: eight real test images of every class, named.

    Parameters
    ----------
    out : pathlib.Path
        Where to write the PNG.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    import matplotlib

    matplotlib.use("Agg")
    from fmnist_utils.data import load_fashion_mnist
    from fmnist_utils.plots import examples_per_class

    _, (x_test, y_test) = load_fashion_mnist()
    fig = examples_per_class(x_test, y_test, per_class=8, seed=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    return out


def _select(root: Path, names: list[str]) -> list[Lesson]:
    lessons = find_lessons(root)
    if not names:
        return lessons
    by_id = {lesson.lesson_id: lesson for lesson in lessons}
    unknown = [name for name in names if name not in by_id]
    if unknown:
        raise CourseError(f"Unknown lesson(s) {', '.join(unknown)}; known: {', '.join(by_id)}.")
    return [by_id[name] for name in names]


def _lessons_of(root: Path, files: list[str]) -> list[Lesson]:
    """Return the lessons that files under ``solutions/`` or ``lessons/`` belong to."""
    ids = set()
    for name in files:
        parts = Path(name).resolve().relative_to(root.resolve()).parts
        if len(parts) > 1 and parts[0] in (SOURCE_DIR, RELEASE_DIR) and LESSON_ID.match(parts[1]):
            ids.add(parts[1])
    return [lesson for lesson in find_lessons(root) if lesson.lesson_id in ids]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m fmnist_utils.course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="regenerate the derived lesson files")
    p_build.add_argument("lessons", nargs="*", help="lesson ids (default: all)")
    p_build.add_argument("--force", action="store_true", help="overwrite uncommitted edits")
    p_check = sub.add_parser(
        "check", help="fail if a derived lesson file is missing or out of date"
    )
    p_check.add_argument(
        "files", nargs="*", help="check only the lessons these files belong to (default: all)"
    )
    sub.add_parser("data", help="make sure the Fashion-MNIST data is present and verified")
    p_fig = sub.add_parser("readme-figure", help="draw the README's grid of real images")
    p_fig.add_argument("--out", type=Path, default=Path(README_FIGURE))
    args = parser.parse_args(argv)

    try:
        if args.command == "data":
            from fmnist_utils.data import load_fashion_mnist

            (x_train, _), (x_test, _) = load_fashion_mnist()
            print(f"Fashion-MNIST ready: {len(x_train)} training and {len(x_test)} test images.")
            return 0
        if args.command == "readme-figure":
            print(f"wrote {readme_figure(args.out)}")
            return 0
        root = find_root()
        if args.command == "build":
            written = build(root, _select(root, args.lessons), force=args.force)
            for path in written:
                print(f"wrote {path.relative_to(root)}")
            print(f"{len(written)} file(s) written; everything else was already up to date.")
            return 0
        problems = stale_files(root, _lessons_of(root, args.files) if args.files else None)
        for line in problems:
            print(line)
        if problems:
            print("Run `make lessons` to regenerate them.")
            return 1
        print("All derived lesson files are up to date.")
        return 0
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
