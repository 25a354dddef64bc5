"""The course's grading pipeline, in one place: what nbgrader runs, in order, within what limits.

``nbgrader_config.py`` calls :func:`apply`, then :func:`start_run`:

- :func:`apply` reads the command line once and sets every grading setting on
  nbgrader's config, with no I/O: the preprocessors of ``nbgrader autograde`` and
  ``nbgrader generate_feedback``, listed literally below in the order they run (as
  nbgrader's own ``converters/autograde.py`` lists its defaults), the limits
  (:data:`LIMITS`), the hooks and the exporters;
- :func:`start_run` does the start-of-run work of ``nbgrader autograde``, once per
  process: refuse without a sandbox, stop the grading kernels and remove the scratch
  folders a killed run left, finish what it left half graded, and copy the
  submissions into a private intake folder, which nbgrader then grades.

Nothing runs at import time.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

__all__ = [
    "AUTOGRADE_PREPROCESSORS",
    "Run",
    "FEEDBACK_PREPROCESSORS",
    "LIMITS",
    "SANITIZE_PREPROCESSORS",
    "GradingLimits",
    "apply",
    "clear_leftovers",
    "nbgrader_command",
    "start_run",
]

# What `nbgrader autograde` does to each submission, in order. Before it: nbgrader's
# sanitize step (outputs cleared, ids deduplicated, kernelspec and graded cells put back
# from the gradebook).
SANITIZE_PREPROCESSORS = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "fmnist_utils.grading.logs.QuietOverwriteCells",  # one log line, not one per cell
    "nbgrader.preprocessors.CheckCellMetadata",
]
AUTOGRADE_PREPROCESSORS = [
    # the learner's cells in the sandbox, the test cells in a tests kernel of their own
    "fmnist_utils.grading.sandbox.SandboxedExecute",
    "fmnist_utils.grading.outputs.CapImages",  # figures kept as small PNGs
    "fmnist_utils.grading.outputs.DropLibraryNoise",  # TensorFlow's start-up lines
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "fmnist_utils.grading.integrity.ApplyFlags",  # a flagged or rejected notebook: 0
    "fmnist_utils.grading.sanitize.SanitizeOutputs",  # the learner's HTML made inert
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# What `nbgrader generate_feedback` does to each graded notebook, in order.
FEEDBACK_PREPROCESSORS = [
    "fmnist_utils.grading.feedback_html.ExerciseTitles",  # before the hidden tests go
    "fmnist_utils.grading.sanitize.FeedbackTestOutputs",  # a test shows only its result
    "fmnist_utils.grading.feedback.StripHiddenTests",
    "fmnist_utils.grading.outputs.DropLibraryNoise",
    "fmnist_utils.grading.sanitize.SanitizeOutputs",  # before the course's own HTML
    "fmnist_utils.grading.feedback_html.RenderMath",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]


@dataclass(frozen=True)
class GradingLimits:
    """Every limit one submission is graded within.

    Attributes
    ----------
    cell_timeout_s : int
        Seconds one cell (or one test) may run; then it is interrupted and scores 0.
    notebook_timeout_s : int
        Seconds the whole notebook may run; the cells after are not executed.
    max_cell_output, max_notebook_output : int
        Bytes of output kept per cell and per notebook; the rest is dropped with a note.
    max_message : int
        Bytes of one message from a kernel; a larger one is dropped before it is read.
    max_notebook_bytes, max_cells : int
        Size and cells of a handed-in notebook, checked before it is parsed.
    memory_mb : int
        Memory of each kernel's sandbox (a cgroup where possible, else per process).
    cpu_s : int
        CPU seconds of each kernel process.
    processes : int
        Processes each sandbox may start.
    disk_mb, tmp_mb : int
        Size of each kernel's in-memory working folder and ``/tmp``.
    """

    cell_timeout_s: int = 120
    notebook_timeout_s: int = 600
    max_cell_output: int = 2 * 2**20
    max_notebook_output: int = 10 * 2**20
    max_message: int = 64 * 2**20
    max_notebook_bytes: int = 25 * 2**20
    max_cells: int = 1000
    memory_mb: int = 3072
    cpu_s: int = 900
    processes: int = 64
    disk_mb: int = 512
    tmp_mb: int = 512

    def sandbox_environment(self) -> dict[str, str]:
        """Return the variables that hand the sandbox limits to the kernel wrapper."""
        return {
            "FMNIST_SANDBOX_MEM_MB": str(self.memory_mb),
            "FMNIST_SANDBOX_CPU_S": str(self.cpu_s),
            "FMNIST_SANDBOX_NPROC": str(self.processes),
            "FMNIST_SANDBOX_DISK_MB": str(self.disk_mb),
            "FMNIST_SANDBOX_TMP_MB": str(self.tmp_mb),
        }


LIMITS = GradingLimits()
"""The course's limits; override one run with ``--Execute.timeout=...``,
``--SandboxedExecute.notebook_timeout=...`` or a ``FMNIST_SANDBOX_*`` variable."""


@dataclass(frozen=True)
class Run:
    """What :func:`apply` read and made, for :func:`start_run`.

    Attributes
    ----------
    command : str
        The nbgrader subcommand (:func:`nbgrader_command`).
    argv : list of str
        The whole command line.
    progress : recovery.InProgress
        The marks of submissions being graded (a killed run's are completed).
    """

    command: str
    argv: list[str]
    progress: Any


def nbgrader_command(argv: list[str]) -> str:
    """Return the nbgrader subcommand a command line runs (``""`` for none).

    Parameters
    ----------
    argv : list of str
        ``sys.argv`` of the process loading the config.

    Returns
    -------
    str
        ``"autograde"``, ``"generate_feedback"``, ... as the word after the program, or
        ``""`` (JupyterLab, a test, ``python -c``).
    """
    for word in argv[1:3]:
        if word and not word.startswith("-") and word.replace("_", "").isalpha():
            return word
    return ""


def apply(c: Any, root: Path, argv: list[str] | None = None) -> Run:
    """Set the course's whole grading setup on nbgrader's config; no I/O.

    Parameters
    ----------
    c : traitlets.config.Config
        The config being loaded (``get_config()`` in ``nbgrader_config.py``).
    root : pathlib.Path
        The course folder.
    argv : list of str, optional
        The command line (default ``sys.argv``), read here only.

    Returns
    -------
    Run
        The command line as read, for :func:`start_run`.
    """
    from fmnist_utils.grading import formgrader, logs, outputs, recovery, sandbox
    from fmnist_utils.grading.feedback_html import TEMPLATES
    from fmnist_utils.grading.sanitize import copy_submission_files

    args = list(sys.argv if argv is None else argv)
    command = nbgrader_command(args)
    instructor = root / "instructor"

    c.Autograde.sanitize_preprocessors = list(SANITIZE_PREPROCESSORS)
    c.Autograde.autograde_preprocessors = list(AUTOGRADE_PREPROCESSORS)
    c.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)

    c.Execute.timeout = LIMITS.cell_timeout_s
    c.Execute.interrupt_on_timeout = True
    c.SandboxedExecute.notebook_timeout = LIMITS.notebook_timeout_s
    c.SandboxedExecute.max_cell_output = LIMITS.max_cell_output
    c.SandboxedExecute.max_notebook_output = LIMITS.max_notebook_output
    c.SandboxedExecute.sandbox_limits = LIMITS.sandbox_environment()
    c.SandboxedExecute.course_root = str(root)
    kernels = os.environ.get(sandbox.KERNELS_DIR_VAR) or sandbox.kernel_records(root)
    c.SandboxedExecute.kernels_dir = str(kernels)
    c.SandboxedExecute.extra_arguments = list(outputs.KERNEL_ARGUMENTS)  # inline PNGs

    # a run killed midway is completed by the next (recovery.py)
    progress = recovery.InProgress(
        instructor / ".autograde-in-progress",
        instructor / "autograded",
        instructor / "parallel-logs",
    )
    c.Autograde.pre_convert_hook = progress.started
    # one line per submission (student, score, late, flags), after the progress mark
    c.Autograde.post_convert_hook = logs.summary_hook(c, root, progress.finished)

    # feedback: the course's page (named exercises, math as MathML, nothing from the web)
    import nbgrader

    templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    c.GenerateFeedback.exporter_class = "fmnist_utils.grading.feedback_html.FeedbackExporter"
    c.FeedbackExporter.template_name = "fmnist_feedback"
    c.FeedbackExporter.extra_template_basedirs = [str(TEMPLATES), str(templates)]
    bootstrap = templates.parent / "static" / "node_modules" / "bootstrap" / "dist" / "css"
    c.FeedbackExporter.extra_template_paths = [str(bootstrap), str(templates)]
    if command == "generate_feedback":
        # the graded folder's other files stay out; `nbgrader release_feedback` reads
        # the submission's time and secret, copied on their own
        c.CourseDirectory.ignore = [*c.CourseDirectory.get("ignore", []), "*"]
        feedback = Path(c.CourseDirectory.root) / c.CourseDirectory.feedback_directory
        c.GenerateFeedback.post_convert_hook = partial(copy_submission_files, feedback)

    c.ZipCollectApp.collector_plugin = "fmnist_utils.grading.intake.SafeNameCollector"
    # lateness from when the exchange received a submission, not the learner's own file
    c.ExchangeFactory.collect = "fmnist_utils.grading.receipts.ReceivedCollect"
    # plain log lines: no colour codes, so every control character left is shown escaped
    c.Application.log_format = "[%(name)s | %(levelname)s] %(message)s"
    c.ExportApp.plugin_class = "fmnist_utils.grading.exports.CourseExport"
    formgrader.configure(c, instructor, args)  # no exchange needed; never into lessons/
    return Run(command, args, progress)


_STARTED: set[str] = set()


def start_run(c: Any, root: Path, run: Run) -> None:
    """Do the start-of-run work of ``nbgrader autograde``, once per process.

    Parameters
    ----------
    c : traitlets.config.Config
        The config :func:`apply` set.
    root : pathlib.Path
        The course folder.
    run : Run
        What :func:`apply` returned; nothing is done unless its command is ``autograde``.

    Raises
    ------
    SystemExit
        When the sandbox does not work and the opt-out is not set (traitlets would only
        log any other exception raised while it loads a config file).
    """
    if run.command != "autograde":
        return
    from fmnist_utils.grading import intake, logs, sandbox

    instructor = root / "instructor"
    if str(root) in _STARTED:  # traitlets may load the config file more than once
        c.CourseDirectory.submitted_directory = intake.taken_folder(root)
        return
    _STARTED.add(str(root))
    problem = sandbox.sandbox_problem()
    if problem is not None and os.environ.get(sandbox.OPT_OUT_VAR) != "1":
        sys.stderr.write(f"\n[nbgrader_config.py] {sandbox.refusal_message(problem)}\n\n")
        raise SystemExit(2)
    clear_leftovers(c)
    for output in run.progress.recover():
        sys.stderr.write(
            f"[nbgrader_config.py] {output} was left half graded by an interrupted run: "
            "grading it again.\n"
        )
    try:
        c.CourseDirectory.submitted_directory = intake.take(c, root, instructor, run.argv)
    except Exception as error:  # never grade the submitted folders themselves
        sys.stderr.write(f"\n[nbgrader_config.py] could not copy the submissions to grade "
                         f"({type(error).__name__}: {error}); nothing was graded.\n\n")  # fmt: skip
        raise SystemExit(2) from error
    logs.start(c, root, instructor, run.argv)


def clear_leftovers(c: Any) -> None:
    """Stop the grading kernels and remove the scratch folders a killed run left; say so.

    Parameters
    ----------
    c : traitlets.config.Config
        The config :func:`apply` set (where running kernels are recorded).
    """
    from fmnist_utils.grading import leftovers

    for line in leftovers.stop_leftover_kernels(Path(c.SandboxedExecute.kernels_dir)):
        sys.stderr.write(
            f"[nbgrader_config.py] stopped a grading kernel left running by a killed run: {line}\n"
        )
    leftovers.remove_leftover_scratch()
