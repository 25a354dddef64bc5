"""Run a lesson once, and try every wrong answer of its mistake bank on the way.

The bank, ``tests/mistakes/NN_slug.toml``, holds for each graded exercise the wrong
answers a beginner typically writes. :func:`run_lesson` executes the lesson's source
notebook (solutions and hidden tests included) in one kernel, with ``FMNIST_FAST=1``.
Just after an exercise's solution cell ran, each wrong answer replaces it in turn: its
source is executed, then the visible part of the test cell, then (if the visible part
passed) the hidden part; then the solution cell runs again, and the whole test cell
(visible and hidden parts) must pass, as every other cell of the lesson. So the lesson's setup runs once, however many mistakes its bank holds.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fmnist_utils.tooling.lessons import Lesson, source_notebook

BANK = Path(__file__).resolve().parent / "mistakes"
HIDDEN = re.compile(r"^### BEGIN HIDDEN TESTS\n(.*?)^### END HIDDEN TESTS\n?", re.S | re.M)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# C++ log lines of TensorFlow, XLA and absl ("I0000 00:00:...", "2026-... I tensorflow/...")
# and the start-up notices they print.
NOISE = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] |"
    r"absl::InitializeLog|oneDNN custom operations|cuda drivers|cuInit|cuDNN|cuBLAS|cuFFT|"
    r"This TensorFlow binary is optimized|computation placer",
    re.M,
)


@dataclass(frozen=True)
class Mistake:
    """One wrong answer: the exercise, what it gets wrong, who must catch it, and how."""

    lesson_id: str
    exercise: str
    name: str
    caught_by: str  # "visible" or "hidden"
    message: str  # a regex the failure message must match (the property named)
    source: str


@dataclass
class Outcome:
    """What the checks said about one answer: the first error of each part, or None.

    ``visible`` and ``hidden`` as the learner's own kernel says them; ``graded_*`` as the
    grader does, the tests running in a kernel of their own and the answer in the
    learner's (:mod:`fmnist_utils.grading.trusted`).
    """

    visible: str | None = None
    hidden: str | None = None
    graded_visible: str | None = None
    graded_hidden: str | None = None


@dataclass
class LessonRun:
    """Everything one execution of a lesson produced."""

    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    stderr: list[tuple[int, str]] = field(default_factory=list)  # (cell number, text)
    headings: list[str] = field(default_factory=list)


def load_bank(lesson_id: str) -> list[Mistake]:
    """Read one lesson's mistake bank (empty if it has none: test_mistakes.py fails then)."""
    path = BANK / f"{lesson_id}.toml"
    if not path.is_file():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    mistakes = []
    for entry in data.get("mistake", []):
        mistakes.append(Mistake(lesson_id=lesson_id, **entry))
    return mistakes


def split_test_cell(source: str) -> tuple[str, str]:
    """Split a test cell's source into its visible part and its hidden part."""
    hidden = "\n".join(HIDDEN.findall(source))
    visible = HIDDEN.sub("", source)
    return visible, hidden


def headings(nb: Any) -> list[str]:
    """The titles of the lesson's ``##`` and ``###`` headings."""
    titles = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                match = re.match(r"#{2,3} (.+)", line)
                if match:
                    titles.append(match.group(1).strip())
    return titles


def kernel_environment() -> dict[str, str]:
    """The kernel's environment: this one, fast, without any TensorFlow log setting.

    Launch paths such as Binder and the grading sandbox do not set
    ``TF_CPP_MIN_LOG_LEVEL``: the course must stay quiet without it. ``PYTEST_*`` goes
    too: ipykernel does not forward the C++ libraries' stderr (file descriptor 2) to the
    notebook when it sees ``PYTEST_CURRENT_TEST``, which would hide exactly that noise.
    """
    drop = ("TF_", "ABSL", "GLOG", "PYTEST_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["FMNIST_FAST"] = "1"
    return env


class _Kernel:
    def __init__(self, cwd: Path, env: dict[str, str] | None = None) -> None:
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=str(cwd), env=env or kernel_environment())
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)

    def run(self, code: str, stderr: list[str] | None = None, timeout: int = 300) -> str | None:
        """Execute code; return ``None`` or ``"ExceptionName: message"``."""

        def hook(msg: dict) -> None:
            if msg["msg_type"] == "stream" and msg["content"]["name"] == "stderr":
                if stderr is not None:
                    stderr.append(msg["content"]["text"])

        reply = self.kc.execute_interactive(
            code, timeout=timeout, output_hook=hook, store_history=False
        )
        content = reply["content"]
        if content["status"] == "ok":
            return None
        return ANSI.sub("", f"{content.get('ename', 'Error')}: {content.get('evalue', '')}")

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel()  # its clean-up runs (scratch folders go)


