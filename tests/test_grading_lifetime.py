"""No sandboxed grading kernel outlives the grading process, whatever the timing.

A grading process (the course's ``SandboxedExecute``, as ``nbgrader autograde`` runs
it) is killed with ``SIGKILL`` at many points: while its kernel wrapper is still
starting (before and after it could have learned who its parent is), while the
kernel starts in bubblewrap, and while a cell runs. Each time, every process of the
sandbox (wrapper, bwrap, kernel) must be gone within seconds. A kernel that outlives
its run all the same is stopped, and named, by the next ``nbgrader autograde``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .grading_helpers import grading_env_or_skip, processes_working_in

pytestmark = pytest.mark.slow

WRAPPER = "sandbox_kernel.py"
GONE_WITHIN = 10.0  # seconds for the sandbox to go after its grading process

# Grading processes, forked from one that has imported the course's SandboxedExecute
# (so each starts at once): for every line FOLDER read, a child runs a notebook in
# FOLDER whose one cell says it is running (a file there), then sleeps; the parent
# prints the child's pid. Each child is a grading process as ``nbgrader autograde``.
ZYGOTE = textwrap.dedent(
    """\
    import os, sys
    from nbformat.v4 import new_code_cell, new_notebook
    from fmnist_utils.grading.sandbox import SandboxedExecute, sandbox_problem

    course, records = sys.argv[1:3]
    sandbox_problem()  # checked once, here, not in every child
    for line in sys.stdin:
        while True:  # reap the children killed so far
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        pid = os.fork()
        if pid == 0:
            nb = new_notebook(cells=[new_code_cell(
                "open('running', 'w').close()\\nimport time\\ntime.sleep(600)"
            )])
            ep = SandboxedExecute(course_root=course, kernels_dir=records, timeout=600)
            ep.preprocess(nb, {"metadata": {"path": line.strip()}})
            os._exit(0)
        print(pid, flush=True)
    """
)


def _children_running(parent: int, name: str) -> list[int]:
    """The processes whose parent is ``parent`` and whose command line names ``name``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == parent and name.encode() in cmdline:
            found.append(int(proc.name))
    return found


def _wait_until(condition, seconds: float, step: float = 0.001) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def _describe(pids: list[int]) -> str:
    lines = []
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = Path(f"/proc/{pid}/stat").read_text()
            ppid = stat[stat.rindex(")") + 2 :].split()[1]
        except OSError:
            continue
        lines.append(f"pid {pid} (parent {ppid}): {cmd[:160]}")
    return "\n".join(lines)


