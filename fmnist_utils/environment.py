"""Check that the libraries a lesson uses are the versions the course pins; seed them.

Every lesson's setup cell calls :func:`check_versions`, so a learner whose
environment drifted sees at once which package to fix, and how. A lesson that does
not need TensorFlow seeds with :func:`set_random_seed`, which does not import it.
"""

from __future__ import annotations

import os
import platform
import random
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

DISTRIBUTION = "fmnist-course"


class VersionWarning(UserWarning):
    """An installed library is not the version the course was written for."""


def pinned_requirements() -> dict[str, Requirement]:
    """Read the course's pinned runtime requirements from its installed metadata.

    Returns
    -------
    dict
        Requirement per normalised package name (extras such as ``dev`` excluded).
    """
    pins = {}
    for line in metadata.requires(DISTRIBUTION) or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            pins[req.name.lower()] = req
    return pins


def check_versions(
    packages: tuple[str, ...] = ("keras", "tensorflow", "numpy", "matplotlib"),
) -> dict[str, str]:
    """Print the versions of the main libraries and warn about any drift.

    Parameters
    ----------
    packages : tuple of str, optional
        Which pinned packages to check.

    Returns
    -------
    dict
        Installed version per package (``"missing"`` if not installed).

    Warns
    -----
    VersionWarning
        For each package that is missing or outside the course's pin, saying
        how to reinstall the course.
    """
    pins = pinned_requirements()
    found = {}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
        req = pins.get(name.lower())
        ok = found[name] != "missing" and (req is None or req.specifier.contains(found[name]))
        mark = "ok" if ok else "!!"
        print(f"{mark} {name:<11} {found[name]:<9} (course pins {req.specifier if req else '-'})")
        if not ok:
            warnings.warn(
                f"{name} {found[name]} is not what the course pins ({req}). Results may "
                "differ from the text. Reinstall the course: `make venv` in the course "
                "folder, or `pip install -e .` in your environment.",
                VersionWarning,
                stacklevel=2,
            )
    return found


def set_random_seed(seed: int) -> None:
    """Seed Python's and NumPy's random generators, and Keras' where it is imported.

    The same seeding as ``keras.utils.set_random_seed`` for a lesson that does not use
    Keras: it never imports Keras or TensorFlow (seconds of start-up), and seeds them
    too when the lesson imported them already. Import Keras before calling it.

    Parameters
    ----------
    seed : int
        The seed.
    """
    import numpy as np

    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global generator is what Keras seeds
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)


#: CPU flags of ``/proc/cpuinfo`` that set how fast TensorFlow's kernels run, widest first,
#: with the name a record gives them. Two machines with the same model name can differ
#: here (and train twice as fast or slow): a time compares only where both agree.
VECTOR_EXTENSIONS: tuple[tuple[str, str], ...] = (
    ("avx512f", "AVX-512"),
    ("avx2", "AVX2"),
    ("avx", "AVX"),
    ("asimd", "NEON"),
)


def describe_cpu(cpuinfo: str) -> tuple[str, str]:
    """Read a CPU's model name and its widest vector extension from ``/proc/cpuinfo``'s text.

    Parameters
    ----------
    cpuinfo : str
        The text of ``/proc/cpuinfo`` (its first processor is read).

    Returns
    -------
    tuple of str
        The model name (``"unknown"`` if absent) and the widest of
        :data:`VECTOR_EXTENSIONS` the flags list (``"none"`` if none of them).
    """
    name, flags = "unknown", set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and name == "unknown":
            name = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    vector = next((label for flag, label in VECTOR_EXTENSIONS if flag in flags), "none")
    return name, vector


def describe_machine() -> dict[str, Any]:
    """Describe this machine and its load, for a measured figure's record.

    Imports Keras and TensorFlow (to name their versions): call it where they are
    imported anyway.

    Returns
    -------
    dict
        ``cpu`` (model name), ``vector`` (its widest vector extension,
        :func:`describe_cpu`), ``cores`` (usable by this process), ``memory_gib``,
        ``load_average`` (1, 5 and 15 minutes, now), ``python``, ``numpy``, ``keras``,
        ``tensorflow`` and ``date``.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    try:
        cpu, vector = describe_cpu(Path("/proc/cpuinfo").read_text())
    except OSError:
        cpu, vector = "unknown", "unknown"
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = 0
    return {
        "cpu": cpu,
        "vector": vector,
        "cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }
