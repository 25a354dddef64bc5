"""The parallel grader's ordering: how long each lesson took is recorded, and used.

Every ``nbgrader autograde`` run in the course (plain or by the parallel grader)
records how long each submission took, through the course's post-convert hook
(:class:`fmnist_utils.grading.recovery.InProgress`); the parallel grader starts the
jobs expected to take longest first.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from fmnist_utils.grading import course, parallel
from fmnist_utils.grading.recovery import InProgress


def test_a_graded_submission_records_its_lesson_duration(tmp_path: Path) -> None:
    logs = tmp_path / "instructor" / "parallel-logs"
    progress = InProgress(tmp_path / "markers", tmp_path / "autograded", logs)
    notebook = tmp_path / "submitted" / "ada" / "04_baselines" / "04_baselines.ipynb"
    progress.started("04_baselines", "ada", [str(notebook)])
    marker = tmp_path / "markers" / "ada__04_baselines"
    assert marker.is_file()
    five_seconds_ago = time.time() - 5
    os.utime(marker, (five_seconds_ago, five_seconds_ago))
    progress.finished("04_baselines", "ada", [str(notebook)])
    assert not marker.exists()
    recorded = json.loads((logs / course.DURATIONS).read_text())
    assert list(recorded) == ["04_baselines"]
    assert 5 <= recorded["04_baselines"] < 60


def test_without_a_durations_folder_nothing_is_recorded(tmp_path: Path) -> None:
    progress = InProgress(tmp_path / "markers", tmp_path / "autograded")
    notebook = tmp_path / "submitted" / "ada" / "01_x" / "01_x.ipynb"
    progress.started("01_x", "ada", [str(notebook)])
    progress.finished("01_x", "ada", [str(notebook)])
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["markers"]


def test_durations_update_and_survive_a_damaged_file(tmp_path: Path) -> None:
    (tmp_path / course.DURATIONS).write_text("{not json")
    assert course.read_durations(tmp_path) == {}
    course.record_durations(tmp_path, {"01_a": 12.345})
    course.record_durations(tmp_path, {"02_b": 3.0})
    assert course.read_durations(tmp_path) == {"01_a": 12.35, "02_b": 3.0}


def test_jobs_start_longest_first_and_unknown_lessons_keep_their_order(tmp_path: Path) -> None:
    course.record_durations(tmp_path, {"02_b": 10.0, "03_c": 30.0, "04_d": 4.0})
    jobs = [
        parallel._Job("01_a", ["s1"]),  # never graded: no duration
        parallel._Job("02_b", ["s1", "s2"]),  # 2 x 10 s
        parallel._Job("03_c", ["s1"]),  # 30 s
        parallel._Job("04_d", ["s1", "s2", "s3"]),  # 3 x 4 s
        parallel._Job("05_e", ["s1"]),  # never graded
    ]
    order = [job.lesson for job in parallel._order(jobs, tmp_path)]
    assert order == ["03_c", "02_b", "04_d", "01_a", "05_e"]
