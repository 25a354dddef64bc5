"""Feedback for classes without a hub: one zip file per learner, to mail or upload.

After ``nbgrader generate_feedback``::

    python -m fmnist_utils.grading.handout                 # every lesson with feedback
    python -m fmnist_utils.grading.handout 01_pixels_and_labels

writes ``instructor/handout/<student>.zip`` holding ``<lesson>.html`` for each lesson of
that learner: one self-contained page per lesson (figures inline, formulas as MathML),
which opens in any browser without a network. Files are read from nbgrader's feedback
folder only, never through a link. Nothing runs at import time.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

__all__ = ["main", "write_handouts"]


def write_handouts(feedback: Path, dest: Path, lessons: list[str] | None = None) -> list[Path]:
    """Zip each learner's feedback pages.

    Parameters
    ----------
    feedback : pathlib.Path
        nbgrader's feedback folder (``<student>/<lesson>/<lesson>.html`` inside).
    dest : pathlib.Path
        Where the zip files go (made if missing; each zip is replaced).
    lessons : list of str, optional
        Only these lessons (default: every lesson found).

    Returns
    -------
    list of pathlib.Path
        The zip files written, one per learner with at least one page.
    """
    written = []
    dest.mkdir(parents=True, exist_ok=True)
    if not feedback.is_dir():
        return written
    for student in sorted(p for p in feedback.iterdir() if p.is_dir() and not p.is_symlink()):
        pages = []
        for lesson in sorted(p for p in student.iterdir() if p.is_dir() and not p.is_symlink()):
            page = lesson / f"{lesson.name}.html"
            if (
                (lessons is None or lesson.name in lessons)
                and page.is_file()
                and not page.is_symlink()
            ):
                pages.append(page)
        if not pages:
            continue
        target = dest / f"{student.name}.zip"
        partial = target.with_suffix(".zip.part")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for page in pages:
                zf.write(page, arcname=f"{student.name}/{page.name}")
        partial.replace(target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """Run the command line; see the module docstring."""
    from fmnist_utils.grading.course import Course
    from fmnist_utils.tooling.lessons import find_root

    parser = argparse.ArgumentParser(
        prog="python -m fmnist_utils.grading.handout",
        description="Zip each learner's feedback pages into instructor/handout/<student>.zip.",
    )
    parser.add_argument("lessons", nargs="*", help="only these lessons (default: all)")
    args = parser.parse_args(argv)
    course = Course.load(find_root())
    feedback = course.folder("feedback_directory", "STUDENT", "LESSON").parent.parent
    written = write_handouts(feedback, feedback.parent / "handout", args.lessons or None)
    for path in written:
        print(path)
    if not written:
        print(f"No feedback pages in {feedback}: run `nbgrader generate_feedback LESSON` first.")
        return 1
    print(f"{len(written)} zip file(s): give each learner their own.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
