"""lifelines, an independent implementation, cross-checks the estimators it offers (beside the R references).

Kaplan–Meier (estimate and its log(−log) interval: lifelines' "exponential Greenwood" interval is R's
``conf.type = "log-log"``), the log-rank test (two and several groups), the Cox model (Efron ties:
coefficients, standard errors, partial log-likelihood) and the Aalen–Johansen cumulative incidence.
The data are R's (survival's ``lung`` and ``veteran``, as written by tests/r/km_reference.R and
tests/r/cox_reference.R) and a simulated competing-risks cohort without ties (lifelines' Aalen–Johansen
breaks ties by jittering, so tied data would not be comparable). lifelines 0.30.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test as lifelines_logrank
from lifelines.statistics import multivariate_logrank_test

from analyses.cif import cumulative_incidence
from analyses.cox import fit_cox
from analyses.km import fit_km
from analyses.logrank import logrank_test
from analyses.results import AnalysisWarning

R_DIR = Path(__file__).parent / "r"


@pytest.mark.parametrize("case", ["lung_sex", "veteran_celltype", "ties"])
def test_kaplan_meier_and_its_interval_match_lifelines(case: str) -> None:
    data = pd.read_csv(R_DIR / f"km_data_{case}.csv")
    ours = fit_km(data, "time", "status", "group").curve
    for group, rows in data.groupby("group"):
        kmf = KaplanMeierFitter().fit(rows["time"], rows["status"], alpha=0.05)
        mine = ours[(ours["group"] == str(group)) & (ours["time_days"] > 0)]
        theirs = kmf.survival_function_.reindex(mine["time_days"])
        np.testing.assert_allclose(mine["survival"], theirs.iloc[:, 0], rtol=0, atol=1e-12)
        ci = kmf.confidence_interval_survival_function_.reindex(mine["time_days"])
        inside = mine["survival"].between(0, 1, inclusive="neither").to_numpy()
        np.testing.assert_allclose(mine["ci_lower"].to_numpy()[inside], ci.iloc[:, 0].to_numpy()[inside], atol=1e-9)
        np.testing.assert_allclose(mine["ci_upper"].to_numpy()[inside], ci.iloc[:, 1].to_numpy()[inside], atol=1e-9)


@pytest.mark.parametrize("case", ["lung_sex", "veteran_celltype"])
def test_logrank_matches_lifelines(case: str) -> None:
    data = pd.read_csv(R_DIR / f"km_data_{case}.csv")
    ours = logrank_test(data, "time", "status", "group")
    if data["group"].nunique() == 2:
        a, b = (rows for _, rows in data.groupby("group"))
        theirs = lifelines_logrank(a["time"], b["time"], a["status"], b["status"])
    else:
        theirs = multivariate_logrank_test(data["time"], data["group"], data["status"])
    assert ours.statistic == pytest.approx(theirs.test_statistic, rel=1e-10)
    assert ours.p == pytest.approx(theirs.p_value, rel=1e-8)


def test_cox_efron_matches_lifelines() -> None:
    """lung: age and sex (dummy-coded against F, as R), Efron ties."""
    data = pd.read_csv(R_DIR / "cox_data_lung_efron.csv")[["time", "status", "age", "sex"]].dropna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        ours = fit_cox(data, "time", "status", ["age", "sex"])
    design = data.assign(sex_M=(data["sex"] == "M").astype(float)).drop(columns="sex")
    cph = CoxPHFitter().fit(design, duration_col="time", event_col="status")
    terms = ours.terms.set_index("term")
    for ours_name, theirs_name in (("age", "age"), ("sex=M", "sex_M")):
        # lifelines stops Newton's method at its own, looser tolerance: it agrees to about 1e-6 relative
        # (R's coxph, tests/test_cox.py, to 1e-9)
        assert terms.loc[ours_name, "coef"] == pytest.approx(cph.params_[theirs_name], rel=1e-5)
        assert terms.loc[ours_name, "se"] == pytest.approx(cph.standard_errors_[theirs_name], rel=1e-5)
    assert ours.loglik == pytest.approx(cph.log_likelihood_, rel=1e-9)


def test_aalen_johansen_matches_lifelines() -> None:
    """Cumulative incidence of both causes on continuous times (no ties), every event time."""
    rng = np.random.default_rng(2026)
    n = 400
    t1, t2, c = rng.exponential(900, n), rng.exponential(1500, n), rng.uniform(100, 3000, n)
    time = np.minimum.reduce([t1, t2, c])
    status = np.select([time == t1, time == t2], [1, 2], 0)
    data = pd.DataFrame({"time": time, "status": status})
    curve = cumulative_incidence(data, "time", "status").curve.set_index("time_days")
    for cause, column in ((1, "cif_event"), (2, "cif_competing")):
        ajf = AalenJohansenFitter(calculate_variance=False).fit(data["time"], data["status"], event_of_interest=cause)
        theirs = ajf.cumulative_density_.iloc[:, 0]
        common = curve.index.intersection(theirs.index)
        assert len(common) > 300
        np.testing.assert_allclose(curve.loc[common, column], theirs.loc[common], rtol=0, atol=1e-12)
