"""bms_core is a pure library: nothing in it may import Django (or Django REST framework)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "bms_core"
FORBIDDEN = ("django", "rest_framework", "drf_spectacular")


def _forbidden(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in FORBIDDEN


def _django_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _forbidden(node.module):
            found.append(str(node.module))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in ("import_module", "__import__") and _forbidden(str(node.args[0].value)):
                found.append(str(node.args[0].value))
    return [f"{path.relative_to(PACKAGE.parent)}: {module}" for module in found]


def test_no_module_imports_django() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert PACKAGE / "analyzer.py" in files
    offenders = [line for path in files for line in _django_imports(path)]
    assert offenders == []


@pytest.mark.slow
def test_importing_the_library_loads_no_django() -> None:
    code = (
        "import sys, bms_core, bms_core.simulate, bms_core.__main__\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
