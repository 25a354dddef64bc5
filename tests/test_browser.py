"""The course in JupyterLab, in a real browser, the way a learner meets it.

Each test starts its own JupyterLab (127.0.0.1, a free port, a token) in a
temporary copy of the course and drives Debian's Chromium with Playwright.
Screenshots of every step land in ``tests/artifacts/browser/<test>/``.
Without Chromium or Playwright the tests skip, saying why; under ``CI=true``
they fail instead. The helpers are in ``tests/browser.py``.

The screenshots the README and website show (``docs/_static/screenshots/``) come from these tests;
to retake them after a lesson or widget changed::

    FMNIST_README_SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_browser.py
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from . import browser
from .browser import (
    ARTIFACTS,
    ROOT,
    UI_S,
    VIEWPORT,
    CellResult,
    LabServer,
    Learner,
    copy_course,
    dump_cells,
    launched_chromium,
)


def in_browser(test):
    """Mark a test as one that drives JupyterLab in Chromium (slow)."""
    return pytest.mark.slow(pytest.mark.browser(test))


def test_without_a_browser_the_tests_skip_locally_and_fail_in_ci(monkeypatch) -> None:
    monkeypatch.setattr(browser, "chromium_path", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        browser.require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run them"):
        browser.require_browser()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, headless, launched once for the module."""
    with launched_chromium() as launched:
        yield launched


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A temporary copy of the course."""
    return copy_course(tmp_path / "course")


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """This test's folder under ``tests/artifacts/browser/``, emptied."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def lab(course: Path, tmp_path: Path, artifacts: Path, chromium):
    """This test's own JupyterLab, serving the course copy; its log is kept with the artifacts."""
    server = LabServer(course, tmp_path / "lab")
    try:
        yield server.start()
    finally:
        server.stop()
        if server.log_path.is_file():
            shutil.copy2(server.log_path, artifacts / "jupyterlab.log")


@pytest.fixture
def learner(chromium, lab: LabServer, artifacts: Path):
    """A fresh browser tab in the test's JupyterLab; saves the last screen and the console."""
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
    page.on(
        "requestfailed",
        lambda req: console.append(f"requestfailed: {req.method} {req.url} {req.failure}"),
    )
    person = Learner(page, lab, artifacts)
    try:
        yield person
    finally:
        try:
            person.shot("last_screen")
        except Exception as error:  # the page may be gone; the console still matters
            console.append(f"(no last screenshot: {error})")
        (artifacts / "console.log").write_text("\n".join(console))
        context.close()


def _first_error(cells: list[CellResult]) -> CellResult | None:
    return next((cell for cell in cells if cell.errors), None)


def _image_sources(locator) -> list[str]:
    """The ``src`` of every image under ``locator``, in order (a new image means a new src)."""
    return locator.locator("img").evaluate_all("(imgs) => imgs.map(i => i.src)")


def _wait_for_new_images(learner: Learner, locator, before: list[str]) -> list[str]:
    handle = locator.element_handle()
    learner.page.wait_for_function(
        "([el, before]) => { const now = Array.from(el.querySelectorAll('img')).map(i => i.src);"
        " return now.length > 0 && JSON.stringify(now) !== JSON.stringify(before); }",
        arg=[handle, before],
        timeout=UI_S * 1000,
    )
    return _image_sources(locator)


def _nudge_slider(learner: Learner, slider, presses: int = 3) -> None:
    """Move an ipywidgets slider the way a learner does: grab its handle, use the arrow keys."""
    handle = slider.locator(".noUi-handle").first
    handle.click()
    for _ in range(presses):
        learner.page.keyboard.press("ArrowRight")


# --- The harness itself: errors are told from stderr, widgets respond ------------


