"""Autograde lessons for a whole class with several processes, safely.

``nbgrader autograde`` grades students one after another, one lesson per command.
Running several of them on the same course at once is not safe: they would write the
same SQLite gradebook concurrently, and each clears and rewrites folders the others
use. Instead::

    python -m fmnist_utils.grading.parallel LESSON [LESSON ...] --workers N \
        [--student ID ...] [--force]

1. picks the submissions to grade, as ``nbgrader autograde`` would (a submission not
   graded yet, newer than its graded copy, or every one with ``--force``);
2. makes jobs: each lesson's students split into at most ``N`` disjoint groups, one
   job per (lesson, group), each with a private temporary copy of the course: the
   config, the lesson's source, the group's submissions and a private SQLite gradebook
   seeded with the lesson's definition from the main gradebook (cells, points, due
   date);
3. runs the real ``nbgrader autograde LESSON --force`` of each job in its copy, ``N``
   at a time (each in the sandbox, like any autograde run; each in a process forked
   from a server that imported nbgrader once), the jobs expected to take longest first
   (``instructor/parallel-logs/durations.json``, which every autograde run in the
   course updates), so that one student's whole course keeps both cores busy;
4. as each job ends, copies its graded submissions back, in this one process: the
   ``autograded/<student>/<lesson>`` folder, and the grades, comments, timestamp and
   late penalty into the main gradebook through nbgrader's ``Gradebook`` API.

Only step 4 writes the main gradebook, from a single process, so it is as safe as a
sequential run, for SQLite and PostgreSQL alike, and gives the same gradebook (the
tests compare them). The exit status is 1 when a submission could not be graded (as
for nbgrader), with each job's log kept under ``instructor/parallel-logs/``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fmnist_utils.grading import failures, intake
from fmnist_utils.grading.course import Course, read_durations, record_durations

from .sandbox import KERNELS_DIR_VAR, kernel_records

__all__ = ["dump_gradebook", "grade", "main"]


def dump_gradebook(db_url: str, lesson: str | None = None) -> list[tuple[Any, ...]]:
    """List everything autograding writes in a gradebook, sorted, to compare two.

    Parameters
    ----------
    db_url : str
        The gradebook.
    lesson : str, optional
        Only this lesson (default: all).

    Returns
    -------
    list of tuple
        ``(student, lesson, notebook, what, value...)`` rows: each cell's grade and
        comment, each notebook's late penalty, each submission's timestamp.
    """
    from nbgrader.api import Gradebook

    rows: list[tuple[Any, ...]] = []
    with Gradebook(db_url) as gb:
        for assignment in gb.assignments:
            if lesson is not None and assignment.name != lesson:
                continue
            for sub in assignment.submissions:
                key = (sub.student.id, assignment.name)
                rows.append((*key, "", "timestamp", str(sub.timestamp)))
                for nb in sub.notebooks:
                    rows.append((*key, nb.name, "late_penalty", nb.late_submission_penalty))
                    rows.append((*key, nb.name, "flagged", nb.flagged))
                    for g in nb.grades:
                        rows.append(
                            (*key, nb.name, f"grade {g.name}", g.auto_score, g.manual_score)
                            + (g.extra_credit, g.needs_manual_grade, g.max_score)
                        )
                    for c in nb.comments:
                        rows.append((*key, nb.name, f"comment {c.name}", c.auto_comment))
    return sorted(rows, key=repr)


def _seed(main_url: str, worker_url: str, lesson: str) -> None:
    """Copy one lesson's definition (not its submissions) into a new gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(main_url) as main, Gradebook(worker_url) as worker:
        assignment = main.find_assignment(lesson)
        worker.update_or_create_assignment(lesson, duedate=assignment.duedate)
        for nb in assignment.notebooks:
            worker.update_or_create_notebook(nb.name, lesson)
            for cell in nb.grade_cells:
                worker.update_or_create_grade_cell(
                    cell.name, nb.name, lesson, max_score=cell.max_score, cell_type=cell.cell_type
                )
            for cell in nb.solution_cells:
                worker.update_or_create_solution_cell(cell.name, nb.name, lesson)
            for cell in nb.task_cells:
                worker.update_or_create_task_cell(
                    cell.name, nb.name, lesson, max_score=cell.max_score, cell_type=cell.cell_type
                )
            for cell in nb.source_cells:
                worker.update_or_create_source_cell(
                    cell.name,
                    nb.name,
                    lesson,
                    cell_type=cell.cell_type,
                    locked=cell.locked,
                    source=cell.source,
                    checksum=cell.checksum,
                )