class _Graded:
    """The grader's way of running a test: in a tests kernel, the answer in ``learner``."""

    def __init__(self, learner: _Kernel, nb: Any, folder: Path) -> None:
        from fmnist_utils.grading import trusted

        self.learner = learner
        self.shared = folder
        socket = folder / "b.sock"
        self.tests = _Kernel(folder, {**kernel_environment(), "TMPDIR": str(folder)})
        self.serve = trusted.serve_code(str(socket))
        imports = trusted.lesson_imports([dict(c) for c in nb.cells])
        error = self.tests.run(
            "from fmnist_utils.grading import trusted as _t\n"
            f"_t.install(get_ipython(), {str(socket)!r}, {str(folder)!r}, {imports!r})\n"
        )
        assert error is None, f"the tests kernel could not be prepared: {error}"

    def run(self, code: str) -> str | None:
        """Run test code as the grader does; return its error, as :meth:`_Kernel.run`."""
        serving = self.learner.kc.execute(self.serve, silent=True, store_history=False)
        error = self.tests.run(code)
        while True:  # the learner's kernel has answered, and is free again
            reply = self.learner.kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == serving:
                break
        return error

    def close(self) -> None:
        self.tests.close()


def run_lesson(lesson: Lesson, mistakes: list[Mistake]) -> LessonRun:
    """Execute a lesson once, trying each mistake just after its exercise's solution.

    Raises
    ------
    AssertionError
        If a cell of the lesson itself fails (its solution, a test or an ordinary cell).
    """
    nb = source_notebook(lesson)
    result = LessonRun(headings=headings(nb))
    by_exercise: dict[str, list[Mistake]] = {}
    for mistake in mistakes:
        by_exercise.setdefault(mistake.exercise, []).append(mistake)
    kernel = _Kernel(lesson.source_ipynb.parent)
    scratch = tempfile.TemporaryDirectory(prefix="fmb-")
    graded = _Graded(kernel, nb, Path(scratch.name))
    try:
        solution_source: dict[str, str] = {}
        last_solution = None
        for number, cell in enumerate(nb.cells, start=1):
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                last_solution = meta["grade_id"]
                solution_source[last_solution] = cell.source
            elif meta.get("grade") and last_solution is not None:
                visible, hidden = split_test_cell(cell.source)
                for mistake in by_exercise.pop(last_solution, []):
                    error = kernel.run(mistake.source)
                    assert error is None, f"{mistake.name}: the wrong answer does not run: {error}"
                    outcome = Outcome(visible=kernel.run(visible))
                    if outcome.visible is None:
                        outcome.hidden = kernel.run(hidden)
                    outcome.graded_visible = graded.run(visible)
                    if outcome.graded_visible is None:
                        outcome.graded_hidden = graded.run(hidden)
                    result.outcomes[(mistake.exercise, mistake.name)] = outcome
                    error = kernel.run(solution_source[last_solution])
                    assert error is None, f"{last_solution}: the solution does not run: {error}"
                last_solution = None
            if meta.get("grade") and not meta.get("solution"):
                error = graded.run(cell.source)
                assert error is None, (
                    f"{lesson.lesson_id}, cell {number} fails when graded: {error}"
                )
            stderr: list[str] = []
            error = kernel.run(cell.source, stderr)
            result.stderr.extend((number, text) for text in stderr)
            assert error is None, f"{lesson.lesson_id}, cell {number} failed: {error}"
        assert not by_exercise, f"mistakes for exercises not in the lesson: {list(by_exercise)}"
    finally:
        graded.close()
        kernel.close()
        scratch.cleanup()
    return result
