"""Sandboxed execution for ``nbgrader autograde``.

:class:`SandboxedExecute` replaces nbgrader's ``Execute`` preprocessor in
``Autograde.autograde_preprocessors`` only (``nbgrader validate`` and the learners'
own kernels are untouched). For every submission it starts the ``fmnist-grader``
kernelspec shipped in ``fmnist_utils/grading/kernels/``, whatever kernel the notebook
names, over jupyter_client's ``ipc`` transport, with the connection file and sockets
in a fresh private folder under ``/tmp``. The kernelspec's wrapper
(``kernels/fmnist-grader/sandbox_kernel.py``) runs the kernel in bubblewrap, with
``FMNIST_FAST=1``. The ``c.Execute`` settings (``timeout``, ...) still apply.

The wrapper is handed this process's pid and dies with it, however early this
process is killed; a kernel that outlives a killed run all the same is stopped by
the next ``nbgrader autograde`` in the course (:mod:`~fmnist_utils.grading.leftovers`).

A kernel that dies (``os._exit``, a resource limit) or cannot be stopped after its
time limit does not stop the grading: the cells after it get a ``NotExecuted`` error,
so their tests score zero, and the next student is graded as usual.

Each submission's test cells run in a second kernel, started here too
(:mod:`~fmnist_utils.grading.testkernel`). :mod:`~fmnist_utils.grading.config` puts
this preprocessor in the autograde pipeline. Nothing here runs at import time.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from functools import cache
from pathlib import Path
from queue import Empty
from types import ModuleType
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Dict, Integer, List, Unicode

from fmnist_utils.grading import intake, integrity, leftovers, limits, testkernel
from fmnist_utils.grading.config import LIMITS

__all__ = [
    "KERNELS_DIR",
    "KERNEL_NAME",
    "OPT_OUT_VAR",
    "SandboxUnavailable",
    "SandboxedExecute",
    "data_folder",
    "kernel_records",
    "refusal_message",
    "sandbox_problem",
]

KERNELS_DIR = Path(__file__).resolve().parent / "kernels"
"""The folder holding the course's grading kernelspec."""

KERNEL_NAME = "fmnist-grader"
"""The kernelspec every autograded notebook runs in."""

OPT_OUT_VAR = "FMNIST_UNSANDBOXED_GRADING"
"""Set to ``1`` to grade without a sandbox (trusted submissions only)."""

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The ``fmnist_utils`` package: visible read-only in the sandbox, lessons import it."""

KERNELS_DIR_VAR = "FMNIST_GRADING_KERNELS_DIR"
"""Where the running grading kernels are recorded (default ``instructor/.grading-kernels``).

The parallel grader points its workers, which grade in temporary copies of the
course, at the main course's folder, so the next run finds what a killed one left."""

GRADER_PID_VAR = "FMNIST_SANDBOX_GRADER_PID"
"""The grading process's pid, handed to the kernel wrapper: it dies with that process."""


def _wrapper() -> ModuleType:
    """Load the kernel wrapper script as a module (its folder name is not importable)."""
    path = KERNELS_DIR / KERNEL_NAME / "sandbox_kernel.py"
    spec = importlib.util.spec_from_file_location("fmnist_sandbox_kernel", path)
    if spec is None or spec.loader is None:  # pragma: no cover - the file ships with us
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def sandbox_problem() -> str | None:
    """Tell whether the bubblewrap sandbox works on this machine.

    Returns
    -------
    str or None
        None when it works, else what is wrong (checked once per process).
    """
    return _wrapper().bwrap_problem()


def refusal_message(problem: str) -> str:
    """Explain why grading stops without a sandbox, and how to go on.

    Parameters
    ----------
    problem : str
        What :func:`sandbox_problem` found.

    Returns
    -------
    str
        The message shown to the instructor.
    """
    return (
        f"REFUSING to autograde: the grading sandbox is not available: {problem}.\n"
        "Without it, student code would run with your rights: it could read solutions/ "
        "and the gradebook, change other students' grades and use the network.\n"
        f"Fix the sandbox, or, only for submissions you trust, run again with {OPT_OUT_VAR}=1 "
        "to grade WITHOUT a sandbox."
    )


class SandboxUnavailable(RuntimeError):
    """The sandbox does not work here and the opt-out is not set."""


