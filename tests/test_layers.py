"""The packages' import directions: each package imports only the layers below it, so the layering cannot drift.

Every `import` and `from … import` of every module is read from its source (lazy imports inside functions
included), so a forbidden import fails here whether or not the code path that holds it ever runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What each package may import of the project (besides itself). Top to bottom: cli → sandbox → web → service
# → bot → config → processor → storage; reports (pure computation) sits on storage for web, service and
# cli; flows and storage import nothing of ours; only sandbox (and tests,
# bench/) may import the simulator. The same rules are written in each package's __init__ docstring.
ALLOWED: dict[str, frozenset[str]] = {
    "storage": frozenset(),
    "flows": frozenset(),
    "processor": frozenset({"reports", "storage"}),
    "simulator": frozenset({"processor"}),
    "reports": frozenset({"storage"}),
    "config": frozenset({"processor", "storage"}),
    "bot": frozenset({"config", "flows", "processor", "storage"}),
    "service": frozenset({"bot", "config", "flows", "processor", "reports", "storage"}),
    "web": frozenset({"service", "bot", "config", "flows", "processor", "reports", "storage"}),
    "sandbox": frozenset({"web", "service", "bot", "config", "flows", "processor", "reports", "storage",
                          "simulator"}),
    "cli": frozenset({"sandbox", "web", "service", "bot", "config", "flows", "processor", "reports", "storage"}),
}
PACKAGES = frozenset(ALLOWED)


def imported_packages(source: str) -> set[str]:
    """The project packages a module's source imports (absolute imports; relative ones stay in the package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & PACKAGES


def violations(root: Path) -> list[str]:
    """One line per forbidden import under `root`: `path: package imports other`."""
    problems = []
    for package, allowed in sorted(ALLOWED.items()):
        for path in sorted((root / package).rglob("*.py")):
            for other in sorted(imported_packages(path.read_text(encoding="utf-8")) - allowed - {package}):
                problems.append(f"{path.relative_to(root)}: {package} imports {other}")
    return problems


def test_every_package_imports_only_the_layers_below_it():
    assert violations(ROOT) == []


def test_every_package_exists_and_says_what_it_may_import():
    for package in ALLOWED:
        init = ROOT / package / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring and "import" in docstring, f"{init} needs a docstring saying what the package may import"


@pytest.mark.parametrize(("package", "line"), [
    ("web", "from cli.support import app_context"),
    ("processor", "import cli.main"),
    ("service", "    from web.app import create_app  # lazy, inside a function"),
    ("bot", "from simulator.portal.app import create_app"),
    ("cli", "from simulator.cli import app"),
    ("flows", "from storage.engine import session_scope"),
    ("storage", "from processor.errors import BillRejected"),
], ids=["web-cli", "processor-cli", "service-web-lazy", "bot-simulator", "cli-simulator", "flows-storage",
        "storage-processor"])
def test_the_check_catches_one_forbidden_import(tmp_path, package, line):
    """The check itself can fail: a copy of the tree with one forbidden import added is reported."""
    for name in ALLOWED:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text('"""A package."""\n')
    assert violations(tmp_path) == []
    module = tmp_path / package / "added.py"
    body = f"def later():\n{line}\n" if line.startswith(" ") else f"{line}\n"
    module.write_text(body)
    (found,) = violations(tmp_path)
    assert found.startswith(f"{package}/added.py: {package} imports ")
