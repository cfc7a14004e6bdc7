"""Toxicity estimators (analyses/toxicity.py, analyses/contingency.py) against R, plus invariants and edges.

Reference values: tests/r/toxicity_reference.R (R 4.2, cmprsk 2.2-11) on tests/r/toxicity_data.csv,
the salvage-line toxicity endpoints of a seeded synthetic registry derived by the project
(tests/r/toxicity_data.py): ``prop.test(x, n, correct = FALSE)$conf.int``, ``fisher.test`` /
``chisq.test`` by the rule of ``analyses.contingency``, ``cuminc`` / ``timepoints`` and
``cuminc(...)$Tests``, ``quantile(type = 7)`` and ``table``. The committed CSVs are read here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.contingency import fisher_exact_kx2, proportion_test
from analyses.response import wilson_ci
from analyses.results import AnalysisError, AnalysisWarning
from analyses.toxicity import (
    GRADE_ORDER,
    analyze_toxicity,
    compare_toxicity,
    time_to_onset,
    toxicity_cumulative_incidence,
    toxicity_proportions,
    worst_grade_distribution,
)

R_DIR = Path(__file__).parent / "r"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(R_DIR / "toxicity_data.csv", dtype={"worst_grade": str})


@pytest.fixture(scope="module")
def result(data: pd.DataFrame):
    return analyze_toxicity(data, "regimen")


def _r(name: str) -> pd.DataFrame:
    return pd.read_csv(R_DIR / f"toxicity_{name}.csv", dtype={"worst_grade": str}, keep_default_na=True)


def test_proportions_and_wilson_intervals_match_prop_test(result) -> None:
    """R: ``prop.test(x, n, correct = FALSE)$conf.int`` per regimen, event and threshold (toxicity_props.csv)."""
    ref = _r("props").set_index(["event", "min_grade", "group"])
    got = result.proportions.set_index(["event", "min_grade", "group"]).loc[ref.index]
    assert (got["n"] == ref["n"]).all()
    assert (got["events"] == ref["events"]).all()
    np.testing.assert_allclose(got["ci_lower"], ref["lower"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["ci_upper"], ref["upper"], rtol=0, atol=1e-9)


@pytest.mark.parametrize("comparison", ["all", "two"])
def test_between_group_tests_match_fisher_and_chisq(data: pd.DataFrame, comparison: str) -> None:
    """R: ``fisher.test(cbind(x, n - x))`` when an expected count is below 5, else ``chisq.test`` (Yates for
    2 x 2), between the four regimens and between blinatumomab and chemotherapy (toxicity_tests.csv)."""
    ref = _r("tests")
    ref = ref[ref["comparison"] == comparison].set_index(["event", "min_grade"])
    df = data if comparison == "all" else data[data["regimen"].isin(["BLINATUMOMAB", "SALVAGE_CHEMO"])]
    got = compare_toxicity(df, "regimen").set_index(["event", "min_grade"]).loc[ref.index]
    assert list(got["test"]) == list(ref["test"])
    assert {"Fisher's exact", "Chi-square", "Chi-square (Yates)"} >= set(got["test"])
    np.testing.assert_allclose(got["p"], ref["p"], rtol=1e-6, atol=1e-300)
    chi = ref["test"] != "Fisher's exact"
    np.testing.assert_allclose(got.loc[chi, "statistic"], ref.loc[chi, "statistic"], rtol=1e-9)
    np.testing.assert_allclose(got.loc[chi, "df"], ref.loc[chi, "df"])
    np.testing.assert_allclose(got["min_expected"], ref["min_expected"], rtol=1e-12)


def test_cumulative_incidence_matches_cmprsk(result) -> None:
    """R: ``timepoints(cuminc(time, status, regimen)[key], tp)`` at every distinct time of each regimen, both
    causes (toxicity_cif.csv)."""
    ref = _r("cif")
    curve = result.cif
    for (event, grade, group, cause), expected in ref.groupby(["event", "min_grade", "group", "cause"]):
        mine = curve[(curve["event"] == event) & (curve["min_grade"] == grade) & (curve["group"] == group)]
        got = mine.set_index("time_days").loc[expected["time"]]
        suffix = "event" if cause == 1 else "competing"
        np.testing.assert_allclose(got[f"cif_{suffix}"], expected["est"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(got[f"var_{suffix}"], expected["var"], rtol=0, atol=1e-9)


def test_gray_test_matches_cmprsk(result) -> None:
    """R: ``cuminc(time, status, regimen)$Tests`` for cause 1 (toxicity_gray.csv)."""
    ref = _r("gray")
    ref = ref[ref["cause"] == 1].set_index(["event", "min_grade"])
    got = result.gray.set_index(["event", "min_grade"]).loc[ref.index]
    np.testing.assert_allclose(got["statistic"], ref["stat"], rtol=1e-6)
    np.testing.assert_allclose(got["df"], ref["df"])
    # cmprsk's 1 - pchisq() is imprecise below ~1e-10 (tests/r/README.md)
    np.testing.assert_allclose(got["p"], ref["p"], rtol=1e-5, atol=1e-12)


def test_time_to_onset_matches_quantile_type_7(result) -> None:
    """R: ``quantile(time, c(0.25, 0.5, 0.75), type = 7)`` among patients with the event (toxicity_onset.csv)."""
    ref = _r("onset").set_index(["event", "min_grade", "group"])
    got = result.onset.set_index(["event", "min_grade", "group"]).loc[ref.index]
    assert (got["events"] == ref["events"]).all()
    for mine, theirs in (("q1_days", "q1"), ("median_days", "median"), ("q3_days", "q3")):
        np.testing.assert_allclose(got[mine], ref[theirs], rtol=0, atol=1e-12, equal_nan=True)


def test_worst_grade_distribution_matches_table(result) -> None:
    """R: ``table(regimen, event, worst_grade)``, one row per patient and event (toxicity_worst.csv)."""
    ref = _r("worst").set_index(["group", "event", "worst_grade"])
    got = result.worst_grade.set_index(["group", "event", "worst_grade"]).loc[ref.index]
    assert (got["n"] == ref["n"]).all()
    assert set(result.worst_grade["worst_grade"]) == set(GRADE_ORDER)


# --------------------------------------------------------------------------------------------------
# Invariants


def test_cumulative_incidences_of_both_causes_never_exceed_one(result) -> None:
    total = result.cif["cif_event"] + result.cif["cif_competing"]
    assert (total <= 1 + 1e-12).all()
    np.testing.assert_allclose(total, 1 - result.cif["surv_allcause"], atol=1e-12)


def test_the_crude_share_is_the_cumulative_incidence_at_the_window_without_censoring() -> None:
    """Without censoring before the window's end, AJ at the last time equals events / n."""
    df = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(8)],
            "regimen": ["A"] * 8,
            "event": ["CRS"] * 8,
            "min_grade": [1] * 8,
            "time_days": [0, 2, 2, 5, 9, 100, 100, 100],
            "event_code": [1, 1, 2, 1, 2, 0, 0, 0],
            "worst_grade": ["1", "2", "NONE", "UNK", "NONE", "NONE", "NONE", "NONE"],
        }
    )
    r = analyze_toxicity(df, None, times=[100])
    assert r.proportions["proportion"].iloc[0] == pytest.approx(3 / 8)
    assert r.cif_milestones["cif_event"].iloc[0] == pytest.approx(3 / 8)
    assert r.cif_milestones["cif_competing"].iloc[0] == pytest.approx(2 / 8)


