"""Binder's envelope: each lesson's solution, in full mode, in the course image under 2 GB.

For every lesson, :func:`run_lesson` starts the course image the way a learner gets
it (``start-lab``: JupyterLab serving the work area) with the whole container held to
``--memory 2g --memory-swap 2g --cpus 2`` (mybinder.org's envelope), copies the
lesson's solution notebook in, and runs it top to bottom without ``FMNIST_FAST`` in a
fresh kernel inside the same container (``fmnist_utils.tooling.profiler.run_notebook``),
so the server and the kernel share the limit. It reports:

- ``seconds``: the notebook's wall time; ``kernel_peak_gib``: the kernel's peak RSS;
- ``container_peak_gib``: the container's peak working set (memory in use less
  inactive file cache, sampled every half second from the host's cgroup: what
  ``docker stats`` and Kubernetes count against a limit), and
  ``cgroup_max_usage_gib`` (the kernel's own high-water mark, page cache included);
- ``oom_kills`` (the cgroup's count) and ``killed`` (the kernel or the container died);
- ``cpu_seconds``: CPU the whole container used (cgroup ``cpuacct.usage``).

The image is built with the container tests' helper (``tests.test_container.build_image``,
layers reused). Everything started here is named ``fmnist-bench-*`` and removed after.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

GIB = 2**30
MEMORY = "2g"
CPUS = 2
NAME = "fmnist-bench-lesson"
VOLUME = "fmnist-bench-work"
INSIDE = "/home/learner/solution"
RUN_CODE = """
import json, resource, sys
from pathlib import Path
from fmnist_utils.tooling.profiler import run_notebook
r = run_notebook(Path(sys.argv[1]), fast=False, timeout=1800)
print(json.dumps({"seconds": r.seconds, "kernel_peak_bytes": r.peak_rss_bytes}))
"""


def _cgroup_dir(name: str) -> Path | None:
    """The container's memory cgroup on the host (cgroup v1, podman with cgroupfs)."""
    from tests.containers import podman

    found = podman("inspect", "--format", "{{.State.CgroupPath}}", name, check=False)
    path = found.stdout.strip()
    if not path:
        return None
    for controller in ("memory", "unified"):
        candidate = Path("/sys/fs/cgroup") / controller / path.lstrip("/")
        if candidate.is_dir():
            return candidate
    return None


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def working_set(memory_dir: Path) -> int:
    """Bytes in use less inactive file cache (cgroup v1 ``memory.stat``)."""
    usage = _read_int(memory_dir / "memory.usage_in_bytes")
    inactive = 0
    try:
        for line in (memory_dir / "memory.stat").read_text().splitlines():
            if line.startswith("total_inactive_file "):
                inactive = int(line.split()[1])
    except OSError:
        pass
    return max(0, usage - inactive)


class _Sampler(threading.Thread):
    """Sample a cgroup's working set every half second; keep the peak."""

    def __init__(self, memory_dir: Path | None) -> None:
        super().__init__(daemon=True)
        self.memory_dir, self.peak, self.stop = memory_dir, 0, threading.Event()

    def run(self) -> None:
        while self.memory_dir is not None and not self.stop.wait(0.5):
            self.peak = max(self.peak, working_set(self.memory_dir))


def _inside(name: str, *command: str, timeout: float = 60) -> str:
    from tests.containers import podman

    return podman("exec", name, *command, check=False, timeout=timeout).stdout


def _oom_kills(name: str) -> int:
    for line in _inside(name, "cat", "/sys/fs/cgroup/memory/memory.oom_control").splitlines():
        if line.startswith("oom_kill "):
            return int(line.split()[1])
    return 0


def run_lesson(image: str, notebook: Path, *, timeout: float = 3600) -> dict[str, Any]:
    """Run one solution notebook, full mode, in a 2 GB / 2 CPU course container.

    Parameters
    ----------
    image : str
        The course image's tag.
    notebook : pathlib.Path
        The solution ``.ipynb``; its folder is copied into the container.
    timeout : float
        Seconds the whole notebook may take.

    Returns
    -------
    dict
        The figures listed in the module's docstring, and ``error`` when it failed.
    """
    from tests.containers import podman, wait_healthy

    podman("rm", "-f", "-t", "2", NAME, check=False)
    podman("volume", "rm", "-f", VOLUME, check=False)
    with tempfile.TemporaryDirectory(prefix="fmnist-bench-") as tmp:
        copy = Path(tmp) / notebook.parent.name
        shutil.copytree(notebook.parent, copy, ignore=shutil.ignore_patterns(".*", "__pycache__"))
        try:
            podman(
                "run", "-d", "--name", NAME,
                "--memory", MEMORY, "--memory-swap", MEMORY, "--cpus", str(CPUS),
                "-e", f"JUPYTER_TOKEN={secrets.token_hex(24)}",
                "-v", f"{VOLUME}:/home/learner/work",
                "-v", f"{copy}:{INSIDE}:U",
                image,
            )  # fmt: skip
            memory_dir = _cgroup_dir(NAME)
            sampler = _Sampler(memory_dir)
            sampler.start()
            wait_healthy(NAME)
            start = time.perf_counter()
            done = podman(
                "exec", NAME, "python", "-c", RUN_CODE, f"{INSIDE}/{notebook.name}",
                check=False, timeout=timeout,
            )  # fmt: skip
            wall = time.perf_counter() - start
            sampler.stop.set()
            sampler.join()
            state = podman("inspect", "--format", "{{.State.Status}}", NAME, check=False)
            running = state.stdout.strip() == "running"
            result: dict[str, Any] = {
                "memory_limit": MEMORY,
                "cpus": CPUS,
                "wall_s": round(wall, 1),
                "container_peak_gib": round(sampler.peak / GIB, 3),
                "cgroup_max_usage_gib": round(
                    _read_int(memory_dir / "memory.max_usage_in_bytes") / GIB, 3
                )
                if memory_dir
                else None,
                "oom_kills": _oom_kills(NAME) if running else None,
                "cpu_seconds": round(
                    int(_inside(NAME, "cat", "/sys/fs/cgroup/cpuacct/cpuacct.usage") or 0) / 1e9,
                    1,
                )
                if running
                else None,
            }
            if done.returncode == 0:
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                result["seconds"] = round(figures["seconds"], 1)
                result["kernel_peak_gib"] = round(figures["kernel_peak_bytes"] / GIB, 3)
                result["killed"] = not running
            else:
                tail = (done.stdout + done.stderr)[-1500:]
                result["killed"] = not running or "DeadKernel" in tail or "died" in tail
                result["error"] = tail
            result["extra_cpu_seconds"] = result["cpu_seconds"] or 0.0
            return result
        finally:
            podman("rm", "-f", "-t", "2", NAME, check=False)
            podman("volume", "rm", "-f", VOLUME, check=False)


def build() -> str:
    """Build (or reuse) the course image with the container tests' helper; return its tag."""
    from tests.containers import build_image

    return build_image()


def main() -> int:
    """Command line: ``python -m benchmarks.container NOTEBOOK`` prints one lesson's figures."""
    import sys

    image = build()
    print(json.dumps(run_lesson(image, Path(sys.argv[1]).resolve()), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
