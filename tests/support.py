"""Helpers every test module may need: CI detection, free ports, the repository's files, the guide."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT


def in_ci() -> bool:
    """Tell whether the tests run in CI (``CI`` set to true, 1 or yes)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skip a test for want of a tool here; in CI, where every tool is installed, fail."""
    if in_ci():
        pytest.fail(f"CI must run this test, but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def repository_files(pattern: str | None = None) -> list[str]:
    """Return what a clone holds: tracked and new, not ignored, files (relative paths).

    Parameters
    ----------
    pattern : str, optional
        A git pathspec (``"*.ipynb"``) to list only those files.
    """
    done = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
         *([pattern] if pattern else [])],
        cwd=ROOT, capture_output=True, check=True,
    )  # fmt: skip
    return [name for name in done.stdout.decode().split("\0") if name and (ROOT / name).is_file()]


def copy_repository(dest: Path) -> Path:
    """Copy what a clone holds (:func:`repository_files`) into ``dest``; return ``dest``."""
    for name in repository_files():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    return dest


GUIDE = ROOT / "docs" / "instructors"


def guide_pages() -> list[Path]:
    """The instructors' pages of the website, in the order of their table of contents."""
    index = (GUIDE / "index.md").read_text(encoding="utf-8")
    toc = index.split("```{toctree}", 1)[1].split("```", 1)[0]
    names = [line.strip() for line in toc.splitlines() if line.strip() and ":" not in line]
    return [GUIDE / f"{name}.md" for name in names]


def guide_text() -> str:
    """The instructors' guide: its pages, one after another."""
    return "\n".join(p.read_text(encoding="utf-8") for p in [GUIDE / "index.md", *guide_pages()])


def guide_blocks(kind: str = "bash") -> list[str]:
    """The instructors' guide's fenced blocks of one kind, in order."""
    return re.findall(rf"^```{kind}\n(.*?)^```", guide_text(), flags=re.M | re.S)


def gib(size: str) -> float:
    """A size such as ``1.5 GiB`` or ``2G`` in GiB (the chart's G is GiB, as KubeSpawner's)."""
    match = re.fullmatch(r"([0-9.]+) ?(GiB|G)", size.strip())
    assert match, size
    return float(match.group(1))
