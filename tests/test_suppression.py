"""Small-cell suppression: every shown count is 0 or >= min_cell, and masked counts cannot be
recovered from totals, complements or differences (an 'attacker' recomputes them and fails)."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyses.km import fit_km
from disclosure.suppression import (
    WeightedCounts,
    km_risk_table,
    model_counts,
    suppress_group_counts,
    suppress_km,
    suppress_totals,
)

sys.path.insert(0, str(Path(__file__).parent / "reference"))
from cases import EDGE_KM_COHORTS, random_km_cohort

R_DIR = Path(__file__).parent / "r"
MIN_CELL = 11


def _shown_counts(frame: pd.DataFrame, cols) -> list[int]:
    return [v for c in cols if c in frame for v in frame[c] if v is not None and not pd.isna(v)]


def _attack(original, suppressed, totals, min_cell: int) -> None:
    """Try every way we know to recover a masked count; assert each fails."""
    # 1. no shown count is small
    for frame, cols in [
        (suppressed.summary, ["n", "events"]),
        (suppressed.curve, ["at_risk", "events", "censored"]),
        (suppressed.milestones, ["at_risk", "events"]),
    ]:
        assert all(v == 0 or v >= min_cell for v in _shown_counts(frame, cols))
    # 2. totals minus the shown groups: the remainder covers >= 2 masked groups summing >= min_cell
    for col in ("n", "events"):
        hidden = [t for t, s in zip(original.summary[col], suppressed.summary[col], strict=True) if s is None]
        if hidden and not totals[col]:
            assert len(hidden) >= 2
            assert sum(hidden) >= min_cell
    # 3. complements: n - events of a group with both shown is 0 or large
    for n, e in zip(suppressed.summary["n"], suppressed.summary["events"], strict=True):
        if n is not None and e is not None:
            assert n - e == 0 or n - e >= min_cell
    # 4. differences of shown at-risk numbers (curve and milestones together, with n when shown)
    for group, n in zip(suppressed.summary["group"], suppressed.summary["n"], strict=True):
        c = suppressed.curve[suppressed.curve["group"] == group]
        m = suppressed.milestones[suppressed.milestones["group"] == group]
        points = [(t, v) for t, v in zip(c["time_days"], c["at_risk"], strict=True) if v is not None]
        points += [(t, v) for t, v in zip(m["time_days"], m["at_risk"], strict=True) if v is not None]
        values = [v for _, v in sorted(points, key=lambda p: p[0])]
        if n is not None:
            values = [n, *values]
        for a, b in itertools.pairwise(values):
            assert a - b == 0 or a - b >= min_cell, (group, a, b)
        true_n = int(original.summary.set_index("group").loc[group, "n"])
        if n is None:  # a masked group size is not within min_cell of any shown at-risk number
            assert all(true_n - v >= min_cell for v in values)
    # 5. per-row / per-interval events cannot be summed to a group's masked events
    for group, e in zip(suppressed.summary["group"], suppressed.summary["events"], strict=True):
        if e is None:
            assert suppressed.milestones.loc[suppressed.milestones["group"] == group, "events"].isna().all()
            assert suppressed.curve.loc[suppressed.curve["group"] == group, "events"].isna().all()
    # 6. the row counts between two shown at-risk numbers add up to their difference
    for group in suppressed.summary["group"]:
        shown = suppressed.curve[suppressed.curve["group"] == group].reset_index(drop=True)
        true = original.curve[original.curve["group"] == group].reset_index(drop=True)
        marks = [i for i, v in enumerate(shown["at_risk"]) if v is not None]
        for a, b in itertools.pairwise([*marks, len(shown)]):
            cells = [(true.loc[r, c], shown.loc[r, c]) for r in range(a, b) for c in ("events", "censored")]
            if b == len(shown) and len(true) > len(shown):
                cells.append((true.loc[len(shown), "at_risk"], None))  # rows after the truncation
            hidden = [v for v, s in cells if s is None]
            if sum(hidden) > 0:  # masked zeros in a run that drops by 0 reveal nothing
                assert len(hidden) >= 2
                assert sum(hidden) >= min_cell
    # 7. the milestone table as a linear system: no small sum over parts is determined
    for group, n, e in zip(
        suppressed.summary["group"], suppressed.summary["n"], suppressed.summary["events"], strict=True
    ):
        _attack_milestones(original, suppressed, group, n is not None, e is not None, min_cell)
    # 8. curves stop before fewer than min_cell are at risk
    merged = suppressed.curve.merge(original.curve, on=["group", "time_days"], suffixes=("", "_true"))
    assert (merged["at_risk_true"] >= min_cell).all()


class _Parts:
    """Follow-up split at the table's times t_1 < ... < t_K into parts [0,t1), {t1}, (t1,t2), ...: the
    true events and censorings per part (from the unsuppressed curve ``rows``), and sums over parts as
    vectors. Every shown number is a linear equation in the parts."""

    def __init__(self, rows: pd.DataFrame, t: np.ndarray) -> None:
        self.n = 2 * len(t) + 1
        part = [2 * int(np.searchsorted(t, x)) + int(x in t) for x in rows["time_days"]]
        self.truth = np.r_[
            np.bincount(part, weights=rows["events"], minlength=self.n),
            np.bincount(part, weights=rows["censored"], minlength=self.n),
        ]

    def vec(self, a: int, b: int, ev: float = 1.0, ce: float = 1.0) -> np.ndarray:
        v = np.zeros(2 * self.n)
        v[a:b], v[self.n + a : self.n + b] = ev, ce
        return v

    def assert_no_small_sum_solves(self, eqs: list[np.ndarray], min_cell: int, label) -> None:
        """No sum of events, censorings or both over consecutive parts that is small solves from ``eqs``."""
        if not eqs:
            return
        a_mat = np.array(eqs)
        for a in range(self.n):
            for b in range(a + 1, self.n + 1):
                for f in (self.vec(a, b, ce=0.0), self.vec(a, b, ev=0.0), self.vec(a, b)):
                    if 0 < f @ self.truth < min_cell:
                        y = np.linalg.lstsq(a_mat.T, f, rcond=None)[0]
                        assert np.abs(a_mat.T @ y - f).max() > 1e-8, (label, a, b, f @ self.truth)


def _attack_milestones(original, suppressed, group, n_known, events_known, min_cell) -> None:
    """The milestone table (and the curve rows that start at its times) as a linear system."""
    ms = suppressed.milestones[suppressed.milestones["group"] == group].reset_index(drop=True)
    curve = suppressed.curve[suppressed.curve["group"] == group].reset_index(drop=True)
    t = ms["time_days"].to_numpy(dtype=float)
    parts = _Parts(original.curve[(original.curve["group"] == group)].iloc[1:], t)
    vec, n_parts = parts.vec, parts.n
    eqs = ([vec(0, n_parts)] if n_known else []) + ([vec(0, n_parts, ce=0.0)] if events_known else [])
    for k, tk in enumerate(t):
        later = curve[curve["time_days"] >= tk]
        if ms.loc[k, "at_risk"] is not None or (len(later) and later["at_risk"].iloc[0] is not None):
            eqs.append(vec(2 * k + 1, n_parts))
        if ms.loc[k, "events"] is not None:
            eqs.append(vec(2 * k, 2 * k + 2, ce=0.0))
    parts.assert_no_small_sum_solves(eqs, min_cell, group)


def test_lung_ecog_group_of_one_is_protected() -> None:
    """lung ph.ecog (tests/r/km_data_lung_ecog.csv): ecog3 has one patient; its n cannot be recovered
    from the total, so a second group is masked too (rule 3), and ecog3 has no curve."""
    data = pd.read_csv(R_DIR / "km_data_lung_ecog.csv")
    original = fit_km(data, "time", "status", "group")
    suppressed, totals = suppress_km(original, MIN_CELL)
    summary = suppressed.summary.set_index("group")
    assert summary.loc["ecog3", "n"] is None
    assert summary["n"].isna().sum() >= 2
    assert (suppressed.curve["group"] == "ecog3").sum() == 0
    assert pd.isna(summary.loc["ecog3", "median_days"])
    _attack(original, suppressed, totals, MIN_CELL)


def test_min_cell_zero_is_off() -> None:
    """--min-cell 0 returns the result unchanged."""
    data = pd.read_csv(R_DIR / "km_data_lung_ecog.csv")
    original = fit_km(data, "time", "status", "group")
    suppressed, totals = suppress_km(original, 0)
    pd.testing.assert_frame_equal(suppressed.curve, original.curve)
    assert totals == {"n": False, "events": False}


@pytest.mark.parametrize(
    ("counts", "masked", "hide_total"),
    [
        ([50, 3, 40], [False, True, True], False),  # 3 + 40: two masked, sum >= 11
        ([50, 3, 4], [True, True, True], False),  # 3 + 4 = 7 < 11, so 50 is masked as well
        ([100, 200], [False, False], False),
        ([0, 30], [False, False], False),
    ],
    ids=["one_small", "two_small", "none_small", "zero_is_shown"],
)
def test_suppress_totals(counts, masked, hide_total) -> None:
    """Rule 3 by hand."""
    values, hide = suppress_totals(counts, MIN_CELL)
    assert [v is None for v in values] == masked
    assert hide is hide_total


def test_single_group_hides_total() -> None:
    """One small group and nothing else: the total itself must be masked."""
    values, hide = suppress_totals([7], MIN_CELL)
    assert values == [None]
    assert hide is True


@st.composite
def _cohorts(draw):
    k = draw(st.integers(1, 4))
    sizes = [draw(st.integers(1, 60)) for _ in range(k)]
    rows = []
    for g, size in enumerate(sizes):
        for _ in range(size):
            rows.append({"time": draw(st.integers(0, 40)), "status": draw(st.integers(0, 1)), "group": f"g{g}"})
    return pd.DataFrame(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cohorts(), st.sampled_from([5, 11]))
def test_attacker_cannot_recover_masked_counts(data: pd.DataFrame, min_cell: int) -> None:
    """Property: on random cohorts the attacker of _attack() never finds a small count."""
    original = fit_km(data, "time", "status", "group", times=(5, 10, 20, 30))
    suppressed, totals = suppress_km(original, min_cell)
    _attack(original, suppressed, totals, min_cell)


def test_model_counts_follow_rules_1_to_3() -> None:
    """A model's n and events: masked when small, when n - events or the events left out are small, and
    when the patients left out for a missing covariate are few (their number and n add up to the cohort's)."""
    assert model_counts(200, 80, 200, 80, MIN_CELL) == {"n": 200, "events": 80, "n_dropped": 0}
    assert model_counts(15, 10, 15, 10, MIN_CELL) == {"n": 15, "events": None, "n_dropped": 0}  # 5 without event
    assert model_counts(195, 80, 200, 82, MIN_CELL) == {"n": None, "events": None, "n_dropped": None}
    assert model_counts(150, 60, 200, 66, MIN_CELL) == {"n": 150, "events": None, "n_dropped": 50}  # 6 left out
    assert model_counts(15, 10, 15, 10, 0) == {"n": 15, "events": 10, "n_dropped": 0}


def test_cox_page_timing_page_and_analyze_cox_mask_model_counts_alike(demo_extract, tmp_path) -> None:
    """[cox_counts_one_rule] The Cox page and ``analyze cox`` (cox_counts) masked a model's events by other
    rules than the Treatment timing page's models (timing_view._cox_tables): with n masked because few were
    left out, cox_counts still showed the events. Both now call model_counts; here on the demo registry
    with 4 patients' WBC blanked."""
    import shutil

    from ayaall.cohort import CohortSpec
    from etl import load_extract
    from reports.analyze.cox import run
    from reports.cox import cox_view
    from reports.service import RegistryService

    extract = tmp_path / "extract"
    shutil.copytree(demo_extract, extract)
    diagnoses = pd.read_csv(extract / "diagnoses.csv", dtype=str, keep_default_na=False)
    diagnoses.loc[:3, "wbc_at_dx"] = ""
    diagnoses.to_csv(extract / "diagnoses.csv", index=False)
    db = tmp_path / "registry.duckdb"
    load_extract(extract, db)
    service = RegistryService(db)
    frame = service.frame(CohortSpec(), "OS", "DX", ["wbc_at_dx"])
    assert int(frame["wbc_at_dx"].isna().sum()) == 4
    view = cox_view(service, CohortSpec(), "OS", "DX", ["wbc_at_dx"], {}, MIN_CELL)
    printed = run(db, "OS", "DX", CohortSpec(), covariates=["wbc_at_dx"], min_cell=MIN_CELL)
    assert (view.n, view.events) == (None, None)
    assert (printed["n"], printed["events"], printed["n_dropped_missing"]) == (None, None, None)


# ------------------------------------------------------------------ the vectorised suppress_km = the old one
# ------------------------------------------------------------------ the KMunicate risk table
def _attack_risk_table(original, table: pd.DataFrame, min_cell: int) -> None:
    """What a reader of a KM figure sees: each group's n and events (summary) and the risk table.
    No shown count is small, at-risk drops are 0 or large, and no small sum of events, censorings or
    both over consecutive parts of follow-up solves from the shown numbers (parts as in
    _attack_milestones, with the interval censorings as equations too)."""
    summary, _, _ = suppress_group_counts(original.summary, min_cell)
    for group, n, e, true_n in zip(
        summary["group"], summary["n"], summary["events"], original.summary["n"], strict=True
    ):
        tab = table[table["group"] == group].reset_index(drop=True)
        curve = original.curve[original.curve["group"] == group]
        for col in ("at_risk", "censored", "events"):
            assert all(v == 0 or v >= min_cell for v in tab[col] if v is not None), (group, col)
        shown_at_risk = [v for v in tab["at_risk"] if v is not None]
        for a, b in itertools.pairwise([n, *shown_at_risk] if n is not None else shown_at_risk):
            assert a - b == 0 or a - b >= min_cell, (group, a, b)
        if n is None:
            assert all(true_n - v >= min_cell for v in shown_at_risk)
            assert tab["censored"].isna().all()
        if n is None or e is None:
            assert tab["events"].isna().all()
        last = curve.loc[curve["at_risk"] >= min_cell, "time_days"].max()
        assert (tab["time_days"] <= last).all()
        _attack_table_equations(curve.iloc[1:], tab, n is not None, e is not None, min_cell)


def _attack_table_equations(rows, tab, n_known, events_known, min_cell) -> None:
    """The risk table as a linear system. The figure draws the curve past the last tick: a part of
    follow-up up to it with no step (no mark) is seen to hold no event (no censoring), which the
    attacker uses as well."""
    parts = _Parts(rows, tab["time_days"].to_numpy(dtype=float))
    vec, n_parts, truth = parts.vec, parts.n, parts.truth
    eqs = ([vec(0, n_parts)] if n_known else []) + ([vec(0, n_parts, ce=0.0)] if events_known else [])
    eqs += [vec(p, p + 1, ce=0.0) for p in range(n_parts - 1) if truth[p] == 0]
    eqs += [vec(p, p + 1, ev=0.0) for p in range(n_parts - 1) if truth[n_parts + p] == 0]
    for k in range(len(tab)):
        if tab.loc[k, "at_risk"] is not None:
            eqs.append(vec(2 * k + 1, n_parts))
        if tab.loc[k, "events"] is not None:
            eqs.append(vec(2 * k, 2 * k + 2, ce=0.0))
        if tab.loc[k, "censored"] is not None:
            eqs.append(vec(2 * k, 2 * k + 2, ev=0.0))
    parts.assert_no_small_sum_solves(eqs, min_cell, "risk table")


def _tail_leak_cohort() -> pd.DataFrame:
    """60 patients: 20 events at day 5, 20 at day 15, 15 censored at day 22, then 3 events (day 25) and
    2 censorings (day 30) after the last tick. With n = 60 and 43 events shown, a table showing every
    interval count that is not small (20 events by day 10, 20 more by day 20, no censoring) gives the
    3 late events away: 43 - 20 - 20."""
    time = [5] * 20 + [15] * 20 + [22] * 15 + [25] * 3 + [30] * 2
    status = [1] * 40 + [0] * 15 + [1] * 3 + [0] * 2
    return pd.DataFrame({"time": time, "status": status, "group": "a"})


def test_risk_table_rule_one_alone_leaks_the_tail_and_the_protected_table_does_not() -> None:
    """The attacker finds the 3 late events in the rule-1-only table (the dashboard's table before this
    version); km_risk_table masks enough that it cannot."""
    km = fit_km(_tail_leak_cohort(), "time", "status", "group")
    ticks = [0, 10, 20]
    raw = km_risk_table(km, ticks, 0)
    assert raw[["at_risk", "censored", "events"]].values.tolist() == [[60, 0, 0], [40, 0, 20], [20, 0, 20]]
    with pytest.raises(AssertionError):
        _attack_risk_table(km, raw, MIN_CELL)  # nothing in it is small, yet it leaks
    protected = km_risk_table(km, ticks, MIN_CELL)
    _attack_risk_table(km, protected, MIN_CELL)
    assert protected[["events", "censored", "at_risk"]].isna().to_numpy().any()


def test_risk_table_counts_match_a_direct_count() -> None:
    """With min_cell 0 each row is counted straight from the data: at risk = follow-up >= t, events and
    censorings in (previous tick, t] (the first interval includes time 0); ticks beyond the last
    follow-up are left out."""
    data = random_km_cohort(7)
    km = fit_km(data, "time", "status", "group")
    ticks = [0.0, 30.0, 75.5, 150.0, 10_000.0]
    table = km_risk_table(km, ticks, 0)
    for group, rows in data.groupby("group"):
        t_max = rows["time"].max()
        expect = []
        previous = -np.inf
        for t in (t for t in ticks if t <= t_max):
            within = (rows["time"] > previous) & (rows["time"] <= t)
            expect.append(
                [
                    int((rows["time"] >= t).sum()),
                    int((within & (rows["status"] == 0)).sum()),
                    int((within & (rows["status"] == 1)).sum()),
                ]
            )
            previous = t
        got = table.loc[table["group"] == group, ["at_risk", "censored", "events"]].values.tolist()
        assert got == expect, group


@pytest.mark.parametrize("case", list(EDGE_KM_COHORTS), ids=list(EDGE_KM_COHORTS))
@pytest.mark.parametrize("min_cell", [5, 11])
def test_risk_table_attacker_fails_on_edge_cases(case, min_cell) -> None:
    km = fit_km(EDGE_KM_COHORTS[case], "time", "status", "group")
    _attack_risk_table(km, km_risk_table(km, [0, 3, 6, 10, 20, 40], min_cell), min_cell)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cohorts(), st.sampled_from([5, 11]), st.lists(st.integers(0, 45), min_size=1, max_size=7, unique=True))
