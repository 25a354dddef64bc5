"""How long autograding takes: one student's submission of every lesson, and a class.

Run ``python -m benchmarks.grading_speed [--students N] [--workers N] [--lesson ID]``.
In a temporary copy of the course (the real ``nbgrader_config.py``, sandbox included)
it times

1. ``nbgrader autograde LESSON`` for one student's perfect submission of every lesson,
   lesson after lesson, then the same submissions graded by one
   ``python -m fmnist_utils.grading.parallel LESSON... --workers N`` (the target: at
   most 60 s for the whole course on 2 idle CPU cores). It starts the lessons that took
   longest first, as recorded by the sequential runs just before (every autograde run
   in a course records them), as it would for an instructor who graded before;
2. a class of ``--students`` perfect submissions of one lesson, graded by
   ``nbgrader autograde`` (sequential), then by
   ``python -m fmnist_utils.grading.parallel --workers N``: the speed-up.

The times include nbgrader's own start (a few seconds per command). Each figure comes
with the CPU seconds its processes used (children's user + system time, the kernels
included), which depend far less on what else runs on the machine than wall times do,
and the load average is recorded before and after: the wall times are only as good as
the quiet. ``measure()`` returns the figures for other scripts (``benchmarks.run``);
the last line printed is the same figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fmnist_utils.tooling.lessons import Lesson, find_lessons, run_nbgrader, source_notebook

ROOT = Path(__file__).resolve().parents[1]


def make_course(tmp: Path, lessons: list[Lesson]) -> tuple[Path, str]:
    """Make a course under ``tmp`` with ``lessons`` released; return its root and gradebook."""
    root = tmp / "course"
    root.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", root)
    db = f"sqlite:///{root / 'instructor' / 'gradebook.db'}"
    for lesson in lessons:
        shutil.copytree(lesson.source_py.parent, root / "solutions" / lesson.lesson_id)
        done = run_nbgrader(
            ["generate_assignment", lesson.lesson_id, "--force",
             "--CourseDirectory.release_directory=instructor/release"],
            root, db,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(done.stdout + done.stderr)
    return root, db


def submit(root: Path, lesson: Lesson, student: str) -> None:
    """Hand in ``student``'s perfect submission of ``lesson`` (its solution)."""
    import nbformat

    folder = root / "instructor" / "submitted" / student / lesson.lesson_id
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(lesson), folder / f"{lesson.lesson_id}.ipynb")