def _merge(main_url: str, worker_url: str, lesson: str, students: list[str]) -> None:
    """Write the worker's results for ``students`` into the main gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(worker_url) as worker, Gradebook(main_url) as main:
        for student in students:
            try:
                done = worker.find_submission(lesson, student)
            except MissingEntry:
                continue
            main.update_or_create_student(student)
            extra = {} if done.timestamp is None else {"timestamp": done.timestamp}
            main.update_or_create_submission(lesson, student, **extra)
            for nb in done.notebooks:
                target = main.find_submission_notebook(nb.name, lesson, student)
                target.late_submission_penalty = nb.late_submission_penalty
                target.flagged = nb.flagged  # a flagged cheat stays flagged
                for g in nb.grades:
                    grade = main.find_grade(g.name, nb.name, lesson, student)
                    grade.auto_score = g.auto_score
                    # as nbgrader's SaveAutoGrades decides it, with the main manual score
                    grade.needs_manual_grade = (
                        g.needs_manual_grade
                        if g.auto_score is None or grade.manual_score is None
                        else True
                    )
                for c in nb.comments:
                    main.find_comment(
                        c.name, nb.name, lesson, student
                    ).auto_comment = c.auto_comment
            main.db.commit()


def _to_grade(
    course: Course, taken: Path, lesson: str, students: list[str] | None, force: bool
) -> list[str]:
    """Choose the students to grade, from the intake copies in ``taken``."""
    found = sorted(p.name for p in taken.iterdir() if (p / lesson).is_dir())
    chosen = [s for s in found if students is None or s in students]
    if force:
        return chosen

    out = []
    for student in chosen:
        graded = course.folder("autograded_directory", student, lesson)
        new = intake.stamp_time(taken / student / lesson)
        old = intake.stamp_time(graded) if graded.is_dir() else None
        if not graded.is_dir() or (new is not None and old is not None and new > old):
            out.append(student)
        else:
            print(f"Skipping {student}: already graded (use --force to grade again)")
    return out


def _empty_gradebook(path: Path) -> Path:
    """Create an empty nbgrader gradebook at ``path`` (tables made, alembic-stamped)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{path}"):
        pass
    return path


def _worker_course(
    course: Course,
    taken: Path,
    dest: Path,
    lesson: str,
    group: list[str],
    empty: Path,
    admitted: dict[str, str | None],
) -> str:
    """Make a worker's course copy (submissions from the intake copies); return its gradebook.

    Its gradebook starts as a copy of ``empty`` (:func:`_empty_gradebook`): creating one
    runs alembic, about 1.5 s, and copying a file takes milliseconds. ``admitted`` (the
    intake's decisions) tells the job's own intake which copies were rejected.
    """
    dest.mkdir(parents=True)
    (dest / "instructor").mkdir()
    mine = {f"{s}/{lesson}": admitted.get(f"{s}/{lesson}") for s in group}
    (dest / "instructor" / intake.ADMITTED).write_text(json.dumps(mine))
    shutil.copy2(course.root / "nbgrader_config.py", dest)
    source = Path(course.coursedir.format_path(course.coursedir.source_directory, ".", lesson))
    relative = source.resolve().relative_to(course.root.resolve())
    shutil.copytree(source, dest / relative, ignore=shutil.ignore_patterns("*.ipynb_checkpoints"))
    for student in group:
        folder = course.folder("submitted_directory", student, lesson)
        target = dest / folder.resolve().relative_to(course.root.resolve())
        target.parent.mkdir(parents=True, exist_ok=True)
        intake.safe_copy(taken, [student, lesson], target)
    db = dest / "worker-gradebook.db"
    shutil.copyfile(empty, db)
    url = f"sqlite:///{db}"
    _seed(course.db_url, url, lesson)
    return url


