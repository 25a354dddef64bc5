"""Where grading one learner's whole course spends its CPU time.

Run ``sudo .venv/bin/python -m benchmarks.grading_breakdown [--workers N]`` (root, and
Debian's ``acct`` package for ``accton``). In a temporary copy of the course it grades
one learner's perfect submission of every lesson with
``python -m fmnist_utils.grading.parallel ... --workers N`` while the kernel's process
accounting is on, then sorts every process the grader started by what it was:

- **nbgrader's own steps**: the grader, its fork server and one job process a lesson
  (nbgrader's configuration, sanitising, the gradebook, writing the graded copy), and
  the ``alembic`` check of the gradebook;
- **the learner's kernel** of each lesson (the learner's cells, any process they
  start, and the learner's functions the tests call there), and
- **the tests kernel** of each lesson (the hidden tests),

each kernel being the first and second kernel a job starts (a job grades one learner
here). Two figures measured on their own, in fresh processes of the course's Python,
say what part of a kernel is fixed cost: an IPython kernel's start (``ipykernel`` and
its inline figures, nothing else) and ``import keras`` (TensorFlow with it). A lesson's
own cells in the fast setting (with the functions the tests call) are then about its
learner's kernel less one start, less the import where the lesson imports Keras or
TensorFlow. The CPU seconds are user + system, all threads, as the kernel accounts them
at each process's exit.

The grading runs as root, like the benchmark. Accounting goes to a file of the
benchmark's own while it runs, then back to :data:`SYSTEM_ACCOUNTS` where Debian's
``acct`` keeps the machine's accounts, else off. ``measure()`` returns the figures; the
last line printed is the same figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.grading_speed import ROOT, make_course, submit
from fmnist_utils.tooling.lessons import find_lessons

ACCT_V3 = struct.Struct("=BBHIIIIIIfHHHHHHHH16s")
"""``struct acct_v3`` of ``<linux/acct.h>``: 64 bytes a process, in this machine's byte order."""

_TICKS = 100.0
"""``AHZ``: the unit of the times in an accounting record."""


@dataclass(frozen=True)
class Exited:
    """One process's accounting record.

    Attributes
    ----------
    pid, ppid : int
        Its id and its parent's (in the accounting namespace).
    comm : str
        Its command name (the last thread name the kernel saw).
    cpu_s : float
        User + system CPU seconds, all threads.
    """

    pid: int
    ppid: int
    comm: str
    cpu_s: float


def _comp(value: int) -> float:
    """Decode a ``comp_t``: 13-bit mantissa, 3-bit base-8 exponent."""
    return float((value & 0x1FFF) << (3 * (value >> 13)))


def read_accounting(path: Path) -> list[Exited]:
    """Return the records of a process accounting file (version 3).

    Parameters
    ----------
    path : pathlib.Path
        The file ``accton`` wrote.

    Returns
    -------
    list of Exited
        One a process, in the order they exited.
    """
    data = path.read_bytes()
    out = []
    for offset in range(0, len(data) - ACCT_V3.size + 1, ACCT_V3.size):
        fields = ACCT_V3.unpack_from(data, offset)
        if fields[1] & 0x0F != 3:
            continue
        pid, ppid, utime, stime = fields[6], fields[7], fields[10], fields[11]
        comm = fields[18].split(b"\0", 1)[0].decode("ascii", "replace")
        out.append(Exited(pid, ppid, comm, (_comp(utime) + _comp(stime)) / _TICKS))
    return out