def test_worst_grade_counts_add_up_to_the_patients(result, data: pd.DataFrame) -> None:
    totals = result.worst_grade.groupby(["group", "event"])["n"].sum()
    patients = data.drop_duplicates(["patient_id", "event"]).groupby(["regimen", "event"]).size()
    assert (totals.to_numpy() == patients.to_numpy()).all()


# --------------------------------------------------------------------------------------------------
# Named edge cases


def _frame(groups: list[str], codes: list[int], times: list[int] | None = None) -> pd.DataFrame:
    n = len(groups)
    return pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(n)],
            "regimen": groups,
            "event": ["VOD_SOS"] * n,
            "min_grade": [3] * n,
            "time_days": times or [10 * (i + 1) for i in range(n)],
            "event_code": codes,
            "worst_grade": ["3" if c == 1 else "NONE" for c in codes],
        }
    )


def test_single_patient_group(recwarn) -> None:
    df = _frame(["A", "A", "A", "B"], [1, 0, 2, 1])
    r = analyze_toxicity(df, "regimen")
    b = r.proportions.set_index("group").loc["B"]
    assert (b["n"], b["events"], b["proportion"]) == (1, 1, 1.0)
    assert (b["ci_lower"], b["ci_upper"]) == pytest.approx(wilson_ci(1, 1))
    assert r.tests["test"].iloc[0] == "Fisher's exact"
    assert any("only one patient" in note for note in r.notes)


def test_no_event_in_any_group_gives_no_gray_test_and_says_why() -> None:
    r = analyze_toxicity(_frame(["A", "A", "B", "B"], [0, 2, 0, 0]), "regimen")
    assert np.isnan(r.gray["p"].iloc[0])
    assert "needs at least one event" in r.gray["note"].iloc[0]
    assert r.tests["p"].iloc[0] == 1.0  # fisher.test of a table with an empty column: p = 1
    assert r.onset["events"].eq(0).all()
    assert r.onset["median_days"].isna().all()


def test_one_group_has_no_test_between_groups() -> None:
    r = analyze_toxicity(_frame(["A", "A", "A"], [1, 0, 1]), "regimen")
    assert r.tests.empty
    assert r.gray.empty
    assert list(r.proportions["group"]) == ["A"]


def test_without_a_group_column_everyone_is_one_group() -> None:
    r = analyze_toxicity(_frame(["A", "B", "B"], [1, 0, 1]))
    assert list(r.proportions["group"]) == ["all"]
    assert r.tests.empty