def _demo_notebook(path: Path) -> None:
    """A small notebook shaped like a student copy: a warning, a widget, an exercise."""
    code = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        cells=[
            nbformat.v4.new_markdown_cell("# A demo of the browser tests"),
            code(
                "import sys, warnings\n"
                "warnings.warn('only a warning')\n"
                "print('a line on stderr', file=sys.stderr)\n"
                "6 * 7"
            ),
            code(
                "import io\n"
                "import ipywidgets as widgets\n"
                "import numpy as np\n"
                "from PIL import Image\n"
                "slider = widgets.IntSlider(description='Index', min=0, max=9)\n"
                "image = widgets.Image(format='png', width=112)\n"
                "def draw(change=None):\n"
                "    pixels = np.zeros((28, 28), np.uint8)\n"
                "    pixels[:, : 2 * (slider.value + 1)] = 255\n"
                "    buffer = io.BytesIO()\n"
                "    Image.fromarray(pixels).save(buffer, format='png')\n"
                "    image.value = buffer.getvalue()\n"
                "slider.observe(draw, 'value')\n"
                "draw()\n"
                "widgets.VBox([slider, image])"
            ),
            code(
                "def answer():\n    # YOUR CODE HERE\n    raise NotImplementedError()",
                metadata={
                    "nbgrader": {
                        "grade": False,
                        "grade_id": "answer",
                        "locked": False,
                        "schema_version": 3,
                        "solution": True,
                        "task": False,
                    }
                },
            ),
            code(
                '"""Check answer."""\nassert answer() == 42',
                metadata={
                    "nbgrader": {
                        "grade": True,
                        "grade_id": "answer_tests",
                        "locked": True,
                        "points": 1,
                        "schema_version": 3,
                        "solution": False,
                        "task": False,
                    }
                },
            ),
            code("print('a learner gets here only after the exercise')"),
        ],
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@in_browser
def test_harness_tells_errors_from_stderr_and_sees_widgets(course: Path, learner: Learner) -> None:
    _demo_notebook(course / "scratch" / "demo.ipynb")
    learner.open_lab()
    learner.open_in_file_browser("scratch/demo.ipynb")
    learner.shot("opened")
    cells = learner.run_all()
    dump_cells(cells, learner.artifacts / "cells.json")
    learner.shot("ran_all")

    warning = cells[1]
    assert warning.execution_count is not None and not warning.errors, warning.describe()
    assert any(out.get("name") == "stderr" for out in warning.outputs), warning.outputs
    error = _first_error(cells)
    assert error is not None and error.index == 4, [c.describe() for c in cells]
    assert error.errors[0]["ename"] == "NotImplementedError"
    assert cells[5].execution_count is None, "Run All must stop at the first error"

    cell = learner.scroll_to_cell(2)
    widget = cell.locator(".jp-OutputArea-output .jupyter-widgets").first
    slider = cell.locator(".widget-slider").filter(has_text="Index")
    slider.wait_for(timeout=UI_S * 1000)
    before = _wait_for_new_images(learner, cell, [])
    _nudge_slider(learner, slider)
    after = _wait_for_new_images(learner, cell, before)
    assert after != before
    learner.shot("slider_moved", locator=widget)


# --- The lessons ------------------------------------------------------------------

LESSON_1 = "01_pixels_and_labels"
LESSON_5 = "05_convolution_filters"


def _lesson(folder: str, lesson_id: str) -> str:
    """The notebook's path in the course, e.g. ``lessons/01_x/01_x.ipynb``."""
    return f"{folder}/{lesson_id}/{lesson_id}.ipynb"


def _needs(*paths: str) -> pytest.MarkDecorator:
    """Skip, before any JupyterLab starts, when a lesson is not in this checkout (yet)."""
    missing = [path for path in paths if not (ROOT / path).is_file()]
    return pytest.mark.skipif(bool(missing), reason=f"not in this checkout: {', '.join(missing)}")


def _cell_calling(cells: list[CellResult], call: str) -> CellResult:
    found = [c for c in cells if c.cell_type == "code" and call in c.source]
    assert found, f"no code cell calls {call}"
    return found[0]


def _assert_no_errors(cells: list[CellResult]) -> None:
    failed = [c.describe() for c in cells if c.errors]
    assert not failed, "cells with an error output:\n" + "\n".join(failed)
    not_run = [c.describe() for c in cells if c.cell_type == "code" and c.execution_count is None]
    assert not not_run, "code cells that did not run:\n" + "\n".join(not_run)


def _run_solution(learner: Learner, lesson_id: str) -> list[CellResult]:
    """Open a lesson's solution in JupyterLab, run all its cells; no cell may fail."""
    learner.open_lab()
    learner.open_in_file_browser(_lesson("solutions", lesson_id))
    cells = learner.run_all()
    dump_cells(cells, learner.artifacts / "cells.json")
    learner.shot("ran_all")
    _assert_no_errors(cells)
    return cells


@in_browser
@_needs(_lesson("lessons", LESSON_1))
def test_learner_runs_lesson_1_to_its_first_exercise_and_validate_reports_it(
    learner: Learner,
) -> None:
    path = _lesson("lessons", LESSON_1)
    learner.open_lab()
    learner.open_in_file_browser(path)
    learner.close_tab("Launcher")  # as `make lab` opens it: the lesson, no launcher
    learner.shot("opened")
    cells = learner.run_all()
    dump_cells(cells, learner.artifacts / "cells.json")

    exercise = next(c for c in cells if c.cell_type == "code" and c.is_solution)
    check = next(c for c in cells[exercise.index :] if c.is_test)
    _assert_no_errors(cells[: exercise.index])
    error = _first_error(cells)
    assert error is not None, "the untouched first exercise must fail, yet no cell failed"
    assert exercise.index <= error.index <= check.index, (
        f"the first error is not the first exercise's: {error.describe()}"
    )
    assert error.errors[0]["ename"] == "NotImplementedError", error.describe()

    # what the learner sees: the image browser works before any exercise ...
    browser = learner.scroll_to_cell(_cell_calling(cells, "image_browser(").index - 1)
    learner.page.locator(".widget-slider").filter(has_text="Index").first.wait_for(
        timeout=UI_S * 1000
    )
    learner.shot("image_browser", readme="lesson01_jupyterlab.png")
    assert browser.is_visible()
    # ... and the exercise's traceback names NotImplementedError
    failing = learner.scroll_to_cell(error.index)
    assert "NotImplementedError" in failing.locator(".jp-OutputArea").inner_text()
    learner.shot("first_exercise_fails")

    # nbgrader's Validate, on the copy as the learner got it, names the failing tests
    success, text = learner.validate()
    learner.shot("validated")
    assert not success, f"Validate passed an untouched student copy:\n{text}"
    assert "The following cell failed" in text and "NotImplementedError" in text, text


