"""The course's website: one page per lesson in the learner's view, and the docs by audience.

``python -m fmnist_utils.tooling site`` (``make site``) builds ``_build/site/`` offline
with Sphinx, ``myst-nb`` and ``sphinx-book-theme``:

1. every student notebook (``lessons/``, the copies learners get: exercise stubs, no
   solution, no hidden test) is executed once, quickly (``FMNIST_FAST=1``), so the page
   shows the figures and outputs a learner sees *before* solving anything. A cell that
   fails -- an exercise stub, or anything that needs its answer -- shows no output at all,
   so no output can give an answer away. Runs are cached by the notebook's bytes and
   the package's sources: a rebuild executes only what changed;
2. ``docs/`` is staged with the executed lessons, a download of each student notebook,
   and a lessons index generated from the lessons' own first cells;
3. Sphinx builds the HTML with warnings as errors; formulas become MathML at build
   time (:mod:`~fmnist_utils.tooling.sitemath`), so pages need no script and no network.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from fmnist_utils.grading.cells import strip_ansi
from fmnist_utils.tooling.lessons import Lesson, find_lessons, source_notebook

DOCS_DIR = "docs"
BUILD_DIR = Path("_build")
SITE_DIR = BUILD_DIR / "site"
STAGE_DIR = BUILD_DIR / "site-source"
CACHE_DIR = BUILD_DIR / "site-cache"
BINDER = "https://mybinder.org/v2/gh/{repo}/HEAD?urlpath=lab%2Ftree%2Flessons%2F{lid}%2F{lid}.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def package_digest(root: Path) -> str:
    """Digest fmnist_utils' Python sources: what a lesson's outputs also depend on."""
    digest = hashlib.sha256()
    for path in sorted((root / "fmnist_utils").rglob("*.py")):
        if "tooling" not in path.parts:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _exercise_or_check(cell) -> bool:
    """Tell whether a cell is an exercise's answer or a graded check (nbgrader's markers)."""
    graded = cell.metadata.get("nbgrader", {})
    return bool(graded.get("solution") or graded.get("grade"))


def learner_view(nb):
    """Keep only the outputs a learner sees before solving anything.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A student notebook executed with errors allowed.

    Returns
    -------
    nbformat.NotebookNode
        The same notebook; cells that raised, graded cells and their tests have no
        outputs, interactive widgets (which need a kernel) are left out, and
        execution counts are cleared. Printed text loses its terminal colours (Keras'
        model summary): they are unreadable on the page's background.
    """
    nb.metadata.pop("widgets", None)  # their state needs a kernel and scripts from a CDN
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        failed = any(o.get("output_type") == "error" for o in cell.outputs)
        if failed or _exercise_or_check(cell):
            cell.outputs = []
            continue
        kept = []
        for output in cell.outputs:
            if "execution_count" in output:
                output["execution_count"] = None
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                continue
            if "text/plain" in data and str(data.get("text/html", "")).startswith("<pre style="):
                del data["text/html"]
            if "text/plain" in data:
                data["text/plain"] = strip_ansi(data["text/plain"])
            if "text" in output:
                output["text"] = strip_ansi(output["text"])
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                continue
            kept.append(output)
        cell.outputs = kept
    return nb


def _run(nb, folder: Path, timeout: int) -> None:
    """Execute ``nb`` in place, quickly, in a fresh kernel started in a copy of ``folder``."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="fmnist-site-") as tmp:
        work = Path(tmp) / "lesson"
        shutil.copytree(folder, work)
        km = KernelManager(kernel_name="python3")
        km.start_kernel(
            cwd=str(work), env=dict(os.environ, FMNIST_FAST="1", TF_CPP_MIN_LOG_LEVEL="2")
        )
        try:
            NotebookClient(nb, km=km, timeout=timeout, allow_errors=True).execute()
        finally:
            km.shutdown_kernel()


def _alt_text(cells: list, index: int) -> str:
    """Describe a figure by what introduces it: the code's comment, or the paragraph before."""
    comments = [
        line.lstrip("# ").strip()
        for line in cells[index].source.splitlines()
        if line.startswith("# ") and len(line) > 12
    ]
    if comments:
        return f"Figure: {comments[0]}"[:300]
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown":
            paragraph = [p for p in cell.source.split("\n\n") if p.strip()][-1]
            text = " ".join(re.sub(r"[#*`_$\\]|\[([^]]*)\]\([^)]*\)", r"\1", paragraph).split())
            if len(text) > 250:
                text = text[:250].rsplit(" ", 1)[0] + " ..."
            return f"Figure for: {text}"
    return "A figure drawn by the code above"