def test_risk_table_attacker_cannot_recover_masked_counts(data: pd.DataFrame, min_cell: int, ticks) -> None:
    """Property: on random cohorts and tick sets the risk-table attacker never finds a small count."""
    km = fit_km(data, "time", "status", "group")
    _attack_risk_table(km, km_risk_table(km, sorted(ticks), min_cell), min_cell)


def _weighted_frames(missing: dict[str, int], trimmed: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Treatments A (66 patients, 12 events) and B (21, 4); ``missing`` / ``trimmed`` patients of each
    (none with an event) are left out for a missing covariate / by trimming."""
    rows = []
    for arm, n, events in (("A", 66, 12), ("B", 21, 4)):
        for i in range(n):
            left = "missing" if i >= n - missing[arm] else "trimmed" if i >= n - missing[arm] - trimmed[arm] else ""
            rows.append({"trt": arm, "event_code": int(i < events), "left": left})
    frame = pd.DataFrame(rows)
    complete = frame[frame["left"] != "missing"]
    return frame, complete[complete["left"] == ""], len(complete)


def test_weighted_totals_do_not_give_back_the_patients_left_out() -> None:
    """[iptw_total_reveals_missing] 87 patients on the two treatments (public), 4 without a covariate,
    none trimmed: the flow 83 / 4 / 0 is masked whole (4 is small and 0 cannot hide it), so the total of
    patients analysed must be masked as well, or 87 - 83 gives the 4 back. The dashboard's Adjusted
    comparison page showed that total beside its hazard ratios before both used ``WeightedCounts``."""
    frame, data, n_complete = _weighted_frames({"A": 2, "B": 2}, {"A": 0, "B": 0})
    counts = WeightedCounts.of(frame, data, n_complete, "trt", ["A", "B"], 11)
    assert (len(frame), n_complete, len(data)) == (87, 83, 83)
    assert counts.flow == (None, None, None)
    assert counts.total_n is None
    assert counts.total_events is None


def test_weighted_counts_are_shown_when_nothing_small_is_left_out() -> None:
    """[iptw_counts_shown] 11 of A without a covariate and 12 of A trimmed: every count left out is at
    least 11, so the flow (64 analysed, 11, 12), A's 43 and B's 21 patients and the total are shown."""
    frame, data, n_complete = _weighted_frames({"A": 11, "B": 0}, {"A": 12, "B": 0})
    counts = WeightedCounts.of(frame, data, n_complete, "trt", ["A", "B"], 11)
    assert counts.flow == (64, 11, 12)
    assert counts.n_shown == [43, 21]
    assert counts.total_n == 64


def test_the_page_and_the_command_count_with_one_implementation() -> None:
    import reports.analyze.iptw as command
    import reports.weighting as page

    assert command.WeightedCounts is WeightedCounts
    assert page.WeightedCounts is WeightedCounts