def grade(
    root: Path,
    lessons: str | list[str],
    *,
    workers: int = 2,
    students: list[str] | None = None,
    force: bool = False,
    nbgrader_args: list[str] | None = None,
) -> int:
    """Autograde ``lessons`` with ``workers`` processes; see the module docstring.

    Parameters
    ----------
    root : pathlib.Path
        The course folder.
    lessons : str or list of str
        The lesson (nbgrader assignment) or lessons to grade.
    workers : int, optional
        How many ``nbgrader autograde`` processes run at once.
    students : list of str, optional
        Grade only these students (default: every submission).
    force : bool, optional
        Grade again submissions that were graded already.
    nbgrader_args : list of str, optional
        More arguments for each ``nbgrader autograde`` (e.g. ``--Execute.timeout=60``).

    Returns
    -------
    int
        0 when every submission was graded, 1 when one or more failed (see the logs),
        2 when a lesson is not in the gradebook (nothing is graded then).
    """
    from nbgrader.api import Gradebook, MissingEntry

    from fmnist_utils.grading.recovery import InProgress

    lessons = [lessons] if isinstance(lessons, str) else list(dict.fromkeys(lessons))
    course = Course.load(root)
    autograded_root = course.folder("autograded_directory", "x", "x").parent.parent
    InProgress(root / "instructor" / ".autograde-in-progress", autograded_root).recover()
    with Gradebook(course.db_url) as gb:
        for lesson in lessons:
            try:
                gb.find_assignment(lesson)
            except MissingEntry:
                print(f"No lesson {lesson!r} in the gradebook: run `nbgrader "
                      f"generate_assignment {lesson} ...` first "
                      "(see docs/instructors/release-and-collect.md).",
                      file=sys.stderr)  # fmt: skip
                return 2
    # every submission is read once, into private copies of its regular files
    private = Path(tempfile.mkdtemp(prefix="fmnist-intake-"))
    try:
        taken = private / "submitted"
        taken.mkdir()
        submitted_root = course.folder("submitted_directory", "x", "x").parent.parent
        release = [
            course.root / course.coursedir.release_directory,
            root / "instructor" / "release",
        ]
        taker = intake.Intake(
            submitted_root, taken, release_folders=release, instructor=root / "instructor"
        )
        taker.take(lessons)
        jobs = []
        for lesson in lessons:
            chosen = _to_grade(course, taken, lesson, students, force)
            if not chosen:
                print(f"{lesson}: nothing to grade.")
            n = max(1, min(workers, len(chosen)))
            jobs += [_Job(lesson, chosen[i::n]) for i in range(n) if chosen[i::n]]
        if not jobs:
            return 0
        return _run_jobs(course, root, taken, jobs, workers, nbgrader_args, taker.decisions())
    finally:
        shutil.rmtree(private, ignore_errors=True)


@dataclass
class _Job:
    """One ``nbgrader autograde`` run: a lesson and a group of its students."""

    lesson: str
    students: list[str]


def _order(jobs: list[_Job], logs: Path) -> list[_Job]:
    """Longest first (by the last run's seconds per student), to keep every worker busy."""
    last = read_durations(logs)

    def cost(job: _Job) -> float:
        per = last.get(job.lesson)
        return len(job.students) * (float(per) if isinstance(per, (int, float)) else 0.0)

    return sorted(jobs, key=cost, reverse=True)  # stable: lesson order where unknown


