"""Helpers for the browser tests: a private JupyterLab, Debian's Chromium, a learner's clicks.

Everything the browser tests share lives here, so ``tests/test_browser.py``
reads as what a learner does and sees:

- :func:`require_browser` -- skip (or, under ``CI=true``, fail) with a clear
  reason when Playwright or Chromium is missing; :func:`launched_chromium` -- the
  browser itself, headless (the website's tests use it too);
- :class:`LabServer` -- one JupyterLab on 127.0.0.1, a free port and a token,
  in a temporary copy of the course, stopped at the end;
- :class:`Learner` -- a Playwright page in that JupyterLab that opens files
  through the file browser, runs all cells from the Run menu, clicks
  nbgrader's Validate button, reads cell outputs and saves screenshots.

Cell outputs are read from JupyterLab's own notebook model (the server runs
with ``expose_app_in_browser``): in the page, an error's traceback and a
warning printed to stderr look the same, while the model tells them apart.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .support import free_port, in_ci

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"  # every step's screenshot (gitignored)
README_SHOTS = ROOT / "docs" / "_static" / "screenshots"  # the few the docs show (committed)
README_SHOTS_ENV = "FMNIST_README_SCREENSHOTS"  # set to 1 to rewrite them

CHROMIUM_ENV = "FMNIST_CHROMIUM"  # where Chromium is, if not on PATH as `chromium`
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI and containers run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 900}

# The machine may be shared and slow: generous, explicit limits.
LAB_START_S = 60
KERNEL_S = 120  # a kernel starts, or gets idle
RUN_ALL_S = 300  # a whole lesson runs
VALIDATE_S = 300  # nbgrader's Validate runs a whole lesson, server-side
UI_S = 30


# --- Is a browser available? ---------------------------------------------------


def chromium_path() -> str | None:
    """Find Chromium: ``$FMNIST_CHROMIUM``, ``chromium`` on PATH, or Debian's ``/usr/bin/chromium``."""
    candidates = [os.environ.get(CHROMIUM_ENV), shutil.which("chromium"), "/usr/bin/chromium"]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_browser() -> str:
    """Return Chromium's path, or skip the test with the reason (fail instead under ``CI=true``)."""
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package playwright is not installed (make venv installs it)")
    path = chromium_path()
    if path is None:
        problems.append(
            "Chromium is not installed (sudo apt-get install chromium, or point "
            f"{CHROMIUM_ENV} at a Chromium binary); Playwright's own browser download "
            "is not used"
        )
    if problems:
        reason = "browser tests need a browser: " + "; ".join(problems)
        if in_ci():
            pytest.fail(f"{reason}. CI must run them: .ci/run installs what they need.")
        pytest.skip(reason)
    return path


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Launch Debian's Chromium, headless, through Playwright; close it afterwards."""
    path = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


# --- A private JupyterLab ---------------------------------------------------------


def copy_course(target: Path) -> Path:
    """Copy what a learner's JupyterLab needs of the course into ``target``.

    Parameters
    ----------
    target : pathlib.Path
        An empty folder (created if missing).

    Returns
    -------
    pathlib.Path
        ``target``, now holding ``nbgrader_config.py``, ``solutions/`` and ``lessons/``.
    """
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "nbgrader_config.py", target / "nbgrader_config.py")
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    for name in ("solutions", "lessons"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target / name, ignore=skip)
    return target


