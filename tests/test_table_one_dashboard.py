"""Table 1 (reports/table1.py) is analyses.baseline's table, released by disclosure.table1 and laid out;
the page, its download, the export and ``ayaall analyze table1`` show the one table; and the counting and
suppression it relies on."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analyses.baseline import MISSING, OVERALL, table_one
from ayaall.cohort import CohortSpec
from ayaall.filters import TABLE_ONE, column_label
from disclosure.policy import policy_for
from disclosure.table1 import release_table_one
from reports.table1 import format_table_one, table1

MIN_CELL = 11


def _expected(service, by: str | None) -> tuple[pd.DataFrame, object]:
    variables = [c for c, _ in TABLE_ONE if c != by]
    frame = service.patients(CohortSpec(), [*variables, *([by] if by else [])])
    if by is None:
        frame = frame.assign(one="All patients")
    from reports.table1 import table_one_result

    return frame, table_one_result(service, CohortSpec(), by, MIN_CELL)


def test_displayed_cells_are_the_suppressed_table_one(service) -> None:
    """Every "n (p%)" cell is the suppressed result's n and percent (of non-missing values), every
    masked count is —, and the headers carry the groups' (suppressed) n."""
    shown = table1(service, CohortSpec(), "lineage", MIN_CELL)
    _, result = _expected(service, "lineage")
    groups = result.groups.set_index("group")["n"]
    titles = {g: f"{g} (n={n:,})" for g, n in groups.items()}
    assert list(shown.columns) == ["Characteristic", "Level", *titles.values(), "p", "SMD"]
    cat = result.categorical.set_index(["variable", "level", "group"])
    label_to_var = {column_label(var): var for var, _ in TABLE_ONE}
    var = None
    checked = 0
    for row in shown.to_dict("records"):
        var = label_to_var.get(row["Characteristic"], var) if row["Characteristic"] else var
        if var in ("age_at_dx", "wbc_at_dx"):  # continuous: the next test
            continue
        level = MISSING if row["Level"] == "missing" else row["Level"]
        for group, title in titles.items():
            n, pct = cat.loc[(var, level, group), ["n", "percent"]]
            if n is None:
                assert row[title] == "—"
            elif level == MISSING:
                assert row[title] == f"{n:,}"
            else:
                assert row[title] == f"{n:,} ({pct:.0f}%)"
            checked += 1
    assert checked > 100


def test_age_row_is_median_iqr_and_mean_sd_of_table_one(service) -> None:
    shown = table1(service, CohortSpec(), "lineage", MIN_CELL)
    _, result = _expected(service, "lineage")
    title = next(c for c in shown.columns if c.startswith("Overall"))
    cont = result.continuous
    o = cont[cont["variable"] == "age_at_dx"].set_index("group").loc[OVERALL]
    median, mean = shown.iloc[0], shown.iloc[1]
    assert (median["Characteristic"], median["Level"]) == ("Age at diagnosis (years)", "median (IQR)")
    assert median[title] == f"{o['median']:.1f} ({o['q1']:.1f}–{o['q3']:.1f})"
    assert (mean["Characteristic"], mean["Level"]) == ("", "mean (SD)")
    assert mean[title] == f"{o['mean']:.1f} ({o['sd']:.1f})"


def test_without_comparison_only_overall_and_no_tests(service) -> None:
    shown = table1(service, CohortSpec(), None, MIN_CELL)
    # 3,000 patients: the block 2,993-3,003, released as its midpoint
    assert [c for c in shown.columns if c not in ("Characteristic", "Level")] == ["Overall (n=2,998)"]
    assert "Lineage" in set(shown["Characteristic"])


def test_every_shown_count_is_zero_or_at_least_min_cell(service) -> None:
    small = CohortSpec.from_dict({"filters": {"subtype": ["IAMP21", "ETV6_RUNX1"], "age_group": ["30-39"]}})
    for cohort in (CohortSpec(), small):
        shown = table1(service, cohort, "frontline_regimen", MIN_CELL)
        header_counts = [re.search(r"\(n=([\d,]+)\)$", c) for c in shown.columns]
        cells = [str(v) for v in shown.drop(columns=["Characteristic", "Level", "p", "SMD"]).to_numpy().ravel()]
        counts = [int(m.group(1).replace(",", "")) for m in header_counts if m]
        counts += [int(m.group(1).replace(",", "")) for v in cells if (m := re.match(r"^([\d,]+)(?: \(|$)", v))]
        assert all(c == 0 or c >= MIN_CELL for c in counts)


# ------------------------------------------------------------------ analyses.baseline counting
def _random_frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    return pd.DataFrame(
        {
            "g": rng.choice(np.array(["a", "b", "c", None], dtype=object), n),
            "text": rng.choice(np.array(["u", "v", "w", None], dtype=object), n),
            "flag": rng.random(n) < 0.3,
            "mixed": rng.choice(np.array([1, "1", "2", None, np.nan], dtype=object), n),
        }
    )


