"""The course tooling's command line: ``python -m fmnist_utils.tooling COMMAND``.

Commands::

    python -m fmnist_utils.tooling build [--force] [LESSON ...]   # make lessons
    python -m fmnist_utils.tooling check [FILE ...]               # make check
    python -m fmnist_utils.tooling data                           # make data
    python -m fmnist_utils.tooling readme-figure
    python -m fmnist_utils.tooling samples
    python -m fmnist_utils.tooling times [--write]                 # newcomer time estimates
    python -m fmnist_utils.tooling profile [--full] NOTEBOOK ...
    python -m fmnist_utils.tooling site                           # make site

``build`` regenerates the lessons' derived files, ``check`` fails when one is
missing or stale (only for the lessons the named files belong to, if any), ``data``
makes sure the Fashion-MNIST files are present and verified, ``readme-figure``
draws the README's grid of real images, ``samples`` draws lesson 10's sample photos
(``fmnist_utils/samples/``, the same bytes every time), and ``profile`` runs notebooks in fresh
kernels and prints each one's wall time and kernel peak memory, with the load;
``site`` builds the website into ``_build/site`` (:mod:`~fmnist_utils.tooling.site`). The
dependency files and the shipped weights have commands of their own
(``python -m fmnist_utils.tooling.deps``, ``python -m fmnist_utils.tooling.train_reference``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import build, stale_files
from .lessons import CourseError, find_lessons, find_root, lessons_of, select_lessons

README_FIGURE = "docs/_static/fashion_mnist_grid.png"


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


def profile(notebooks: list[Path], *, fast: bool, timeout: int) -> int:
    """Run each notebook with :func:`~fmnist_utils.tooling.profiler.run_notebook`; print its cost.

    Parameters
    ----------
    notebooks : list of pathlib.Path
        The notebooks, run one after the other, each in its own folder.
    fast : bool
        Run with ``FMNIST_FAST=1``.
    timeout : int
        Seconds any one cell may take.

    Returns
    -------
    int
        0 when every notebook ran to the end, 1 when one failed (its error is printed).
    """
    import os

    from nbclient.exceptions import CellExecutionError

    from .profiler import run_notebook

    missing = [str(path) for path in notebooks if not path.is_file()]
    if missing:
        raise CourseError(f"No such notebook: {', '.join(missing)}.")
    for path in notebooks:
        before = os.getloadavg()[0]
        try:
            result = run_notebook(path, fast=fast, timeout=timeout)
        except CellExecutionError as error:
            print(f"{path}: a cell failed:\n{error}")
            return 1
        print(
            f"{path}: {result.seconds:.1f} s, kernel peak {result.peak_rss_bytes / 2**30:.2f} GiB "
            f"({'FMNIST_FAST=1' if fast else 'full'}; 1-minute load average "
            f"{before:.1f} before, {os.getloadavg()[0]:.1f} after)"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m fmnist_utils.tooling", description=__doc__)
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
    p_samples = sub.add_parser("samples", help="draw lesson 10's sample photos")
    p_samples.add_argument("--out", type=Path, default=None, help="default: fmnist_utils/samples")
    p_times = sub.add_parser("times", help="each lesson's time for a newcomer, by the rule")
    p_times.add_argument("--write", action="store_true", help="put the sentences into the sources")
    p_prof = sub.add_parser(
        "profile", help="run notebooks in fresh kernels: wall time and kernel peak memory"
    )
    p_prof.add_argument("notebooks", nargs="+", type=Path, help=".ipynb files to run")
    p_prof.add_argument("--full", action="store_true", help="without FMNIST_FAST=1")
    p_prof.add_argument("--timeout", type=int, default=600, help="seconds a cell may take")
    sub.add_parser("site", help="build the website into _build/site (offline)")
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
        if args.command == "samples":
            from fmnist_utils import photo

            for path in photo.make_samples(args.out or photo.SAMPLES_DIR):
                print(f"wrote {path}")
            return 0
        if args.command == "profile":
            return profile(args.notebooks, fast=not args.full, timeout=args.timeout)
        root = find_root()
        if args.command == "times":
            from fmnist_utils.tooling import timing

            for lesson in find_lessons(root):
                sentence = timing.estimate(lesson).sentence()
                changed = args.write and timing.write_sentence(lesson, sentence)
                print(f"{lesson.lesson_id}: {sentence}{' (written)' if changed else ''}")
            return 0
        if args.command == "site":
            from subprocess import CalledProcessError

            from fmnist_utils.tooling.site import build_site

            try:
                site = build_site(root)
            except CalledProcessError:
                print("error: Sphinx reported the problems above; the site was not built.")
                return 1
            where = site.relative_to(root)
            print(f"The website is in {where}/: open {where}/index.html")
            return 0
        if args.command == "build":
            written = build(root, select_lessons(root, args.lessons), force=args.force)
            for path in written:
                print(f"wrote {path.relative_to(root)}")
            print(f"{len(written)} file(s) written; everything else was already up to date.")
            return 0
        problems = stale_files(root, lessons_of(root, args.files) if args.files else None)
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