def _cpu() -> float:
    """CPU seconds (user + system) used so far by this process's finished children."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _timed(args: list[str], root: Path, db: str) -> tuple[float, float]:
    """Run nbgrader; return its wall and CPU seconds."""
    cpu, start = _cpu(), time.perf_counter()
    done = run_nbgrader(args, root, db)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return seconds, _cpu() - cpu


def _parallel(
    root: Path, db: str, lessons: list[str], names: list[str], workers: int
) -> tuple[float, float]:
    """Grade ``names`` with the parallel grader; return its wall and CPU seconds."""
    env = dict(os.environ, FMNIST_GRADEBOOK_URL=db)
    cmd = [sys.executable, "-m", "fmnist_utils.grading.parallel", *lessons,
           "--workers", str(workers), "--force"]  # fmt: skip
    cmd += [arg for name in names for arg in ("--student", name)]
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stdout + done.stderr)
    return seconds, _cpu() - cpu


def measure(
    students: int = 4,
    workers: int = 2,
    lesson: str | None = None,
    every_lesson: bool = True,
    one_worker: bool = False,
) -> dict[str, Any]:
    """Time the grading of every lesson once, and of a class sequentially and in parallel.

    Returns a dict with ``per_lesson_s`` (lesson id: seconds), ``all_lessons_s``,
    ``class_lesson``, ``class_students``, ``workers``, ``class_sequential_s``,
    ``class_parallel_s``, ``speedup``, ``per_minute`` (submissions graded per minute:
    sequential, parallel), ``all_lessons_parallel_s`` (every lesson of the one student by
    the parallel grader with ``workers`` workers), the CPU seconds of the same runs
    (``per_lesson_cpu_s``, ``all_lessons_cpu_s``, ``class_sequential_cpu_s``,
    ``class_parallel_cpu_s``, ``cpu_s_per_student``), ``cores``, ``load_average`` (the
    1-minute load when the measure started) and ``load_before``/``load_after`` (1, 5 and
    15 minutes). With
    ``every_lesson=False`` only the class is graded (``per_lesson_s`` is empty); with
    ``one_worker=True`` the parallel grader also grades the class with one worker
    (``class_one_worker_s``, and ``speedup_vs_one_worker``).
    """
    lessons = find_lessons(ROOT)
    chosen = (
        next((x for x in lessons if x.lesson_id == lesson), lessons[0]) if lesson else lessons[0]
    )
    env_before = os.environ.pop("FMNIST_FAST", None)  # the grading kernel sets it itself
    load_before = [round(v, 2) for v in os.getloadavg()]
    extra: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="fmnist-grading-bench-") as tmp:
            root, db = make_course(Path(tmp), lessons if every_lesson else [chosen])
            per_lesson, per_lesson_cpu = {}, {}
            for item in lessons if every_lesson else []:
                submit(root, item, "perfect")
                wall, cpu = _timed(["autograde", item.lesson_id], root, db)
                per_lesson[item.lesson_id] = round(wall, 1)
                per_lesson_cpu[item.lesson_id] = round(cpu, 1)
            if every_lesson:
                ids = [item.lesson_id for item in lessons]
                wall, cpu = _parallel(root, db, ids, ["perfect"], workers)
                extra.update(all_lessons_parallel_s=round(wall, 1),
                             all_lessons_parallel_cpu_s=round(cpu, 1))  # fmt: skip
            names = [f"student{i:02d}" for i in range(students)]
            for name in names:
                submit(root, chosen, name)
            # nbgrader's --student takes one id: grade the class by leaving "perfect" out
            args = ["autograde", chosen.lesson_id, "--force",
                    "--CourseDirectory.student_id_exclude=perfect"]  # fmt: skip
            sequential, sequential_cpu = _timed(args, root, db)
            if one_worker:
                single, single_cpu = _parallel(root, db, [chosen.lesson_id], names, 1)
                extra.update(class_one_worker_s=round(single, 1),
                             class_one_worker_cpu_s=round(single_cpu, 1))  # fmt: skip
            parallel, parallel_cpu = _parallel(root, db, [chosen.lesson_id], names, workers)
            if one_worker:
                extra["speedup_vs_one_worker"] = round(single / parallel, 2)
    finally:
        if env_before is not None:
            os.environ["FMNIST_FAST"] = env_before
    return {
        "per_lesson_s": per_lesson,
        "all_lessons_s": round(sum(per_lesson.values()), 1),
        "per_lesson_cpu_s": per_lesson_cpu,
        "all_lessons_cpu_s": round(sum(per_lesson_cpu.values()), 1),
        "class_lesson": chosen.lesson_id,
        "class_students": students,
        "workers": workers,
        "class_sequential_s": round(sequential, 1),
        "class_parallel_s": round(parallel, 1),
        "speedup": round(sequential / parallel, 2),
        **extra,
        "class_sequential_cpu_s": round(sequential_cpu, 1),
        "class_parallel_cpu_s": round(parallel_cpu, 1),
        "cpu_s_per_student": {
            "1 process (nbgrader autograde)": round(sequential_cpu / students, 1),
            f"{workers} workers (parallel grader)": round(parallel_cpu / students, 1),
        },
        "per_minute": {
            "1 process (nbgrader autograde)": round(60 * students / sequential, 1),
            f"{workers} workers (parallel grader)": round(60 * students / parallel, 1),
        },
        "cores": os.cpu_count(),
        "load_average": load_before[0],
        "load_before": load_before,
        "load_after": [round(v, 2) for v in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=4, help="class size (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument("--lesson", help="the class's lesson (default: the first)")
    parser.add_argument("--class-only", action="store_true",
                        help="grade only the class, not every lesson once")  # fmt: skip
    parser.add_argument("--one-worker", action="store_true",
                        help="also grade the class with one parallel worker")  # fmt: skip
    args = parser.parse_args(argv)
    r = measure(args.students, args.workers, args.lesson, not args.class_only, args.one_worker)
    print(f"Autograding one student's submission of every lesson ({r['cores']} cores, "
          f"load average {r['load_before']} before, {r['load_after']} after):")  # fmt: skip
    for lesson_id, seconds in r["per_lesson_s"].items():
        print(f"  {lesson_id:<30} {seconds:6.1f} s  ({r['per_lesson_cpu_s'][lesson_id]:.1f} CPU s)")
    if r["per_lesson_s"]:
        print(f"  {'all lessons':<30} {r['all_lessons_s']:6.1f} s   (one nbgrader run a lesson)")
        print(f"  {'all lessons, parallel grader':<30} {r['all_lessons_parallel_s']:6.1f} s   "
              f"({r['workers']} workers; target <= 60 s on 2 idle cores)")  # fmt: skip
    print(f"A class of {r['class_students']} on {r['class_lesson']}: sequential "
          f"{r['class_sequential_s']:.1f} s, {r['workers']} workers {r['class_parallel_s']:.1f} s, "
          f"speed-up {r['speedup']:.2f}x")  # fmt: skip
    if "class_one_worker_s" in r:
        print(f"  parallel grader with 1 worker {r['class_one_worker_s']:.1f} s: "
              f"speed-up of {r['workers']} workers {r['speedup_vs_one_worker']:.2f}x")  # fmt: skip
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