def data_folder() -> Path | None:
    """Find the folder the course's data loader would read Fashion-MNIST from.

    :func:`fmnist_utils.data.data_source`, without loading.

    Returns
    -------
    pathlib.Path or None
        The folder, or None when the data is nowhere (the kernel then has no network
        to download it, and lessons that need it fail as they would for a learner).
    """
    from fmnist_utils import data

    folder, source = data.data_source()
    return None if source == "download" else folder.resolve()


class SandboxedExecute(Execute):
    """nbgrader's ``Execute``, always in the sandboxed ``fmnist-grader`` kernel."""

    course_root = Unicode(
        "", help="The course folder: the sandbox refuses to show it or a parent of it."
    ).tag(config=True)
    readonly_paths = List(
        Unicode(),
        [],
        help="Extra paths visible read-only in the sandbox (SRC or SRC=DEST).",
    ).tag(config=True)
    kernels_dir = Unicode(
        "",
        help="Folder recording each running kernel, so a later run can stop what a "
        "killed one left (empty: not recorded).",
    ).tag(config=True)

    # --- limits per submission (see limits.py) --------------------------------------
    # The defaults are the course's limits (config.LIMITS); config.apply sets them too.
    notebook_timeout = Integer(
        LIMITS.notebook_timeout_s,
        help="Seconds the whole notebook may run; the cells after are not executed.",
    ).tag(config=True)
    max_cell_output = Integer(
        LIMITS.max_cell_output,
        help="Bytes of output one cell may keep; the rest is dropped with a note.",
    ).tag(config=True)
    max_notebook_output = Integer(
        LIMITS.max_notebook_output, help="Bytes of output the whole notebook may keep."
    ).tag(config=True)
    sandbox_limits = Dict(
        Unicode(),
        default_value=LIMITS.sandbox_environment(),
        help="The kernel wrapper's limits (FMNIST_SANDBOX_MEM_MB, ...); the same variable "
        "in the environment overrides one.",
    ).tag(config=True)

    def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
        """Check the sandbox, then execute the notebook in it (a rejected one: not at all)."""
        problem = sandbox_problem()
        if problem is not None:
            if os.environ.get(OPT_OUT_VAR) != "1":
                raise SandboxUnavailable(refusal_message(problem))
            self.log.warning("%s=1: grading WITHOUT a sandbox (%s)", OPT_OUT_VAR, problem)
        self._fmg_dead: str | None = None
        self._fmg_tests: testkernel.TestsKernel | None = None
        self._fmg_captured = False
        self._fmg_guarding: str | None = None
        self._fmg_seen: set[str] = set()
        self._fmg_usage = limits.OutputUsage(self.max_cell_output, self.max_notebook_output)
        self._fmg_deadline = limits.Deadline(self.notebook_timeout)
        grading = (resources or {}).get("nbgrader", {})
        if grading and not intake.active():  # e.g. the formgrader's button
            raise SandboxUnavailable(
                "REFUSING to autograde here: only `nbgrader autograde` on the command line "
                "(or `python -m fmnist_utils.grading.parallel`) grades private copies of the "
                "submissions; this process would read the submitted folders as they are."
            )
        reason = intake.rejection(grading.get("student", ""), grading.get("assignment", ""))
        if reason is not None:  # a rejected submission never runs
            integrity.flag(resources, reason)
            self._fmg_dead = reason
            for index, cell in enumerate(nb.cells):
                self.preprocess_cell(cell, resources, index)
            return nb, resources
        return super().preprocess(nb, resources, km=km)

    def _get_timeout(self, cell: Any) -> int | None:
        """Return a cell's time limit, never past the notebook's."""
        if cell is None and getattr(self, "_fmg_guarding", None):  # a check answers at once
            return self._fmg_deadline.cap(min(super()._get_timeout(None) or 30, 30))
        return self._fmg_deadline.cap(super()._get_timeout(cell))

    store_widget_state = Bool(False).tag(config=True)

    async def _fmg_output_state(self, timeout: float = 5.0) -> str:
        """Tell how the kernel answers a request for its info: busy, alive or dropped.

        ``"busy"``: no reply; ``"alive"``: its status came on the output channel;
        ``"dropped"``: a reply, but no status there. ZeroMQ drops a kernel's output
        channel that sent a message over the size limit, and does not reconnect it; the
        kernel itself still answers.
        """
        msg_id = self.kc.kernel_info()
        deadline = time.monotonic() + timeout
        replied = False
        while not replied and (left := deadline - time.monotonic()) > 0:
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=left)
            except Empty:
                break
            replied = msg.get("parent_header", {}).get("msg_id") == msg_id
        if not replied:
            return "busy"
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await self.kc.iopub_channel.get_msg(timeout=left)
            except Empty:
                break
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return "alive"
        return "dropped"

    def _fmg_reopened_output(self, cell: Any) -> bool:
        """Remake a dropped output channel after a cell whose end never came; say so.

        Returns True when the channel was dropped (a message over the limit) and is made
        anew, with a note in the cell; False when the kernel is busy or the channel fine.
        """
        if run_sync(self._fmg_output_state)() != "dropped":
            return False
        self.kc.reopen_output()
        cell.setdefault("outputs", []).append(
            new_output(
                "stream",
                name="stdout",
                text="\n[output lost: the kernel sent a message over the grader's limit of "
                f"{LIMITS.max_message // 2**20} MiB]\n",
            )
        )
        return True

    def output(self, outs: list, msg: dict, display_id: Any, cell_index: int) -> Any:
        """Keep a cell's output only up to the limits per cell and per notebook."""
        if not self._fmg_usage.allow(outs, msg, cell_index):
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _update_display_id(self, display_id: str, msg: dict) -> None:
        """Apply a display update only while what it rewrites fits the output limits."""
        shown = self._display_id_map.get(display_id, {})
        copies = sum(len(indices) for indices in shown.values())
        index = self._fmg_usage.index
        outs = self.nb.cells[index].get("outputs", []) if 0 <= index < len(self.nb.cells) else []
        if copies and not self._fmg_usage.allow_update(msg, copies, outs):
            return
        super()._update_display_id(display_id, msg)

    def handle_comm_msg(self, outs: list, msg: dict, cell_index: int) -> None:
        """Ignore widget messages: no widget state is kept, nothing captures output.

        (A page showing the notebook would need widget state; grading does not, and the
        learner's kernel could send any amount of it.)
        """

    def _fmg_guard(self, function: str) -> list[str]:
        """Call the in-kernel guard; return only findings not reported before."""
        self._fmg_guarding = function
        found = run_sync(integrity.guard_call)(self, function)
        self._fmg_guarding = None
        seen = self.__dict__.setdefault("_fmg_seen", set())
        new = [f for f in found if f not in seen]
        seen.update(found)
        return new

    def _fmg_label(self, cell: Any, index: int) -> str:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        return f"cell {index}" + (f" ({grade_id})" if grade_id else "")

    def kernel_environment(self) -> dict[str, str]:
        """Return the environment the wrapper starts with (it filters what gets in).

        Returns
        -------
        dict
            This process's environment plus the sandbox's settings: the course root,
            the read-only paths (``fmnist_utils`` and the data folder), the folder to
            import ``fmnist_utils`` from (the one this process uses),
            ``FMNIST_DATA_DIR`` pointing at the data, and this process's pid, which the
            wrapper dies with. ``os.environ`` is not changed.
        """
        # an explicit environment, nothing inherited wholesale (the wrapper
        # outside the sandbox gets the few variables it reads; bwrap fewer still)
        env = limits.wrapper_environment(os.environ)
        for key, value in self.sandbox_limits.items():
            env.setdefault(key, value)
        readonly = [str(PACKAGE_DIR), *self.readonly_paths]
        folder = data_folder()
        if folder is not None:
            readonly.append(str(folder))
            env["FMNIST_DATA_DIR"] = str(folder)
        env["FMNIST_SANDBOX_COURSE_ROOT"] = str(Path(self.course_root or os.getcwd()).resolve())
        env["FMNIST_SANDBOX_RO_PATHS"] = os.pathsep.join(readonly)
        env["FMNIST_SANDBOX_PYTHONPATH"] = str(PACKAGE_DIR.parent)
        env[GRADER_PID_VAR] = str(os.getpid())
        env.pop(testkernel.SHARED_DIR_VAR, None)
        env.pop(testkernel.SHARED_MODE_VAR, None)
        return env

    async def _fmg_start_tests_kernel(self, env: dict[str, str], who: str) -> None:
        """Start the trusted kernel that runs this notebook's test cells."""
        cells = testkernel.instructor_notebook(self.config, self.resources or {})
        self._fmg_tests = await testkernel.TestsKernel.start(
            manager=self._fmg_manager,
            env=env,
            shared=Path(self._fmg_shared),
            cells=cells,
            timeout=self.startup_timeout,
            call_timeout=float(self.timeout or 120),
            log=self.log,
            who=who,
            kernels_dir=Path(self.kernels_dir) if self.kernels_dir else None,
        )

    async def _fmg_run_test(self, cell: Any, index: int, resources: Any, label: str) -> Any:
        """Run a test cell in the tests kernel while the learner's kernel answers it.

        Raises
        ------
        DeadKernelError
            When the learner's kernel is gone, before or during the test.
        CellTimeoutError
            When it is still busy after the test and an interrupt.
        """
        if not await self.km.is_alive():
            raise DeadKernelError("the learner's kernel died")
        tests = self._fmg_tests
        serve_id = self.kc.execute(
            tests.serve_code, silent=True, store_history=False, allow_stdin=False
        )
        learner = (self.kc, self.km)
        self.kc, self.km = tests.client, tests.manager
        try:
            cell = await self.async_execute_cell(cell, index, store_history=True)
            for found in await testkernel.findings(tests.client, 30):
                integrity.flag(resources, f"suspicious: {found} (in test {label})")
        finally:
            self.kc, self.km = learner
        for attempt in range(2):  # the learner's side lets go when the test is done
            if await testkernel.wait_for_reply(self.kc, serve_id, 10) is not None:
                return cell
            if not await self.km.is_alive():
                raise DeadKernelError("the learner's kernel died during a test")
            if attempt == 0:  # still in a function the test gave up on
                await self.km.interrupt_kernel()
        raise CellTimeoutError.error_from_timeout_and_cell(
            "the notebook's kernel did not stop after a test", self.timeout, cell
        )

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        """Start the kernel with :meth:`kernel_environment`, in a copy, stdio piped; record it."""
        env = kwargs.setdefault("env", self.kernel_environment())
        # the kernel works on a copy (in a tmpfs in the sandbox), so nothing it
        # writes reaches the graded folder or feedback; its stdio are pipes to us
        folder = (self.resources or {}).get("metadata", {}).get("path")
        if folder and "nbgrader" in (self.resources or {}):  # (nbgrader's run, not a test's)
            self._fmg_copy = leftovers.scratch_folder("in-")
            work = Path(self._fmg_copy) / "w"
            intake.safe_copy(
                Path(folder).resolve().parent,
                [Path(folder).resolve().name],
                work,
                intake.CopyLimits(max_bytes=2**30, max_files=10_000),
            )
            env["FMNIST_SANDBOX_WORK_COPY"] = str(work)
            # the folder the tests kernel shares with this one: read-only here, so the
            # learner's code can neither replace the channel's socket nor change a file
            # a test made and reads back
            self._fmg_shared = leftovers.scratch_folder("")
            env[testkernel.SHARED_DIR_VAR] = self._fmg_shared
            env[testkernel.SHARED_MODE_VAR] = "ro"
        grading = (self.resources or {}).get("nbgrader", {})
        who = f"{grading.get('student', '?')}/{grading.get('assignment', '?')}"
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        await super().async_start_new_kernel(**kwargs)
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None:
            limits.relay_output(process, who, self.log)
        pid = getattr(self.km.provisioner, "pid", None)  # recorded
        if self.kernels_dir and pid:
            self._fmg_record = leftovers.record_kernel(Path(self.kernels_dir), pid)
        if "nbgrader" in (self.resources or {}):
            await self._fmg_start_tests_kernel(env, who)

    # nbclient binds the sync wrapper to the base class's coroutine at class creation.
    start_new_kernel = run_sync(async_start_new_kernel)

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> Any:
        """Run a cell; after a dead or unstoppable kernel, mark the rest not executed."""
        if self._fmg_dead is not None:
            if cell.cell_type == "code":
                cell.outputs = [
                    new_output(
                        "error",
                        ename="NotExecuted",
                        evalue=self._fmg_dead,
                        traceback=[f"NotExecuted: {self._fmg_dead}"],
                    )
                ]
            return cell, resources
        if self._fmg_deadline.over() and cell.cell_type == "code":
            what = f"the notebook ran past its time limit ({self.notebook_timeout} s in all)"
            self.log.error("Cell %d: %s; later cells are not executed and score 0.", index, what)
            self._fmg_dead = f"not executed: {what}"
            return self.preprocess_cell(cell, resources, index)
        # the state before any student code, so hooks a cell installs are named
        label = self._fmg_label(cell, index)
        self._fmg_usage.start_cell(index)
        try:
            if not self._fmg_captured:
                self._fmg_captured = True
                for found in self._fmg_guard("capture"):
                    integrity.flag(resources, f"suspicious: {found} (before the first cell)")
            if integrity.is_test_cell(cell) and getattr(self, "_fmg_tests", None) is not None:
                cell = run_sync(self._fmg_run_test)(cell, index, resources, label)
            else:
                cell, resources = super().preprocess_cell(cell, resources, index)
            if cell.cell_type == "code" and cell.source.strip():
                for found in self._fmg_guard("check"):
                    integrity.flag(resources, f"suspicious: {found} (after {label} ran)")
            return cell, resources
        except (DeadKernelError, CellTimeoutError) as error:
            iopub = isinstance(error, CellTimeoutError) and "IOPub" in str(error)
            checking = getattr(self, "_fmg_guarding", None)
            if iopub and not checking and self._fmg_reopened_output(cell):
                return cell, resources  # the cell ran; only its output was lost
            what = (
                "the kernel died (os._exit, a crash, or the CPU or memory limit)"
                if isinstance(error, DeadKernelError)
                else f"the notebook ran past its time limit ({self.notebook_timeout} s in all)"
                if self._fmg_deadline.over()
                else "the cell could not be stopped after its time limit"
            )
            self.log.error("Cell %d: %s; later cells are not executed and score 0.", index, what)
            if getattr(self, "_fmg_guarding", None):  # the check was blocked
                integrity.flag(
                    resources,
                    f"suspicious: the grader's integrity check got no answer ({label})",
                )
                self._fmg_guarding = None
            name = type(error).__name__
            cell.outputs.append(
                new_output("error", ename=name, evalue=what, traceback=[f"{name}: {what}"])
            )
            self._fmg_dead = f"not executed: in an earlier cell {what}"
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # the kernel is gone either way
                pass
            return cell, resources

    def create_kernel_manager(self) -> Any:
        """Make a kernel manager for the course's kernelspec, over ipc in a private folder."""
        self.kernel_name = KERNEL_NAME
        # A Unix socket path must stay under ~107 bytes, and the sandbox binds exactly
        # this folder (0700), so it is short and holds nothing else.
        self._fmg_rundir = leftovers.scratch_folder("")
        self.km = self._fmg_manager(os.path.join(self._fmg_rundir, "k.json"))
        return self.km

    def _fmg_manager(self, connection_file: str) -> Any:
        """Make a kernel manager for the course's kernelspec, over ipc, at ``connection_file``."""
        return self.kernel_manager_class(
            kernel_name=KERNEL_NAME,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(KERNELS_DIR)]),
            transport="ipc",
            connection_file=connection_file,
            config=self.config,
            # a kernel's message larger than the limit is dropped unread
            client_class="fmnist_utils.grading.limits.CappedClient",
        )

    async def _async_cleanup_kernel(self) -> None:
        rundir = getattr(self, "_fmg_rundir", None)
        copy = getattr(self, "_fmg_copy", None)
        shared = getattr(self, "_fmg_shared", None)
        record = getattr(self, "_fmg_record", None)
        tests = getattr(self, "_fmg_tests", None)
        self._fmg_tests = None
        try:
            if tests is not None:
                await tests.stop()
            await super()._async_cleanup_kernel()
        finally:
            for folder in (rundir, copy, shared):
                if folder:
                    shutil.rmtree(folder, ignore_errors=True)
            if record is not None:
                record.unlink(missing_ok=True)
                self._fmg_record = None

    # nbclient binds the sync wrapper to the base class's coroutine at class creation.
    _cleanup_kernel = run_sync(_async_cleanup_kernel)


def kernel_records(root: Path) -> Path:
    """Return the folder recording a course's running grading kernels.

    Parameters
    ----------
    root : pathlib.Path
        The course folder.

    Returns
    -------
    pathlib.Path
        ``instructor/.grading-kernels`` in it (hidden from the sandbox, like the course).
    """
    return Path(root) / "instructor" / ".grading-kernels"
