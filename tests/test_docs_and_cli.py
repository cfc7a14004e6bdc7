"""The README and the command line stay true to the code and to shared/spec/cli.md.

Like datasette's test_docs: what is declared as data (commands, tables, endpoints) must be
documented; and the commands a new user runs work end to end in a subprocess, printing the JSON
fields cli.md requires.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ayaall.cli import build_parser
from ayaall.contract import TABLES
from ayaall.endpoints import ENDPOINTS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(sub.choices)  # type: ignore[union-attr]


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"ayaall {command}" in README


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_extract_table_is_in_the_readme(table: str) -> None:
    assert f"`{table}`" in README


@pytest.mark.parametrize("spec", ENDPOINTS, ids=lambda s: f"{s.endpoint}_{s.origin}")
def test_every_endpoint_is_in_the_readme_table(spec) -> None:
    rows = [line for line in README.splitlines() if line.startswith(f"| {spec.endpoint}")]
    assert any(spec.origin in row for row in rows)


def test_the_readme_names_the_scripts_that_exist() -> None:
    for script in ("scripts/demo.sh", "scripts/test.sh"):
        assert f"bash {script}" in README
        assert (ROOT / script).is_file()
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def _ayaall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ayaall", *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """generate → load, through the command line, as the README shows."""
    folder = tmp_path_factory.mktemp("cli")
    gen = _ayaall("generate", "--patients", "2000", "--seed", "5", "--out", str(folder / "extract"), "--quiet")
    assert gen.returncode == 0, gen.stderr
    load = _ayaall("load", str(folder / "extract"), "--db", str(folder / "db.duckdb"))
    assert load.returncode == 0, load.stderr
    assert "patients.csv" in load.stdout
    assert "quarantined" in load.stdout
    return folder / "db.duckdb"


def test_summary_prints_every_endpoint(pipeline: Path) -> None:
    out = _ayaall("summary", "--db", str(pipeline))
    assert out.returncode == 0, out.stderr
    for spec in ENDPOINTS:
        assert spec.label in out.stdout


def test_analyze_km_prints_the_json_of_cli_md(pipeline: Path) -> None:
    out = _ayaall(
        "analyze",
        "km",
        "--db",
        str(pipeline),
        "--endpoint",
        "OS",
        "--origin",
        "DX",
        "--by",
        "lineage",
        "--min-cell",
        "0",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {"endpoint", "origin", "by", "n", "events", "conf_type", "min_cell", "groups", "logrank"} <= set(doc)
    assert doc["conf_type"] == "log-log"
    group = doc["groups"][0]
    assert {"group", "n", "events", "median_days", "median_ci_days", "curve"} <= set(group)
    assert {"time_days", "survival", "ci_lower", "ci_upper", "at_risk", "events", "censored"} <= set(group["curve"][0])
    assert sum(g["n"] for g in doc["groups"]) == doc["n"]
    assert {"statistic", "df", "p"} <= set(doc["logrank"])


def test_analyze_cox_prints_the_json_of_cli_md(pipeline: Path) -> None:
    out = _ayaall(
        "analyze",
        "cox",
        "--db",
        str(pipeline),
        "--endpoint",
        "OS",
        "--origin",
        "DX",
        "--covariates",
        "lineage,age_at_dx",
        "--ref",
        "lineage=B",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {"endpoint", "origin", "n", "events", "ties", "terms", "reference_levels", "ph_test"} <= set(doc)
    assert doc["ties"] == "efron"
    assert doc["reference_levels"] == {"lineage": "B"}
    assert [t["term"] for t in doc["terms"]] == ["lineage=T", "age_at_dx"]
    assert {"term", "coef", "se", "hr", "hr_ci", "p"} <= set(doc["terms"][0])


def test_analyze_cif_prints_the_json_of_cli_md(pipeline: Path) -> None:
    out = _ayaall(
        "analyze", "cif", "--db", str(pipeline), "--endpoint", "CIR", "--origin", "CR1", "--by", "lineage", "--json"
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {"endpoint", "origin", "by", "groups", "gray_test"} <= set(doc)
    assert {"cif_event", "cif_competing", "var_event", "time_days"} <= set(doc["groups"][0]["curve"][0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["summary", "--db", "/nonexistent.duckdb"], "does not exist", id="missing_db"),
        pytest.param(["load", "/nonexistent", "--db", "/tmp/x.duckdb"], "is not a folder", id="missing_extract"),
        pytest.param(
            ["load", ".", "--db", "/tmp/x.duckdb", "--age-bands", "20,15"], "strictly increasing", id="bad_age_bands"
        ),
    ],
)
def test_user_errors_are_one_sentence_without_traceback(args: list[str], message: str) -> None:
    out = _ayaall(*args)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert message in out.stderr
    assert out.stderr.strip().count("\n") == 0


def test_analysis_user_errors_name_the_problem(pipeline: Path) -> None:
    out = _ayaall("analyze", "km", "--db", str(pipeline), "--endpoint", "OS", "--origin", "CR1", "--json")
    assert out.returncode == 2
    assert "OS from CR1 is not a defined endpoint" in out.stderr
    out = _ayaall(
        "analyze", "km", "--db", str(pipeline), "--endpoint", "OS", "--origin", "DX", "--by", "shoe_size", "--json"
    )
    assert out.returncode == 2
    assert "shoe_size" in out.stderr