@in_browser
@_needs(_lesson("solutions", LESSON_1))
def test_lesson_1_solution_runs_clean_its_image_browser_responds_and_validates(
    learner: Learner,
) -> None:
    cells = _run_solution(learner, LESSON_1)

    cell = learner.scroll_to_cell(_cell_calling(cells, "image_browser(").index, "center")
    widget = cell.locator(".jp-OutputArea-output .jupyter-widgets").first
    slider = cell.locator(".widget-slider").filter(has_text="Index")
    slider.wait_for(timeout=UI_S * 1000)
    before = _wait_for_new_images(learner, cell, [])
    caption = widget.inner_text()
    assert "image 1 of" in caption, caption
    learner.shot("image_browser", locator=widget)

    _nudge_slider(learner, slider, presses=3)
    after = _wait_for_new_images(learner, cell, before)
    assert after != before
    learner.page.wait_for_function(
        "(el) => el.innerText.includes('image 4 of')", arg=widget.element_handle()
    )
    learner.shot("slider_moved", locator=widget)

    dropdown = cell.locator(".widget-dropdown").filter(has_text="Class").locator("select")
    dropdown.select_option(label="8: Bag")
    _wait_for_new_images(learner, cell, after)
    learner.page.wait_for_function(
        "(el) => el.innerText.includes('Bag')", arg=widget.element_handle()
    )
    learner.shot("class_changed", locator=widget)

    success, text = learner.validate()
    learner.shot("validated")
    assert success, f"nbgrader's Validate reported a problem with the solution:\n{text}"
    assert "Success! Your notebook passes all the tests." in text, text


@in_browser
@_needs(_lesson("solutions", LESSON_5))
def test_lesson_5_kernel_editor_redraws_the_filtered_image(learner: Learner) -> None:
    cells = _run_solution(learner, LESSON_5)

    cell = learner.scroll_to_cell(_cell_calling(cells, "kernel_editor(").index, "center")
    editor = cell.locator(".jp-OutputArea-output .jupyter-widgets").first

    def image_under(label: str):
        return (
            cell.locator(".widget-vbox")
            .filter(has=learner.page.locator(".widget-label", has_text=re.compile(f"^{label}$")))
            .locator("img")
        )

    filtered, original = image_under("filtered"), image_under("original")
    filtered.wait_for(timeout=UI_S * 1000)
    learner.page.wait_for_function(
        "(img) => img.src && img.naturalWidth > 0", arg=filtered.element_handle()
    )
    before, original_before = filtered.get_attribute("src"), original.get_attribute("src")
    status = editor.inner_text()
    learner.shot("kernel_editor", locator=editor, readme="lesson05_kernel_editor.png")

    boxes = cell.locator(".widget-text input")
    assert boxes.count() == 9, f"expected nine kernel boxes, found {boxes.count()}"
    centre = boxes.nth(4)
    centre.click()
    centre.fill("5")
    centre.press("Enter")
    learner.page.wait_for_function(
        "([img, before]) => img.src && img.src !== before",
        arg=[filtered.element_handle(), before],
        timeout=UI_S * 1000,
    )
    assert original.get_attribute("src") == original_before, "the original image must not change"
    now = editor.inner_text()
    assert now != status and "sum of weights 5" in now, f"the status line did not follow:\n{now}"
    learner.shot("kernel_edited", locator=editor)


LESSON_3 = "03_learning_every_weight"


@in_browser
@_needs(_lesson("solutions", LESSON_3))
def test_lesson_3_learning_rate_slider_retrains_and_redraws_the_loss(learner: Learner) -> None:
    cells = _run_solution(learner, LESSON_3)

    cell = learner.scroll_to_cell(_cell_calling(cells, "learning_rate_explorer(").index, "center")
    widget = cell.locator(".jp-OutputArea-output .jupyter-widgets").first
    slider = cell.locator(".widget-slider").filter(has_text="Learning rate")
    slider.wait_for(timeout=UI_S * 1000)
    before = _wait_for_new_images(learner, cell, [])
    status = widget.inner_text()
    assert "too small" in status, status
    learner.shot("learning_rate_explorer", locator=widget)

    _nudge_slider(learner, slider, presses=8)  # 0.001 -> 0.1, a quarter decade a press
    after = _wait_for_new_images(learner, cell, before)
    assert after != before
    learner.page.wait_for_function(
        "(el) => el.innerText.includes('learning:')", arg=widget.element_handle()
    )
    learner.shot("slider_moved", locator=widget)