def _run_jobs(
    course: Course,
    root: Path,
    taken: Path,
    jobs: list[_Job],
    workers: int,
    nbgrader_args: list[str] | None,
    admitted: dict[str, str | None],
) -> int:
    """Run the jobs ``workers`` at a time and merge each as it ends; see :func:`grade`."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures import ThreadPoolExecutor as Pool

    logs = root / "instructor" / "parallel-logs"
    logs.mkdir(parents=True, exist_ok=True)
    jobs = _order(jobs, logs)
    workers = max(1, min(workers, len(jobs)))
    lessons = list(dict.fromkeys(job.lesson for job in jobs))
    status = 0
    start = time.perf_counter()
    per_student: dict[str, list[float]] = {}
    not_graded: dict[str, str] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="fmnist-grade-") as tmp, Pool(workers) as pool:
            running = {}
            empty = _empty_gradebook(Path(tmp) / "empty-gradebook.db")
            for i, job in enumerate(jobs):
                dest = Path(tmp) / f"job{i}"
                url = _worker_course(course, taken, dest, job.lesson, job.students, empty, admitted)
                log = logs / (
                    f"{job.lesson}-worker{i}.log"
                    if len(lessons) == 1
                    else f"job{i}-{job.lesson}.log"
                )
                print(f"job {i}: {job.lesson}: {len(job.students)} submission(s): "
                      f"{', '.join(job.students)}")  # fmt: skip
                future = pool.submit(_autograde, root, dest, url, job.lesson, log, nbgrader_args)
                running[future] = (job, dest, url, log)
            pending = set(running)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:  # merged here, in this one thread: the only gradebook writer
                    job, dest, url, log = running[future]
                    returncode, seconds = future.result()
                    # each submission's time, as the course's hook recorded it in the job's
                    # copy (as in a plain nbgrader run); else the job's time per student
                    hooked = read_durations(dest / "instructor" / "parallel-logs").get(job.lesson)
                    each = (
                        hooked if isinstance(hooked, (int, float)) else seconds / len(job.students)
                    )
                    per_student.setdefault(job.lesson, []).append(float(each))
                    if returncode != 0:
                        status = 1
                        print(f"{job.lesson}: job log {log}: nbgrader exited with {returncode}:")
                        for line in log.read_text(errors="replace").splitlines():
                            if "| ERROR]" in line:
                                print(f"  {line}")
                    for student, cause in _collect(course, dest, url, job, log).items():
                        not_graded[f"{student}/{job.lesson}"] = cause
                        status = 1
    finally:  # reap the fork server (see _autograde)
        _stop_processes()
    record_durations(logs, {lesson: max(values) for lesson, values in per_student.items()})
    seconds = time.perf_counter() - start
    graded = sum(len(job.students) for job in jobs) - len(not_graded)
    print(f"{', '.join(lessons)}: {graded} submission(s) graded, {len(not_graded)} not graded, "
          f"by {workers} worker(s) in {seconds:.1f} s")  # fmt: skip
    for which, cause in sorted(not_graded.items()):
        print(f"  NOT GRADED {which}: {cause}")
    from fmnist_utils.grading.report import print_and_write

    print_and_write(root, lessons)
    return status


def _autograde(
    root: Path, dest: Path, url: str, lesson: str, log: Path, nbgrader_args: list[str] | None
) -> tuple[int, float]:
    """Run ``nbgrader autograde`` in a job's course copy; return its exit status and seconds.

    The command runs in a process forked from a server that imported nbgrader once
    (:func:`_processes`), rather than in a new Python that imports it again: that saves
    about 1.5 s of CPU a job, a tenth of grading a light lesson.
    """
    env = dict(os.environ, FMNIST_GRADEBOOK_URL=url)
    env["FMNIST_PARALLEL_WORKER"] = "1"  # the report is printed by the parent, at the end
    # the workers' kernels are recorded where the next run in this course looks
    env[KERNELS_DIR_VAR] = str(kernel_records(root))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    argv = ["autograde", lesson, "--force", *(nbgrader_args or [])]
    # by its module's name, also when this module runs as __main__ (python -m ...)
    from fmnist_utils.grading.parallel import _run_nbgrader as target

    start = time.perf_counter()
    process = _processes().Process(target=target, args=(str(dest), env, argv, str(log)))
    with _CHILDREN:
        process.start()
    # Wait without reading the exit status, then read it holding the lock: starting a
    # process reads the status of every finished one, and two threads reading the same
    # status pipe would leave one of them with a wrong code (255).
    from multiprocessing.connection import wait

    wait([process.sentinel])
    with _CHILDREN:
        process.join()
    code = process.exitcode
    return (1 if code is None else code), time.perf_counter() - start


_CHILDREN = threading.Lock()
_PRELOAD = ["nbgrader.apps.nbgraderapp", "fmnist_utils.grading.parallel"]


@functools.cache
def _processes() -> Any:
    """Return the ``forkserver`` context whose server has imported nbgrader (see ``_PRELOAD``)."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def _stop_processes() -> None:
    """Stop and reap the fork server, so its children's CPU time is counted as ours."""
    if _processes.cache_info().currsize:
        from multiprocessing import forkserver

        stop = getattr(forkserver._forkserver, "_stop", None)
        if stop is not None:
            stop()
        _processes.cache_clear()