class LabServer:
    """One JupyterLab on 127.0.0.1 with a token, serving ``root``; a context manager.

    The server runs with ``root`` as its working directory (nbgrader's Validate
    reads ``nbgrader_config.py`` from there), ``FMNIST_FAST=1``, a gradebook in
    ``state``, and its own Jupyter config, runtime, settings and workspace
    folders in ``state``, so nothing a user saved is restored or touched.

    Parameters
    ----------
    root : pathlib.Path
        The course copy to serve.
    state : pathlib.Path
        A scratch folder for the server's own files and its log.
    """

    def __init__(self, root: Path, state: Path) -> None:
        self.root = root
        self.state = state
        self.token = secrets.token_hex(16)
        self.port = 0
        self.log_path = state / "jupyterlab.log"
        self._proc: subprocess.Popen | None = None

    def _settings(self) -> None:
        """User settings of a fresh install, less the question about Jupyter news."""
        notification = self.state / "settings" / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True, exist_ok=True)
        (notification / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )

    def _env(self) -> dict[str, str]:
        """The environment of the server, and so of every kernel it starts."""
        env = dict(os.environ)
        for name in ("config", "runtime", "data", "ipython"):
            (self.state / name).mkdir(parents=True, exist_ok=True)
        bin_dir = str(Path(sys.executable).parent)
        env.update(
            JUPYTER_TOKEN=self.token,
            JUPYTER_CONFIG_DIR=str(self.state / "config"),
            JUPYTER_RUNTIME_DIR=str(self.state / "runtime"),
            JUPYTER_DATA_DIR=str(self.state / "data"),  # no user kernelspec shadows the venv's
            IPYTHONDIR=str(self.state / "ipython"),
            PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",  # nbgrader shells out to alembic
            FMNIST_FAST="1",
            FMNIST_GRADEBOOK_URL=f"sqlite:///{self.state / 'gradebook.db'}",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _command(self) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.workspaces_dir={self.state / 'workspaces'}",
            f"--LabApp.user_settings_dir={self.state / 'settings'}",
            "--LabApp.expose_app_in_browser=True",  # the tests read the notebook model
            "--KernelManager.shutdown_wait_time=1",  # an idle kernel needs no more at the end
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        return command

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "lab") -> str:
        """A URL of the server with the token, e.g. ``url("lab")``."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def _log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url("api/status"), timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def start(self) -> LabServer:
        """Start the server and wait until it answers (up to ``LAB_START_S`` seconds).

        Returns
        -------
        LabServer
            ``self``.
        """
        self.state.mkdir(parents=True, exist_ok=True)
        self._settings()
        env = self._env()
        for _attempt in range(3):  # another process may take the free port first
            self.port = free_port()
            log = open(self.log_path, "w")  # the server writes to it; closed in stop()
            self._proc = subprocess.Popen(
                self._command(),
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
            deadline = time.monotonic() + LAB_START_S
            while time.monotonic() < deadline:
                if self._ready():
                    return self
                if self._proc.poll() is not None:
                    break
                time.sleep(0.5)
            else:
                self.stop()
                raise AssertionError(
                    f"JupyterLab did not answer within {LAB_START_S} s; its log:\n{self._log_tail()}"
                )
            if "already in use" not in self._log_tail():
                break
        raise AssertionError(f"JupyterLab stopped while starting; its log:\n{self._log_tail()}")

    def stop(self) -> None:
        """Shut the server and its kernels down: politely, then by signal."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        request = urllib.request.Request(self.url("api/shutdown"), method="POST")
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        for sig, wait in ((None, 30), (signal.SIGTERM, 15), (signal.SIGKILL, 15)):
            if sig is not None:
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- A learner in the browser -------------------------------------------------------


@dataclass
class CellResult:
    """One cell as JupyterLab's notebook model holds it after a run.

    Attributes
    ----------
    index : int
        Position in the notebook, from 0.
    cell_type : str
        ``code``, ``markdown`` or ``raw``.
    source : str
        The cell's text.
    nbgrader : dict
        The cell's nbgrader metadata (empty if none).
    execution_count : int or None
        The number in the prompt; ``None`` if the cell did not run.
    outputs : list of dict
        The outputs, in nbformat's JSON shape.
    """

    index: int
    cell_type: str
    source: str
    nbgrader: dict
    execution_count: int | None
    outputs: list[dict] = field(default_factory=list)

    @property
    def errors(self) -> list[dict]:
        """The outputs of type ``error`` (a traceback; stderr text is not an error)."""
        return [out for out in self.outputs if out.get("output_type") == "error"]

    @property
    def is_solution(self) -> bool:
        """An exercise: a cell where the learner writes the answer."""
        return bool(self.nbgrader.get("solution"))

    @property
    def is_test(self) -> bool:
        """A graded test cell."""
        return bool(self.nbgrader.get("grade")) and not self.is_solution

    def describe(self) -> str:
        """The cell's position, opening and errors, for assertion messages."""
        head = self.source.strip().splitlines()[0][:80] if self.source.strip() else "(empty)"
        errs = "; ".join(f"{e.get('ename')}: {e.get('evalue')}" for e in self.errors)
        return f"cell {self.index + 1} [{self.execution_count}] `{head}`" + (
            f" -> {errs}" if errs else ""
        )


_READ_CELLS_JS = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = [];
  for (const cell of panel.content.widgets) {
    const m = cell.model;
    cells.push({
      cell_type: m.type,
      source: m.sharedModel.getSource(),
      nbgrader: m.getMetadata('nbgrader') || {},
      execution_count: m.type === 'code' ? m.executionCount : null,
      outputs: m.type === 'code' ? m.outputs.toJSON() : [],
    });
  }
  return cells;
}
"""

_KERNEL_IDLE_JS = """
() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.sessionContext) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}
"""

_RUN_STARTED_JS = """
() => window.jupyterapp.shell.currentWidget.content.widgets.some(
  c => c.model.type === 'code' &&
       (c.model.executionCount !== null || c.model.executionState === 'running'))
