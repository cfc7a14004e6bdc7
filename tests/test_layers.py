"""The layers hold (README, "Layout"): import-linter's contracts of pyproject.toml, no module importing
another module's private name, and the export and the command line running without the web framework."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ayaall", "etl", "analyses", "disclosure", "reports", "figures", "export", "dashboard", "synthetic_data")


def test_import_contracts_are_kept() -> None:
    """``lint-imports`` (import-linter) on the contracts of pyproject.toml: the layers, Dash only in
    dashboard/, estimators without disclosure, reports or the database, the generator from the contract."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _private_imports(path: Path, root: Path = ROOT) -> list[str]:
    """``from pkg.module import _name`` statements of ``path`` that reach into another module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(root)}:{node.lineno} imports {node.module}.{alias.name}")
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and any(p.startswith("_") for p in node.module.split(".")[1:])
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno} imports the private module {node.module}")
    return found


def test_no_module_imports_a_private_name() -> None:
    found = [
        line
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in _private_imports(path)
    ]
    assert found == []


def test_private_import_scan_finds_one(tmp_path: Path) -> None:
    """The scan above can fail: it sees a private name and a private module imported the usual way."""
    sample = tmp_path / "sample.py"
    sample.write_text("from analyses.cif import _tables\nfrom reports.analyze._shared import x\n", encoding="utf-8")
    assert _private_imports(sample, tmp_path) == [
        "sample.py:1 imports analyses.cif._tables",
        "sample.py:2 imports the private module reports.analyze._shared",
    ]


@pytest.mark.parametrize("module", ["export.kinds.km", "export.exporter", "reports.command", "figures.views"])
def test_module_runs_without_dash(module: str) -> None:
    """The export, the analyze commands and the figure builders need no web framework: importing them
    loads neither Dash nor Flask (it used to, through dashboard/components.py)."""
    web = ("dash", "flask", "dash_bootstrap_components")
    code = f"import sys, {module}; print(sorted(m for m in {web!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_every_setting_is_a_serve_flag_and_documented() -> None:
    """datasette's habit: ``ayaall.settings.SETTINGS`` is the one declaration; ``ayaall serve`` has a flag
    for each, and dashboard/README.md's table lists each with its default."""
    from ayaall.cli import build_parser
    from ayaall.settings import SETTINGS, Settings

    serve = build_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    flags = {opt for action in serve._actions for opt in action.option_strings}
    readme = (ROOT / "dashboard" / "README.md").read_text(encoding="utf-8")
    for item in SETTINGS:
        assert item.flag in flags, item.name
        assert f"| `{item.flag}` | {item.default if item.default is not None else '—'} |" in readme, item.name
        assert getattr(Settings(), item.name) == item.default
