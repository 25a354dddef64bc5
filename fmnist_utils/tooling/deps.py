"""Derive every other dependency declaration from ``pyproject.toml``.

``pyproject.toml`` is the one place the course pins its dependencies, one per
line with a comment saying why. From it this module renders:

- ``environment.yml``         -- for conda users (conda-forge, Python 3.11);
- ``binder/requirements.txt`` -- what mybinder.org installs.

The ``Dockerfile`` needs nothing rendered: it runs ``pip install .`` on
``pyproject.toml`` itself, and :func:`dockerfile_problems` checks that it pins
nothing of its own.

Command line::

    python -m fmnist_utils.tooling.deps            # print what would be written
    python -m fmnist_utils.tooling.deps --check    # exit 1, listing the drift, if any file differs
    python -m fmnist_utils.tooling.deps --write    # regenerate the files
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import Specifier
from packaging.utils import canonicalize_name

from fmnist_utils.files import atomic_write, differing

ROOT = Path(__file__).resolve().parents[2]
PYTHON_VERSION = "3.11"
GENERATED = (
    "Generated from pyproject.toml by `python -m fmnist_utils.tooling.deps --write`: do not edit."
)


@dataclass(frozen=True)
class Dependency:
    """One pinned dependency, as written in ``pyproject.toml``.

    Attributes
    ----------
    requirement : packaging.requirements.Requirement
        The parsed requirement, e.g. ``keras~=3.15.1``.
    comment : str
        The comment on its line: why the course needs it.
    """

    requirement: Requirement
    comment: str

    @property
    def name(self) -> str:
        """The normalised PyPI name."""
        return canonicalize_name(self.requirement.name)


def _comments(text: str) -> dict[str, str]:
    """Map each quoted requirement string in the TOML text to its line's comment."""
    found = {}
    for line in text.splitlines():
        match = re.match(r'^\s*"([^"]+)"\s*,?\s*(?:#\s*(.*?))?\s*$', line)
        if match:
            found[match.group(1)] = match.group(2) or ""
    return found


def read_pyproject(path: Path = ROOT / "pyproject.toml") -> dict[str, list[Dependency]]:
    """Read the runtime dependencies and the optional extras of the course.

    Parameters
    ----------
    path : pathlib.Path, optional
        The ``pyproject.toml`` to read.

    Returns
    -------
    dict
        ``"runtime"`` -> the ``[project].dependencies``; each extra's name ->
        its list; every entry with the comment of its line.
    """
    text = path.read_text(encoding="utf-8")
    project = tomllib.loads(text)["project"]
    comments = _comments(text)
    groups = {"runtime": project.get("dependencies", [])}
    groups.update(project.get("optional-dependencies", {}))
    return {
        group: [Dependency(Requirement(spec), comments.get(spec, "")) for spec in specs]
        for group, specs in groups.items()
    }


def conda_spec(requirement: Requirement) -> str:
    """Translate a PEP 440 requirement into a conda match spec.

    ``~=X.Y.Z`` becomes ``>=X.Y.Z,<X.(Y+1)`` and ``~=X.Y`` becomes
    ``>=X.Y,<(X+1)``, the same set of versions; other operators carry over.

    Parameters
    ----------
    requirement : packaging.requirements.Requirement
        E.g. ``keras~=3.15.1``.

    Returns
    -------
    str
        E.g. ``keras >=3.15.1,<3.16``.
    """
    parts = []
    for spec in sorted(requirement.specifier, key=str):
        parts.extend(_conda_clauses(spec))
    name = requirement.name  # every course package has its PyPI name on conda-forge
    return f"{name} {','.join(parts)}" if parts else name


def _conda_clauses(spec: Specifier) -> list[str]:
    if spec.operator == "~=":
        release = spec.version.split("+")[0].split(".")
        if len(release) < 2 or not all(part.isdigit() for part in release):
            raise ValueError(f"cannot translate {spec} for conda")
        upper = [*release[:-2], str(int(release[-2]) + 1)]
        return [f">={spec.version}", f"<{'.'.join(upper)}"]
    if spec.operator == "===":
        raise ValueError(f"conda has no arbitrary equality: {spec}")
    return [f"{spec.operator}{spec.version}"]


def render_requirements(groups: dict[str, list[Dependency]]) -> str:
    """Render ``binder/requirements.txt``: the runtime pins, with their comments."""
    deps = groups["runtime"]
    width = max(len(str(dep.requirement)) for dep in deps) + 2
    lines = [
        f"# {GENERATED}",
        "# What mybinder.org installs; binder/postBuild then installs the course itself.",
    ]
    for dep in deps:
        lines.append(f"{str(dep.requirement):<{width}}# {dep.comment}".rstrip())
    return "\n".join(lines) + "\n"


