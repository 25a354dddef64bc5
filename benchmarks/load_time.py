"""How long loading Fashion-MNIST takes: all 70,000 images from the ``.gz`` files.

Run ``python -m benchmarks.load_time [--repeat N] [--data-dir DIR]``. It times
``load_fashion_mnist()`` (which verifies the SHA-256 of every file's decompressed
content on every call) and, for comparison, the bare parse of the same four files with
``read_idx`` (no verification). ``measure()`` returns the figures for other scripts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from fmnist_utils import data


def _peak_rss_mib() -> float | None:
    """Peak resident memory of this process so far, in MiB (None where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def _time(fn: Any, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def measure(repeat: int = 7, data_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Time ``repeat`` full loads, verified and not, and report the peak memory.

    Returns a dict with ``repeat``, ``source`` (the folder read), ``first_s`` (the first,
    untimed-for-median load, which may copy or download), ``median_s``, ``min_s`` and
    ``times_s`` (verified loads), ``unverified_median_s`` and ``unverified_min_s``
    (``read_idx`` on the four files) and ``peak_rss_mib``.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, not {repeat}")
    folder = Path(data_dir) if data_dir is not None else None
    start = time.perf_counter()
    data.load_fashion_mnist(folder)  # may fill Keras' cache or download: not in the figures
    first = time.perf_counter() - start
    source = data.data_source(folder)[0]
    verified = _time(lambda: data.load_fashion_mnist(folder), repeat)
    bare = _time(lambda: [data.read_idx(source / name) for name in data.FILES], repeat)
    return {
        "repeat": repeat,
        "source": str(source),
        "first_s": first,
        "median_s": statistics.median(verified),
        "min_s": min(verified),
        "times_s": verified,
        "unverified_median_s": statistics.median(bare),
        "unverified_min_s": min(bare),
        "peak_rss_mib": _peak_rss_mib(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="loads to time (default 7)")
    parser.add_argument("--data-dir", help="folder with the four .gz files (default: search)")
    args = parser.parse_args(argv)
    r = measure(args.repeat, args.data_dir)
    rss = "unknown" if r["peak_rss_mib"] is None else f"{r['peak_rss_mib']:.0f} MiB"
    print(f"Fashion-MNIST load time, {r['repeat']} runs, from {r['source']}")
    print(f"  verified (load_fashion_mnist): median {r['median_s']:.3f} s, min {r['min_s']:.3f} s")
    print(
        f"  unverified (read_idx x 4):     median {r['unverified_median_s']:.3f} s, "
        f"min {r['unverified_min_s']:.3f} s"
    )
    print(f"  first load (may copy/download): {r['first_s']:.3f} s")
    print(f"  peak RSS: {rss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
