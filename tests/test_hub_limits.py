"""Per-learner limits on the class hub (hub/limits.py): a runaway learner is stopped at
their memory limit while another learner's process keeps running, through real cgroups."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "hub"))
import limits

MIB = 2**20
ALLOCATE = """
import sys, time
block = bytearray(int(sys.argv[1]) * 2**20)
for i in range(0, len(block), 4096):
    block[i] = 1  # touch every page: the memory is really used
time.sleep(float(sys.argv[2]))
print("survived")
"""


def _cgroups_or_skip() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the limits test makes cgroups: run it as root")
        pytest.skip("the limits test makes cgroups: run it as root")
    try:
        for folder in limits.learner_cgroups("fxprobe", 2**30, 1.0, 64):
            folder.rmdir()
    except (limits.LimitError, OSError) as error:
        pytest.skip(f"no cgroups to limit with here: {error}")


def _remove(folders: list[Path]) -> None:
    for folder in folders:
        for _ in range(20):
            try:
                folder.rmdir()
                break
            except OSError:
                time.sleep(0.2)


@pytest.mark.slow
def test_a_runaway_learner_is_stopped_and_the_others_keep_running() -> None:
    _cgroups_or_skip()
    runaway = limits.learner_cgroups("fxlimitada", 300 * MIB, 1.0, 64)
    steady = limits.learner_cgroups("fxlimitbob", 300 * MIB, 1.0, 64)
    try:
        calm = subprocess.Popen(
            [sys.executable, "-c", ALLOCATE, "100", "3"],
            preexec_fn=lambda: limits.join(steady),
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        greedy = subprocess.run(
            [sys.executable, "-c", ALLOCATE, "800", "0"],
            preexec_fn=lambda: limits.join(runaway),
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        out, _ = calm.communicate(timeout=120)
        assert greedy.returncode == -9, (greedy.returncode, greedy.stderr[-500:])
        assert calm.returncode == 0 and "survived" in out, "the other learner kept running"
    finally:
        _remove(runaway + steady)


@pytest.mark.slow
def test_a_learners_children_stay_in_their_cgroup_and_cpu_is_capped() -> None:
    _cgroups_or_skip()
    folders = limits.learner_cgroups("fxlimitcyd", 500 * MIB, 0.5, 64)
    try:
        parent = subprocess.Popen(
            [sys.executable, "-c",
             "import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', "
             "'import time; time.sleep(5)']); print(p.pid, flush=True); p.wait()"],
            preexec_fn=lambda: limits.join(folders), stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        child = int(parent.stdout.readline())
        assert {parent.pid, child} <= limits.members(folders), "a kernel is the server's child"
        cpu = next((f for f in folders if (f / "cpu.cfs_quota_us").exists()), None)
        if cpu is not None:
            assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "50000"
        else:
            assert (folders[0] / "cpu.max").read_text().split()[0] == "50000"
        parent.kill()
        parent.wait()
        os.kill(child, 9)
    finally:
        _remove(folders)


def test_the_hub_spawns_through_the_limits() -> None:
    config = (ROOT / "hub" / "jupyterhub_config.py").read_text()
    assert "c.JupyterHub.spawner_class = LimitedSpawner" in config
    assert "c.Spawner.mem_limit = settings.mem_limit" in config