def _descendants(root: int, children: dict[int, list[int]]) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def sort_processes(records: list[Exited], grader: int) -> dict[str, Any]:
    """Sort the grader's processes into nbgrader's own, learners' kernels and tests kernels.

    Parameters
    ----------
    records : list of Exited
        Every process accounted while the grader ran.
    grader : int
        The grader's pid.

    Returns
    -------
    dict
        ``cpu_s`` (everything), ``nbgrader_cpu_s``, ``learner_kernels_cpu_s`` and
        ``tests_kernels_cpu_s`` (its parts),
        ``jobs`` (one dict a job, by process id: ``nbgrader_cpu_s``,
        ``learner_cpu_s``, ``tests_cpu_s``) and ``other_cpu_s`` (what no job started).
    """
    by_pid = {r.pid: r for r in records}
    children: dict[int, list[int]] = {}
    for r in records:
        children.setdefault(r.ppid, []).append(r.pid)
    mine = set(_descendants(grader, children))

    def is_wrapper(pid: int) -> bool:
        """The course's kernel wrapper: it starts bubblewrap and nothing else."""
        kids = [by_pid[c].comm for c in children.get(pid, []) if c in by_pid]
        return by_pid[pid].comm != "bwrap" and bool(kids) and set(kids) == {"bwrap"}

    # a job (one lesson of one learner) is forked by the grader's fork server, and
    # starts two kernel wrappers: the learner's, then the tests'
    jobs: dict[int, dict[str, Any]] = {}
    for server in children.get(grader, []):
        for pid in sorted(children.get(server, [])):
            wrappers = sorted(c for c in children.get(pid, []) if c in by_pid and is_wrapper(c))
            if pid in by_pid and wrappers:
                jobs[pid] = {"kernels": wrappers[:2]}
    in_kernel: set[int] = set()
    in_jobs: set[int] = set()
    for job, info in jobs.items():
        for rank, kernel in enumerate(info["kernels"]):
            tree = [p for p in _descendants(kernel, children) if p in by_pid]
            info["learner_cpu_s" if rank == 0 else "tests_cpu_s"] = round(
                sum(by_pid[p].cpu_s for p in tree), 2
            )
            in_kernel.update(tree)
        job_tree = _descendants(job, children)
        in_jobs.update(job_tree)
        own = [p for p in job_tree if p in by_pid and p not in in_kernel]
        info["nbgrader_cpu_s"] = round(sum(by_pid[p].cpu_s for p in own), 2)
        info.setdefault("tests_cpu_s", 0.0)
    other = round(sum(by_pid[p].cpu_s for p in mine if p in by_pid and p not in in_jobs), 2)
    rows = [{k: v for k, v in jobs[j].items() if k != "kernels"} for j in sorted(jobs)]
    return {
        "cpu_s": round(sum(by_pid[p].cpu_s for p in mine if p in by_pid), 1),
        "nbgrader_cpu_s": round(other + sum(r["nbgrader_cpu_s"] for r in rows), 1),
        "learner_kernels_cpu_s": round(sum(r["learner_cpu_s"] for r in rows), 1),
        "tests_kernels_cpu_s": round(sum(r["tests_cpu_s"] for r in rows), 1),
        "other_cpu_s": other,
        "jobs": rows,
    }


def _cpu_of(code: str, repeat: int = 3) -> float:
    """Median CPU seconds of a fresh ``python -c code`` (this interpreter), all threads."""
    times = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", code + "\nimport os; t = os.times(); "
             "print(t.user + t.system)"],
            capture_output=True, text=True, check=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1"),
        )  # fmt: skip
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return round(statistics.median(times), 2)


def _imports_keras(notebook: Path) -> bool:
    """Tell whether a lesson imports Keras or TensorFlow (as the tests kernel reads it)."""
    import nbformat

    from fmnist_utils.grading.trusted import lesson_imports

    imports = lesson_imports(nbformat.read(notebook, as_version=4).cells).values()
    return any(code.split()[1].split(".")[0] in {"keras", "tensorflow"} for code in imports)


SYSTEM_ACCOUNTS = Path("/var/log/account/pacct")
"""Where Debian's ``acct`` service keeps the machine's accounts: switched back to after."""

KERNEL_START = (
    "import ipykernel.kernelapp, ipykernel.ipkernel, matplotlib_inline.backend_inline\n"
    "app = ipykernel.kernelapp.IPKernelApp.instance()"
)
"""What a kernel's start costs, without its event loop: its modules and its app."""