@pytest.mark.parametrize("seed", range(8))
def test_level_counts_equal_a_crosstab_of_the_text(seed: int) -> None:
    """Counts per (variable, level, group) equal pandas' crosstab of the values as text (missing = None or
    NaN; 1 and "1" are one level, "1"), and the Overall column is their row sum."""
    data = _random_frame(seed)
    result = table_one(data, "g", ["text", "flag", "mixed"])
    labels = data["g"].where(data["g"].notna(), MISSING)
    for var in ("text", "flag", "mixed"):
        present = data[var].notna()
        text = data[var][present].map(str)
        expect = pd.crosstab(text, labels[present])
        got = result.categorical[(result.categorical["variable"] == var) & (result.categorical["level"] != MISSING)]
        grid = got.pivot(index="level", columns="group", values="n")  # noqa: PD010
        for group in expect.columns:
            assert grid[group].reindex(expect.index).tolist() == expect[group].tolist(), (var, group)
        assert grid[OVERALL].reindex(expect.index).tolist() == expect.sum(axis=1).tolist()
        missing = result.categorical[(result.categorical["variable"] == var) & (result.categorical["level"] == MISSING)]
        assert missing.set_index("group")["n"].to_dict() == {
            **{g: int((~present & (labels == g)).sum()) for g in sorted(labels.unique())},
            OVERALL: int((~present).sum()),
        }


def test_overall_n_of_a_single_small_group_is_masked() -> None:
    """One group of 7 patients: its n is masked (rule 1) and so is the Overall n, which equals it."""
    data = pd.DataFrame({"g": ["a"] * 7, "x": list("uvuvuvu")})
    groups = release_table_one(table_one(data, "g", ["x"]), policy_for(MIN_CELL)).groups.set_index("group")["n"]
    assert groups["a"] is None
    assert groups[OVERALL] is None


def test_continuous_missing_and_non_missing_are_released_each() -> None:
    """50 patients, 3 without an age: the missing count is masked (the first block), the non-missing 47 is
    released (45-55 -> 50); the summaries stand on 47 values and are kept."""
    data = pd.DataFrame({"g": ["a"] * 50, "age": [np.nan] * 3 + list(range(47))})
    cont = release_table_one(table_one(data, "g", ["age"]), policy_for(MIN_CELL)).continuous.set_index("group")
    assert cont.loc["a", "missing"] is None
    assert cont.loc["a", "n"] == 50
    assert cont.loc["a", "median"] == 23.0  # median of 0..46


def test_format_keeps_a_missing_row_only_when_something_is_missing() -> None:
    data = pd.DataFrame({"g": ["a"] * 30 + ["b"] * 30, "x": ["u", "v"] * 30, "y": ["u"] * 59 + [None]})
    result = release_table_one(table_one(data, "g", ["x", "y"]), policy_for(0))
    shown = format_table_one(result)
    assert shown["Level"].tolist() == ["u", "v", "u", "missing"]
    assert shown.loc[3, "b (n=30)"] == "1"


def _three_arms() -> pd.DataFrame:
    """Arms X (5 patients), Y (40), Z (300, 3 of them with neither sex nor age): the case of
    tests/test_command_disclosure.py::test_table1_masked_group_and_missing_counts_stay_masked."""
    rng = np.random.default_rng(1)
    sex = ["F"] * 3 + ["M"] * 2 + ["F"] * 20 + ["M"] * 20 + ["F"] * 150 + ["M"] * 147 + [None] * 3
    return pd.DataFrame(
        {
            "arm": ["X"] * 5 + ["Y"] * 40 + ["Z"] * 300,
            "sex": sex,
            "age": np.r_[rng.uniform(15, 40, 342), [np.nan] * 3],
        }
    )


def test_a_small_arm_is_masked_and_the_others_are_rounded() -> None:
    """[table1_rounded] Arms X (5 patients), Y (40), Z (300). X's size and cells are masked; Y's and Z's are
    rounded to their blocks (40 -> 39, 300 -> 303), and no cell of a large arm is masked because of X
    (the session-start code masked all of Y to protect X)."""
    policy = policy_for(MIN_CELL)
    result = release_table_one(table_one(_three_arms(), "arm", ["sex", "age"]), policy)
    shown = format_table_one(result)
    assert [c for c in shown.columns if "(n=" in c] == ["X (n=—)", "Y (n=39)", "Z (n=303)", "Overall (n=347)"]
    sex = shown[shown["Characteristic"].eq("Sex")].index[0]
    assert shown.loc[sex, "Y (n=39)"] == "17 (44%)"  # 20 women -> 17, of 37 non-missing -> 39
    assert shown.loc[sex, "X (n=—)"] == "—"


def test_page_download_export_and_analyze_show_one_table_one(service, demo_db) -> None:
    """[table1_one_list] The Cohort page, its download (the table1 export) and ``ayaall analyze table1``
    show the same rows and cells; at the session's start the page had 12 variables and the other two
    another 8 (with WBC, without age group, MRD, CR1, relapsed and transplant)."""
    from export.exporter import prepare
    from export.requests import ExportRequest
    from reports.analyze.table1 import run

    page = table1(service, CohortSpec(), "lineage", MIN_CELL)
    content = prepare(service, ExportRequest(figure="table1", by="lineage", format="xlsx"), cohort_source={})
    pd.testing.assert_frame_equal(content.frames["table1"], page)
    expected = [c for c, _ in TABLE_ONE if c != "lineage"]
    assert [column_label(v) for v in expected] == [c for c in page["Characteristic"] if c]
    printed = run(demo_db, CohortSpec(), "lineage", [], min_cell=MIN_CELL)
    assert [v["variable"] for v in printed["variables"]] == expected
    shown_counts = {
        (v["variable"], lv["level"], lv["group"]): lv["n"]
        for v in printed["variables"]
        if v["kind"] == "categorical"
        for lv in v["levels"]
    }
    released = table1_result_counts(service, "lineage")
    assert shown_counts == released


def table1_result_counts(service, by: str) -> dict:
    from reports.table1 import table_one_result

    cat = table_one_result(service, CohortSpec(), by, MIN_CELL).categorical
    return {(v, lv, g): n for v, lv, g, n in zip(cat["variable"], cat["level"], cat["group"], cat["n"], strict=True)}
