"""Restricted mean time lost to each cause, against R's survfit Aalen–Johansen estimate (survival
3.5-3; committed outputs of tests/r/rmtl_reference.R on the data of tests/r/cif_reference.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses.km import fit_km
from analyses.results import AnalysisError
from analyses.rmtl import restricted_mean_time_lost

R_DIR = Path(__file__).parent / "r"
EXPECTED = pd.read_csv(R_DIR / "rmtl_summary.csv")
CASES = sorted({(row.data, row.horizon) for row in EXPECTED.itertuples()})
IDS = [f"{name}-{horizon:g}" for name, horizon in CASES]


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(R_DIR / f"cif_data_{name}.csv")


@pytest.mark.parametrize(("name", "horizon"), CASES, ids=IDS)
def test_rmtl_and_se_match_survfit(name: str, horizon: float) -> None:
    """R: summary(survfit(Surv(time, factor(status)) ~ group, influence = TRUE), rmean = horizon)
    rmean of states 1 and 2 (checked there against the integral of cmprsk::cuminc), and the
    infinitesimal-jackknife SE from survfit's influence array (checked there against a numerical
    derivative in each case weight) -> rmtl_summary.csv; to 1e-10 (large: 1e-9 relative)."""
    expected = EXPECTED[(EXPECTED["data"] == name) & (EXPECTED["horizon"] == horizon)].reset_index(drop=True)
    table = restricted_mean_time_lost(_data(name), "time", "status", horizon, "group").table
    assert list(table["group"]) == list(expected["group"])
    assert list(table["code"]) == list(expected["cause"])
    np.testing.assert_allclose(table["rmtl"], expected["rmtl"], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(table["se"], expected["se"], rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", ["example", "ties", "large"])
def test_time_lost_and_event_free_time_add_up_to_the_horizon(name: str) -> None:
    """RMTL(event) + RMTL(competing) + the all-cause Kaplan–Meier RMST = horizon (the Aalen–Johansen
    state probabilities add up to 1)."""
    data = _data(name)
    horizon = float(np.quantile(data["time"], 0.6))
    table = restricted_mean_time_lost(data, "time", "status", horizon, "group").table
    lost = table.groupby("group")["rmtl"].sum()
    event_free = data.assign(any_event=(data["status"] > 0).astype(int))
    rmst = fit_km(event_free, "time", "any_event", "group", rmst_horizon=horizon).rmst.set_index("group")["rmst"]
    np.testing.assert_allclose(lost + rmst, horizon, rtol=1e-12)


def test_differences_are_group_minus_reference() -> None:
    """diff = rmtl(group) - rmtl(first group), se = sqrt(se1^2 + se2^2), per cause; intervals Wald."""
    result = restricted_mean_time_lost(_data("example"), "time", "status", 2.0, "group")
    table = result.table.set_index(["cause", "group"])
    for row in result.differences.itertuples():
        mine, ref = table.loc[(row.cause, row.group)], table.loc[(row.cause, row.reference)]
        assert row.reference == "a"
        assert row.diff == pytest.approx(mine["rmtl"] - ref["rmtl"])
        assert row.se == pytest.approx(np.hypot(mine["se"], ref["se"]))
        assert row.ci_lower == pytest.approx(row.diff - 1.959963984540054 * row.se)
    assert len(result.differences) == 4


def test_single_patient_and_beyond_follow_up() -> None:
    """A group of one has a step CIF and SE 0 for the cause it did not have; a horizon past the last
    time carries the CIF forward and is flagged."""
    data = pd.DataFrame({"time": [2.0, 5, 7, 9, 3], "status": [1, 0, 2, 1, 1], "group": ["g"] * 4 + ["solo"]})
    table = restricted_mean_time_lost(data, "time", "status", 10.0, "group").table.set_index(["group", "cause"])
    assert table.loc[("solo", "event"), "rmtl"] == pytest.approx(7.0)  # F = 1 from day 3 to day 10
    assert table.loc[("solo", "competing"), ["rmtl", "se"]].tolist() == [0.0, 0.0]
    assert table["beyond_follow_up"].all()
    no_group = restricted_mean_time_lost(data, "time", "status", 4.0).table
    assert list(no_group["group"]) == ["all", "all"]
    assert not no_group["beyond_follow_up"].any()


@pytest.mark.parametrize("horizon", [0.0, -1.0, float("nan")])
def test_bad_horizon_is_a_sentence(horizon: float) -> None:
    with pytest.raises(AnalysisError, match="horizon must be a positive number"):
        restricted_mean_time_lost(_data("ties"), "time", "status", horizon)