def measure(workers: int = 2) -> dict[str, Any]:
    """Grade every lesson of one learner with process accounting on; sort the CPU time.

    Parameters
    ----------
    workers : int, optional
        The parallel grader's workers.

    Returns
    -------
    dict
        :func:`sort_processes`'s figures, ``lessons`` (the lesson ids), ``wall_s`` of the
        whole grading, ``import_keras_cpu_s``,
        ``kernel_start_cpu_s``, ``keras_lessons`` (lessons whose learner's kernel imports
        Keras or TensorFlow), ``lesson_cells_cpu_s`` (the estimate above), ``workers``,
        ``cores`` and ``load_before``.

    Raises
    ------
    RuntimeError
        Without root, ``accton``, or when grading fails.
    """
    accton = shutil.which("accton")
    if os.geteuid() != 0 or accton is None:
        raise RuntimeError("run as root, with Debian's acct package (accton) installed")
    lessons = find_lessons(ROOT)
    keras_lessons = [x.lesson_id for x in lessons if _imports_keras(x.source_ipynb)]
    env_before = os.environ.pop("FMNIST_FAST", None)
    load_before = [round(v, 2) for v in os.getloadavg()]
    try:
        with tempfile.TemporaryDirectory(prefix="fmnist-grading-breakdown-") as tmp:
            root, db = make_course(Path(tmp), lessons)
            for lesson in lessons:
                submit(root, lesson, "perfect")
            ids = [x.lesson_id for x in lessons]
            log = Path(tmp) / "pacct"
            log.touch()
            subprocess.run([accton, str(log)], check=True, capture_output=True)
            try:
                cmd = [sys.executable, "-m", "fmnist_utils.grading.parallel", *ids,
                       "--workers", str(workers), "--force", "--student", "perfect"]  # fmt: skip
                start = time.perf_counter()
                grader = subprocess.Popen(
                    cmd, cwd=root, env=dict(os.environ, FMNIST_GRADEBOOK_URL=db),
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                )  # fmt: skip
                output, _ = grader.communicate()
                wall = time.perf_counter() - start
            finally:  # back to the system's own accounting (Debian's acct), else off
                system = [str(SYSTEM_ACCOUNTS)] if SYSTEM_ACCOUNTS.is_file() else ["off"]
                subprocess.run([accton, *system], check=True, capture_output=True)
            if grader.returncode != 0:
                raise RuntimeError(output)
            records = read_accounting(log)
    finally:
        if env_before is not None:
            os.environ["FMNIST_FAST"] = env_before
    figures = sort_processes(records, grader.pid)
    keras_cpu = _cpu_of("import keras")
    start_cpu = _cpu_of(KERNEL_START)
    cells = figures["learner_kernels_cpu_s"] - len(lessons) * start_cpu
    cells -= len(keras_lessons) * keras_cpu
    return {
        **figures,
        "lessons": ids,
        "wall_s": round(wall, 1),
        "import_keras_cpu_s": keras_cpu,
        "kernel_start_cpu_s": start_cpu,
        "keras_lessons": len(keras_lessons),
        "lesson_cells_cpu_s": round(cells, 1),
        "workers": workers,
        "cores": os.cpu_count(),
        "load_before": load_before,
    }


def main(argv: list[str] | None = None) -> int:
    """Measure, print the parts, then the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="parallel workers (default 2)")
    args = parser.parse_args(argv)
    r = measure(args.workers)
    print(f"Grading one learner's {len(r['lessons'])} lessons with {r['workers']} workers: "
          f"{r['wall_s']} s, {r['cpu_s']} CPU s (load {r['load_before']} before)")  # fmt: skip
    print(f"  nbgrader's own steps  {r['nbgrader_cpu_s']:6.1f} CPU s")
    print(f"  learners' kernels     {r['learner_kernels_cpu_s']:6.1f} CPU s")
    print(f"  tests kernels         {r['tests_kernels_cpu_s']:6.1f} CPU s")
    print(f"  a kernel's start {r['kernel_start_cpu_s']} CPU s; import keras "
          f"{r['import_keras_cpu_s']} CPU s ({r['keras_lessons']} lessons import it); "
          f"the lessons' own cells about {r['lesson_cells_cpu_s']} CPU s")  # fmt: skip
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