"""

_RUN_FINISHED_JS = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  return !panel.content.widgets.some(
    c => c.model.type === 'code' && c.model.executionState === 'running');
}
"""


class Learner:
    """A learner's browser tab in a :class:`LabServer`, with screenshots of each step.

    Parameters
    ----------
    page : playwright.sync_api.Page
        A fresh page (its context has the :data:`VIEWPORT`).
    lab : LabServer
        The running server.
    artifacts : pathlib.Path
        Where this test's screenshots go.
    """

    def __init__(self, page, lab: LabServer, artifacts: Path) -> None:
        self.page = page
        self.lab = lab
        self.artifacts = artifacts
        self._shots = 0
        artifacts.mkdir(parents=True, exist_ok=True)

    # -- screenshots
    def shot(self, name: str, *, locator=None, readme: str | None = None) -> Path:
        """Save a screenshot of the page (or of ``locator``) as ``NN_name.png``.

        With ``readme="file.png"`` and ``FMNIST_README_SCREENSHOTS=1``, also
        write a small copy to ``docs/_static/screenshots/file.png`` for the docs.
        """
        self._shots += 1
        path = self.artifacts / f"{self._shots:02d}_{name}.png"
        if locator is not None:
            locator.screenshot(path=str(path), animations="disabled", caret="hide")
        else:
            self.page.screenshot(path=str(path), animations="disabled", caret="hide")
        if readme and os.environ.get(README_SHOTS_ENV) == "1":
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            small_png(path, README_SHOTS / readme)
        return path

    # -- JupyterLab
    def open_lab(self) -> None:
        """Load JupyterLab and wait until the file browser lists the course."""
        self.page.goto(self.lab.url("lab"), timeout=LAB_START_S * 1000)
        self.page.wait_for_selector("#filebrowser .jp-DirListing-item", timeout=LAB_START_S * 1000)
        self.page.wait_for_function("() => !!window.jupyterapp", timeout=UI_S * 1000)

    def _listing_item(self, name: str):
        return self.page.locator("#filebrowser .jp-DirListing-item").filter(
            has=self.page.locator(
                ".jp-DirListing-itemText", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")
            )
        )

    def open_in_file_browser(self, path: str) -> None:
        """Open ``path`` (relative to the course) by double-clicking through the file browser."""
        parts = path.strip("/").split("/")
        for part in parts[:-1]:
            self._listing_item(part).dblclick(timeout=UI_S * 1000)
            self.page.locator("#filebrowser .jp-BreadCrumbs").filter(has_text=part).wait_for(
                timeout=UI_S * 1000
            )
        item = self._listing_item(parts[-1])
        item.wait_for(timeout=UI_S * 1000)
        item.click()
        self.shot("file_browser")
        item.dblclick()
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=UI_S * 1000)
        self.page.wait_for_function(
            "(name) => { const w = window.jupyterapp.shell.currentWidget;"
            " return !!w && !!w.context && w.context.path.endsWith(name); }",
            arg=parts[-1],
            timeout=UI_S * 1000,
        )
        self.wait_kernel_idle()

    def close_tab(self, title: str) -> None:
        """Close a main-area tab by its title (e.g. the Launcher), if it is open."""
        tab = self.page.locator("#jp-main-dock-panel .lm-TabBar-tab").filter(has_text=title)
        if tab.count():
            tab.first.locator(".lm-TabBar-tabCloseIcon").click()
            tab.first.wait_for(state="detached", timeout=UI_S * 1000)

    def wait_kernel_idle(self, timeout_s: float = KERNEL_S) -> None:
        """Wait until the notebook's kernel is connected and idle."""
        self.page.wait_for_function(_KERNEL_IDLE_JS, timeout=timeout_s * 1000)

    def menu(self, *labels: str) -> None:
        """Click through the menu bar, e.g. ``menu("Run", "Run All Cells")``."""
        top, *items = labels
        self.page.locator(".lm-MenuBar-item").filter(
            has_text=re.compile(rf"^\s*{re.escape(top)}\s*$")
        ).click()
        for label in items:
            self.page.locator(".lm-Menu:visible .lm-Menu-item").filter(
                has=self.page.locator(
                    ".lm-Menu-itemLabel", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
                )
            ).first.click()

    def run_all(self, timeout_s: float = RUN_ALL_S) -> list[CellResult]:
        """Run all cells from the Run menu; wait until the kernel is done; read the cells."""
        self.wait_kernel_idle()
        self.menu("Run", "Run All Cells")
        self.page.wait_for_function(_RUN_STARTED_JS, timeout=UI_S * 1000)
        self.page.wait_for_function(_RUN_FINISHED_JS, timeout=timeout_s * 1000, polling=250)
        return self.cells()

    def cells(self) -> list[CellResult]:
        """Every cell of the current notebook, from JupyterLab's model."""
        raw = self.page.evaluate(_READ_CELLS_JS)
        return [CellResult(index=i, **cell) for i, cell in enumerate(raw)]

    def cell(self, index: int):
        """The locator of the ``index``-th cell (from 0) of the current notebook."""
        return self.page.locator(
            f'.jp-NotebookPanel:visible .jp-Cell[data-windowed-list-index="{index}"]'
        )

    def scroll_to_cell(self, index: int, align: str = "start"):
        """Scroll the notebook so the ``index``-th cell is in view; return its locator.

        ``align`` is ``start``, ``center`` or ``end``, as for ``scrollIntoView``.
        Cells above may change height as they render, so this scrolls until
        the cell stays put.
        """
        self.page.evaluate(
            "async ([i, align]) => {"
            " const notebook = window.jupyterapp.shell.currentWidget.content;"
            " notebook.activeCellIndex = i;"
            " await notebook.scrollToItem(i, align);"
            " const node = notebook.widgets[i].node;"
            " const frame = () => new Promise(r => requestAnimationFrame(() => r()));"
            " let last = null;"
            " for (let k = 0; k < 20; k++) {"
            "  node.scrollIntoView({block: align});"
            "  await frame(); await frame();"
            "  const top = node.getBoundingClientRect().top;"
            "  if (last !== null && Math.abs(top - last) < 1) break;"
            "  last = top; await new Promise(r => setTimeout(r, 100));"
            " } }",
            [index, align],
        )
        cell = self.cell(index)
        cell.wait_for(state="visible", timeout=UI_S * 1000)
        return cell

    def validate(self, timeout_s: float = VALIDATE_S) -> tuple[bool, str]:
        """Click nbgrader's Validate button and read its dialog.

        On a machine whose network interfaces change (containers starting),
        Chromium may drop the request (``net::ERR_NETWORK_CHANGED``); then
        this clicks Validate once more.

        Returns
        -------
        tuple of (bool, str)
            Whether nbgrader reported success, and the dialog's text.
        """
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        button = self.page.locator(".jp-NotebookPanel:visible .validate-button")
        button.wait_for(timeout=UI_S * 1000)
        dialog = self.page.locator(".jp-Dialog").filter(has_text="Validation Results")
        dropped: list[str] = []

        def on_failed(request) -> None:
            if "/assignments/validate" in request.url:
                dropped.append(f"{request.method} {request.url.split('?')[0]}: {request.failure}")

        self.page.on("requestfailed", on_failed)
        try:
            for _attempt in range(2):
                dropped.clear()
                button.click()
                deadline = time.monotonic() + timeout_s
                while time.monotonic() < deadline and not dropped:
                    try:
                        dialog.wait_for(timeout=2000)
                    except PlaywrightTimeout:
                        continue
                    classes = dialog.locator("#validation-message").get_attribute("class") or ""
                    return "validation-success" in classes.split(), dialog.inner_text()
                if not dropped:
                    raise AssertionError(
                        f"nbgrader's Validate did not answer within {timeout_s:.0f} s "
                        "(see jupyterlab.log and console.log in the test's artifacts)"
                    )
                self.shot("validate_request_dropped")
                while self.page.locator(".jp-Dialog").count():
                    self.page.keyboard.press("Escape")
                    self.page.wait_for_timeout(200)
                self.page.wait_for_function(
                    "() => !document.querySelector("
                    "'.jp-NotebookPanel:not(.lm-mod-hidden) .validate-button [disabled]')",
                    timeout=timeout_s * 1000,
                )
            raise AssertionError(f"the browser dropped Validate's request twice: {dropped}")
        finally:
            self.page.remove_listener("requestfailed", on_failed)

    def close_dialog(self) -> None:
        """Press the dialog's OK button."""
        self.page.locator(".jp-Dialog .jp-mod-accept").click()
        self.page.locator(".jp-Dialog").wait_for(state="detached", timeout=UI_S * 1000)


def small_png(source: Path, target: Path) -> None:
    """Write ``source`` to ``target`` as a 256-colour PNG (screenshots of a UI lose nothing visible)."""
    from PIL import Image

    with Image.open(source) as image:
        small = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        small.save(target, format="PNG", optimize=True)


def dump_cells(cells: list[CellResult], path: Path) -> None:
    """Save the cells as JSON next to the screenshots, for whoever reads a failure."""
    path.write_text(json.dumps([c.__dict__ for c in cells], indent=1, default=str))
