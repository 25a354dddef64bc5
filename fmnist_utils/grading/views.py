"""The instructor's view of grading, wired into nbgrader: figures, feedback, logs, report.

:func:`configure`, called from ``nbgrader_config.py`` after the sandbox is set up:

- the grading kernel draws figures as inline PNGs (:data:`outputs.KERNEL_ARGUMENTS`),
  and :class:`~fmnist_utils.grading.outputs.CapImages` and
  :class:`~fmnist_utils.grading.outputs.DropLibraryNoise` run right after each
  notebook is executed;
- ``nbgrader generate_feedback`` renders with
  :class:`~fmnist_utils.grading.feedback_html.FeedbackExporter` (named exercises, math
  as MathML, no MathJax from the web);
- the formgrader works without an exchange and never writes into ``lessons/``
  (:mod:`fmnist_utils.grading.formgrader`);
- ``nbgrader export`` exports only lessons handed in, with zoned times and a late
  column (:mod:`fmnist_utils.grading.exports`);
- ``nbgrader autograde`` logs quietly (:mod:`fmnist_utils.grading.logs`), ends each
  submission with one line (student, score, late, flags), and prints the lesson's
  grading report when it is done (:mod:`fmnist_utils.grading.report`).

Nothing runs at import time.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

__all__ = ["configure"]


def configure(c: Any, root: Path, instructor: Path, argv: list[str] | None = None) -> None:
    """Apply the course's figure, feedback, log and report settings to an nbgrader config.

    Parameters
    ----------
    c : traitlets.config.Config
        The config being loaded (``get_config()`` in ``nbgrader_config.py``).
    root : pathlib.Path
        The course folder.
    instructor : pathlib.Path
        The instructor area (the report goes in ``reports/`` there).
    argv : list of str, optional
        The command line (default ``sys.argv``).
    """
    from fmnist_utils.grading import formgrader, logs, outputs
    from fmnist_utils.grading.feedback_html import TEMPLATES

    args = sys.argv if argv is None else argv
    # figures as PNG in the graded notebooks; every image checked and size-capped
    c.SandboxedExecute.extra_arguments = list(outputs.KERNEL_ARGUMENTS)
    steps = list(c.Autograde.autograde_preprocessors)
    names = [getattr(step, "__name__", str(step)).rsplit(".", 1)[-1] for step in steps]
    if "SandboxedExecute" not in names:
        raise RuntimeError("configure the sandbox (sandbox.configure) before the views")
    at = names.index("SandboxedExecute") + 1
    steps[at:at] = [outputs.CapImages, outputs.DropLibraryNoise]
    c.Autograde.autograde_preprocessors = steps

    # feedback: the course's template (nbgrader sets HTMLExporter's only when unset)
    import nbgrader

    templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    c.GenerateFeedback.exporter_class = "fmnist_utils.grading.feedback_html.FeedbackExporter"
    c.FeedbackExporter.template_name = "fmnist_feedback"
    c.FeedbackExporter.extra_template_basedirs = [str(TEMPLATES), str(templates)]
    # nbgrader's page (which ours extends) and its stylesheet, found by name
    bootstrap = templates.parent / "static" / "node_modules" / "bootstrap" / "dist" / "css"
    c.FeedbackExporter.extra_template_paths = [str(bootstrap), str(templates)]

    # the formgrader: no exchange needed, Generate never writes into lessons/
    formgrader.configure(c, instructor, args)
    # exports: only lessons handed in, zoned times, a late column (exports.py)
    c.ExportApp.plugin_class = "fmnist_utils.grading.exports.CourseExport"

    if "autograde" in args[1:3]:
        logs.configure(c, root, instructor, args)
