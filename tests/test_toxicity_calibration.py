"""Calibration of the toxicities: a large seeded synthetic registry, loaded by the real ETL, shows the
published toxicity rates of shared/spec/synthetic-calibration.md (TOWER, INO-VATE, ELIANA, ZUMA-3,
CALGB 10403; ``synthetic_data.calibration.TOXICITY_TARGETS``) within sampling error.

Expected values: the published figures (sources in TOXICITY_TARGETS). The tolerance is the sampling
error at this test's sample size: the published value must lie in the 99% Wilson interval of the
observed share (``prop.test(x, n, correct = FALSE)``), or in the 99% log-log interval of the
Aalen–Johansen cumulative incidence for a figure "by 3 years"; a range ("about 5-10%") must meet the
interval. The test can fail: every interval is narrower than 6 points either side, so a rate off by
that much is rejected (checked below). One registry of 150,000 patients, seed 2027; a patient counts
for a line started at least a year before the cut-off, so that the line's toxicities are observed.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from analyses.cif import cumulative_incidence
from analyses.response import wilson_ci
from etl import load_extract
from etl.toxicity import toxicity_frame
from synthetic_data import TOXICITY_TARGETS, ToxicityTarget, generate_registry
from synthetic_data.toxicity_params import CAR_T_YOUNG_MAX_AGE

pytestmark = pytest.mark.slow

N_PATIENTS, SEED, LEVEL = 150_000, 2027, 0.99
POWER = 0.06  # every interval is narrower than this on either side of its estimate
_YEAR = 365.25


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> dict[int, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("toxicity_calibration")
    summary = generate_registry(folder / "extract", n_patients=N_PATIENTS, seed=SEED)
    load_extract(folder / "extract", folder / "db.duckdb")
    con = duckdb.connect(str(folder / "db.duckdb"), read_only=True)
    try:
        out = {}
        for line in (1, 2):
            events = sorted({t.event for t in TOXICITY_TARGETS if t.line == line})
            frame = toxicity_frame(con, line, events, (1, 3), columns=["age_at_dx", "dx_date"])
            cutoff = pd.Timestamp(summary.data_cutoff)
            frame = frame[pd.to_datetime(frame["line_start"]) <= cutoff - pd.Timedelta(days=365)]
            age = frame["age_at_dx"] + (frame["line_start"] - frame["dx_date"]).dt.days / _YEAR
            out[line] = frame.assign(age_at_line=age)
        out[0] = con.execute(
            "SELECT a.onset_date, h.hct_date FROM stg_adverse_events a "
            "JOIN stg_treatment_lines l USING (patient_id, line_no) "
            "LEFT JOIN (SELECT patient_id, min(hct_date) AS hct_date FROM stg_transplants GROUP BY 1) h "
            "ON h.patient_id = a.patient_id AND h.hct_date >= l.start_date AND h.hct_date <= a.onset_date "
            "WHERE l.line_no = 2 AND l.regimen = 'INOTUZUMAB' AND a.event = 'VOD_SOS'"
        ).df()
    finally:
        con.close()
    return out


def _rows(lines: dict[int, pd.DataFrame], t: ToxicityTarget) -> pd.DataFrame:
    f = lines[t.line]
    f = f[(f["regimen"] == t.regimen) & (f["event"] == t.event) & (f["min_grade"] == t.min_grade)]
    if t.ages == "<=25":
        f = f[f["age_at_line"] <= CAR_T_YOUNG_MAX_AGE]
    elif t.ages == ">25":
        f = f[f["age_at_line"] > CAR_T_YOUNG_MAX_AGE]
    return f


def _interval(lines: dict[int, pd.DataFrame], t: ToxicityTarget) -> tuple[float, float, float, int]:
    """Estimate, 99% interval and patients for the target's statistic."""
    f = _rows(lines, t)
    if t.statistic == "cif_3y":
        fit = cumulative_incidence(f, "time_days", "event_code", times=[3 * _YEAR], conf_level=LEVEL)
        m = fit.milestones.iloc[0]
        return float(m["cif_event"]), float(m["ci_lower_event"]), float(m["ci_upper_event"]), len(f)
    x, n = int((f["event_code"] == 1).sum()), len(f)
    lo, hi = wilson_ci(x, n, LEVEL)
    return x / n, lo, hi, n


@pytest.mark.parametrize("target", TOXICITY_TARGETS, ids=lambda t: t.name)
def test_published_toxicity_rate_is_reproduced(lines: dict[int, pd.DataFrame], target: ToxicityTarget) -> None:
    estimate, lo, hi, n = _interval(lines, target)
    print(f"{target.name}: {estimate:.4f} ({lo:.4f}-{hi:.4f}), n = {n}")
    assert n >= 500, f"{target.name}: only {n} patients"
    meets = lo <= target.high and hi >= target.low
    assert meets, (
        f"{target.name}: {estimate:.3f} (99% CI {lo:.3f}-{hi:.3f}, n = {n}) vs published "
        f"{target.low:.3f}-{target.high:.3f} ({target.source})"
    )
    # The interval is tight enough that a generator off by POWER would fail this test.
    assert estimate - lo < POWER
    assert hi - estimate < POWER
    for wrong in (target.high + POWER, target.low - POWER):
        if 0.0 <= wrong <= 1.0:
            assert not lo <= wrong <= hi


def test_most_vod_sos_after_inotuzumab_follows_a_subsequent_transplant(lines: dict[int, pd.DataFrame]) -> None:
    """INO-VATE: VOD/SOS 11%, most after a subsequent transplant."""
    vod = lines[0]
    assert len(vod) >= 100
    assert vod["hct_date"].notna().mean() > 0.5


def test_crs_after_car_t_starts_within_the_first_two_weeks(lines: dict[int, pd.DataFrame]) -> None:
    """ELIANA: CRS onset within the first two weeks (median 3 days after infusion)."""
    f = lines[2]
    crs = f[(f["regimen"] == "CAR_T_CD19") & (f["event"] == "CRS") & (f["min_grade"] == 1) & (f["event_code"] == 1)]
    assert crs["time_days"].max() <= 14
    assert 1 <= np.median(crs["time_days"]) <= 5
