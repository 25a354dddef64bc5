"""Download a URL into an open file, showing a progress bar (the data loader's downloads).

Only :mod:`fmnist_utils.data` uses it; what the download must contain, and what to do
when it does not, is the caller's business.
"""

from __future__ import annotations

import sys
import time
import urllib.request
from typing import BinaryIO

_CHUNK = 1 << 18


class Progress:
    """A text progress bar on stderr; in a notebook or terminal it redraws one line.

    Parameters
    ----------
    label : str
        What is being downloaded, shown before the bar.
    total : int
        The expected number of bytes (0 where unknown).
    """

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.live = sys.stderr.isatty() or "ipykernel" in sys.modules
        self._last = 0.0
        if not self.live:
            self._write(f"Downloading {label} ...\n")

    def _write(self, text: str) -> None:
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed or odd stderr must not break a download
            pass

    def _line(self) -> str:
        mb = self.done / 1e6
        if self.total > 0:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            return f"\r{self.label} [{bar:<30}] {frac:4.0%} {mb:6.1f}/{self.total / 1e6:.1f} MB"
        return f"\r{self.label} {mb:6.1f} MB"

    def update(self, n: int) -> None:
        """Count ``n`` more bytes received, redrawing at most ten times a second."""
        self.done += n
        now = time.monotonic()
        if self.live and now - self._last >= 0.1:
            self._last = now
            self._write(self._line())

    def close(self, ok: bool) -> None:
        """End the bar with ``done`` or ``failed``."""
        if self.live:
            self._write(self._line() + (" done\n" if ok else " failed\n"))
        else:
            self._write(f"  {self.done / 1e6:.1f} MB, {'done' if ok else 'failed'}\n")


def fetch(url: str, out: BinaryIO, label: str, *, timeout: float) -> tuple[int, int]:
    """Stream ``url`` into ``out`` with a progress bar.

    Parameters
    ----------
    url : str
        What to download.
    out : binary file
        Where to write the bytes.
    label : str
        The name shown on the progress bar.
    timeout : float
        Seconds to wait for the server (per connection attempt and per read).

    Returns
    -------
    tuple of int
        The bytes received, and the bytes announced (``Content-Length``; 0 where unknown).
        The bar says ``failed`` when they differ.

    Raises
    ------
    urllib.error.URLError, OSError
        Whatever the connection raises.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "fmnist-course"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        bar = Progress(label, total)
        ok = False
        try:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
            ok = not total or bar.done == total
        finally:
            bar.close(ok)
    return bar.done, total
