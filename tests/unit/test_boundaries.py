"""The read side stays apart from the write side: the edge imports neither psycopg nor catalog."""
import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("psycopg", "psycopg_pool", "catalog", "sqlalchemy", "alembic", "web.admin")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_edge_sources_import_no_write_side_module():
    for path in (REPO / "web" / "edge").rglob("*.py"):
        bad = {n for n in _imports(path) if n.split(".")[0] in FORBIDDEN or n.startswith("web.admin")}
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_loading_the_edge_loads_no_write_side_module():
    code = ("import sys, web.edge.app; "
            f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} or m.startswith('web.admin')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_catalog_never_imports_the_edge():
    for path in (REPO / "catalog").rglob("*.py"):
        assert not {n for n in _imports(path) if n.startswith("web")}, path
