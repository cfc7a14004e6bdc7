"""The Cox cases of tests/r/cox_reference.R, shared by test_cox.py and test_cox_tests.py."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from analyses.cox import CoxResult, fit_cox
from analyses.results import AnalysisWarning

R_DIR = Path(__file__).parent / "r"

# case -> (fit_cox keyword arguments, the R call in tests/r/cox_reference.R)
SPECS = {
    "lung_efron": (
        {"covariates": ["age", "sex", "ecog", "wt.loss"]},
        "coxph(Surv(time, status) ~ age + sex + ecog + wt.loss, data = lung2)",
    ),
    "lung_breslow": (
        {"covariates": ["age", "sex", "ecog", "wt.loss"], "ties": "breslow"},
        "coxph(..., ties = 'breslow')",
    ),
    "lung_robust": (
        {"covariates": ["age", "sex", "ecog"], "robust": True},
        "coxph(Surv(time, status) ~ age + sex + ecog, robust = TRUE)",
    ),
    "lung_cluster": ({"covariates": ["age", "sex", "ecog"], "cluster_col": "inst"}, "coxph(..., cluster = inst)"),
    "lung_weights": (
        {"covariates": ["age", "sex", "ecog"], "weights_col": "w", "robust": True},
        "coxph(..., weights = w, robust = TRUE)",
    ),
    "lung_ref_m": (
        {"covariates": ["age", "sex"], "ref_levels": {"sex": "M"}},
        "coxph(Surv(time, status) ~ age + sex) with relevel(sex, 'M')",
    ),
    "veteran_strata": (
        {"covariates": ["trt", "karno", "age"], "strata": "celltype"},
        "coxph(Surv(time, status) ~ trt + karno + age + strata(celltype), data = veteran)",
    ),
    "veteran_celltype": (
        {"covariates": ["trt", "celltype", "karno"]},
        "coxph(Surv(time, status) ~ trt + celltype + karno, data = veteran)",
    ),
    "ties_efron": (
        {"covariates": ["arm", "risk", "x1", "x2"]},
        "coxph(Surv(time, status) ~ arm + risk + x1 + x2, data = tied)",
    ),
    "ties_weights_robust": (
        {"covariates": ["arm", "risk", "x1", "x2"], "weights_col": "w", "robust": True},
        "coxph(..., data = tied, weights = w, robust = TRUE)",
    ),
    "ties_strata_cluster": (
        {"covariates": ["arm", "x1", "x2"], "strata": "risk", "cluster_col": "cl"},
        "coxph(Surv(time, status) ~ arm + x1 + x2 + strata(risk), cluster = cl)",
    ),
}


def fit_case(case: str) -> CoxResult:
    data = pd.read_csv(R_DIR / f"cox_data_{case}.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        return fit_cox(data, "time", "status", **SPECS[case][0])


def r_term(term: str) -> str:
    """R names a dummy 'sexM'; we name it 'sex=M'."""
    return term.replace("=", "")
