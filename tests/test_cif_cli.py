"""``ayaall analyze cif`` end to end on a small DuckDB file holding the two analysis tables."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ayaall.cli import main

R_DIR = Path(__file__).parent / "r"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2,000-patient reference set of tests/r/cif_reference.R as CIR from CR1."""
    d = pd.read_csv(R_DIR / "cif_data_large.csv")
    ids = [f"P{i:05d}" for i in range(len(d))]
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "frontline_regimen": d["group"],
            "sex": d["sex"],
            "lineage": d["stratum"],
            "excluded_reason": pd.Series([None] * len(d), dtype=object),
        }
    )
    tte = pd.DataFrame(
        {
            "patient_id": ids,
            "endpoint": "CIR",
            "origin": "CR1",
            "time_days": d["time"].astype(int),
            "event_code": d["status"].astype(int),
            "event_desc": d["status"].map({0: "CENSORED", 1: "RELAPSE", 2: "DEATH_WITHOUT_RELAPSE"}),
        }
    )
    path = tmp_path_factory.mktemp("cif") / "registry.duckdb"
    con = duckdb.connect(str(path))
    con.register("patients_df", patients)
    con.register("tte_df", tte)
    con.execute(
        "CREATE TABLE analysis_patients AS SELECT patient_id, frontline_regimen, sex, lineage, "
        "CAST(excluded_reason AS VARCHAR) AS excluded_reason FROM patients_df"
    )
    con.execute("CREATE TABLE time_to_event AS SELECT * FROM tte_df")
    con.close()
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict | None, str]:
    code = main(["analyze", "cif", *args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_json_has_cli_md_fields_and_matches_cmprsk(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """cli.md's fields; Gray's test equals cmprsk's (tests/r/cif_reference.R, cif_large_tests.csv)."""
    code, out, _ = _run(
        capsys, "--db", str(db), "--endpoint", "CIR", "--origin", "CR1", "--by", "frontline_regimen", "--min-cell", "0"
    )
    assert code == 0
    assert out is not None
    assert {"endpoint", "origin", "by", "groups", "gray_test"} <= set(out)
    assert (out["endpoint"], out["origin"], out["by"]) == ("CIR", "CR1", "frontline_regimen")
    assert [g["group"] for g in out["groups"]] == ["ARM_A", "ARM_B", "ARM_C"]
    point = out["groups"][0]["curve"][0]
    assert {"time_days", "cif_event", "cif_competing", "var_event"} <= set(point)
    assert point["time_days"] == 0
    ref = pd.read_csv(R_DIR / "cif_large_tests.csv")
    expected = ref.loc[~ref["strata"] & (ref["cause"] == 1)].iloc[0]
    assert out["gray_test"]["statistic"] == pytest.approx(expected["stat"], rel=1e-4)
    assert out["gray_test"]["df"] == 2
    curve = pd.read_csv(R_DIR / "cif_large_curve.csv")
    ref_a = curve.loc[(curve["group"] == "ARM_A") & (curve["cause"] == 1)].set_index("time")
    for p in out["groups"][0]["curve"]:
        assert p["cif_event"] == pytest.approx(ref_a.loc[p["time_days"], "est"], abs=1e-6)


def test_released_curves_are_on_the_grid_and_stop_early(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--min-cell 11 (``disclosure.policy``): every curve time is a multiple of 7 days; each curve stops
    no later than the last week with at least 11 patients, and at least max(11, 20% of the group) at
    risk as released; a row's counts are 0, masked or steps of whole blocks; the notes say how."""
    _, out, _ = _run(
        capsys, "--db", str(db), "--endpoint", "CIR", "--origin", "CR1", "--by", "frontline_regimen", "--min-cell", "11"
    )
    assert out is not None
    assert out["min_cell"] == 11
    assert out["release"]["time_grid_days"] == 7
    d = pd.read_csv(R_DIR / "cif_data_large.csv")
    for group in out["groups"]:
        times = d.loc[d["group"] == group["group"], "time"]
        last_with_11 = max(t for t in times.unique() if (times >= t).sum() >= 11)
        curve = group["curve"]
        assert all(p["time_days"] % 7 == 0 for p in curve)
        assert curve[-1]["time_days"] <= 7 * np.ceil(last_with_11 / 7)
        floor = max(11, 0.20 * group["n"])
        assert all(p["at_risk"] is not None and p["at_risk"] >= floor for p in curve)
        for p in curve:
            for key in ("events", "competing_events", "censored"):
                assert p[key] is None or p[key] % 11 == 0
    assert any("For disclosure control" in note for note in out["notes"])


def test_without_by_one_group_no_test(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "--db", str(db), "--endpoint", "CIR", "--origin", "CR1", "--min-cell", "0")
    assert out is not None
    assert [g["group"] for g in out["groups"]] == ["all"]
    assert out["gray_test"] is None
    assert any("Gray's test is not reported" in note for note in out["notes"])


def test_cohort_file_and_strata(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cohort = tmp_path / "cohort.json"
    cohort.write_text(json.dumps({"filters": {"sex": ["F"]}}))
    _, out, _ = _run(
        capsys,
        "--db",
        str(db),
        "--endpoint",
        "CIR",
        "--origin",
        "CR1",
        "--by",
        "frontline_regimen",
        "--strata",
        "lineage",
        "--cohort",
        str(cohort),
        "--min-cell",
        "0",
    )
    assert out is not None
    d = pd.read_csv(R_DIR / "cif_data_large.csv")
    assert sum(g["n"] for g in out["groups"]) == (d["sex"] == "F").sum()
    assert out["gray_test"]["strata"] == "lineage"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--endpoint", "OS", "--origin", "DX"], "no competing event", id="not_competing"),
        pytest.param(["--endpoint", "CIR", "--origin", "CR1", "--by", "nosuch"], "nosuch", id="unknown_column"),
        pytest.param(["--endpoint", "NRM", "--origin", "CR1"], "No patient of this cohort has a NRM row", id="empty"),
    ],
)
def test_errors_are_one_sentence(db: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, _, err = _run(capsys, "--db", str(db), *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_group_smaller_than_min_cell_has_no_curve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 5-patient group: its n and counts are null, its curve is empty and its milestones have no
    estimate; the others are drawn (``disclosure.incidence``)."""
    d = pd.read_csv(R_DIR / "cif_data_large.csv").iloc[:305].copy()
    d["group"] = ["TINY"] * 5 + ["ARM_A"] * 150 + ["ARM_B"] * 150
    ids = [f"P{i:05d}" for i in range(len(d))]
    path = tmp_path / "small.duckdb"
    con = duckdb.connect(str(path))
    con.register("p_df", pd.DataFrame({"patient_id": ids, "arm": d["group"]}))
    con.register(
        "t_df",
        pd.DataFrame(
            {
                "patient_id": ids,
                "endpoint": "CIR",
                "origin": "CR1",
                "time_days": d["time"].astype(int),
                "event_code": d["status"].astype(int),
                "event_desc": "CENSORED",
            }
        ),
    )
    con.execute(
        "CREATE TABLE analysis_patients AS SELECT patient_id, arm, CAST(NULL AS VARCHAR) AS excluded_reason FROM p_df"
    )
    con.execute("CREATE TABLE time_to_event AS SELECT * FROM t_df")
    con.close()
    code, out, _ = _run(capsys, "--db", str(path), "--endpoint", "CIR", "--origin", "CR1", "--by", "arm")
    assert code == 0
    assert out is not None
    tiny = next(g for g in out["groups"] if g["group"] == "TINY")
    assert tiny["n"] is None
    assert tiny["curve"] == []
    assert all(m[c] is None for m in tiny["milestones"] for c in m if c != "time_days")
    others = [g for g in out["groups"] if g["group"] != "TINY"]
    assert all(len(g["curve"]) > 10 for g in others)
    assert out["gray_test"] is not None