def test_an_event_at_time_0_counts_at_time_0() -> None:
    r = analyze_toxicity(_frame(["A", "A"], [1, 0], times=[0, 30]), None, times=[0])
    assert r.cif_milestones["cif_event"].iloc[0] == pytest.approx(0.5)
    assert r.onset["median_days"].iloc[0] == 0


def test_tied_onsets_within_float_rounding_are_one_time() -> None:
    df = _frame(["A", "A", "A"], [1, 1, 0], times=[3, 3, 9])
    df["time_days"] = [3.0, 3.0 + 1e-13, 9.0]
    curve = toxicity_cumulative_incidence(df.assign(time_days=df["time_days"].round(9)), None)[0]
    assert curve.loc[curve["time_days"] == 3.0, "cif_event"].iloc[0] == pytest.approx(2 / 3)


def test_missing_group_values_are_an_error() -> None:
    df = _frame(["A", None, "B"], [1, 0, 1])  # type: ignore[list-item]
    with pytest.raises(AnalysisError, match="'regimen' has 1 missing values"):
        toxicity_proportions(df, "regimen")


def test_an_empty_frame_and_a_missing_column_are_errors() -> None:
    with pytest.raises(AnalysisError, match="no rows"):
        analyze_toxicity(_frame([], []).iloc[:0], "regimen")
    with pytest.raises(AnalysisError, match="'stage' not found"):
        time_to_onset(_frame(["A"], [1]), "stage")


def test_an_unknown_worst_grade_is_an_error() -> None:
    df = _frame(["A"], [1]).assign(worst_grade="G3")
    with pytest.raises(AnalysisError, match="grades G3"):
        worst_grade_distribution(df, "regimen")


def test_no_warning_escapes_the_estimators() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", AnalysisWarning)
        analyze_toxicity(_frame(["A", "A", "B"], [0, 0, 0]), "regimen")


# --------------------------------------------------------------------------------------------------
# The exact test and the rule


def test_fisher_exact_kx2_matches_fisher_test_on_small_tables() -> None:
    """R: ``fisher.test(cbind(x, n - x))$p.value`` (R 4.2), values pasted:
    c(3,1,7)/c(43,61,37): 7.05730562503530e-03; c(2,7)/c(10,12): 9.90712074303405e-02;
    c(1,5,0,9)/c(20,30,3,40): 3.72487005871426e-01; c(0,0)/c(5,6): 1."""
    cases = [
        ([3, 1, 7], [43, 61, 37], 7.05730562503530e-03),
        ([2, 7], [10, 12], 9.90712074303405e-02),
        ([1, 5, 0, 9], [20, 30, 3, 40], 3.72487005871426e-01),
        ([0, 0], [5, 6], 1.0),
    ]
    for x, n, p in cases:
        assert fisher_exact_kx2(np.array(x), np.array(n))[1] == pytest.approx(p, rel=1e-10)


def test_the_group_order_does_not_change_the_exact_test() -> None:
    x, n = np.array([1, 5, 0, 9]), np.array([20, 30, 3, 40])
    p = fisher_exact_kx2(x, n)[1]
    assert fisher_exact_kx2(x[::-1], n[::-1])[1] == pytest.approx(p, rel=1e-12)


def test_equal_groups_with_equal_counts_are_not_significant() -> None:
    t = proportion_test(np.array([10, 10]), np.array([50, 50]))
    assert t.test == "Chi-square (Yates)"
    assert t.p == pytest.approx(1.0)


def test_a_table_too_large_to_enumerate_falls_back_to_chi_square_with_a_note(monkeypatch) -> None:
    monkeypatch.setattr("analyses.contingency.MAX_EXACT_PATHS", 10)
    t = proportion_test(np.array([1, 40, 50]), np.array([3, 400, 420]))
    assert t.test == "Chi-square"
    assert "too large" in t.note


@pytest.mark.parametrize(
    ("events", "sizes", "message"),
    [
        pytest.param([1], [5], "at least two groups", id="one_group"),
        pytest.param([1, 0], [5, 0], "needs patients", id="empty_group"),
        pytest.param([6, 0], [5, 3], "no more patients", id="more_events_than_patients"),
    ],
)
def test_bad_tables_are_errors(events: list[int], sizes: list[int], message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        proportion_test(np.array(events), np.array(sizes))


@pytest.mark.parametrize(
    ("x", "n", "expected"),
    [
        pytest.param(0, 11, (0.0, 0.25883296696803165), id="no_responders"),
        pytest.param(11, 11, (0.7411670330319684, 1.0), id="all_responders"),
    ],
)
def test_wilson_limits_at_0_and_n_are_exact(x: int, n: int, expected: tuple[float, float]) -> None:
    """R: ``prop.test(0, 11, correct = FALSE)$conf.int`` = [0, 0.25883296696803165] (and 11 of 11, mirrored).

    The formula alone leaves a rounding residue (2.7e-20 at 0 of 11,801) where R gives exactly 0.
    """
    lo, hi = wilson_ci(x, n)
    assert (lo, hi) == pytest.approx(expected, abs=1e-15)
    assert (lo == 0.0) if x == 0 else (hi == 1.0)
    assert wilson_ci(0, 11801)[0] == 0.0
