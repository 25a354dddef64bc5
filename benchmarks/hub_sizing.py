"""How many learners one machine holds: the class hub with several learners at work.

Run as root (it creates learners and starts the hub, and removes them afterwards)::

    python -m benchmarks.hub_sizing [--learners 3] [--lessons 01_pixels_and_labels,...]
                                    [--fast 07_build_and_train_cnn,...] [--grading 6]

It starts the course's hub (``hub/``) on free loopback ports with ``--learners``
learners, spawns their JupyterLab servers through the hub, and then, lesson after
lesson, runs the lesson's solution notebook in every learner's own kernel at the same
time (a kernel their server started, in a copy of the lesson in their home). It samples
each learner's processes (server and kernel) every second and reports, per learner:

- ``server_pss_gib``: the server alone, before any kernel (PSS: shared pages split);
- ``peak_pss_gib`` / ``peak_rss_gib``: server and kernel at the worst moment of the lesson;
- ``kernel_cpu_s``: CPU-seconds the kernel used to run the lesson (user + system): unlike
  wall time this does not grow with the machine's load;
- ``wall_s``: how long the lesson took with everyone running it at once;
- ``cgroup_peak_gib`` / ``limit_hits``: the most memory the learner's cgroup held during
  the lesson, as the hub's memory limit counts it (page cache included), and how often
  it hit that limit (``hub/limits.py``). The limits in force (the hub's defaults unless
  ``FMNIST_HUB_MEM_LIMIT`` / ``_CPU_LIMIT`` say otherwise) and the machine's memory are
  recorded too, so the learners a machine holds can be computed from the record.

``--fast`` names lessons to run with ``FMNIST_FAST=1`` (small data, short training):
quicker, but it understates memory and CPU. The machine's load average is recorded
at the start and the end.
Then the instructor's grading throughput: ``--grading`` submissions of lesson 1 graded by
one ``nbgrader autograde`` and by the parallel grader with 2 workers, in submissions per
minute (``benchmarks.grading_speed``'s class measure).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
GIB = 2**30
DEFAULT_LESSONS = ("01_pixels_and_labels", "07_build_and_train_cnn")


def user_memory(uid: int) -> dict[str, float]:
    """PSS and RSS (GiB) of every process of ``uid`` now."""
    import psutil

    pss = rss = 0.0
    for proc in psutil.process_iter(["uids"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == uid:
                info = proc.memory_full_info()
                pss += info.pss
                rss += info.rss
        except psutil.Error:
            continue
    return {"pss": pss / GIB, "rss": rss / GIB}


class Sampler(threading.Thread):
    """Sample each learner's memory every second; keep the peaks."""

    def __init__(self, uids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.uids = uids
        self.peak = {name: {"pss": 0.0, "rss": 0.0} for name in uids}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for name, uid in self.uids.items():
                now = user_memory(uid)
                for key in ("pss", "rss"):
                    self.peak[name][key] = max(self.peak[name][key], now[key])
            self.stop.wait(1.0)


def _kernel_process(kernel_id: str):
    import psutil

    for proc in psutil.process_iter(["cmdline"]):
        if any(kernel_id in part for part in proc.info["cmdline"] or []):
            return proc
    raise RuntimeError(f"no process for kernel {kernel_id}")


def _iopub_seen(client, timeout: float) -> bool:
    import queue

    try:
        client.get_iopub_msg(timeout=timeout)
    except queue.Empty:
        return False
    return True


def _wait_for_kernel(client, seconds: float) -> None:
    """Ask the kernel for its info until it answers on both channels.

    A kernel starting on a busy machine may take a while; and a subscription to its
    broadcast channel (iopub) only receives what is sent after it has connected, so
    without this wait the "idle" that ends the first cell can be lost, and the run
    would wait forever.
    """
    import queue

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        msg_id = client.kernel_info()
        try:
            while client.get_shell_msg(timeout=10)["parent_header"].get("msg_id") != msg_id:
                pass
        except queue.Empty:
            continue
        if _iopub_seen(client, 2):  # kernel_info's busy/idle reached us: subscribed
            while _iopub_seen(client, 0.2):
                pass
            return
    raise RuntimeError(f"the kernel did not answer in {seconds:.0f} s")


def run_in_learners_kernel(hub, name: str, lesson: str, fast: bool) -> dict[str, Any]:
    """Run a lesson's solution in a kernel that ``name``'s server starts; return its figures."""
    import zmq
    from jupyter_client import BlockingKernelClient

    entry = pwd.getpwnam(name)
    home = Path(entry.pw_dir)
    folder = home / "sizing" / lesson
    shutil.copytree(ROOT / "solutions" / lesson, folder, dirs_exist_ok=True)
    for path in [home / "sizing", *(home / "sizing").rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    notebook = nbformat.read(folder / f"{lesson}.ipynb", as_version=4)
    body = {
        "path": f"sizing/{lesson}/{lesson}.ipynb",
        "type": "notebook",
        "kernel": {"name": "python3"},
    }
    status, session = hub.user_call(name, "POST", "/api/sessions", body)
    assert status == 201, (status, session)
    kernel_id = session["kernel"]["id"]
    connection = home / ".local" / "share" / "jupyter" / "runtime" / f"kernel-{kernel_id}.json"
    # A context of its own: closing one learner's client must not close the others'.
    client = BlockingKernelClient(connection_file=str(connection), context=zmq.Context())
    client.load_connection_file()
    client.start_channels(hb=False)  # no heartbeat: on a busy machine it misses beats
    try:
        _wait_for_kernel(client, 300)
        process = _kernel_process(kernel_id)
        before = process.cpu_times()
        began = time.monotonic()
        setup = "import os\n" + (
            "os.environ['FMNIST_FAST'] = '1'" if fast else "os.environ.pop('FMNIST_FAST', None)"
        )
        for source in [setup, *(c.source for c in notebook.cells if c.cell_type == "code")]:
            reply = client.execute_interactive(source, timeout=1800, output_hook=lambda _m: None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(
                    f"{name}'s kernel: {lesson} failed at `{source[:80]}`: "
                    f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}"
                )
        wall = time.monotonic() - began
        after = process.cpu_times()
    finally:
        client.stop_channels()
        client.context.destroy(linger=0)
        hub.user_call(name, "DELETE", f"/api/sessions/{session['id']}")
    cpu = (after.user - before.user) + (after.system - before.system)
    cpu += (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return {"kernel_cpu_s": round(cpu, 1), "wall_s": round(wall, 1)}


@contextmanager
def running_hub(learners: int) -> Iterator[tuple[Any, list[str]]]:
    """The course's hub with ``learners`` new learners; everything removed afterwards."""
    from tests.hub_support import running_test_hub

    names = [f"sizing{i:02d}" for i in range(learners)]
    with running_test_hub(names) as hub:
        yield hub, names


def measure(
    learners: int = 3,
    lessons: tuple[str, ...] = DEFAULT_LESSONS,
    fast: tuple[str, ...] = (),
    grading: int = 6,
) -> dict[str, Any]:
    """Run the sizing (see the module's docstring); return the figures as a dict.

    ``fast``: the lessons to run with ``FMNIST_FAST=1``; ``grading``: how many submissions
    of lesson 1 to grade for the throughput (0: none).
    """
    from concurrent.futures import ThreadPoolExecutor

    import psutil

    sys.path.insert(0, str(ROOT / "hub"))
    import fmnist_hub
    import limits

    settings = fmnist_hub.Settings()
    results: dict[str, Any] = {
        "learners": learners,
        "mem_limit": settings.mem_limit,
        "cpu_limit": settings.cpu_limit,
        "machine_memory_gib": round(psutil.virtual_memory().total / GIB, 1),
        "fast": list(fast),
        "cores": os.cpu_count(),
        "load_average_start": round(os.getloadavg()[0], 1),
    }
    with running_hub(learners) as (hub, names):
        began = time.monotonic()
        hub.spawn(*names)
        results["spawn_s"] = round(time.monotonic() - began, 1)
        uids = {name: pwd.getpwnam(name).pw_uid for name in names}
        results["server_pss_gib"] = {n: round(user_memory(u)["pss"], 3) for n, u in uids.items()}
        folders = {name: limits.cgroup_folders(name) for name in names}
        for lesson in lessons:
            for name in names:
                limits.memory_peak(folders[name], reset=True)
            failures = {name: limits.memory_failures(folders[name]) for name in names}
            sampler = Sampler(uids)
            sampler.start()
            try:
                run = partial(run_in_learners_kernel, hub, lesson=lesson, fast=lesson in fast)
                with ThreadPoolExecutor(len(names)) as pool:
                    runs = dict(zip(names, pool.map(run, names), strict=True))
            finally:
                sampler.stop.set()
                sampler.join()
            results[lesson] = {
                name: {
                    **runs[name],
                    "peak_pss_gib": round(sampler.peak[name]["pss"], 3),
                    "peak_rss_gib": round(sampler.peak[name]["rss"], 3),
                    "cgroup_peak_gib": round((limits.memory_peak(folders[name]) or 0) / GIB, 3),
                    "limit_hits": limits.memory_failures(folders[name]) - failures[name],
                }
                for name in names
            }
    if grading:
        from benchmarks.grading_speed import measure as grading_speed

        results["grading"] = grading_speed(
            students=grading, workers=2, lesson=DEFAULT_LESSONS[0], every_lesson=False
        )
    results["load_average_end"] = round(os.getloadavg()[0], 1)
    # The learners' kernels are this measurement's own work, in processes it does not
    # wait for: count their CPU as its own, not as background load (benchmarks.results).
    results["extra_cpu_seconds"] = sum(
        run["kernel_cpu_s"] for lesson in lessons for run in results[lesson].values()
    )
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line: run the sizing, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=3, help="learners at once (default 3)")
    parser.add_argument("--lessons", default=",".join(DEFAULT_LESSONS), help="lesson ids")
    parser.add_argument("--fast", default="", help="lessons to run with FMNIST_FAST=1")
    parser.add_argument("--grading", type=int, default=6, help="submissions to grade (0: none)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run it as root: it creates learners and starts the hub")
    lessons = tuple(x.strip() for x in args.lessons.split(",") if x.strip())
    fast = tuple(x.strip() for x in args.fast.split(",") if x.strip())
    print(json.dumps(measure(args.learners, lessons, fast, args.grading), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
