"""The packages form layers, and the read side stays apart from the write side.

Imports are read with ``ast`` from every module, those inside functions included (a lazy import
is a dependency too), so these checks hold for everything the code can load.
"""

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Bottom to top; a package may import the packages below it, never one above (README, "Layout").
LAYERS = ("vocab", "snipshop", "catalog", "search", "projector", "web", "entrypoints")
#: What the edge (the shopper-facing read side) never loads: the write side, the projector, Celery.
FORBIDDEN = (
    "psycopg",
    "psycopg_pool",
    "catalog",
    "sqlalchemy",
    "alembic",
    "web.admin",
    "projector",
    "celery",
    "entrypoints",
)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports, anywhere in it."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's own package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                names.add(node.module)
    return names


def _package_imports() -> dict[str, dict[str, set[str]]]:
    """package -> imported project package -> the modules that import it."""
    found: dict[str, dict[str, set[str]]] = {p: defaultdict(set) for p in LAYERS}
    for package in LAYERS:
        for path in (REPO / package).rglob("*.py"):
            for name in _imports(path):
                top = name.split(".")[0]
                if top in LAYERS and top != package:
                    found[package][top].add(str(path.relative_to(REPO)))
    return found


def test_every_package_is_a_layer():
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "tools", "bench"}
    assert packages == set(LAYERS), "a new package needs its place in LAYERS (and in README's layout)"


def test_no_package_imports_a_package_above_it():
    upward = [
        f"{package} imports {other} (in {', '.join(sorted(where))})"
        for package, imported in _package_imports().items()
        for other, where in imported.items()
        if LAYERS.index(other) > LAYERS.index(package)
    ]
    assert not upward, "\n".join(upward)


def test_no_two_packages_import_each_other_even_through_others():
    graph = {package: set(imported) for package, imported in _package_imports().items()}

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    cycles = [package for package in LAYERS if package in reachable(package)]
    assert not cycles, f"packages on an import cycle: {cycles}"


def test_the_edge_and_the_admin_app_do_not_import_each_other():
    for side, other in (("edge", "web.admin"), ("admin", "web.edge")):
        for path in (REPO / "web" / side).rglob("*.py"):
            assert not {n for n in _imports(path) if n.startswith(other)}, path


def test_edge_sources_import_no_write_side_module():
    for path in (REPO / "web" / "edge").rglob("*.py"):
        bad = {n for n in _imports(path) if n.split(".")[0] in FORBIDDEN or n.startswith("web.admin")}
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_loading_the_edge_loads_no_write_side_module():
    code = (
        "import sys, entrypoints.bootstrap as b, web.edge.app; "
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN[:-1]!r} or m.startswith('web.admin')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_catalog_never_imports_the_read_side():
    for path in (REPO / "catalog").rglob("*.py"):
        assert not {n for n in _imports(path) if n.split(".")[0] in ("web", "projector", "search")}, path


def test_no_two_modules_share_a_name():
    """A module's name says what it is wherever it is seen (tracebacks, logs, grep): two packages
    do not both have a ``results.py``. The two web apps' ``app.py`` are Flask's convention."""
    seen: dict[str, list[str]] = defaultdict(list)
    for package in LAYERS:
        for path in (REPO / package).rglob("*.py"):
            if path.name != "__init__.py" and "migrations" not in path.parts:
                seen[path.name].append(str(path.relative_to(REPO)))
    shared = {name: paths for name, paths in seen.items() if len(paths) > 1 and name != "app.py"}
    assert not shared, shared
