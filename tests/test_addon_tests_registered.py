"""Odoo's own runner (`bin/odoo --test-tags /ingeneo_powens`) runs only the test modules that
the add-on's `tests/__init__.py` imports, whereas pytest-odoo collects every file: a module
left out would pass `make test` and never run in Odoo's runner."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "ingeneo_powens" / "tests"


def imported_modules():
    tree = ast.parse((TESTS / "__init__.py").read_text())
    return {alias.name for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names}


def test_every_test_module_of_the_addon_is_registered_for_odoos_runner():
    on_disk = {path.stem for path in TESTS.glob("test_*.py")}
    assert on_disk - imported_modules() == set(), "missing from ingeneo_powens/tests/__init__.py"
    assert imported_modules() - on_disk == set(), "registered but not on disk"
