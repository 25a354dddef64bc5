"""The instructor's view: failure labels, figures, math, report, logs, exports, handouts.

The fast tests check each piece on small inputs. The slow ones grade a class with known
scores (perfect, partial on a visible check, partial on a hidden check, blank, late,
not a notebook) through the real nbgrader command line, and check the report's numbers,
the log, the exports (parsed as Canvas and Moodle import them) and the feedback pages.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
import shutil
import textwrap
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output

from fmnist_utils.grading import receipts
from fmnist_utils.grading.cells import exercise_titles, failure_of
from fmnist_utils.grading.exports import CANVAS_IDENTITY, MOODLE_IDENTITY
from fmnist_utils.grading.feedback_html import FEEDBACK_POLICY, render_math
from fmnist_utils.grading.handout import write_handouts
from fmnist_utils.grading.outputs import CapImages, DropLibraryNoise, is_noise
from fmnist_utils.tooling.lessons import Lesson, run_nbgrader, source_notebook

from .conftest import ROOT
from .grading_helpers import Submissions, grading_env_or_skip, make_course

# --- failure labels ------------------------------------------------------------------------

TEST_SOURCE = textwrap.dedent(
    '''\
    """Check double."""
    assert double(2) == 4, "double(2) should be 4"
    print("double: all visible checks passed")
    ### BEGIN HIDDEN TESTS
    assert double(-7) == -14, "double(-7) should be -14"
    ### END HIDDEN TESTS'''
)


def _failed_cell(line: int, message: str, count: int = 5) -> dict:
    cell = new_code_cell(TEST_SOURCE, execution_count=count)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "double_tests"}
    frame = f"\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[{count}]\x1b[39m\x1b[32m, line {line}"
    cell.outputs = [
        new_output(
            "error",
            ename="AssertionError",
            evalue=message,
            traceback=["\x1b[31m----\x1b[39m", frame, f"AssertionError: {message}"],
        )
    ]
    return cell


def test_a_failed_visible_check_is_labelled_visible() -> None:
    failure = failure_of(_failed_cell(2, "double(2) should be 4"))
    assert failure is not None and failure.where == "visible"
    assert failure.message == "AssertionError: double(2) should be 4"
    assert "visible check failed" in failure.label and "hidden" not in failure.label


def test_a_failed_hidden_check_is_labelled_hidden() -> None:
    failure = failure_of(_failed_cell(5, "double(-7) should be -14"))
    assert failure is not None and failure.where == "hidden"
    assert "hidden check failed" in failure.label


def test_a_passing_cell_has_no_failure() -> None:
    cell = _failed_cell(2, "x")
    cell.outputs = [new_output("stream", name="stdout", text="double: all visible checks passed\n")]
    assert failure_of(cell) is None


def test_exercises_are_named_by_their_heading() -> None:
    lesson = "01_pixels_and_labels"
    path = ROOT / "solutions" / lesson / f"{lesson}.ipynb"
    cells = nbformat.read(path, as_version=4).cells
    titles = exercise_titles(cells)
    headings = re.findall(r"^#+\s+(Exercise \d+ — .+?)(?:\s*\(\d+ points?\))?$",
                          "\n".join(c.source for c in cells if c.cell_type == "markdown"),
                          flags=re.M)  # fmt: skip
    tests = [c.metadata["nbgrader"]["grade_id"] for c in cells
             if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]  # fmt: skip
    assert len(headings) >= 3 and len(tests) == len(headings)
    assert [titles[t] for t in tests] == headings


# --- figures, noise, math ------------------------------------------------------------------


def _png(width: int, height: int, noisy: bool) -> str:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8) if noisy else (
        np.full((height, width, 3), 200, dtype=np.uint8)
    )  # fmt: skip
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def _image_cell(data: dict) -> dict:
    cell = new_code_cell("fig")
    cell.outputs = [new_output("display_data", data=data)]
    return cell


def test_images_are_kept_small_ones_unchanged_big_ones_shrunk() -> None:
    from PIL import Image

    cap = CapImages(max_bytes=60_000, max_width=800)
    small = _png(300, 200, noisy=False)
    cell, _ = cap.preprocess_cell(_image_cell({"image/png": small}), {}, 0)
    assert cell.outputs[0].data["image/png"] == small
    big = _png(1200, 900, noisy=True)
    assert len(base64.b64decode(big)) > 60_000
    cell, _ = cap.preprocess_cell(_image_cell({"image/png": big}), {}, 0)
    shrunk = base64.b64decode(cell.outputs[0].data["image/png"])
    assert len(shrunk) <= 60_000
    with Image.open(io.BytesIO(shrunk)) as image:
        assert image.format == "PNG" and image.size[0] <= 800


def test_an_output_that_is_not_an_image_is_left_out_with_a_note() -> None:
    fake = base64.b64encode(b"<svg onload=alert(1)>").decode()
    cell, _ = CapImages().preprocess_cell(_image_cell({"image/png": fake}), {}, 0)
    assert "image/png" not in cell.outputs[0].data
    assert "not a valid image" in cell.outputs[0].data["text/plain"]


def test_tensorflow_start_up_lines_are_dropped_and_the_rest_kept() -> None:
    noise = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796042742.032509       2 cudart_stub.cc:31] Could not find cuda drivers "
        "on your machine, GPU will not be used.",
    ]
    assert all(is_noise(line) for line in noise)
    assert not is_noise("UserWarning: my own warning")
    cell = new_code_cell("import keras")
    cell.outputs = [
        new_output("stream", name="stderr", text="\n".join(noise) + "\n"),
        new_output("stream", name="stderr", text="\n".join(noise) + "\nmine\n"),
    ]
    cell, _ = DropLibraryNoise().preprocess_cell(cell, {}, 0)
    assert [o.text for o in cell.outputs] == ["mine\n"]


def test_math_is_rendered_as_mathml_outside_code() -> None:
    text = "Each image is $28 \\times 28$ pixels; `cost = $5` stays.\n\n$$\\sum_i x_i$$\n"
    out = render_math(text)
    assert out.count("<math") == 2 and 'display="block"' in out
    assert "`cost = $5`" in out and "\\times" not in out


def test_the_formgrader_never_generates_into_lessons() -> None:
    from traitlets.config import Config

    from fmnist_utils.grading.formgrader import configure

    for program in (
        "/venv/bin/jupyter-lab",
        "/venv/lib/python3.11/site-packages/jupyterlab/__main__.py",
    ):
        c = Config()
        configure(c, ROOT / "instructor", [program])
        assert c.CourseDirectory.release_directory == "instructor/release"
        assert c.ExchangeFactory.list.endswith("CourseList")
    c = Config()  # the command line, which `make lessons` uses, keeps lessons/
    configure(c, ROOT / "instructor", ["/venv/bin/nbgrader", "generate_assignment"])
    assert "release_directory" not in c.CourseDirectory


# --- handouts ------------------------------------------------------------------------------


def test_each_learner_gets_a_zip_of_their_own_pages(tmp_path: Path) -> None:
    feedback = tmp_path / "feedback"
    for student, lessons in {"ann": ["01_a", "02_b"], "bo": ["01_a"]}.items():
        for lesson in lessons:
            page = feedback / student / lesson / f"{lesson}.html"
            page.parent.mkdir(parents=True)
            page.write_text(f"<p>{student} {lesson}</p>")
    (feedback / "eve").mkdir()
    (feedback / "eve" / "01_a").symlink_to(feedback / "ann" / "01_a")  # never followed
    written = write_handouts(feedback, tmp_path / "handout")
    assert [p.name for p in written] == ["ann.zip", "bo.zip"]
    with zipfile.ZipFile(written[0]) as zf:
        assert sorted(zf.namelist()) == ["ann/01_a.html", "ann/02_b.html"]
        assert zf.read("ann/02_b.html") == b"<p>ann 02_b</p>"
    only = write_handouts(feedback, tmp_path / "one", ["02_b"])
    assert [p.name for p in only] == ["ann.zip"]


# --- a class with known scores, graded by nbgrader -----------------------------------------

VIEW_LESSON = textwrap.dedent(
    '''\
    # %% [markdown]
    # # A lesson with a figure
    #
    # Each image is $28 \\times 28$ pixels.

    # %%
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])

    # %% [markdown]
    # ### Exercise 1 — double a number (1 point)

    # %% nbgrader={"grade": false, "grade_id": "double", "locked": false, "schema_version": 3, "solution": true, "task": false}
    def double(x):
        """Return twice x."""
        ### BEGIN SOLUTION
        return 2 * x
        ### END SOLUTION


    # %% nbgrader={"grade": true, "grade_id": "double_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
    """Check that double doubles."""
    assert double(2) == 4, "double(2) should be 4"
    print("double: all visible checks passed")
    ### BEGIN HIDDEN TESTS
    assert double(-7) == -14, "double(-7) should be -14"
    ### END HIDDEN TESTS

    # %% [markdown]
    # ### Exercise 2 — triple a number (2 points)

    # %% nbgrader={"grade": false, "grade_id": "triple", "locked": false, "schema_version": 3, "solution": true, "task": false}
    def triple(x):
        """Return three times x."""
        ### BEGIN SOLUTION
        return 3 * x
        ### END SOLUTION


    # %% nbgrader={"grade": true, "grade_id": "triple_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
    """Check that triple triples."""
    assert triple(2) == 6, "triple(2) should be 6"
    ### BEGIN HIDDEN TESTS
    assert triple(-7) == -21, "triple(-7) should be -21"
    ### END HIDDEN TESTS
    '''
)
V = "01_view"
DUE = "2025-03-07 17:00:00 UTC"
VISIBLE_WRONG = "def double(x):\n    return 3 * x\n"
HIDDEN_WRONG = "def double(x):\n    return 4 if x == 2 else 0\n"
# what each learner hands in: answers replaced, and the scores that must follow
CLASS = {
    "perfect": ({}, {"double_tests": 1, "triple_tests": 2}),
    "visible1": ({"double": VISIBLE_WRONG}, {"double_tests": 0, "triple_tests": 2}),
    "visible2": ({"double": VISIBLE_WRONG}, {"double_tests": 0, "triple_tests": 2}),
    "hidden": ({"double": HIDDEN_WRONG}, {"double_tests": 0, "triple_tests": 2}),
    "blank": (None, {"double_tests": 0, "triple_tests": 0}),
    "late": ({}, {"double_tests": 1, "triple_tests": 2}),
}


@dataclass
class GradedClass:
    root: Path
    db: str
    log: str
    run: object


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> GradedClass:
    with pytest.MonkeyPatch.context() as patch:
        grading_env_or_skip(patch, trusted=False)
        root, db = make_course(tmp_path_factory.mktemp("view") / "course", [])
        source = root / "solutions" / V / f"{V}.py"
        source.parent.mkdir(parents=True)
        source.write_text(VIEW_LESSON)
        nbformat.write(source_notebook(Lesson(V, root)), source.with_suffix(".ipynb"))
        for args in (
            ["generate_assignment", V, "--force",
             "--CourseDirectory.release_directory=instructor/release"],
            ["db", "assignment", "add", V, f"--duedate={DUE}"],
            ["db", "student", "add", "nobody", "--first-name=No", "--last-name=Body"],
        ):  # fmt: skip
            done = run_nbgrader(args, root, db)
            assert done.returncode == 0, done.stdout + done.stderr
        subs = Submissions(root, V)
        for student, (answers, _) in CLASS.items():
            nb = subs.notebook(blank=True) if answers is None else subs.notebook(answers)
            subs.submit(student, nb)
        # when the instructor received two of them (a learner's own timestamp.txt is
        # only a claim: fmnist_utils.grading.receipts)
        for student, when in (("late", "2025-03-08 10:00:00"), ("perfect", "2025-03-07 12:00:00")):
            receipts.record(root / "instructor", V, student, how="instructor",
                            received=datetime.fromisoformat(when))  # fmt: skip
        broken = subs.folder("broken") / f"{V}.ipynb"
        broken.parent.mkdir(parents=True)
        broken.write_text('{"cells": [')
        run = run_nbgrader(["autograde", V], root, db)
        log = run.stdout + run.stderr
        (root.parent / "autograde.log").write_text(log)
        yield GradedClass(root, db, log, run)


@pytest.mark.slow
def test_the_log_is_quiet_and_names_every_submission(graded_class: GradedClass) -> None:
    log = graded_class.log
    assert graded_class.run.returncode == 0, "the broken submission is refused, not failed"
    assert f"REJECTED broken/{V}: {V}.ipynb is not a notebook file" in log
    assert "Attribute 'checksum'" not in log, "the expected checksum warnings are explained"
    assert log.count("hidden tests, restored from the gradebook") == 1
    assert "SAWarning" not in log and "absl::InitializeLog" not in log
    for student, (_, points) in CLASS.items():
        late = "late by" if student == "late" else "on time"
        line = f"[fmnist] '{student}': {sum(points.values()):g} / 3, {late}"
        assert line in log, f"no line {line!r} in the log"


@pytest.mark.slow
def test_the_report_has_the_known_numbers(graded_class: GradedClass) -> None:
    table = graded_class.root / "instructor" / "reports" / f"{V}.csv"
    assert table.is_file(), "autograde writes the report"
    with open(table, newline="", encoding="utf-8") as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle)}
    assert sorted(rows) == sorted([*CLASS, "broken"])
    for student, (_, points) in CLASS.items():
        row = rows[student]
        assert row["graded"] == "yes"
        assert {t: float(row[t]) for t in points} == points
        assert float(row["score"]) == sum(points.values())
        assert row["late"] == ("yes" if student == "late" else "no")
    assert rows["late"]["timestamp"] == "2025-03-08T10:00:00+00:00"
    assert rows["broken"]["graded"] == "no" and "not a notebook file" in rows["broken"]["flags"]

    text = graded_class.log
    n = len(CLASS)
    for test_id, full in (("double_tests", 1), ("triple_tests", 2)):
        got = [CLASS[s][1][test_id] for s in CLASS]
        mean = sum(got) / n
        share = 100 * sum(1 for g in got if g == full) / n
        assert f"[{test_id}]: mean {mean:.2f} / {full}, full marks {share:.0f} %" in text
    # the most common failure messages of exercise 1, with their counts
    assert "2 × AssertionError: double(2) should be 4" in text
    assert "1 × AssertionError: double(-7) should be -14" in text
    assert "1 × NotImplementedError" in text
    assert "Exercise 1 — double a number [double_tests]" in text
    assert "'broken': flagged by a grader; REJECTED broken/" in text
    assert "Not handed in: nobody" in text

    page = (graded_class.root / "instructor" / "reports" / f"{V}.html").read_text()
    assert "<script" not in page.lower() and "http" not in page
    assert "Exercise 2 — triple a number" in page


@pytest.mark.slow
def test_the_report_on_demand_reads_the_same(graded_class: GradedClass) -> None:
    import os
    import subprocess
    import sys

    env = dict(os.environ, FMNIST_GRADEBOOK_URL=graded_class.db)
    done = subprocess.run(
        [sys.executable, "-m", "fmnist_utils.grading.report", V], cwd=graded_class.root,
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 × AssertionError: double(2) should be 4" in done.stdout


def _export(graded: GradedClass, *args: str) -> list[list[str]]:
    out = graded.root / "instructor" / "export.csv"
    done = run_nbgrader(["export", "--to", str(out), *args], graded.root, graded.db)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(out, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.mark.slow
def test_the_export_has_zoned_times_and_a_late_column(graded_class: GradedClass) -> None:
    header, *rows = _export(graded_class, "--assignment", V)
    table = {r[header.index("student_id")]: dict(zip(header, r, strict=True)) for r in rows}
    assert table["late"]["late"] == "yes" and table["perfect"]["late"] == "no"
    assert table["late"]["timestamp"] == "2025-03-08 10:00:00+00:00"
    assert table["late"]["duedate"] == "2025-03-07 17:00:00+00:00"
    assert table["nobody"]["handed_in"] == "no" and table["perfect"]["handed_in"] == "yes"


@pytest.mark.slow
def test_the_canvas_csv_parses_as_canvas_imports_it(graded_class: GradedClass) -> None:
    header, *rows = _export(graded_class, "--exporter", "fmnist_utils.grading.exports.CanvasExport")
    # Canvas: the learner columns first, then one column per assignment; an optional
    # "Points Possible" row; each learner found by one of ID / SIS User ID / SIS Login ID
    assert header[: len(CANVAS_IDENTITY)] == CANVAS_IDENTITY
    lessons = header[len(CANVAS_IDENTITY) :]
    assert lessons == [V]
    assert rows[0][0] == "Points Possible" and float(rows[0][-1]) == 3
    learners = {r[CANVAS_IDENTITY.index("SIS Login ID")]: r for r in rows[1:]}
    assert sorted(learners) == sorted([*CLASS, "nobody", "broken"])
    for student, (_, points) in CLASS.items():
        assert float(learners[student][-1]) == sum(points.values())
    assert learners["nobody"][-1] == "", "not handed in: no grade"
    assert learners["nobody"][0] == "Body, No"


@pytest.mark.slow
def test_the_moodle_csv_parses_as_moodle_imports_it(graded_class: GradedClass) -> None:
    header, *rows = _export(graded_class, "--exporter", "fmnist_utils.grading.exports.MoodleExport")
    # Moodle: one header row; the instructor maps a column to username (or email); each
    # grade column holds a number ("." decimal) or is empty / "-" for no grade
    assert header[: len(MOODLE_IDENTITY)] == MOODLE_IDENTITY and header[-1] == V
    usernames = [r[0] for r in rows]
    assert len(set(usernames)) == len(usernames) == len(CLASS) + 2  # broken, nobody
    for row in rows:
        grade = row[-1]
        assert grade in ("", "-") or re.fullmatch(r"\d+(\.\d+)?", grade), grade
    table = {r[0]: r[-1] for r in rows}
    assert table["blank"] == "0" and table["perfect"] == "3" and table["nobody"] == ""


@pytest.mark.slow
def test_feedback_shows_figures_math_names_and_the_right_label(graded_class: GradedClass) -> None:
    done = run_nbgrader(["generate_feedback", V], graded_class.root, graded_class.db)
    assert done.returncode == 0, done.stdout + done.stderr
    folder = graded_class.root / "instructor" / "feedback"
    visible = (folder / "visible1" / V / f"{V}.html").read_text()
    hidden = (folder / "hidden" / V / f"{V}.html").read_text()
    for page in (visible, hidden):
        assert "data:image/png;base64," in page, "the figure is an image"
        assert "<math" in page and "28 \\times 28" not in page, "math rendered as MathML"
        assert "mathjax" not in page.lower() and "cdnjs" not in page
        assert "Exercise 1 — double a number</a>" in page
        meta = re.search(r"<meta[^>]*Content-Security-Policy[^>]*>", page)
        policy = meta and re.search(r'content="([^"]*)"', meta.group(0))
        assert policy and html.unescape(policy.group(1)) == FEEDBACK_POLICY, "the page's CSP"
    assert "a visible check failed" in visible and "hidden check failed" not in visible
    assert "a hidden check failed" in hidden
    graded = json.loads(
        (
            graded_class.root / "instructor" / "autograded" / "visible1" / V / f"{V}.ipynb"
        ).read_text()
    )
    images = [
        o for c in graded["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert images, "the grading kernel keeps figures as PNG"
    done = run_nbgrader(["generate_feedback", V, "--force"], graded_class.root, graded_class.db)
    assert done.returncode == 0


# --- the formgrader, in a browser (last: it changes one score) -----------------------------


def _poll(check, timeout_s: float = 60.0):
    """Return ``check()`` once it is truthy, or its last value after ``timeout_s``."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


