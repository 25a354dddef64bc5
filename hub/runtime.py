"""The learners' runtime: the course's environment, installed apart from the course folder.

The course folder holds the solutions and hidden tests; learners must not read it. Yet
their JupyterLab runs the course's Python environment and imports ``fmnist_utils``,
both of which live there. So the hub installs a runtime every user can read, in its
state folder, and closes the course folder to other users:

- ``<state>/env``: the course's virtual environment, with ``fmnist_utils`` installed as
  a plain package (not the editable link back to the course folder) and its scripts
  pointing at the new place. Files are hard links where the file system allows (no
  second copy of the environment's 3 GB), copies elsewhere.

It is rebuilt only when the environment or the package changed (a digest of every
file's name, size and time), and swapped in whole, so a half-built runtime is never
used.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import shutil
from pathlib import Path

#: The editable install's files, which point back into the course folder.
EDITABLE = "__editable__*fmnist_course*"
STAMP = ".fmnist-runtime"


def _digest(env: Path, package: Path) -> str:
    """Digest the names, sizes and times of every file of ``env`` and ``package``."""
    digest = hashlib.sha256()
    for root in (env, package):
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                info = os.lstat(os.path.join(folder, name))
                rel = os.path.relpath(os.path.join(folder, name), root)
                digest.update(f"{rel}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _link_or_copy(source: str, dest: str) -> None:
    try:
        os.link(source, dest, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, dest, follow_symlinks=False)


def _repoint(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in a text file, as a new file (never through a hard link)."""
    try:
        text = path.read_bytes()
    except OSError:
        return
    if old.encode() not in text or b"\0" in text[:1024]:
        return
    mode = path.stat().st_mode & 0o7777
    path.unlink()
    path.write_bytes(text.replace(old.encode(), new.encode()))
    path.chmod(mode)


def site_packages(env: Path) -> Path:
    """Return a virtual environment's ``site-packages`` folder."""
    (found,) = sorted(env.glob("lib/python*/site-packages"))
    return found


def build(env: Path, package: Path, dest: Path) -> None:
    """Build the runtime at ``dest`` from the environment ``env`` and the package folder.

    Parameters
    ----------
    env : pathlib.Path
        The course's virtual environment (``.venv``).
    package : pathlib.Path
        The ``fmnist_utils`` folder of the course.
    dest : pathlib.Path
        Where the runtime goes; replaced whole once the new one is complete.
    """
    staged = dest.with_name(dest.name + ".new")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(env, staged, symlinks=True, copy_function=_link_or_copy)
    site = site_packages(staged)
    for path in site.glob(EDITABLE):
        path.unlink()
    shutil.copytree(
        package, site / package.name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    compileall.compile_dir(site / package.name, quiet=1)
    for path in (staged / "bin").iterdir():
        if path.is_file() and not path.is_symlink():
            _repoint(path, str(env), str(dest))
    _repoint(staged / "pyvenv.cfg", str(env), str(dest))
    for path in [staged, *staged.rglob("*")]:
        if not path.is_symlink():
            mode = path.stat().st_mode & 0o7777
            readable = mode | (0o555 if path.is_dir() or mode & 0o100 else 0o444)
            wanted = readable & ~0o022  # everyone reads it, only root writes it
            if wanted != mode:
                path.chmod(wanted)  # a hard link shares the mode with the course's copy
    staged.chmod(0o755)
    old = dest.with_name(dest.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    staged.rename(dest)
    shutil.rmtree(old, ignore_errors=True)


def ensure_runtime(env: Path, package: Path, dest: Path, lock: Path) -> bool:
    """Build the runtime unless the one at ``dest`` is of this environment and package.

    ``lock``: a file only root writes; two set-ups at once take turns on it.

    Returns
    -------
    bool
        True when it was (re)built.
    """
    import fcntl

    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        want = _digest(env, package)
        stamp = dest / STAMP
        if stamp.is_file() and stamp.read_text() == want:
            return False
        build(env, package, dest)
        stamp.write_text(want)
        stamp.chmod(0o644)
        return True
