"""The website (``make site``): built offline from this repository, free of answers, and
sound in a real Chromium: no console error, every image and internal link, formulas
drawn with no network, figures on the lesson pages, alternative text on every image,
and no serious or critical accessibility violation (axe-core)."""

from __future__ import annotations

import functools
import html
import http.server
import re
import threading
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from fmnist_utils.tooling.lessons import HIDDEN_MARKERS, SOLUTION_MARKERS, find_lessons
from fmnist_utils.tooling.site import add_figures, learner_view

from .browser import launched_chromium
from .conftest import ROOT

pytestmark = pytest.mark.slow
IMPACTS = ("serious", "critical")


@pytest.fixture(scope="module")
def site() -> Path:
    """The website, built as ``make site`` builds it (lessons run only when they changed)."""
    from fmnist_utils.tooling.site import build_site

    return build_site(ROOT)


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)


def _secret_lines() -> set[str]:
    """Lines of the solutions and hidden tests that no student notebook holds."""
    secret: set[str] = set()
    student: set[str] = set()
    for lesson in find_lessons(ROOT):
        release = nbformat.read(lesson.release_ipynb, as_version=4)
        student |= {line.strip() for c in release.cells for line in c.source.splitlines()}
        source = nbformat.read(lesson.source_ipynb, as_version=4)
        for cell in source.cells:
            inside = False
            for line in cell.source.splitlines():
                if line.strip() in (SOLUTION_MARKERS[0], HIDDEN_MARKERS[0]):
                    inside = True
                elif line.strip() in (SOLUTION_MARKERS[1], HIDDEN_MARKERS[1]):
                    inside = False
                elif inside and len(line.strip()) >= 12:
                    secret.add(line.strip())
    return secret - student


def _text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        nb = nbformat.reads(raw, as_version=4)
        parts = [c.source for c in nb.cells]
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                parts += [output.get("text", ""), str(output.get("data", {}).get("text/plain", ""))]
        return "\n".join(parts)
    if path.suffix == ".html":
        raw = html.unescape(re.sub(r"<[^>]+>", "", raw))
    return raw


def test_the_site_holds_no_solution_and_no_hidden_test(site: Path) -> None:
    secret = _secret_lines()
    assert len(secret) > 50, "the scan found too few solution lines to prove anything"
    files = [
        p
        for p in site.rglob("*")
        if p.is_file()
        and p.suffix in (".html", ".txt", ".ipynb", ".json")
        and "_static" not in p.parts
    ]
    assert any(p.suffix == ".ipynb" for p in files), "the lesson downloads are scanned too"
    leaks = []
    for path in files:
        lines = {line.strip() for line in _text(path).splitlines()}
        leaks += [f"{path.relative_to(site)}: {line}" for line in sorted(secret & lines)]
    assert not leaks, "solution or hidden-test lines on the website:\n" + "\n".join(leaks[:20])


