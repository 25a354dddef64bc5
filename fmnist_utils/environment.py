"""Check that the libraries a lesson uses are the versions the course pins.

Every lesson's setup cell calls :func:`check_versions`, so a learner whose
environment drifted sees at once which package to fix, and how.
"""

from __future__ import annotations

import warnings
from importlib import metadata

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
