"""The course tooling's command line: ``python -m fmnist_utils.tooling COMMAND``.

Commands::

    python -m fmnist_utils.tooling build [--force] [LESSON ...]   # make lessons
    python -m fmnist_utils.tooling check [FILE ...]               # make check
    python -m fmnist_utils.tooling data                           # make data
    python -m fmnist_utils.tooling readme-figure

``build`` regenerates the lessons' derived files, ``check`` fails when one is
missing or stale (only for the lessons the named files belong to, if any), ``data``
makes sure the Fashion-MNIST files are present and verified, and ``readme-figure``
draws the README's grid of real images. The dependency files and the shipped
weights have commands of their own (``python -m fmnist_utils.tooling.deps``,
``python -m fmnist_utils.tooling.train_reference``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import build, stale_files
from .lessons import CourseError, find_root, lessons_of, select_lessons

README_FIGURE = ".github/readme/fashion_mnist_grid.png"


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