def add_figures(view, solved) -> None:
    """Give a cell that needs an exercise's answer the figures (only) of the solved run.

    Parameters
    ----------
    view : nbformat.NotebookNode
        The learner's view (:func:`learner_view`), changed in place.
    solved : nbformat.NotebookNode
        The same lesson with its solutions, executed. Only image outputs of cells that
        are neither exercises nor checks are copied: no text, so no value an exercise
        computes is printed, and no code of the solution.
    """
    solved_cells = {cell.id: cell for cell in solved.cells}
    for index, cell in enumerate(view.cells):
        if cell.cell_type != "code":
            continue
        twin = solved_cells.get(cell.id)
        if not cell.outputs and twin is not None and not _exercise_or_check(cell):
            cell.outputs = [
                nbformat.v4.new_output("display_data", data={"image/png": o["data"]["image/png"]})
                for o in twin.outputs
                if o.get("output_type") in ("display_data", "execute_result")
                and "image/png" in o.get("data", {})
            ]
        if any("image/png" in o.get("data", {}) for o in cell.outputs):
            cell.metadata["mystnb"] = {"image": {"alt": _alt_text(view.cells, index)}}


def execute_lesson(lesson: Lesson, cache: Path, package: str, *, timeout: int = 900):
    """Run a lesson's student copy and solution quickly, once per change; give the learner's view.

    Parameters
    ----------
    lesson : Lesson
        The lesson to run.
    cache : pathlib.Path
        Where the executed notebooks are kept, keyed by what they depend on.
    package : str
        :func:`package_digest` of the course: its code is what the runs also depend on.
    timeout : int, optional
        Seconds any one cell may take.

    Returns
    -------
    nbformat.NotebookNode
        The learner's view: the student copy's own outputs (:func:`learner_view`), and
        the figures of cells that need an exercise's answer (:func:`add_figures`).
    """
    student = lesson.release_ipynb.read_bytes()
    solution = lesson.source_ipynb.read_bytes()
    key = hashlib.sha256(student + solution + package.encode())
    runs = {
        name: cache / f"{lesson.lesson_id}-{key.hexdigest()[:16]}-{name}.ipynb"
        for name in ("student", "solved")
    }
    if not all(path.exists() for path in runs.values()):
        cache.mkdir(parents=True, exist_ok=True)
        for stale in cache.glob(f"{lesson.lesson_id}-*.ipynb"):
            stale.unlink()
        for path, source in zip(runs.values(), (student, solution), strict=True):
            nb = nbformat.reads(source.decode("utf-8"), as_version=4)
            _run(nb, lesson.release_dir, timeout)
            nbformat.write(nb, path)
    view = learner_view(nbformat.read(runs["student"], as_version=4))
    add_figures(view, nbformat.read(runs["solved"], as_version=4))
    return view


def lesson_summary(lesson: Lesson) -> dict[str, object]:
    """Read what a lesson teaches from its first cell.

    Parameters
    ----------
    lesson : Lesson
        The lesson.

    Returns
    -------
    dict
        ``title``, ``time`` (the estimate's sentence) and ``ideas`` (the bullets of
        ``## New ideas``, each as one line of markdown).
    """
    first = source_notebook(lesson).cells[0].source
    ideas: list[str] = []
    listed = (
        first.split("## New ideas", 1)[1].split("\n## ", 1)[0] if "## New ideas" in first else ""
    )
    for line in listed.splitlines():
        if line.startswith("- "):
            ideas.append(line[2:].strip())
        elif ideas and line.startswith("  ") and line.strip():
            ideas[-1] += " " + line.strip()  # a bullet's continuation line
        elif ideas and not line.strip():
            break
    time = re.search(r"Estimated time: about \d+ minutes", first)
    return {
        "title": first.splitlines()[0].removeprefix("# ").strip(),
        "time": time.group(0) if time else "",
        "ideas": ideas,
    }


