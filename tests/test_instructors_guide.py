"""The instructors' guide (docs/instructors/) works as written: its bash blocks, run in order
in a fresh copy."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from .conftest import LESSON_IDS, ROOT
from .grading_helpers import Submissions, grading_env_or_skip
from .support import copy_repository, guide_blocks

DEFENCES = ROOT / "docs" / "instructors" / "grading-defends.md"
LESSON = "01_pixels_and_labels"


def test_guide_has_the_key_commands() -> None:
    script = "\n".join(guide_blocks())
    for command in (
        "nbgrader generate_assignment",
        "nbgrader db assignment add",
        "nbgrader zip_collect",
        "nbgrader autograde",
        "--student",
        "--force",
        "nbgrader generate_feedback",
        "nbgrader export",
        "python -m fmnist_utils.grading.parallel",
        "python -m fmnist_utils.grading.report",
        "python -m fmnist_utils.grading.handout",
        "python -m fmnist_utils.grading.receipts",
        "nbgrader export --assignment",
        "fmnist_utils.grading.exports.CanvasExport",
        "fmnist_utils.grading.exports.MoodleExport",
    ):
        assert command in script, f"the instructors' guide runs no `{command}`"


def _fresh_copy(dest: Path) -> Path:
    """What a clone holds (tracked and new, not ignored, files), with this .venv."""
    copy_repository(dest)
    (dest / ".venv").symlink_to(Path(sys.prefix))
    return dest


@pytest.mark.slow
@pytest.mark.skipif(
    LESSON not in LESSON_IDS, reason=f"the guide's example lesson {LESSON} is not here yet"
)
def test_guide_commands_work_as_written(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        course = _fresh_copy(tmp_path / "fmnist-course")
        # the learners' work, where the guide expects it
        home = tmp_path / "home"
        downloads = home / "Downloads"
        (downloads / "carol").mkdir(parents=True)
        subs = Submissions(ROOT, LESSON, release=ROOT / "lessons" / LESSON / f"{LESSON}.ipynb")
        perfect = nbformat.writes(subs.notebook())
        blank = nbformat.writes(subs.notebook(blank=True))
        (downloads / "carol" / f"{LESSON}.ipynb").write_text(blank)
        with zipfile.ZipFile(downloads / f"{LESSON}.zip", "w") as zf:
            zf.writestr(f"alice--2025-03-07T100000--{LESSON}.ipynb", perfect)
            zf.writestr(f"bob--2025-03-08T091500--{LESSON}.ipynb", perfect)

        script = "set -euxo pipefail\n" + "\n".join(guide_blocks())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "FMNIST_"))}
        env["HOME"] = str(home)
        done = subprocess.run(
            ["bash", "-c", script], cwd=course, env=env, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        log = done.stdout + done.stderr
        (tmp_path / "guide.log").write_text(log)
        assert done.returncode == 0, log[-6000:]

        with open(course / "instructor" / "grades.csv", newline="") as handle:
            rows = {r["student_id"]: r for r in csv.DictReader(handle) if r["assignment"] == LESSON}
        assert sorted(rows) == ["alice", "bob", "carol"]
        maximum = float(rows["alice"]["max_score"])
        assert float(rows["alice"]["score"]) == maximum == float(rows["bob"]["score"])
        assert float(rows["carol"]["score"]) == 0
        assert rows["bob"]["timestamp"] > rows["bob"]["duedate"], "bob handed in late"
        assert rows["alice"]["timestamp"] < rows["alice"]["duedate"]
        assert rows["alice"]["first_name"] == "Alice"
        for student in rows:
            assert (
                course / "instructor" / "feedback" / student / LESSON / f"{LESSON}.html"
            ).is_file()
        # the quiet log: one line per submission, no expected warnings, then the report
        assert "Attribute 'checksum'" not in log and "SAWarning" not in log
        assert "absl::InitializeLog" not in log
        assert re.search(r"\[fmnist\] 'bob': [\d.]+ / [\d.]+, late by", log), log[-3000:]
        assert re.search(r"\[fmnist\] 'carol': 0 / [\d.]+, on time", log), log[-3000:]
        assert f"=== Grading report: {LESSON}" in log
        with open(course / "instructor" / "reports" / f"{LESSON}.csv", newline="") as handle:
            report = {r["student_id"]: r for r in csv.DictReader(handle)}
        assert {s: float(report[s]["score"]) for s in rows} == {
            s: float(rows[s]["score"]) for s in rows
        }, "the report and the export agree"
        assert report["bob"]["late"] == "yes" and report["alice"]["late"] == "no"
        page = (course / "instructor" / "reports" / f"{LESSON}.html").read_text()
        assert "<script" not in page.lower()
        # a zip of feedback per learner, and the LMS files
        for student in rows:
            with zipfile.ZipFile(course / "instructor" / "handout" / f"{student}.zip") as zf:
                assert zf.namelist() == [f"{student}/{LESSON}.html"]
        with open(course / "instructor" / "canvas.csv", newline="") as handle:
            canvas = list(csv.reader(handle))
        assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
        assert canvas[1][0] == "Points Possible"
        assert {r[3]: float(r[5]) for r in canvas[2:]} == {s: float(rows[s]["score"]) for s in rows}
        with open(course / "instructor" / "moodle.csv", newline="") as handle:
            moodle = {r["Username"]: r for r in csv.DictReader(handle)}
        assert (
            float(moodle["alice"][LESSON]) == maximum and moodle["alice"]["First name"] == "Alice"
        )
        release = sorted(p.name for p in (course / "lessons" / LESSON).iterdir())
        assert release == sorted(p.name for p in (ROOT / "lessons" / LESSON).iterdir()), (
            "registering the lessons must leave lessons/ alone"
        )
        name = f"{LESSON}.ipynb"
        assert (course / "lessons" / LESSON / name).read_bytes() == (
            ROOT / "lessons" / LESSON / name
        ).read_bytes(), "registering the lessons must leave lessons/ alone"


def test_every_defence_names_a_test_that_exists() -> None:
    """What grading defends: each claim names the test that proves it; those tests exist."""
    text = DEFENCES.read_text()
    section = text[text.index("## What grading defends") :]
    named = set(re.findall(r"`(?:tests/\w+\.py::)?(test_\w+)`", section))
    assert len(named) >= 8, f"the defences page names too few tests: {sorted(named)}"
    defined = {
        match
        for path in (ROOT / "tests").glob("test_*.py")
        for match in re.findall(r"^def (test_\w+)", path.read_text(), flags=re.M)
    }
    assert named <= defined, (
        f"the defences page names tests that do not exist: {sorted(named - defined)}"
    )
    for path in re.findall(r"`(tests/\w+\.py)(?:::\w+)?`", section):
        assert (ROOT / path).is_file(), path
