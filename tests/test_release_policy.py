"""The release policy (``disclosure/``): named cases for counts, the time grid, groups and categories, and
the released curves — their numbers from rounded counts, where they stop, and that with the policy off
they are the exact curves. The attacks on everything that leaves the server are in tests/attacks/."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyses.baseline import table_one
from analyses.cif import cumulative_incidence
from analyses.km import fit_km
from disclosure.counts import WeightedCounts, model_counts
from disclosure.curves import counts_at, interpolated, release_km
from disclosure.groups import OTHER_GROUPS, combine_groups
from disclosure.incidence import release_cif
from disclosure.policy import ReleasePolicy, policy_for
from disclosure.table1 import OTHER_CATEGORIES, combine_categories, release_table_one

sys.path.insert(0, str(Path(__file__).parent / "reference"))
from cases import EDGE_KM_COHORTS, random_km_cohort

POLICY = ReleasePolicy()
OFF = policy_for(0)


# ------------------------------------------------------------------ counts
@pytest.mark.parametrize(
    ("count", "rounded", "shown"),
    [
        pytest.param(0, 0, 0, id="zero_is_exact"),
        pytest.param(1, 6, None, id="one_patient_is_the_first_block"),
        pytest.param(11, 6, None, id="k_itself_is_the_first_block"),
        pytest.param(12, 17, 17, id="second_block"),
        pytest.param(22, 17, 17, id="second_block_top"),
        pytest.param(23, 28, 28, id="third_block"),
        pytest.param(1000, 996, 996, id="large"),
    ],
)
def test_counts_are_rounded_to_block_midpoints(count: int, rounded: int, shown: int | None) -> None:
    assert POLICY.rounded(count) == rounded
    assert POLICY.count(count) == shown
    assert OFF.count(count) == count


def test_every_count_of_a_block_is_released_alike_and_no_small_value_is_shown() -> None:
    for block in range(0, 30):
        values = {POLICY.count(c) for c in range(11 * block + 1, 11 * block + 12)}
        assert len(values) == 1
    shown = {POLICY.count(c) for c in range(0, 500)}
    assert all(v is None or v == 0 or v >= 11 for v in shown)
    assert POLICY.count(None) is None
    assert POLICY.count(float("nan")) is None


def test_weighted_sums_round_like_counts() -> None:
    assert POLICY.rounded(0.4) == 6.0
    assert POLICY.rounded(11.0000000001) == 6.0  # float noise is not a new block
    assert POLICY.rounded(11.6) == 17.0
    np.testing.assert_array_equal(POLICY.rounded_array([0, 3.2, 30, -1]), [0, 6, 28, -1])


@pytest.mark.parametrize(
    ("days", "grid"),
    [
        pytest.param(0, 0, id="time_zero_stays"),
        pytest.param(1, 7, id="first_day_to_the_week"),
        pytest.param(7, 7, id="on_the_grid"),
        pytest.param(7.0000000001, 7, id="rounding_noise"),
        pytest.param(8, 14, id="next_week"),
        pytest.param(365.25, 371, id="a_year"),
    ],
)
def test_times_are_coarsened_up_to_the_week(days: float, grid: float) -> None:
    assert POLICY.coarsen(days) == grid
    assert OFF.coarsen(days) == days


def test_landmarks_move_to_the_nearest_grid_day() -> None:
    assert [POLICY.snap_landmark(d) for d in (180, 181, 182, 183, 185, 186, 365)] == [182, 182, 182, 182, 182, 189, 364]
    assert OFF.snap_landmark(181.0) == 181.0


def test_policy_is_recorded_and_described() -> None:
    record = POLICY.to_dict()
    assert record["rounding_base"] == 11
    assert record["time_grid_days"] == 7.0
    assert record["curve_min_n"] == 33
    assert "rounded to the midpoint of its block of 11" in POLICY.sentence()
    assert OFF.to_dict()["rounding"] == "none"
    assert "No disclosure control" in OFF.sentence()


def test_model_and_weighted_counts_are_released_counts() -> None:
    assert model_counts(200, 80, 204, POLICY) == {"n": 204, "events": 83, "n_dropped": None}
    frame = pd.DataFrame({"t": ["a"] * 30 + ["b"] * 5, "event_code": [1] * 20 + [0] * 10 + [1] * 5})
    counts = WeightedCounts.of(frame, frame.iloc[:33], 34, "t", ["a", "b"], POLICY)
    assert counts.n_shown == [28, None]
    assert counts.events_shown == [17, None]
    assert counts.flow == (28, None, None)


# ------------------------------------------------------------------ groups and categories
def test_groups_beyond_the_readable_number_are_combined_smallest_first() -> None:
    labels = pd.Series([f"g{i}" for i in range(12) for _ in range(10 + 20 * i)])
    combined, names = combine_groups(labels, POLICY)
    assert combined.nunique() == 8
    assert names == ["g0", "g1", "g2", "g3", "g4"]
    assert (combined == OTHER_GROUPS).sum() == sum(10 + 20 * i for i in range(5))
    same, none = combine_groups(labels[labels.isin(["g1", "g2"])], POLICY)
    assert none == []
    pd.testing.assert_series_equal(same, labels[labels.isin(["g1", "g2"])])


def test_small_categories_are_combined_and_a_lone_small_one_is_kept() -> None:
    values = pd.Series(["M"] * 300 + ["F"] * 290 + ["U"] * 4)
    _, none = combine_categories(values, POLICY)
    assert none == []  # one small level: combining it with nothing protects nothing
    race = pd.Series(["WHITE"] * 400 + ["BLACK"] * 60 + ["AIAN"] * 3 + ["NHPI"] * 2 + [None] * 5)
    combined, names = combine_categories(race, POLICY)
    assert names == ["AIAN", "NHPI"]
    assert (combined == OTHER_CATEGORIES).sum() == 5
    assert combined.isna().sum() == 5
    many = pd.Series([f"s{i:02d}" for i in range(16) for _ in range(30 + i)])
    reduced, names = combine_categories(many, POLICY)
    assert reduced.nunique() <= POLICY.max_parts
    assert names == sorted(names)
    assert len(names) == 7


def test_table_one_percentages_are_of_released_counts() -> None:
    data = pd.DataFrame({"g": ["a"] * 100 + ["b"] * 60, "x": (["u"] * 70 + ["v"] * 30) + (["u"] * 57 + ["v"] * 3)})
    released = release_table_one(table_one(data, "g", ["x"]), POLICY)
    cat = released.categorical.set_index(["level", "group"])
    assert cat.loc[("u", "a"), "n"] == 72  # 70 -> 67..77 -> 72
    assert cat.loc[("v", "b"), "n"] is None
    assert cat.loc[("u", "a"), "percent"] == pytest.approx(100 * 72 / 105)  # 100 non-missing -> 100..110 -> 105
    assert np.isnan(cat.loc[("v", "b"), "percent"])
    assert list(released.groups["n"]) == [105, 61, 160]


# ------------------------------------------------------------------ curves
def _released(data: pd.DataFrame, policy: ReleasePolicy = POLICY, by: str | None = "group"):
    exact = fit_km(data, "time", "status", by)
    coarse = fit_km(policy.coarsen_frame(data, ("time",)), "time", "status", by)
    return release_km(coarse, exact, policy, [5.0, 20.0]), exact


@pytest.mark.parametrize("case", list(EDGE_KM_COHORTS))
def test_policy_off_gives_the_exact_curves(case: str) -> None:
    released, exact = _released(EDGE_KM_COHORTS[case], OFF)
    for group in exact.summary["group"]:
        # both have a time-0 row before any time-0 events: compare the curves' values after each time
        mine = released.km.curve[released.km.curve["group"] == group].drop_duplicates("time_days", keep="last")
        theirs = exact.curve[exact.curve["group"] == group].drop_duplicates("time_days", keep="last")
        mine, theirs = mine.reset_index(drop=True), theirs.reset_index(drop=True)
        np.testing.assert_allclose(mine["survival"], theirs["survival"], rtol=0, atol=1e-12)
    pd.testing.assert_series_equal(released.km.summary["n"].astype(int), exact.summary["n"], check_names=False)


def test_a_curve_is_estimated_from_rounded_counts() -> None:
    """Inverting a released step gives the rounded (interpolated) counts, not the exact ones: with 300
    patients and 40 deaths spread over 10 weeks, the released cumulative deaths at each week are the
    interpolation of the block the true count is in."""
    time = np.repeat(np.arange(1, 11) * 7.0, 4)
    data = pd.DataFrame({"time": np.r_[time, np.full(260, 400.0)], "status": np.r_[np.ones(40), np.zeros(260)]})
    released, _ = _released(data.assign(group="all"))
    curve = released.km.curve.set_index("time_days")["survival"]
    weeks = [t for t in np.arange(1, 11) * 7.0 if t in curve.index]
    assert len(weeks) >= 8  # the curve stops at the deaths' entry into their last block (week 9 here)
    true_deaths = np.arange(1, 11) * 4
    smooth = interpolated(np.r_[0.0, true_deaths], POLICY)[1:]
    n = POLICY.rounded(300)
    expected = np.cumprod(1 - np.diff(np.r_[0.0, smooth]) / (n - np.r_[0.0, smooth[:-1]]))
    np.testing.assert_allclose(curve.loc[weeks].to_numpy(), expected[: len(weeks)], rtol=1e-12)
    exact = np.cumprod(1 - 4 / (300 - np.r_[0, true_deaths[:-1]]))
    assert not np.allclose(curve.loc[weeks].to_numpy(), exact[: len(weeks)])


def test_a_curve_stops_at_its_last_block_below_k_or_20_percent_at_risk() -> None:
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"time": rng.integers(1, 2000, 400).astype(float), "status": rng.random(400) < 0.6})
    released, exact = _released(data.assign(group="all"))
    counts = released.counts
    assert (counts["at_risk"] >= POLICY.curve_floor(400)).all()
    assert counts["at_risk"].min() < POLICY.rounded(400) * 0.5  # it does go on past the middle
    last = float(released.km.curve["time_days"].max())
    # released at risk is the released size minus released exits: within 3 (k // 2 + noise) of the truth
    slack = 3 * (POLICY.min_cell // 2 + POLICY.noise)
    enough = exact.curve["at_risk"] >= POLICY.curve_floor(400) - slack
    assert last <= float(exact.curve.loc[enough, "time_days"].max()) + 7


def test_a_small_group_is_not_drawn_but_keeps_its_released_counts() -> None:
    data = EDGE_KM_COHORTS["group_smaller_than_min_cell"]
    released, _ = _released(data)
    assert released.drawn == {"big": True, "tiny": False}
    assert released.km.curve[released.km.curve["group"] == "tiny"].empty
    assert released.km.summary.set_index("group").loc["tiny", "n"] is None


def test_risk_table_reads_the_released_counts_at_the_ticks() -> None:
    data = random_km_cohort(7)
    released, _ = _released(data)
    table = counts_at(released.counts, [0.0, 30.0, 75.5, 150.0], POLICY)
    for col in ("at_risk", "events", "censored"):
        assert all(v is None or v == 0 or v >= 11 for v in table[col])
    assert all(type(v) in (int, type(None)) for v in table["events"])
    start = table[table["time_days"] == 0.0].set_index("group")["at_risk"]
    summary = released.km.summary.set_index("group")["n"]
    for group in start.index:
        assert start[group] == summary[group]


def test_released_cumulative_incidence_has_both_causes_and_stops() -> None:
    rng = np.random.default_rng(9)
    n = 3000
    data = pd.DataFrame(
        {"time": rng.integers(1, 3000, n).astype(float), "status": rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2])}
    )
    coarse = cumulative_incidence(POLICY.coarsen_frame(data, ("time",)), "time", "status")
    exact = cumulative_incidence(data, "time", "status")
    released = release_cif(coarse, POLICY, [365.25, 730.5])
    curve = released.curve
    assert (curve["cif_event"].dropna().diff().dropna() >= -1e-12).all()
    grid = curve["time_days"].to_numpy()
    mine = curve["cif_event"].to_numpy()
    theirs = exact.curve.set_index("time_days")["cif_event"].reindex(grid, method="ffill").to_numpy()
    ok = ~np.isnan(mine)
    assert np.abs(mine[ok] - theirs[ok]).max() < 0.02
    assert released.summary["n"].tolist() == [POLICY.count(n)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_no_released_count_is_small(seed: int) -> None:
    """Property: on random cohorts every count a released curve shows is 0 or at least k."""
    released, _ = _released(random_km_cohort(seed))
    for col in ("n", "events"):
        assert all(v is None or v == 0 or v >= 11 for v in released.km.summary[col])
    table = counts_at(released.counts, [0.0, 50.0, 100.0, 250.0], POLICY)
    for col in ("at_risk", "events", "censored"):
        assert all(v is None or v == 0 or v >= 11 for v in table[col])
