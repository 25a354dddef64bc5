"""The grader's second kernel: where every graded test cell of a notebook runs.

:class:`~fmnist_utils.grading.sandbox.SandboxedExecute` starts two kernels per
submission, both in the bubblewrap sandbox: the learner's, which runs the learner's
cells, and this one, which runs the test cells and nothing of the learner's. They
share one folder (the channel's Unix socket and the tests' temporary files), seen
at the same path by both, and read-only by the learner's. While a test cell runs
here, the learner's kernel answers its requests (:mod:`~fmnist_utils.grading.bridge`,
:mod:`~fmnist_utils.grading.trusted`).

The tests kernel learns the lesson's imports from the instructor's copy of the
notebook (the source, else the release), never from the submission. Nothing runs at
import time.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat

from fmnist_utils.grading import integrity, leftovers, limits, trusted

__all__ = [
    "SHARED_DIR_VAR",
    "SHARED_MODE_VAR",
    "TestsKernel",
    "findings",
    "instructor_notebook",
    "wait_for_reply",
]

SHARED_DIR_VAR = "FMNIST_SANDBOX_SHARED_DIR"
"""Tells the sandbox wrapper which folder the tests kernel shares with the learner's."""

SHARED_MODE_VAR = "FMNIST_SANDBOX_SHARED_MODE"
"""``rw`` for the tests kernel, ``ro`` for the learner's."""


def instructor_notebook(config: Any, resources: dict[str, Any]) -> list[Any]:
    """Return the cells of the instructor's copy of the notebook being graded.

    Parameters
    ----------
    config : traitlets.config.Config
        nbgrader's configuration (the course folders).
    resources : dict
        nbgrader's resources for the notebook (``assignment`` and ``notebook``).

    Returns
    -------
    list of nbformat.NotebookNode
        The cells of ``source/LESSON/NOTEBOOK.ipynb``, else of the release; empty when
        neither is there.
    """
    from nbgrader.coursedir import CourseDirectory

    grading = resources.get("nbgrader", {})
    assignment, notebook = grading.get("assignment"), grading.get("notebook")
    if not assignment or not notebook:
        return []
    course = CourseDirectory(config=config)
    for step in (course.source_directory, course.release_directory):
        path = Path(course.format_path(step, ".", assignment)) / f"{notebook}.ipynb"
        if path.is_file() and not path.is_symlink():
            try:
                return nbformat.read(path, as_version=4).cells
            except (OSError, ValueError):
                continue
    return []


def _tests_names(cells: list[Any]) -> list[str]:
    """Return the names the notebook's graded test cells use without defining them."""
    names: dict[str, None] = {}
    for cell in cells:
        if integrity.is_test_cell(cell):
            names.update(dict.fromkeys(trusted.free_names(cell.source)))
    return list(names)


