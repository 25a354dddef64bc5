"""A learner on the class hub, in Chromium: sign in, then the Assignments panel's buttons.

``tests/test_hub.py`` drives one learner of its term through the real pages: the hub's
login form, their JupyterLab, nbgrader's **Assignments** panel (Fetch, the lesson's
notebook, Submit, Fetch Feedback). Every step's screenshot goes to
``tests/artifacts/browser/hub/``; with ``FMNIST_README_SCREENSHOTS=1`` the few that
the hub page of the website shows are also written, small, to ``docs/_static/screenshots/``.
The browser helpers themselves (Chromium, its arguments, small PNGs) are
``tests/browser.py``'s.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .browser import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    KERNEL_S,
    LAB_START_S,
    README_SHOTS,
    README_SHOTS_ENV,
    UI_S,
    VIEWPORT,
    require_browser,
    small_png,
)

HUB_ARTIFACTS = ARTIFACTS / "hub"
#: nbgrader's server-side actions may wait on a busy machine.
ACTION_S = 120


class HubLearner:
    """One learner's browser tab on the hub; screenshots of every step.

    Parameters
    ----------
    page : playwright.sync_api.Page
        A fresh page of its own browser context (its own cookies).
    base : str
        The hub's address, ``http://127.0.0.1:PORT``.
    name : str
        The learner's login name.
    artifacts : pathlib.Path
        Where the screenshots go.
    """

    def __init__(self, page, base: str, name: str, artifacts: Path) -> None:
        self.page = page
        self.base = base
        self.name = name
        self.artifacts = artifacts
        self._shots = 0

    def shot(self, name: str, docs: str | None = None) -> Path:
        """Save a screenshot ``NN_name.png``; with ``docs``, the guide's copy too (see above)."""
        self._shots += 1
        path = self.artifacts / f"{self._shots:02d}_{name}.png"
        self.page.screenshot(path=str(path), animations="disabled", caret="hide")
        if docs and os.environ.get(README_SHOTS_ENV) == "1":
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            small_png(path, README_SHOTS / docs)
        return path

    def sign_in(self, password: str) -> None:
        """Sign in with the hub's login form, then open JupyterLab."""
        page = self.page
        page.goto(f"{self.base}/hub/login", timeout=LAB_START_S * 1000)
        page.fill("#username_input", self.name)
        page.fill("#password_input", password)
        self.shot("login")
        page.click("#login_submit")
        page.wait_for_url(re.compile(r".*/(user|hub)/.*"), timeout=LAB_START_S * 1000)
        page.goto(f"{self.base}/user/{self.name}/lab", timeout=LAB_START_S * 1000)
        page.wait_for_selector("#filebrowser .jp-DirListing-item", timeout=LAB_START_S * 1000)
        self._dismiss_news()

    def _dismiss_news(self) -> None:
        """Answer JupyterLab's first-start question about news, if it asks."""
        no = self.page.locator(".jp-toast-button", has_text=re.compile(r"^\s*No\s*$"))
        try:
            no.first.click(timeout=3000)
        except Exception:
            pass

    def open_assignments(self) -> None:
        """Open the Assignments panel from the Nbgrader menu."""
        page = self.page
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^\s*Nbgrader\s*$")).click()
        page.locator(".lm-Menu:visible .lm-Menu-item", has_text="Assignment List").first.click()
        page.wait_for_selector("#released_assignments_list", timeout=UI_S * 1000)

    def _row(self, listing: str, lesson: str):
        """The lesson's row in one of the panel's lists (released, fetched, submitted)."""
        return self.page.locator(f"#{listing}_assignments_list > .list_item").filter(
            has_text=lesson
        )

    def _press(self, listing: str, lesson: str, button: str, then: str) -> None:
        """Press a row's button; wait until the lesson shows in the list ``then``."""
        row = self._row(listing, lesson)
        row.locator("button", has_text=re.compile(rf"^\s*{button}\s*$")).click(
            timeout=ACTION_S * 1000
        )
        self._row(then, lesson).first.wait_for(timeout=ACTION_S * 1000)

    def fetch(self, lesson: str) -> None:
        """Wait for the released lesson, press *Fetch*."""
        self._row("released", lesson).first.wait_for(timeout=ACTION_S * 1000)
        self.shot("released", docs="hub_assignments_released.png")
        self._press("released", lesson, "Fetch", then="fetched")
        self.shot("fetched")

    def open_notebook(self, lesson: str) -> None:
        """Open the fetched lesson's notebook from its row in the panel."""
        page = self.page
        row = self._row("fetched", lesson)
        row.locator("a.assignment-notebooks-link").click()
        link = row.locator(".nested_list_item a", has_text=lesson)
        link.first.wait_for(state="visible", timeout=UI_S * 1000)
        self.shot("notebooks_listed")
        link.first.click()
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=UI_S * 1000)
        tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text=f"{lesson}.ipynb")
        tab.first.wait_for(timeout=UI_S * 1000)
        # the lesson's own text, rendered, and its kernel started
        page.locator(".jp-NotebookPanel:visible .jp-RenderedMarkdown h1").first.wait_for(
            timeout=UI_S * 1000
        )
        page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(
            timeout=KERNEL_S * 1000
        )
        self.shot("notebook_open", docs="hub_lesson_fetched.png")

    def back_to_assignments(self) -> None:
        """Bring the Assignments panel to the front and reload its lists."""
        page = self.page
        page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text="Assignments").first.click()
        page.locator("#refresh_assignments_list").click()
        page.wait_for_selector("#released_assignments_list", timeout=UI_S * 1000)

    def submit(self, lesson: str) -> None:
        """Press *Submit* on the fetched lesson; wait for it under the submitted ones."""
        self.back_to_assignments()
        self._press("fetched", lesson, "Submit", then="submitted")
        self.shot("submitted", docs="hub_assignments_submitted.png")

    def fetch_feedback(self, lesson: str) -> None:
        """Press *Fetch Feedback*; wait until the submission offers its feedback."""
        self.back_to_assignments()
        row = self._row("submitted", lesson)
        row.first.wait_for(timeout=UI_S * 1000)
        row.locator("button", has_text="Fetch Feedback").click(timeout=ACTION_S * 1000)
        self.page.locator("#submitted_assignments_list a", has_text="view feedback").first.wait_for(
            timeout=ACTION_S * 1000
        )
        self.shot("feedback_fetched", docs="hub_feedback_fetched.png")


@contextmanager
def hub_learner(base: str, name: str) -> Iterator[HubLearner]:
    """Chromium with one tab for ``name`` on the hub at ``base``; closed afterwards.

    Skips (fails under ``CI=true``) without Chromium or Playwright. Keeps the
    console's messages and the last screen with the screenshots.
    """
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    artifacts = HUB_ARTIFACTS
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
            page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
            learner = HubLearner(page, base, name, artifacts)
            try:
                yield learner
            finally:
                try:
                    learner.shot("last_screen")
                except Exception as error:
                    console.append(f"(no last screenshot: {error})")
                (artifacts / "console.log").write_text("\n".join(console))
        finally:
            browser.close()
