"""The package boundary: `protocol` is what both sides speak, the server never loads the device runtime."""
from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FORBIDDEN_IN_PROTOCOL = ("fastapi", "starlette", "psycopg", "psycopg_pool", "sqlite3", "uvicorn", "edge",
                         "sync_server")


def _loaded_after(statement: str) -> set[str]:
    """Top-level module names loaded by a fresh interpreter after running `statement`."""
    code = f"import sys, json; {statement}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _imports(path: pathlib.Path) -> set[str]:
    """Top-level names of every import statement in a file, lazy ones inside functions included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_server_app_loads_no_edge_module():
    loaded = _loaded_after("import sync_server.app, sync_server.cli")
    assert "edge" not in loaded
    assert "sqlite3" not in loaded


def test_protocol_loads_no_framework_driver_or_sqlite():
    modules = [p.stem for p in (ROOT / "protocol").glob("*.py") if p.stem != "__init__"]
    loaded = _loaded_after("; ".join(f"import protocol.{m}" for m in modules))
    assert not loaded & set(FORBIDDEN_IN_PROTOCOL), loaded & set(FORBIDDEN_IN_PROTOCOL)


@pytest.mark.parametrize("package, banned", [("sync_server", {"edge"}), ("protocol", set(FORBIDDEN_IN_PROTOCOL))])
def test_no_source_file_imports_across_the_boundary(package, banned):
    """Also the lazy imports inside functions, which an import-time check cannot see."""
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & banned) for p in (ROOT / package).rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}
