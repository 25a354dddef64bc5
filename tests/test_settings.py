"""Every FMNIST_* variable is listed once, with its default and meaning, and documented."""

from __future__ import annotations

import re

from fmnist_utils.settings import SETTINGS, markdown

from .conftest import ROOT

# where the course reads or sets a variable, or tells someone to
PLACES = ["fmnist_utils", "tests", "benchmarks", "hub", "binder", ".ci", "docs"]
FILES = ["Makefile", "Dockerfile", "compose.yaml", "nbgrader_config.py", "README.md",
         "CONTRIBUTING.md"]  # fmt: skip
NAME = re.compile(r"\bFMNIST_[A-Z0-9_]*[A-Z0-9]\b")


def _used() -> dict[str, str]:
    found: dict[str, str] = {}
    paths = [ROOT / f for f in FILES]
    for place in PLACES:
        paths += [
            p for p in (ROOT / place).rglob("*") if p.is_file() and "node_modules" not in p.parts
        ]
    for path in paths:
        if path.suffix in (".pyc", ".h5", ".png", ".db") or "artifacts" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for name in NAME.findall(text):
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_every_variable_used_is_listed() -> None:
    exact = {s.name for s in SETTINGS if not s.name.endswith("_")}
    families = tuple(s.name for s in SETTINGS if s.name.endswith("_"))
    missing = {
        n: where for n, where in _used().items() if n not in exact and not n.startswith(families)
    }
    assert not missing, f"Add these to fmnist_utils/settings.py: {missing}"


def test_every_listed_variable_is_used() -> None:
    used = _used()
    unused = [s.name for s in SETTINGS if not s.name.endswith("_") and s.name not in used]
    assert not unused, f"Listed in fmnist_utils/settings.py but used nowhere: {unused}"


def test_each_variable_is_listed_once_for_a_known_audience() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert {s.who for s in SETTINGS} <= {"learner", "instructor", "maintainer", "internal"}


def test_contributing_shows_the_generated_table() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    block = text.split("<!-- settings:begin -->\n", 1)[1].split("<!-- settings:end -->", 1)[0]
    assert block == markdown(), "CONTRIBUTING.md's table is stale: python -m fmnist_utils.settings"