def test_a_cell_that_needs_an_answer_gets_only_the_solved_figure() -> None:
    view = nbformat.v4.new_notebook()
    solved = nbformat.v4.new_notebook()
    text = nbformat.v4.new_markdown_cell(
        "Each class has a mean. The means of all ten, side by side:"
    )
    answer = {"nbgrader": {"solution": True, "grade": False, "grade_id": "mean_image"}}
    cells = [
        (text, text),
        (nbformat.v4.new_code_cell("def f(): raise NotImplementedError", metadata=answer),
         nbformat.v4.new_code_cell("def f(): return 1", metadata=answer)),
        (nbformat.v4.new_code_cell("means = f(); plot(means); means"),
         nbformat.v4.new_code_cell("means = f(); plot(means); means")),
    ]  # fmt: skip
    for index, (mine, theirs) in enumerate(cells):
        mine.id = theirs.id = f"cell-{index}"
        view.cells.append(mine)
        solved.cells.append(theirs)
    view.cells[2].outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="f")]
    solved.cells[1].outputs = [nbformat.v4.new_output("stream", text="secret 1\n")]
    solved.cells[2].outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "x"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "array([0.25])"}),
    ]
    view = learner_view(view)
    add_figures(view, solved)
    assert view.cells[1].outputs == [], "the exercise's own cell shows nothing"
    assert [o["data"] for o in view.cells[2].outputs] == [{"image/png": "iVBOR"}], (
        "only the figure comes across: no printed value"
    )
    assert view.cells[2].metadata["mystnb"]["image"]["alt"] == (
        "Figure for: Each class has a mean. The means of all ten, side by side:"
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test reports what matters
        pass


@pytest.fixture(scope="module")
def served(site: Path):
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as launched:
        yield launched


def _visit(browser, base: str, page_path: str) -> dict:
    """Open one page with the network cut off; report what went wrong on it."""
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    failed: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: r.url.startswith(base) and failed.append(r.url))

    def route(r) -> None:
        if r.request.url.startswith(base) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    response = page.goto(base + page_path, wait_until="load")
    page.wait_for_load_state("networkidle")
    found = page.evaluate(
        """() => ({
            images: [...document.images].map(i => ({src: i.getAttribute('src'),
                alt: i.getAttribute('alt') || '', ok: i.complete && i.naturalWidth > 0})),
            links: [...document.querySelectorAll('a[href]')].map(a => a.href),
            maths: document.querySelectorAll('math').length,
            mathWidth: [...document.querySelectorAll('math')].slice(0, 5)
                .map(m => m.getBoundingClientRect().width),
            outputs: document.querySelectorAll('.cell_output img').length,
            rawDollars: (document.querySelector('main') || document.body).innerText
                .match(/\\$\\$|\\\\frac|\\\\sum/g) || [],
        })"""
    )
    # what the page itself did, before axe-core loads the page's stylesheets again
    loaded = dict(status=response.status, errors=list(errors), outside=list(outside),
                  failed=list(failed))  # fmt: skip
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in Axe().run(page).response["violations"]
        if v.get("impact") in IMPACTS
    ]
    context.close()
    return dict(found, **loaded, violations=violations)


@pytest.fixture(scope="module")
def visits(site: Path, served: str, browser) -> dict[str, dict]:
    return {
        p.relative_to(site).as_posix(): _visit(browser, served, p.relative_to(site).as_posix())
        for p in _pages(site)
    }


def test_every_page_loads_cleanly_offline(visits: dict[str, dict]) -> None:
    bad = {
        name: {k: v[k] for k in ("status", "errors", "outside", "failed") if v[k] not in ([], 200)}
        for name, v in visits.items()
        if v["status"] != 200 or v["errors"] or v["outside"] or v["failed"]
    }
    assert not bad, f"pages with errors or requests that would need the network: {bad}"


def test_every_image_loads_and_has_alternative_text(visits: dict[str, dict]) -> None:
    broken = [f"{n}: {i['src']}" for n, v in visits.items() for i in v["images"] if not i["ok"]]
    assert not broken, f"images that do not load: {broken}"
    silent = [
        f"{n}: {i['src']}"
        for n, v in visits.items()
        for i in v["images"]
        if len(i["alt"].strip()) < 10 or i["alt"].endswith(".png")
    ]
    assert not silent, f"images without a real alternative text: {silent}"


def test_every_internal_link_resolves(site: Path, served: str, visits: dict[str, dict]) -> None:
    missing = set()
    for name, v in visits.items():
        for href in v["links"]:
            if not href.startswith(served):
                continue
            path = urllib.parse.unquote(urllib.parse.urlsplit(href).path)
            target = site / path.removeprefix("/")
            if path.endswith("/"):
                target = target / "index.html"
            if not target.is_file():
                missing.add(f"{name} -> {href}")
    assert not missing, f"internal links to nothing: {sorted(missing)}"


def test_formulas_are_drawn_without_the_network(visits: dict[str, dict]) -> None:
    lessons = {n: v for n, v in visits.items() if re.match(r"lessons/\d\d_", n)}
    assert len(lessons) == len(find_lessons(ROOT))
    for name, v in lessons.items():
        assert v["maths"] > 0, f"{name} shows no formula"
        assert all(w > 0 for w in v["mathWidth"]), f"{name}: formulas take no space"
        assert not v["rawDollars"], f"{name} shows LaTeX source: {v['rawDollars'][:3]}"


def test_lesson_pages_show_figures(visits: dict[str, dict]) -> None:
    lessons = {n: v for n, v in visits.items() if re.match(r"lessons/\d\d_", n)}
    bare = [n for n, v in lessons.items() if v["outputs"] == 0]
    assert not bare, f"lesson pages without a figure: {bare}"


def test_no_serious_accessibility_violation(visits: dict[str, dict]) -> None:
    found = {n: v["violations"] for n, v in visits.items() if v["violations"]}
    assert not found, f"axe-core finds serious or critical violations: {found}"
