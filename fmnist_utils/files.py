"""Write a file all at once: readers see the old file or the whole new one, never a part.

Used by the data loader (downloads, Keras' cache, CSV files) and the lesson build;
:func:`differing` tells which derived files (lessons, dependency files) are stale.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "differing"]


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[BinaryIO], object],
    *,
    check: Callable[[Path], object] | None = None,
    overwrite: bool = True,
    mode: int = 0o644,
) -> Path:
    """Write ``path`` through a temporary file beside it, then rename it into place.

    Parameters
    ----------
    path : str or path-like
        The file to write; its folder must exist.
    write : callable
        Called with the open temporary file (binary) to write the content.
    check : callable, optional
        Called with the temporary file's path once written: raise to keep the real
        file as it was (a download that fails verification).
    overwrite : bool
        If False, raise :class:`FileExistsError` rather than replace a file that
        exists, even one that appears while writing.
    mode : int
        The new file's permission bits.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        if check is not None:
            check(tmp)
        os.chmod(tmp, mode)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic, and fails if the file appeared meanwhile
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links
                if path.exists():
                    raise FileExistsError(path) from None
                os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def differing(expected: Mapping[Path, bytes]) -> dict[Path, bytes]:
    """Return the files that are missing or do not hold the expected bytes.

    Parameters
    ----------
    expected : mapping
        Each file's path, mapped to the bytes it must hold.

    Returns
    -------
    dict
        The entries of ``expected`` whose file is missing or differs, in their order.
    """
    return {
        path: data
        for path, data in expected.items()
        if not path.is_file() or path.read_bytes() != data
    }