SERVER_CONFIG = ROOT / "fmnist_utils" / "jupyter_config" / "fmnist_course.json"
# code a learner could hide in a notebook, each with a side effect the test can see
OWNED_MARKDOWN = (
    "<script>window.owned = 'script'; fetch('/owned/script')</script>\n\n"
    "<img src=x onerror=\"window.owned = 'handler'; fetch('/owned/handler')\">\n\n"
    '<script src="owned.js"></script>\n\n'
    '<a id="owned-link" href="javascript:window.owned = \'link\'">a link</a>\n'
)
OWNED_HTML = "<script>window.owned = 'output'</script><img src=y onerror=\"window.owned = 'img'\">"
OWNED_JS = "window.owned = 'javascript'; fetch('/owned/javascript');"
OWNED_FILE = "window.owned = 'file'; fetch('/owned/file');"  # a file beside the notebook
_RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
  e.effectiveDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || '')));
"""


def _watch_policy(page) -> tuple[dict[str, str], list[str], list[str]]:
    """Record each formgrader page's policy, the browser's CSP messages, and every request."""
    policies: dict[str, str] = {}
    blocked: list[str] = []
    sent: list[str] = []

    def on_response(response) -> None:
        path = response.url.split("?")[0].split("/", 3)[-1]
        if response.request.resource_type == "document" and path.startswith("formgrader"):
            policies[path] = response.headers.get("content-security-policy", "")

    page.on("response", on_response)
    page.on("request", lambda request: sent.append(request.url))
    page.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(_RECORD_VIOLATIONS)
    return policies, blocked, sent


def _strict(policy: str) -> bool:
    """Whether a policy runs only scripts with its nonce (or nbgrader's handlers, by hash)."""
    rules = {r.split()[0]: r.split()[1:] for r in policy.split(";") if r.strip()}
    scripts = rules.get("script-src", [])
    return (
        sum(s.startswith("'nonce-") for s in scripts) == 1
        and all(s.startswith(("'nonce-", "'sha256-")) or s == "'unsafe-hashes'" for s in scripts)
        and rules.get("object-src") == ["'none'"]
        and rules.get("base-uri") == ["'none'"]
        and rules.get("frame-ancestors") == ["'self'"]
    )


def _tamper_and_visit(page, lab, graded: GradedClass, policies, blocked, sent) -> None:
    """Put code straight into a graded notebook; check the policy, by its reports, stops it."""
    from urllib.parse import quote

    from nbgrader.api import Gradebook

    with Gradebook(graded.db) as gb:
        tampered_id = gb.find_submission_notebook(V, V, "perfect").id
    folder = graded.root / "instructor" / "autograded" / "perfect" / V
    (folder / "owned.js").write_text(OWNED_FILE)
    notebook = json.loads((folder / f"{V}.ipynb").read_text())
    cell = new_code_cell("print('hello')", execution_count=1)
    cell.outputs = [
        new_output("display_data", data={"text/html": OWNED_HTML}),
        new_output("display_data", data={"application/javascript": OWNED_JS}),
    ]
    notebook["cells"][:0] = [
        {"cell_type": "markdown", "id": "owned", "metadata": {}, "source": OWNED_MARKDOWN},
        dict(cell, id="owned-output"),
    ]
    (folder / f"{V}.ipynb").write_text(json.dumps(notebook))
    url = lab.url(f"formgrader/submissions/{tampered_id}/")

    def visit(tab) -> str | None:
        tab.goto(url)
        tab.locator("input.score#double_tests").wait_for()
        tab.locator("#owned-link").click()
        tab.wait_for_timeout(1000)
        return tab.evaluate("window.owned")

    before = len(blocked)
    assert visit(page) is None, "code from a graded notebook ran in the formgrader"
    assert not [u for u in sent if "/owned/" in u], "code from a graded notebook fetched a URL"
    placeholder = page.locator("input.score#double_tests").get_attribute
    assert _poll(lambda: placeholder("placeholder") == "1", 30), "nbgrader's scores not shown"
    violations = page.evaluate("window.__csp")
    # three inline scripts (markdown, HTML output, JavaScript output), two handlers
    assert sum(v.startswith("script-src-elem inline") for v in violations) >= 3, violations
    assert sum(v.startswith("script-src-attr inline") for v in violations) >= 2, violations
    assert any("owned.js" in v for v in violations), violations
    assert len(blocked) > before, "the browser says nothing of what it blocked"
    # the reports above name each payload: they reached the page and the policy stopped them
    # a name from the URL, printed by nbgrader inside one of its own scripts, stays text
    name = quote("x\";window.owned='url';\"", safe="")
    page.goto(lab.url(f"formgrader/gradebook/{name}/{V}"))
    page.wait_for_timeout(1000)
    assert page.evaluate("window.owned") is None, "a name in the URL ran as code"
    assert policies and all(_strict(p) for p in policies.values()), policies


@pytest.mark.slow
@pytest.mark.browser
def test_the_formgrader_lists_shows_and_overrides(
    graded_class: GradedClass, tmp_path: Path
) -> None:
    from nbgrader.api import Gradebook

    from .browser import ARTIFACTS, CHROMIUM_ARGS, UI_S, VIEWPORT, LabServer, require_browser

    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    class ClassLab(LabServer):
        def _env(self) -> dict[str, str]:
            env = super()._env()
            env["FMNIST_GRADEBOOK_URL"] = graded_class.db  # the graded class's gradebook
            # the course's server settings, as `make venv` installs them: the formgrader's
            # Content-Security-Policy (fmnist_utils.grading.csp)
            server_d = self.state / "config" / "jupyter_server_config.d"
            server_d.mkdir(parents=True, exist_ok=True)
            shutil.copy2(SERVER_CONFIG, server_d / SERVER_CONFIG.name)
            return env

    shots = ARTIFACTS / "formgrader"
    shots.mkdir(parents=True, exist_ok=True)
    with Gradebook(graded_class.db) as gb:
        notebook_id = gb.find_submission_notebook(V, V, "hidden").id
    release = graded_class.root / "lessons"
    with ClassLab(graded_class.root, tmp_path / "lab") as lab, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(UI_S * 1000)
        policies, blocked, sent = _watch_policy(page)
        # the assignment list: the lesson, released, no banner about a missing exchange
        page.goto(lab.url("formgrader/manage_assignments"))
        row = page.locator("tr", has_text=V).first
        row.wait_for()
        page.screenshot(path=str(shots / "1-assignments.png"), full_page=True)
        assert page.locator("#warning-exchange").count() == 0, "no exchange error banner"
        assert "released" in row.inner_text()
        # Generate writes the student copy to instructor/release, never into lessons/
        row.locator("td.assign a").click()
        done = _poll(lambda: (graded_class.root / "instructor" / "release" / V).is_dir(), 120)
        page.screenshot(path=str(shots / "2-generated.png"), full_page=True)
        assert done and not (release / V).exists(), "Generate must not write into lessons/"
        # students: names, not "None, None"; totals out of the registered lesson only
        page.goto(lab.url("formgrader/manage_students"))
        page.locator("tr", has_text="perfect").first.wait_for()
        students = page.locator("table").inner_text()
        page.screenshot(path=str(shots / "3-students.png"), full_page=True)
        assert "None, None" not in students and "Body, No" in students
        assert re.search(r"3(\.0)?\s*/\s*3(\.0)?", students), students
        # one submission: the learner's notebook with its scores
        page.goto(lab.url(f"formgrader/submissions/{notebook_id}/"))
        score = page.locator("input.score#double_tests")
        score.wait_for()
        assert "Check that double doubles" in page.content()
        # nbgrader's own scripts run under the policy: they put the autograded score in
        # the input's placeholder (the input itself holds only a manual score)
        assert _poll(lambda: score.get_attribute("placeholder") == "0", UI_S), "no scores shown"
        page.goto(lab.url(f"formgrader/gradebook/{V}/{V}"))
        page.locator("#main-table tr", has_text="Submission #").first.wait_for()
        assert re.search(r"3(\.0)?\s*/\s*3(\.0)?", page.locator("#main-table").inner_text())
        assert blocked == [], f"the policy blocked nbgrader's own code: {blocked}"
        page.goto(lab.url(f"formgrader/submissions/{notebook_id}/"))
        score.wait_for()
        # the page's scripts have bound their handlers once they filled the placeholder:
        # a change typed before that is never saved (a busy machine is slow to get there)
        assert _poll(lambda: score.get_attribute("placeholder") == "0", UI_S), "not ready"
        # override a score and add a comment, as the instructors' guide shows
        score.fill("1")
        score.press("Tab")
        comment = page.locator("textarea#double-comment")
        comment.fill("Look at negative numbers again.")
        comment.press("Tab")
        page.screenshot(path=str(shots / "4-override.png"), full_page=True)

        def saved() -> tuple | None:
            with Gradebook(graded_class.db) as gb:
                grade = gb.find_grade("double_tests", V, V, "hidden")
                note = gb.find_comment("double", V, V, "hidden")
                total = gb.find_submission(V, "hidden").score
                got = (grade.manual_score, note.manual_comment, total)
            return got if got[0] is not None and got[1] else None

        result = _poll(saved)
        page.screenshot(path=str(shots / "5-saved.png"), full_page=True)
        # every formgrader page came with the policy: scripts only by this page's nonce
        assert policies and all(_strict(p) for p in policies.values()), policies
        # code that got past the sanitiser into a graded notebook does not run
        _tamper_and_visit(page, lab, graded_class, policies, blocked, sent)
        # a feedback page runs no script, even one a sanitiser had missed
        feedback = graded_class.root / "instructor" / "feedback" / "visible1" / V / f"{V}.html"
        if not feedback.is_file():
            run_nbgrader(["generate_feedback", V], graded_class.root, graded_class.db)
        tampered = tmp_path / "tampered-feedback.html"
        tampered.write_text(
            feedback.read_text().replace("<body>", "<body><script>window.owned = 1</script>", 1)
        )
        page.goto(tampered.as_uri())
        assert page.evaluate("window.owned") is None, "a script ran in a feedback page"
        browser.close()
    assert result == (1.0, "Look at negative numbers again.", 3.0), result