def render_environment(groups: dict[str, list[Dependency]]) -> str:
    """Render ``environment.yml`` for conda: conda-forge, Python 3.11, the runtime pins."""
    deps = groups["runtime"]
    specs = {dep.name: conda_spec(dep.requirement) for dep in deps}
    width = max([len(s) for s in specs.values()] + [len("pip")]) + 4
    lines = [
        f"# {GENERATED}",
        "# The course for conda users:",
        "#   conda env create -f environment.yml && conda activate fmnist-course",
        "name: fmnist-course",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - {'python =' + PYTHON_VERSION:<{width}}# the course's Python",
        f"  - {'pip':<{width}}# installs the course package itself, below",
    ]
    for dep in deps:
        lines.append(f"  - {specs[dep.name]:<{width}}# {dep.comment}".rstrip())
    lines.append("  - pip:")
    lines.append("      - -e .  # the course's own helpers (fmnist_utils); its pins are above")
    return "\n".join(lines) + "\n"


def rendered(root: Path = ROOT) -> dict[Path, str]:
    """Every derived dependency file, keyed by its path.

    Parameters
    ----------
    root : pathlib.Path, optional
        The course repository.

    Returns
    -------
    dict
        Path -> the text it must hold.
    """
    groups = read_pyproject(root / "pyproject.toml")
    return {
        root / "environment.yml": render_environment(groups),
        root / "binder" / "requirements.txt": render_requirements(groups),
    }


_PIN = re.compile(r"(==|~=|>=|<=|!=|>|<|@)\s*[0-9A-Za-z]")
#: The course itself, with or without its extras: `.`, `".[hub]"`.
_COURSE = re.compile(r"""(["']?)\.(\[[a-z0-9_,-]+\])?\1""")


def dockerfile_problems(path: Path) -> list[str]:
    """Check that the Dockerfile installs Python packages only from ``pyproject.toml``.

    Parameters
    ----------
    path : pathlib.Path
        The Dockerfile.

    Returns
    -------
    list of str
        One line per ``pip install`` that names a package or a version; empty
        when every one installs the course from ``.``.
    """
    text = path.read_text(encoding="utf-8")
    # Join continued lines, so one RUN instruction is one logical line.
    logical = re.sub(r"\\\n", " ", text)
    problems = []
    installs = 0
    for line in logical.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for command in re.split(r"&&|;|\|\|", line):
            words = command.split()
            if "pip" not in " ".join(words) or "install" not in words:
                continue
            if not any(w.endswith("pip") or w == "pip" for w in words):
                continue
            installs += 1
            targets = [w for w in words[words.index("install") + 1 :] if not w.startswith("-")]
            if len(targets) != 1 or not _COURSE.fullmatch(targets[0]) or _PIN.search(command):
                problems.append(
                    f"{path.name}: `{command.strip()}` installs something other than the "
                    "course from pyproject.toml (`pip install .`); pin it in pyproject.toml"
                )
    if installs == 0:
        problems.append(f"{path.name}: no `pip install .` found: the image would lack the course")
    return problems


def _encoded(texts: dict[Path, str]) -> dict[Path, bytes]:
    return {path: text.encode("utf-8") for path, text in texts.items()}


def drift(root: Path = ROOT) -> list[str]:
    """List every dependency declaration that disagrees with ``pyproject.toml``.

    Parameters
    ----------
    root : pathlib.Path, optional
        The course repository.

    Returns
    -------
    list of str
        One line per problem; empty when all agree.
    """
    problems = [
        f"{path.relative_to(root)}: "
        + ("differs from what pyproject.toml gives" if path.is_file() else "missing")
        for path in differing(_encoded(rendered(root)))
    ]
    dockerfile = root / "Dockerfile"
    if dockerfile.is_file():
        problems.extend(dockerfile_problems(dockerfile))
    else:
        problems.append("Dockerfile: missing")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run the command line; see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m fmnist_utils.tooling.deps", description=__doc__
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if any file drifted")
    mode.add_argument("--write", action="store_true", help="regenerate the derived files")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course repository")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    if args.check:
        problems = drift(root)
        for line in problems:
            print(line)
        if problems:
            print(
                "Run `python -m fmnist_utils.tooling.deps --write` to regenerate the derived files."
            )
            return 1
        print("Every dependency declaration agrees with pyproject.toml.")
        return 0
    if args.write:
        for path, data in differing(_encoded(rendered(root))).items():
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda out, data=data: out.write(data))
            print(f"wrote {path.relative_to(root)}")
        return 0
    for path, text in rendered(root).items():
        print(f"==> {path.relative_to(root)} <==\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
