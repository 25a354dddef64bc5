"""Helpers every test module may need: CI detection, free ports, the repository's files."""

from __future__ import annotations

import os
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