async def wait_for_reply(client: Any, msg_id: str, timeout: float) -> dict[str, Any] | None:
    """Wait for the reply to ``msg_id`` on a kernel's shell channel; drop its output.

    Returns
    -------
    dict or None
        The reply's content, or None when none came in ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    reply = None
    while reply is None:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            msg = await client.shell_channel.get_msg(timeout=left)
        except Exception:  # - queue.Empty: no reply in time
            return None
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            reply = msg["content"]
    while True:  # the request's output, up to its final "idle", is not kept
        try:
            msg = await client.iopub_channel.get_msg(timeout=max(0.1, deadline - time.monotonic()))
        except Exception:  # - none left
            break
        if msg.get("parent_header", {}).get("msg_id") == msg_id and msg.get("msg_type") == "status":
            if msg["content"].get("execution_state") == "idle":
                break
    return reply


async def findings(client: Any, timeout: float) -> list[str]:
    """Ask the tests kernel what the learner's answers passed off as plain data.

    Parameters
    ----------
    client : jupyter_client.AsyncKernelClient
        The tests kernel's client.
    timeout : float
        Seconds to wait for the answer.

    Returns
    -------
    list of str
        :func:`fmnist_utils.grading.trusted.take_findings` (empty if no answer).
    """
    import ast

    call = "__import__('fmnist_utils.grading.trusted', fromlist=['_']).take_findings()"
    msg_id = client.execute("", silent=True, store_history=False, user_expressions={"f": call})
    reply = await wait_for_reply(client, msg_id, timeout)
    try:
        found = ast.literal_eval(reply["user_expressions"]["f"]["data"]["text/plain"])
    except (KeyError, TypeError, ValueError, SyntaxError):
        return []
    return [str(item) for item in found] if isinstance(found, list) else []


class TestsKernel:
    """A running tests kernel: its manager, client, folders and the code the learner runs.

    Use :meth:`start`; :meth:`stop` shuts it down and removes its folders.
    """

    def __init__(
        self, manager: Any, client: Any, rundir: Path, socket: Path, record: Path | None
    ) -> None:
        self.manager = manager
        self.client = client
        self.rundir = rundir
        self.serve_code = trusted.serve_code(str(socket))
        self.record = record

    @classmethod
    async def start(
        cls,
        *,
        manager: Callable[..., Any],
        env: dict[str, str],
        shared: Path,
        cells: list[Any],
        timeout: float,
        call_timeout: float,
        log: Any,
        who: str,
        kernels_dir: Path | None,
    ) -> TestsKernel:
        """Start the kernel in the sandbox and prepare it for this notebook's tests.

        Parameters
        ----------
        manager : callable
            Makes a kernel manager for the grading kernelspec, given its connection file.
        env : dict
            The sandbox wrapper's environment (as for the learner's kernel).
        shared : pathlib.Path
            The folder the two kernels share (read-only for the learner's): the
            channel's socket and the tests' temporary files go there.
        cells : list of nbformat.NotebookNode
            The instructor's copy of the notebook (:func:`instructor_notebook`).
        timeout : float
            Seconds the kernel may take to start.
        call_timeout : float
            Seconds the learner's kernel may take to answer one request.
        log : logging.Logger
            Where the kernel's own output is logged.
        who : str
            ``student/lesson``, for the log.
        kernels_dir : pathlib.Path or None
            Where running grading kernels are recorded.

        Returns
        -------
        TestsKernel
        """
        rundir = Path(leftovers.scratch_folder(""))
        socket = shared / "b.sock"
        work = rundir / "w"
        work.mkdir(mode=0o700)
        env = {k: v for k, v in env.items() if k != "FMNIST_SANDBOX_WORK_COPY"}
        env[SHARED_DIR_VAR] = str(shared)
        env[SHARED_MODE_VAR] = "rw"
        km = manager(str(rundir / "k.json"))
        await km.start_kernel(
            env=env,
            cwd=str(work),
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        process = getattr(km.provisioner, "process", None)
        if process is not None:
            limits.relay_output(process, f"{who} (tests)", log)
        pid = getattr(km.provisioner, "pid", None)
        record = leftovers.record_kernel(kernels_dir, pid) if kernels_dir and pid else None
        kc = km.client()
        kc.start_channels()
        self = cls(km, kc, rundir, socket, record)
        try:
            await kc.wait_for_ready(timeout=timeout)
            imports = trusted.lesson_imports(cells)
            if not cells:
                log.warning(
                    "%s: no instructor's copy of the notebook: the tests get no imports", who
                )
            code = (
                "from fmnist_utils.grading import trusted as _fmnist_trusted\n"
                f"_fmnist_trusted.install(get_ipython(), {str(socket)!r}, {str(shared)!r}, "
                f"{imports!r}, {call_timeout!r})\n"
                "del _fmnist_trusted\n"
            )
            msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=False)
            reply = await wait_for_reply(kc, msg_id, timeout)
            if reply is None or reply.get("status") != "ok":
                what = (
                    "no answer" if reply is None else f"{reply.get('ename')}: {reply.get('evalue')}"
                )
                raise RuntimeError(f"the tests kernel could not be prepared ({what})")
            # the imports the tests use (TensorFlow: seconds), loaded while the learner's
            # cells run; the first test waits for them in the kernel's queue
            preload = [imports[n] for n in _tests_names(cells) if n in imports]
            if preload:
                kc.execute("\n".join(preload), silent=True, store_history=False)
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        """Shut the kernel down and remove its folder (the grader removes the shared one)."""
        try:
            self.client.stop_channels()
            await self.manager.shutdown_kernel()  # asked first: its CPU time is counted
        except Exception:  # - it is gone either way
            pass
        finally:
            shutil.rmtree(self.rundir, ignore_errors=True)
            if self.record is not None:
                self.record.unlink(missing_ok=True)
                self.record = None