def lessons_index(lessons: list[Lesson]) -> str:
    """Write the lessons' index page: what each lesson teaches, from its own first cell."""
    lines = [
        "# The lessons",
        "",
        "Ten lessons, each about an hour for someone who writes a little Python and knows",
        "no deep learning. Each page shows a lesson as a learner first opens it: the text,",
        "the formulas, the figures, and the exercises still to be written.",
        "",
        "```{toctree}",
        ":hidden:",
        "",
        *[lesson.lesson_id for lesson in lessons],
        "```",
        "",
    ]
    for lesson in lessons:
        info = lesson_summary(lesson)
        lines += [f"## [{info['title']}]({lesson.lesson_id}.ipynb)", "", f"{info['time']}.", ""]
        if info["ideas"]:
            lines += ["New ideas:", "", *[f"- {idea}" for idea in info["ideas"]], ""]
    return "\n".join(lines) + "\n"


def lesson_header(lesson: Lesson, repo: str) -> str:
    """Write the box under a lesson page's title: download, Binder, how to run it locally."""
    lid = lesson.lesson_id
    return (
        "```{admonition} Run this lesson yourself\n"
        f"- {{download}}`Download the notebook <_notebooks/{lid}.ipynb>` and open it in "
        "JupyterLab;\n"
        f"- [open it on Binder]({BINDER.format(repo=repo, lid=lid)}), in your browser, "
        "nothing to install;\n"
        "- or on your machine: clone the course and run `make lab`"
        " ([every way to start](../learners/start.md)).\n\n"
        "The notebook uses the course's own package, `fmnist_utils`: open it inside the "
        "course, as above. The outputs below come from a quick run, which trains on less "
        "data for fewer epochs, so numbers from your own run will differ. Exercises are "
        "shown as you get them: still to be written.\n"
        "```\n"
    )


def stage(root: Path, out: Path, cache: Path, repo: str) -> None:
    """Assemble the site's sources: ``docs/`` plus the executed lessons and their index.

    Parameters
    ----------
    root : pathlib.Path
        The course directory.
    out : pathlib.Path
        The staging folder (replaced); Sphinx reads its ``docs/``.
    cache : pathlib.Path
        The executed-notebook cache.
    repo : str
        ``owner/name`` on GitHub, for the Binder links.
    """
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(root / DOCS_DIR, out / DOCS_DIR)
    shutil.copy2(root / "CONTRIBUTING.md", out / "CONTRIBUTING.md")  # included by a page
    lessons = find_lessons(root)
    package = package_digest(root)
    target = out / DOCS_DIR / "lessons"
    (target / "_notebooks").mkdir(parents=True, exist_ok=True)
    for lesson in lessons:
        shutil.copy2(lesson.release_ipynb, target / "_notebooks" / f"{lesson.lesson_id}.ipynb")
        nb = execute_lesson(lesson, cache, package)
        header = nbformat.v4.new_markdown_cell(lesson_header(lesson, repo))
        header.metadata["tags"] = ["site-header"]
        nb.cells.insert(1, header)
        nbformat.write(nb, target / f"{lesson.lesson_id}.ipynb")
    (target / "index.md").write_text(lessons_index(lessons), encoding="utf-8")


def repository(root: Path) -> str:
    """``owner/name`` of the course on GitHub, from pyproject.toml's Homepage."""
    import tomllib

    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return data["project"]["urls"]["Homepage"].removeprefix("https://github.com/")


def build_site(root: Path) -> Path:
    """Build the website into ``_build/site``; return the folder of ``index.html``.

    Parameters
    ----------
    root : pathlib.Path
        The course directory.

    Returns
    -------
    pathlib.Path
        The built site.

    Raises
    ------
    subprocess.CalledProcessError
        If Sphinx reports a warning or an error (a broken link, a missing image, ...).
    """
    stage(root, root / STAGE_DIR, root / CACHE_DIR, repository(root))
    site = root / SITE_DIR
    shutil.rmtree(site, ignore_errors=True)  # no page of an earlier build stays behind
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(root / BUILD_DIR / "site-doctrees"),
            str(root / STAGE_DIR / DOCS_DIR),
            str(site),
        ],  # fmt: skip
        check=True,
        cwd=root,
    )
    return site
