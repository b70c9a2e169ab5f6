"""sheets_emulator is a package of its own: it imports nothing of the product, and its tests
(this folder) import only the emulator, the clients that talk to it and test libraries."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import sheets_emulator

PACKAGE = Path(sheets_emulator.__file__).resolve().parent
HERE = Path(__file__).resolve().parent
#: what the emulator runs on: openpyxl (its store is .xlsx files), requests and gspread (the
#: client side, ``EmulatorSession`` / ``emulator_client``)
EMULATOR_NEEDS = {"openpyxl", "requests", "gspread"}
#: what its tests may use besides: pytest, and Google's discovery documents
TESTS_NEED = EMULATOR_NEEDS | {"sheets_emulator", "pytest", "googleapiclient"}


def imported(folder: Path) -> dict[str, set[str]]:
    """Top-level modules imported by each .py file of ``folder`` (relative imports left out),
    those inside functions included."""
    out = {}
    for path in sorted(folder.glob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        out[path.name] = names - set(sys.stdlib_module_names) - {"__future__"}
    return out


def test_the_emulator_imports_nothing_of_the_product():
    found = imported(PACKAGE)
    assert found, PACKAGE
    beyond = {
        name: sorted(names - EMULATOR_NEEDS)
        for name, names in found.items()
        if names - EMULATOR_NEEDS
    }
    assert not beyond, f"sheets_emulator imports beyond {sorted(EMULATOR_NEEDS)}: {beyond}"


def test_the_emulator_tests_import_only_the_emulator_and_test_libraries():
    found = imported(HERE)
    assert len(found) >= 5
    beyond = {
        name: sorted(names - TESTS_NEED) for name, names in found.items() if names - TESTS_NEED
    }
    assert not beyond, f"tests/emulator imports beyond {sorted(TESTS_NEED)}: {beyond}"
