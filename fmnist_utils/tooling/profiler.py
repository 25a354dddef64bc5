"""The notebook profiler: run a notebook in a fresh kernel and measure what it cost.

:func:`run_notebook` executes a notebook top to bottom (with ``FMNIST_FAST=1`` or
without) and returns its wall time and the kernel's peak memory; the notebook
benchmark (``python -m benchmarks.run --only notebooks``) and the tests use it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunResult:
    """What running a notebook cost.

    Attributes
    ----------
    seconds : float
        Wall time from kernel start to the last cell's end.
    peak_rss_bytes : int
        The kernel's peak resident memory (Linux ``VmHWM``; 0 where unknown).
    """

    seconds: float
    peak_rss_bytes: int


def _peak_rss(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def run_notebook(
    path: Path, *, fast: bool = True, timeout: int = 600, env: dict[str, str] | None = None
) -> RunResult:
    """Execute a notebook top to bottom in a fresh kernel, in its own folder.

    Parameters
    ----------
    path : pathlib.Path
        The ``.ipynb`` to run; it is read, never written.
    fast : bool, optional
        Run with ``FMNIST_FAST=1`` (the default) or without it.
    timeout : int, optional
        Seconds any one cell may take.
    env : dict, optional
        Extra environment variables for the kernel.

    Returns
    -------
    RunResult
        Wall time and peak kernel memory.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raises; the message shows the cell and its traceback.
    """
    import time

    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    kernel_env = dict(os.environ)
    kernel_env.pop("FMNIST_FAST", None)
    if fast:
        kernel_env["FMNIST_FAST"] = "1"
    kernel_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    kernel_env.update(env or {})
    km = KernelManager(kernel_name="python3")
    start = time.perf_counter()
    km.start_kernel(cwd=str(path.parent), env=kernel_env)
    try:
        client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3")
        client.execute()
        seconds = time.perf_counter() - start
        pid = km.provisioner.process.pid if km.provisioner is not None else None
        peak = _peak_rss(pid) if pid else 0
    finally:
        km.shutdown_kernel()  # as JupyterLab does: the kernel's clean-up runs
    return RunResult(seconds=seconds, peak_rss_bytes=peak)
