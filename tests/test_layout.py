"""The package's map: every module listed with its job, every named module real, none too long."""

from __future__ import annotations

import ast
import re

import pytest

import fmnist_utils
from fmnist_utils import tooling

from .conftest import ROOT
from .support import repository_files

PACKAGE = ROOT / "fmnist_utils"
MAX_LINES = 600  # CONTRIBUTING.md: no module over about 600 lines
# Where commands and modules are named for people: a stale name there is a broken command.
DOCS = ("README.md", "CONTRIBUTING.md", "Makefile", ".pre-commit-config.yaml") + tuple(
    str(p.relative_to(ROOT)) for p in sorted((ROOT / "docs").rglob("*.md"))
)


def _top_level() -> list[str]:
    """The learner-facing modules and the subpackages, as named in the maps."""
    names = [p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    names += [p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()]
    return sorted(names)


@pytest.mark.parametrize("name", _top_level())
def test_every_module_is_on_the_maps(name: str) -> None:
    doc = fmnist_utils.__doc__ or ""
    assert f"fmnist_utils.{name}`" in doc, (
        f"fmnist_utils/{name} is missing from the module map in fmnist_utils/__init__.py: "
        "add a line saying its one job"
    )
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    listed = f"`{name}.py`" if (PACKAGE / f"{name}.py").is_file() else f"`{name}/`"
    assert listed in guide, f"{listed} is missing from CONTRIBUTING.md's table of fmnist_utils"


@pytest.mark.parametrize("path", sorted((PACKAGE / "tooling").glob("*.py")), ids=lambda p: p.name)
def test_every_tooling_module_is_on_the_maps(path) -> None:
    if path.name in ("__init__.py", "__main__.py"):
        return
    assert f"fmnist_utils.tooling.{path.stem}`" in (tooling.__doc__ or ""), (
        f"{path.name} is missing from fmnist_utils/tooling/__init__.py's map"
    )
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert f"`tooling/{path.name}`" in guide, f"tooling/{path.name} is missing from CONTRIBUTING.md"


def _resolves(dotted: str) -> bool:
    """Tell whether ``fmnist_utils.a.b`` is a module, or a name defined in one (read, not run)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        module = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if module.is_file():
            break
    else:
        return False
    if cut == len(parts):
        return True
    source = module.read_text(encoding="utf-8")
    name = re.escape(parts[cut])
    pattern = rf"^(?:class|def) {name}\b|^{name}\b\s*[:=]|^from .* import .*\b{name}\b"
    return bool(re.search(pattern, source, re.M))


def test_every_module_named_in_the_docs_exists() -> None:
    """``python -m fmnist_utils.X`` or ``fmnist_utils.X.Y`` in a doc names a real module."""
    stale = []
    for doc in DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        for line_no, line in enumerate(text.splitlines(), start=1):
            for dotted in re.findall(r"\bfmnist_utils(?:\.[A-Za-z_]\w*)+", line):
                if not _resolves(dotted):
                    stale.append(f"{doc}:{line_no}: {dotted}")
    assert not stale, "Names that no longer exist (moved or renamed?):\n" + "\n".join(stale)


def test_no_module_is_too_long() -> None:
    long = [
        f"{name}: {n} lines"
        for name in repository_files("fmnist_utils/*.py")
        if (n := len((ROOT / name).read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, (
        f"Split these by job (CONTRIBUTING.md: no module over about {MAX_LINES} lines):\n"
        + "\n".join(long)
    )


def _imports(path) -> list[tuple[str, str]]:
    """(module, name) for every ``from fmnist_utils... import name`` in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            ("fmnist_utils", ".")
        ):
            found += [(node.module or ".", alias.name) for alias in node.names]
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_crosses_modules_and_no_module_re_exports(path) -> None:
    """Modules split along real seams: nothing private imported, no name passed on."""
    own = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    private = [
        f"{module}.{name}"
        for module, name in _imports(path)
        if name.startswith("_") and module != own  # a module may name itself (a spawn target)
    ]
    assert not private, f"{path.name} imports private names: {private}; make them public"
    if path.name == "__init__.py":
        return  # a package's own facade (plots) may gather its modules' names
    tree = ast.parse(path.read_text(encoding="utf-8"))
    exported = next(
        (
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        ),
        [],
    )
    imported = {alias for _, alias in _imports(path)}
    passed_on = sorted(set(exported) & imported)
    assert not passed_on, (
        f"{path.name} lists names it imports in __all__: {passed_on}; import them from "
        "where they are defined"
    )
