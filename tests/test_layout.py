"""The code's layout holds: the packages are the stages in data-flow order and imports only
point down (the import-linter contracts in .importlinter), the DAG files stand on the pipeline
and the core only, and no module shadows another's name."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "tonghop",
    "sheets",
    "ingest",
    "expectations",
    "publish",
    "pipeline",
    "tooling",
    "testing",
    "bench",
    "sheets_emulator",
)
#: what a DAG file may import at its top: Airflow's SDK and providers, and the two layers a
#: DAG stands on (the rest is imported inside its tasks, at run time, from the pipeline)
DAG_MAY_IMPORT = ("airflow", "pendulum", "pipeline", "tonghop", "__future__", "datetime")


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module)
    return found


def test_every_import_points_down():
    """lint-imports with the project's contracts: zero broken."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / ".importlinter")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_the_contracts_cover_every_package():
    config = (ROOT / ".importlinter").read_text(encoding="utf-8")
    layers = config.split("[importlinter:contract:layers]")[1].split("[")[0]
    assert [
        p for p in PACKAGES if p not in ("sheets_emulator",) if f"    {p}\n" not in layers
    ] == []
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert on_disk == set(PACKAGES), on_disk ^ set(PACKAGES)


def test_dag_files_import_only_the_pipeline_and_the_core():
    for path in sorted((ROOT / "dags").glob("*.py")):
        wrong = {m for m in imports(path) if m.split(".")[0] not in DAG_MAY_IMPORT}
        assert not wrong, f"{path.name} imports {sorted(wrong)}"


def test_no_module_shadows_another():
    """A DAG file is imported by Airflow as a top-level module: none may share a package's name
    (dags/publish.py once shadowed the publish package), nor a package the standard library's."""
    dag_modules = {p.stem for p in (ROOT / "dags").glob("*.py")}
    assert not dag_modules & set(PACKAGES)
    assert not set(PACKAGES) & set(sys.stdlib_module_names)
    for name in PACKAGES:
        spec = __import__("importlib.util").util.find_spec(name)
        assert spec is not None and Path(spec.origin).resolve().is_relative_to(ROOT), name