class Graders:
    """Start grading processes in a course (see ``ZYGOTE``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.records = root / "instructor" / ".grading-kernels"
        self.count = 0
        root.mkdir(parents=True)
        self.zygote = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, str(root), str(self.records)],
            cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            start_new_session=True,  # as a terminal's job: kernels have their own session
        )  # fmt: skip

    def start(self) -> tuple[int, Path]:
        """Start one grading process; return its pid and its submission folder."""
        self.count += 1
        folder = self.root / "instructor" / "autograded" / f"s{self.count}" / "01_x"
        folder.mkdir(parents=True)
        assert self.zygote.stdin is not None and self.zygote.stdout is not None
        self.zygote.stdin.write(f"{folder}\n")
        self.zygote.stdin.flush()
        return int(self.zygote.stdout.readline()), folder

    def close(self) -> None:
        self.zygote.kill()
        self.zygote.wait()
        for pid in processes_working_in(self.root):  # never leave any to other tests
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="module")
def graders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graders]:
    """Grading processes in a fresh course folder."""
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        made = Graders(tmp_path_factory.mktemp("lifetime") / "course")
        try:
            yield made
        finally:
            made.close()


def _kill_and_check(grader: int, folder: Path, records: Path, when: str) -> None:
    os.kill(grader, signal.SIGKILL)
    left = lambda: processes_working_in(folder)  # noqa: E731
    if not _wait_until(lambda: not left(), GONE_WITHIN, step=0.05):
        pids = left()
        for pid in pids:  # do not leave them to the next test
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        pytest.fail(
            f"killed {when}, the grading process left its sandbox running for more than "
            f"{GONE_WITHIN:.0f} s:\n{_describe(pids)}"
        )
    # the next run finds nothing to stop, and clears the killed run's record and scratch
    from fmnist_utils.grading.leftovers import (
        SCRATCH_ROOT,
        remove_leftover_scratch,
        stop_leftover_kernels,
    )

    assert stop_leftover_kernels(records) == []
    assert not (records.is_dir() and list(records.glob("*.json")))
    remove_leftover_scratch()
    left_behind = [*SCRATCH_ROOT.glob(f"fmg-{grader}.*"), *SCRATCH_ROOT.glob(f"fmg-in-{grader}.*")]
    assert not left_behind, f"killed {when}, its scratch folders stay: {left_behind}"


def _wait_for_wrapper(grader: int) -> int:
    found: list[int] = []
    if not _wait_until(lambda: found.extend(_children_running(grader, WRAPPER)) or found, 120):
        pytest.fail("the grading process never started its kernel wrapper")
    return found[0]


def _wait_for_cell(folder: Path) -> None:
    if not _wait_until(lambda: (folder / "running").exists(), 120, step=0.02):
        pytest.fail("the cell never started running")


# Seconds after the wrapper process appears: 0 lands while its Python is still
# starting (before it can know its parent), later ones while it checks the sandbox,
# starts bwrap, and while the kernel starts inside it. The first points repeat:
# they are the racy ones.
DURING_START = [0.0] * 4 + [0.005] * 3 + [0.02] * 3 + [0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2.0]


@pytest.mark.parametrize(
    "delay", DURING_START, ids=[f"{d:g}s-{i}" for i, d in enumerate(DURING_START)]
)
def test_kill_while_the_kernel_starts(graders: Graders, delay: float) -> None:
    grader, folder = graders.start()
    _wait_for_wrapper(grader)
    time.sleep(delay)
    _kill_and_check(grader, folder, graders.records, f"{delay} s after its wrapper started")


@pytest.mark.parametrize("attempt", range(3))
def test_kill_while_a_cell_runs(graders: Graders, attempt: int) -> None:
    grader, folder = graders.start()
    _wait_for_cell(folder)
    assert list(graders.records.glob("*.json")), "a running kernel should be recorded"
    time.sleep(0.1 * attempt)
    _kill_and_check(grader, folder, graders.records, "while a cell ran")


def test_next_autograde_stops_and_names_a_leftover_kernel(graders: Graders) -> None:
    """A kernel whose wrapper could not react (stopped) is ended by the next run."""
    from traitlets.config import Config

    from fmnist_utils.grading import config as grading

    grader, folder = graders.start()
    _wait_for_cell(folder)
    wrapper = _wait_for_wrapper(grader)
    os.kill(wrapper, signal.SIGSTOP)  # it cannot act on its grading process's death
    os.kill(grader, signal.SIGKILL)
    time.sleep(1.0)
    assert processes_working_in(folder), "the stopped wrapper should hold its kernel"
    (record,) = graders.records.glob("*.json")
    assert json.loads(record.read_text())["pid"] == wrapper
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        c = Config()
        grading.apply(c, graders.root, ["nbgrader", "autograde", "01_x"])
        grading.clear_leftovers(c)
    assert f"pid {wrapper}, grading {folder}" in err.getvalue(), err.getvalue()
    assert _wait_until(lambda: not processes_working_in(folder), GONE_WITHIN, step=0.1), _describe(
        processes_working_in(folder)
    )
    assert not record.exists()


def test_wrapper_refuses_when_its_grading_process_is_gone(tmp_path: Path) -> None:
    """Started for a grading process that no longer exists, it exits at once."""
    from fmnist_utils.grading.sandbox import GRADER_PID_VAR, KERNELS_DIR

    gone = subprocess.Popen(["true"])
    gone.wait()
    wrapper = KERNELS_DIR / "fmnist-grader" / WRAPPER
    for value, says in [(str(gone.pid), "is gone"), ("", "is not set")]:
        env = {k: v for k, v in os.environ.items() if k != GRADER_PID_VAR}
        if value:
            env[GRADER_PID_VAR] = value
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(wrapper), "-f", str(tmp_path / "k.json")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode != 0
        assert says in done.stderr, done.stderr
        assert time.monotonic() - start < 10, "it should not start a kernel first"


def test_a_record_never_kills_another_process(tmp_path: Path) -> None:
    """A record whose pid now belongs to another process (or lies) stops nothing."""
    from fmnist_utils.grading.leftovers import stop_leftover_kernels

    other = subprocess.Popen(["sleep", "60"])
    try:
        records = tmp_path / "records"
        records.mkdir()
        stat = Path(f"/proc/{other.pid}/stat").read_text()
        start = int(stat[stat.rindex(")") + 2 :].split()[19])
        dead = subprocess.Popen(["true"])
        dead.wait()
        for name, start_time in [("same-start", start), ("other-start", start + 1)]:
            (records / f"{name}.json").write_text(
                json.dumps(
                    {"pid": other.pid, "start": start_time, "grader": dead.pid,
                     "grader_start": 1, "folder": "/x", "since": "then"}
                )
            )  # fmt: skip
        (records / "garbage.json").write_text("{not json")
        assert stop_leftover_kernels(records, wait=0.5) == []
        assert other.poll() is None, "a process that is no grading kernel was killed"
        assert not list(records.iterdir()), "stale records should be removed"
    finally:
        other.kill()
        other.wait()
