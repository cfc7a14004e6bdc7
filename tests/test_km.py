"""Kaplan–Meier against R's survival 3.5-3 (committed outputs of tests/r/km_reference.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.km import fit_km
from analyses.results import AnalysisError

R_DIR = Path(__file__).parent / "r"
CASES = [
    "lung_sex",
    "lung_ecog",
    "veteran_celltype",
    "ties",
    "all_censored",
    "time_zero_events",
    "flat_half",
    "group_of_one",
]
MILESTONES = {
    "lung_sex": (180, 365, 730),
    "lung_ecog": (30, 90),
    "veteran_celltype": (30, 90, 180),
    "ties": (2, 4, 6.5),
    "all_censored": (5, 20),
    "time_zero_events": (0, 4, 10),
    "flat_half": (2, 3.5),
    "group_of_one": (1, 3),
}


def _fit(case: str):
    data = pd.read_csv(R_DIR / f"km_data_{case}.csv")
    summary = pd.read_csv(R_DIR / f"km_summary_{case}.csv")
    return fit_km(data, "time", "status", "group", times=MILESTONES[case], rmst_horizon=float(summary["horizon"][0]))


def _close(actual, expected, tol: float) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=0, atol=tol, equal_nan=True
    )


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_curve_matches_r(case: str) -> None:
    """R: summary(survfit(Surv(time, status) ~ group, conf.type = "log-log"), censored = TRUE)
    from tests/r/km_reference.R -> km_curve_<case>.csv; survival and CI to 1e-6, counts exactly."""
    expected = pd.read_csv(R_DIR / f"km_curve_{case}.csv")
    curve = _fit(case).curve
    # drop the added time-0 row (the first row of every group)
    curve = curve[curve.groupby("group").cumcount() > 0].reset_index(drop=True)
    assert list(curve["group"]) == list(expected["group"].astype(str))
    _close(curve["time_days"], expected["time"], 0)
    assert list(curve["at_risk"]) == list(expected["n.risk"])
    assert list(curve["events"]) == list(expected["n.event"])
    assert list(curve["censored"]) == list(expected["n.censor"])
    for ours, theirs in [("survival", "surv"), ("std_err", "std.err"), ("ci_lower", "lower"), ("ci_upper", "upper")]:
        _close(curve[ours], expected[theirs], 1e-6)


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_median_and_rmst_match_r(case: str) -> None:
    """R: print(fit, rmean = horizon) table (survival:::survmean: median + 0.95LCL/UCL, rmean,
    se(rmean)) from tests/r/km_reference.R -> km_summary_<case>.csv."""
    expected = pd.read_csv(R_DIR / f"km_summary_{case}.csv")
    result = _fit(case)
    summary = result.summary
    assert list(summary["group"]) == list(expected["group"].astype(str))
    assert list(summary["n"]) == list(expected["n"])
    assert list(summary["events"]) == list(expected["events"])
    _close(summary["median_days"], expected["median"], 1e-9)
    _close(summary["median_ci_lower"], expected["lcl"], 1e-9)
    _close(summary["median_ci_upper"], expected["ucl"], 1e-9)
    _close(result.rmst["rmst"], expected["rmean"], 1e-6)
    _close(result.rmst["se"], expected["se_rmean"], 1e-6)


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_milestones_match_r(case: str) -> None:
    """R: summary(fit, times = milestones) from tests/r/km_reference.R -> km_milestone_<case>.csv
    (R drops milestones after a group's last time; ours are missing there)."""
    expected = pd.read_csv(R_DIR / f"km_milestone_{case}.csv")
    ms = _fit(case).milestones
    ms = ms[ms["survival"].notna()].reset_index(drop=True)
    assert list(ms["group"]) == list(expected["group"].astype(str))
    _close(ms["time_days"], expected["time"], 0)
    assert list(ms["at_risk"]) == list(expected["n.risk"])
    assert list(ms["events"]) == list(expected["n.event"])
    for ours, theirs in [("survival", "surv"), ("std_err", "std.err"), ("ci_lower", "lower"), ("ci_upper", "upper")]:
        _close(ms[ours], expected[theirs], 1e-6)


def test_single_group_is_named_all() -> None:
    """Without a group column there is one group, 'all', equal to the pooled lung curve (same R source
    as [lung_sex], checked against the invariant that n and events add up)."""
    data = pd.read_csv(R_DIR / "km_data_lung_sex.csv")
    result = fit_km(data, "time", "status")
    assert result.groups == ["all"]
    assert result.n == len(data)
    assert result.events == int(data["status"].sum())
    assert result.curve.iloc[0][["time_days", "survival", "ci_lower", "ci_upper"]].tolist() == [0, 1, 1, 1]


def test_event_codes_other_than_one_are_censored() -> None:
    """Competing-event code 2 counts as censoring: same fit as recoding 2 -> 0."""
    data = pd.read_csv(R_DIR / "km_data_ties.csv")
    coded = data.assign(status=np.where(data["status"] == 0, 2, data["status"]))
    pd.testing.assert_frame_equal(
        fit_km(coded, "time", "status", "group").curve, fit_km(data, "time", "status", "group").curve
    )


def test_survival_is_monotone_and_ci_brackets_it() -> None:
    """Invariant: S non-increasing, lower <= S <= upper wherever the interval exists."""
    data = pd.read_csv(R_DIR / "km_data_veteran_celltype.csv")
    for _, curve in fit_km(data, "time", "status", "group").curve.groupby("group"):
        s = curve["survival"].to_numpy()
        assert np.all(np.diff(s) <= 1e-12)
        ok = curve["ci_lower"].notna()
        assert np.all(curve.loc[ok, "ci_lower"] <= curve.loc[ok, "survival"] + 1e-12)
        assert np.all(curve.loc[ok, "survival"] <= curve.loc[ok, "ci_upper"] + 1e-12)


def test_rmst_difference_is_group_minus_reference() -> None:
    """diff = rmst(group) - rmst(first group), se = sqrt(se1^2 + se2^2) (R values: km_summary_lung_sex)."""
    result = _fit("lung_sex")
    row = result.rmst_diff.iloc[0]
    expected = pd.read_csv(R_DIR / "km_summary_lung_sex.csv")
    assert row["group"] == "male"
    assert row["reference"] == "female"
    assert row["diff"] == pytest.approx(expected["rmean"][1] - expected["rmean"][0], abs=1e-6)
    assert row["se"] == pytest.approx(np.hypot(*expected["se_rmean"]), abs=1e-6)
    assert row["ci_lower"] < row["diff"] < row["ci_upper"]


BAD = {
    "empty": pd.DataFrame({"time": [], "status": []}),
    "negative_time": pd.DataFrame({"time": [3.0, -1.0], "status": [1, 0]}),
    "nan_time": pd.DataFrame({"time": [3.0, np.nan], "status": [1, 0]}),
    "nan_event": pd.DataFrame({"time": [3.0, 4.0], "status": [1, np.nan]}),
}


@pytest.mark.parametrize("frame", BAD.values(), ids=BAD.keys())
def test_bad_input_raises_analysis_error(frame: pd.DataFrame) -> None:
    """Bad input is an AnalysisError with a sentence, not a numpy warning or a wrong curve."""
    with pytest.raises(AnalysisError, match=r"\.$"):
        fit_km(frame, "time", "status")


# ------------------------------------------------------------------------------- ayaall analyze km
def _make_db(path: Path, data: pd.DataFrame, columns: dict[str, pd.Series]) -> Path:
    """A DuckDB file with the two analysis tables, OS from DX, one row per patient of ``data``."""
    import duckdb

    ids = [f"P{i:04d}" for i in range(len(data))]
    patients = pd.DataFrame({"patient_id": ids, **{k: v.to_numpy() for k, v in columns.items()}})
    patients["excluded_reason"] = pd.Series([None] * len(data), dtype=object)
    tte = pd.DataFrame(
        {
            "patient_id": ids,
            "endpoint": "OS",
            "origin": "DX",
            "time_days": data["time"].astype(int),
            "event_code": data["status"].astype(int),
            "event_desc": data["status"].map({0: "CENSORED", 1: "DEATH"}),
        }
    )
    con = duckdb.connect(str(path))
    con.register("p", patients)
    con.register("t", tte)
    con.execute(
        "CREATE TABLE analysis_patients AS SELECT * EXCLUDE (excluded_reason), "
        "CAST(excluded_reason AS VARCHAR) AS excluded_reason FROM p"
    )
    con.execute("CREATE TABLE time_to_event AS SELECT * FROM t")
    con.close()
    return path


@pytest.fixture(scope="module")
def km_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = pd.read_csv(R_DIR / "km_data_lung_ecog.csv")
    return _make_db(tmp_path_factory.mktemp("km") / "lung.duckdb", data, {"ecog": data["group"]})


def _cli(capsys: pytest.CaptureFixture[str], *args: str):
    import json

    from ayaall.cli import main

    code = main(["analyze", "km", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_cli_km_json_matches_r(km_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """cli.md fields; curve = summary(survfit(...), censored = TRUE) (km_curve_lung_ecog.csv); median
    from print(survfit) (km_summary_lung_ecog.csv); log-rank = survdiff (logrank_tests.csv)."""
    code, out, _ = _cli(
        capsys, "--db", str(km_db), "--endpoint", "OS", "--origin", "DX", "--by", "ecog", "--min-cell", "0", "--json"
    )
    assert code == 0
    assert {"endpoint", "origin", "by", "n", "events", "conf_type", "min_cell", "groups", "logrank"} <= set(out)
    assert (out["n"], out["events"], out["conf_type"]) == (227, 164, "log-log")
    group = out["groups"][0]
    assert group["group"] == "ecog0"
    assert group["curve"][0] == {
        "time_days": 0,
        "survival": 1.0,
        "ci_lower": 1.0,
        "ci_upper": 1.0,
        "at_risk": 63,
        "events": 0,
        "censored": 0,
        "has_censoring": False,  # added to cli.md's fields: a censoring mark at the time
    }
    ref = pd.read_csv(R_DIR / "km_curve_lung_ecog.csv")
    ref = ref[ref["group"] == "ecog0"]
    _close([p["survival"] for p in group["curve"][1:]], ref["surv"], 1e-6)
    _close([p["ci_lower"] for p in group["curve"][1:]], ref["lower"], 1e-6)
    summ = pd.read_csv(R_DIR / "km_summary_lung_ecog.csv").iloc[0]
    assert group["median_days"] == summ["median"]
    assert group["median_ci_days"] == [summ["lcl"], summ["ucl"]]
    lr = pd.read_csv(R_DIR / "logrank_tests.csv")
    lr = lr[(lr["case"] == "lung_ecog") & (lr["test"] == "logrank")].iloc[0]
    assert out["logrank"]["statistic"] == pytest.approx(lr["statistic"], abs=1e-8)
    assert out["logrank"]["df"] == 3
    assert len(out["pairwise_logrank"]) == 6


def test_cli_km_suppression_and_no_by(km_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Default --min-cell 11: the one-patient group has n null and no curve; every shown count is 0 or
    >= 11. Without --by: one group 'all' and logrank null."""
    code, out, _ = _cli(capsys, "--db", str(km_db), "--endpoint", "OS", "--origin", "DX", "--by", "ecog", "--json")
    assert code == 0
    assert out["min_cell"] == 11
    solo = next(g for g in out["groups"] if g["group"] == "ecog3")
    assert solo["n"] is None
    assert solo["curve"] == []
    for g in out["groups"]:
        for p in g["curve"]:
            for key in ("at_risk", "events", "censored"):
                assert p[key] is None or p[key] == 0 or p[key] >= 11
    code, out, _ = _cli(capsys, "--db", str(km_db), "--endpoint", "OS", "--origin", "DX", "--json")
    assert [g["group"] for g in out["groups"]] == ["all"]
    assert out["logrank"] is None


@pytest.mark.parametrize(
    "args",
    [["--by", "nonexistent"], ["--endpoint", "XYZ"]],
    ids=["unknown_column", "unknown_endpoint"],
)
def test_cli_km_errors_are_one_sentence(km_db: Path, capsys: pytest.CaptureFixture[str], args) -> None:
    """A bad request exits 2 with one sentence on stderr, no traceback."""
    base = {"--db": str(km_db), "--endpoint": "OS", "--origin": "DX"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    code, _, err = _cli(capsys, *[x for kv in base.items() for x in kv], "--json")
    assert code == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


EDGE_OK = {
    "no_events": pd.DataFrame({"time": [2.0, 5, 9], "status": [0, 0, 0], "group": ["a", "a", "b"]}),
    "single_group": pd.DataFrame({"time": [2.0, 5, 9, 9], "status": [1, 0, 1, 1], "group": ["a"] * 4}),
    "group_of_one": pd.DataFrame({"time": [2.0, 5, 9, 4], "status": [1, 0, 1, 1], "group": ["a", "a", "a", "b"]}),
    "time_zero_events": pd.DataFrame({"time": [0.0, 0, 3, 8], "status": [1, 1, 0, 1], "group": ["a"] * 4}),
}


@pytest.mark.parametrize("frame", EDGE_OK.values(), ids=EDGE_OK.keys())
def test_edge_cases_fit_with_invariants(frame: pd.DataFrame) -> None:
    """Edge data fit without error; invariants: n and events add up, S in [0, 1] and non-increasing,
    a median is missing exactly when S never reaches 0.5 (R values for the same shapes:
    km_summary_all_censored / group_of_one / time_zero_events.csv)."""
    result = fit_km(frame, "time", "status", "group")
    assert result.n == len(frame)
    assert result.events == int((frame["status"] == 1).sum())
    for group, curve in result.curve.groupby("group"):
        s = curve["survival"].to_numpy()
        assert ((s >= 0) & (s <= 1)).all()
        assert (np.diff(s) <= 1e-12).all()
        median = result.summary.set_index("group").loc[group, "median_days"]
        assert np.isnan(median) == (s.min() > 0.5)
