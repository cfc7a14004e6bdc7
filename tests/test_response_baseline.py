"""Response rates (analyses/response.py) and Table 1 (analyses/baseline.py) against R.

R outputs are committed by tests/r/response_reference.R (base R stats; see tests/r/README.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.baseline import OVERALL, table_one
from analyses.response import response_rates, wilson_ci
from analyses.results import AnalysisError
from disclosure.policy import policy_for
from disclosure.response import release_response_rates
from disclosure.table1 import release_table_one

R_DIR = Path(__file__).parent / "r"


def test_wilson_matches_prop_test() -> None:
    """R: prop.test(x, n, correct = FALSE)$conf.int at 95% and 90%
    (tests/r/response_reference.R -> response_wilson.csv); to 1e-6."""
    cases = pd.read_csv(R_DIR / "response_wilson.csv")
    for row in cases.itertuples():
        np.testing.assert_allclose(wilson_ci(row.x, row.n), [row.lower, row.upper], atol=1e-6, rtol=0)
        np.testing.assert_allclose(wilson_ci(row.x, row.n, 0.9), [row.lower90, row.upper90], atol=1e-6, rtol=0)


def test_response_rates_by_group() -> None:
    df = pd.DataFrame({"g": ["a"] * 10 + ["b"] * 4 + [None], "cr": [True] * 7 + [False] * 3 + [True] * 4 + [False]})
    table = response_rates(df, "cr", "g")
    assert list(table["group"]) == ["(missing)", "a", "b"]
    row = table.set_index("group").loc["a"]
    assert (row["n"], row["responders"]) == (10, 7)
    assert row["ci_lower"] < 0.7 < row["ci_upper"]
    released = release_response_rates(table, policy_for(5)).set_index("group")
    assert released.loc["b", "responders"] is None  # 4 of 4: the first block of 5, and so is n
    assert np.isnan(released.loc["b", "rate"])
    assert (released.loc["a", "n"], released.loc["a", "responders"]) == (8, 8)  # 10 -> 6..10 -> 8; 7 -> 8
    # [small_group_rate] 8 of 8 released would read as 100% for 7 of 10: below 3k = 15 released patients
    # no rate is shown
    assert np.isnan(released.loc["a", "rate"])
    big = pd.DataFrame({"g": ["c"] * 40, "cr": [True] * 25 + [False] * 15})
    c = release_response_rates(response_rates(big, "cr", "g"), policy_for(5)).set_index("group").loc["c"]
    assert (c["n"], c["responders"]) == (38, 23)  # 40 -> 36..40 -> 38; 25 -> 21..25 -> 23
    assert c["rate"] == pytest.approx(23 / 38)  # the rate of the released counts, not 25/40
    assert (c["ci_lower"], c["ci_upper"]) == pytest.approx(wilson_ci(23, 38))


RESPONSE_ERRORS = {
    "empty": (lambda: response_rates(pd.DataFrame({"cr": []}), "cr"), "empty"),
    "missing_outcome": (lambda: response_rates(pd.DataFrame({"cr": [True, None]}), "cr"), "missing outcomes"),
    "zero_denominator": (lambda: wilson_ci(0, 0), "n = 0"),
    "no_column": (lambda: response_rates(pd.DataFrame({"cr": [True]}), "mrd"), "no column"),
}


@pytest.mark.parametrize("case", list(RESPONSE_ERRORS), ids=list(RESPONSE_ERRORS))
def test_response_degenerate(case: str) -> None:
    call, words = RESPONSE_ERRORS[case]
    with pytest.raises(AnalysisError, match=words):
        call()


# ------------------------------------------------------------------------------ Table 1
@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return pd.read_csv(R_DIR / "response_table1_data.csv")


@pytest.fixture(scope="module")
def expected_tests() -> pd.DataFrame:
    return pd.read_csv(R_DIR / "response_table1_tests.csv").set_index("case")


TESTS = {
    # case: (subset to arms A and B?, variable, data file)
    "kruskal_age": (False, "age", "data"),
    "kruskal_wbc": (False, "wbc", "data"),
    "wilcox_age": (True, "age", "data"),
    "wilcox_small_exact": (True, "score", "small"),
    "chisq_cns": (False, "cns", "data"),
    "chisq_lineage_2x2": (True, "lineage", "data"),
    "fisher_rare_2x2": (True, "rare", "data"),
}


@pytest.mark.parametrize("case", list(TESTS), ids=list(TESTS))
def test_table_one_tests_match_r(case: str, expected_tests: pd.DataFrame) -> None:
    """R: kruskal.test(x ~ arm), wilcox.test(x ~ arm) (exact when small and untied), chisq.test(table)
    (Yates for 2 x 2), fisher.test(table)$p.value (tests/r/response_reference.R ->
    response_table1_tests.csv); statistic and p to 1e-4 relative (Fisher: p only, R reports the
    conditional MLE odds ratio)."""
    two, var, source = TESTS[case]
    data = pd.read_csv(R_DIR / ("response_table1_data.csv" if source == "data" else "response_table1_small.csv"))
    if two:
        data = data[data["arm"] != "C"]
    row = table_one(data, "arm", [var]).tests.iloc[0]
    ref = expected_tests.loc[case]
    np.testing.assert_allclose(row["p"], ref["p"], rtol=1e-4)
    if not case.startswith("fisher"):
        np.testing.assert_allclose(row["statistic"], ref["statistic"], rtol=1e-4)


def test_table_one_counts_and_summaries(baseline: pd.DataFrame) -> None:
    result = table_one(baseline, "arm", ["age", "lineage"])
    cat = result.categorical
    overall = cat[(cat["variable"] == "lineage") & (cat["group"] == OVERALL)].set_index("level")
    assert overall.loc["B", "n"] + overall.loc["T", "n"] == len(baseline)
    per_group = cat[(cat["variable"] == "lineage") & (cat["level"] == "T") & (cat["group"] != OVERALL)]
    assert per_group["n"].sum() == overall.loc["T", "n"]  # counts add up across groups
    cont = result.continuous.set_index(["variable", "group"]).loc[("age", OVERALL)]
    assert cont["missing"] == 2
    assert cont["median"] == np.nanmedian(baseline["age"])
    np.testing.assert_allclose(cont["q1"], np.nanquantile(baseline["age"], 0.25))


def test_smd_two_level_formula(baseline: pd.DataFrame) -> None:
    """Hand-derived: for a binary variable the Yang–Dalton SMD is |pb - pa| / sqrt((pa qa + pb qb)/2);
    for a continuous one (mb - ma) / sqrt((sa^2 + sb^2)/2)."""
    ab = baseline[baseline["arm"] != "C"]
    tests = table_one(ab, "arm", ["lineage", "age"]).tests.set_index("variable")
    pa, pb = ((ab[ab["arm"] == g]["lineage"] == "T").mean() for g in ("A", "B"))
    np.testing.assert_allclose(tests.loc["lineage", "smd"], abs(pb - pa) / np.sqrt((pa * (1 - pa) + pb * (1 - pb)) / 2))
    a, b = (ab[ab["arm"] == g]["age"].dropna() for g in ("A", "B"))
    np.testing.assert_allclose(tests.loc["age", "smd"], abs(b.mean() - a.mean()) / np.sqrt((a.var() + b.var()) / 2))


def test_table_one_release_masks_small_cells_and_rounds_the_rest(baseline: pd.DataFrame) -> None:
    """Every released cell is 0, masked, or a block midpoint; a true count of 1 to k is masked."""
    policy = policy_for(11)
    full = table_one(baseline, "arm", ["cns", "rare"]).categorical
    cat = release_table_one(table_one(baseline, "arm", ["cns", "rare"]), policy).categorical
    assert cat["n"].isna().any()
    for true, shown in zip(full["n"], cat["n"], strict=True):
        assert shown == policy.count(true)
        assert shown is None or shown == 0 or (shown >= 11 and (shown + 5) % 11 == 0)
    small = (full["n"] > 0) & (full["n"] <= 11)
    assert cat.loc[small, "n"].isna().all()


TABLE1_CASES = {
    "one_group": (lambda d: table_one(d.assign(arm="A"), "arm", ["age", "lineage"]), None),
    "group_of_one": (lambda d: table_one(d.assign(arm=["Z"] + ["A"] * (len(d) - 1)), "arm", ["age"]), None),
    "all_missing_variable": (lambda d: table_one(d.assign(age=np.nan), "arm", ["age"]), None),
}


@pytest.mark.parametrize("case", list(TABLE1_CASES), ids=list(TABLE1_CASES))
def test_table_one_degenerate_explains(case: str, baseline: pd.DataFrame) -> None:
    """No traceback and no silent NaN: a missing test always comes with a note."""
    call, _ = TABLE1_CASES[case]
    tests = call(baseline).tests
    missing_p = tests["p"].isna()
    assert (tests.loc[missing_p, "note"].str.len() > 0).all()


def test_table_one_errors(baseline: pd.DataFrame) -> None:
    with pytest.raises(AnalysisError, match="empty"):
        table_one(baseline.iloc[:0], "arm", ["age"])
    with pytest.raises(AnalysisError, match="grouping column"):
        table_one(baseline, "arm", ["arm"])


def test_response_and_table1_cli_on_demo_db(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`ayaall analyze response` and `table1` print JSON whose shown counts are never small."""
    import json

    from ayaall.cli import main

    assert main(["analyze", "response", "--db", str(demo_db), "--by", "salvage_regimen", "--line", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    groups = out["outcomes"]["cr"]["groups"]
    assert {g["group"] for g in groups} >= {"BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"}
    for g in groups:
        assert g["n"] is None or g["n"] >= 11
        if g["rate"] is not None:
            assert g["n"] >= 33  # a rate is shown for a group released as 3k or more
            assert g["rate_ci"][0] <= g["rate"] <= g["rate_ci"][1]
    assert main(["analyze", "table1", "--db", str(demo_db), "--by", "lineage", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert [g["group"] for g in table["groups"]] == ["B", "T", "Overall"]
    for var in table["variables"]:
        for cell in var.get("levels", []):
            assert cell["n"] is None or cell["n"] == 0 or cell["n"] >= 11
        assert var["p"] is not None or var["note"]