def _run_nbgrader(dest: str, env: dict[str, str], argv: list[str], log: str) -> None:
    """Run nbgrader's command line in this forked process, in ``dest``, logging to ``log``."""
    os.chdir(dest)
    os.environ.clear()
    os.environ.update(env)
    with open(log, "w") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
    sys.argv = ["nbgrader", *argv]
    import atexit

    from nbgrader.apps.nbgraderapp import NbGraderApp

    try:
        NbGraderApp.launch_instance()
    finally:  # a forked process ends with os._exit: run what nbgrader's run left to exit
        sys.stdout.flush()
        atexit._run_exitfuncs()


def _collect(course: Course, dest: Path, url: str, job: _Job, log: Path) -> dict[str, str]:
    """Bring a finished job's results back; return ``{student: cause}`` of those not graded.

    A graded submission's folder is copied back and its grades merged into the
    gradebook. One the job did not grade (nbgrader failed on it, or the job stopped) is
    recorded as a failure (:mod:`~fmnist_utils.grading.failures`): its old graded
    folder is removed and its old grades set to 0 and flagged, so no stale score stands.
    """
    from nbgrader.api import Gradebook, MissingEntry

    worker = Course.load(dest)
    instructor = course.root / "instructor"
    reported = failures.read(dest / "instructor").get(job.lesson, {})
    with Gradebook(url) as gb:
        in_gradebook = set()
        for student in job.students:
            try:
                gb.find_submission(job.lesson, student)
                in_gradebook.add(student)
            except MissingEntry:
                pass
    done, not_graded = [], {}
    for student in job.students:
        graded = worker.folder("autograded_directory", student, job.lesson)
        target = course.folder("autograded_directory", student, job.lesson)
        if target.exists():
            shutil.rmtree(target)
        cause = reported.get(student)
        if cause is None and not (graded.is_dir() and student in in_gradebook):
            cause = f"the job did not grade it (its log: {log})"
        if cause is not None:
            not_graded[student] = cause
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        intake.safe_copy(  # never through a link
            graded.parent.parent, [student, job.lesson], target, intake.CopyLimits(2**30, 10_000)
        )
        failures.clear(instructor, job.lesson, student)
        done.append(student)
    # what nbgrader wrote of a failed one (its submission, as a plain run keeps it) too,
    # then its grades set to 0 and flagged, as after a plain run
    _merge(course.db_url, url, job.lesson, done + [s for s in not_graded if s in in_gradebook])
    for student, cause in not_graded.items():
        failures.record(instructor, job.lesson, student, cause)
        failures.mark_ungraded(course.db_url, job.lesson, student, cause)
    return not_graded


def main(argv: list[str] | None = None) -> int:
    """Run the command line; see the module docstring."""
    from fmnist_utils.tooling.lessons import find_root

    parser = argparse.ArgumentParser(
        prog="python -m fmnist_utils.grading.parallel",
        description="Autograde lessons with several processes, merging into the gradebook.",
    )
    parser.add_argument("lessons", nargs="+", metavar="lesson",
                        help="the lessons, e.g. 01_pixels_and_labels 04_baselines")  # fmt: skip
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="processes at once (default: the number of CPU cores)")  # fmt: skip
    parser.add_argument("--student", action="append", help="only this student (repeatable)")
    parser.add_argument("--force", action="store_true", help="grade again graded submissions")
    args, rest = parser.parse_known_args(argv)
    return grade(
        find_root(),
        args.lessons,
        workers=args.workers,
        students=args.student,
        force=args.force,
        nbgrader_args=rest,
    )


if __name__ == "__main__":
    sys.exit(main())
