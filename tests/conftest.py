"""Shared fixtures, and a per-file duration summary at the end of every run."""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from fmnist_utils.tooling.lessons import find_lessons

ROOT = Path(__file__).resolve().parents[1]
LESSONS = find_lessons(ROOT)
LESSON_IDS = [lesson.lesson_id for lesson in LESSONS]

_durations: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _durations[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    if not _durations:
        return
    terminalreporter.write_sep("=", "time per test file")
    for name, seconds in sorted(_durations.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:8.1f} s  {name}")
    terminalreporter.write_line(f"{sum(_durations.values()):8.1f} s  in all")


@pytest.fixture(scope="session")
def _course_mode() -> int:
    return ROOT.stat().st_mode & 0o7777


@pytest.fixture(autouse=True)
def _course_folder_reopened(_course_mode: int) -> Iterator[None]:
    """Give the course folder its mode back after a test whose hub closed it to learners.

    The hub's set-up removes other users' rights on the course folder (its solutions
    are private); tests that later run the course as an unprivileged user need them.
    """
    yield
    if ROOT.stat().st_mode & 0o7777 != _course_mode:
        ROOT.chmod(_course_mode)


@pytest.fixture(scope="session")
def root() -> Path:
    """The course repository."""
    return ROOT


@pytest.fixture
def venv_path_env() -> dict[str, str]:
    """An environment whose PATH starts with this Python's bin/ (nbgrader needs alembic)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env
