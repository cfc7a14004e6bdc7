"""Baseline characteristics, frontline assignment and induction outcome of a chunk of patients.

Everything is a numpy array with one entry per patient; dates are float days since 1970-01-01.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ayaall.contract import CNS_STATUS, ETHNICITY, FRONTLINE_REGIMENS, RACE, SEX, SUBTYPES_B
from synthetic_data import params as P
from synthetic_data.sampling import categorical, choose_logit, lookup, uniform_days

__all__ = ["Cohort", "draw_cohort"]

_PH_NEG_B = tuple(s for s in SUBTYPES_B if s not in ("BCR_ABL1", "PH_LIKE", "B_OTHER"))


@dataclass
class Cohort:
    """Baseline data and frontline course of ``n`` patients (arrays of length ``n``)."""

    n: int
    dx: np.ndarray  # float days since epoch
    age: np.ndarray  # years, one decimal
    sex: np.ndarray  # str
    race: np.ndarray
    ethnicity: np.ndarray
    center: np.ndarray
    lineage: np.ndarray
    subtype: np.ndarray
    wbc: np.ndarray
    cns: np.ndarray
    frontline: np.ndarray
    l1_start: np.ndarray
    outcome: np.ndarray  # 0 = CR, 1 = induction failure, 2 = induction death
    eoi: np.ndarray  # end-of-induction assessment date (nan for induction deaths)
    mrd: np.ndarray  # NEG / POS / UNK for remissions, "" otherwise

    def covariates(self) -> dict[str, np.ndarray]:
        """Numeric covariates named as in the hazard terms of ``params``."""
        cov: dict[str, np.ndarray] = {
            "age_per_10y": (self.age - P.AGE_CENTER) / 10.0,
            "lineage=T": (self.lineage == "T").astype(float),
            "mrd_pos": (self.mrd == "POS").astype(float),
            "cns_status=CNS3": (self.cns == "CNS3").astype(float),
        }
        for s in (*SUBTYPES_B, "ETP", "NON_ETP"):
            cov[f"subtype={s}"] = (self.subtype == s).astype(float)
        for r in FRONTLINE_REGIMENS:
            cov[f"frontline_regimen={r}"] = (self.frontline == r).astype(float)
        return cov


def _by_age(table: tuple[tuple[float, float], ...], age: np.ndarray) -> np.ndarray:
    uppers = np.array([u for u, _ in table])
    values = np.array([v for _, v in table])
    return values[np.searchsorted(uppers, age, side="right").clip(0, len(values) - 1)]


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    bands = P.AGE_BANDS
    idx = categorical(rng, {str(i): b[2] for i, b in enumerate(bands)}, n)
    lo = np.array([b[0] for b in bands])[idx]
    hi = np.array([b[1] for b in bands])[idx]
    return np.floor((lo + rng.random(n) * (hi - lo)) * 10.0) / 10.0


def _b_subtypes(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    n = age.shape[0]
    out = np.full(n, "B_OTHER", dtype=object)
    u_ph, u_phl = rng.random(size=n), rng.random(size=n)
    u_rest: np.ndarray = np.asarray(rng.random(size=n))
    ph = u_ph < _by_age(P.PH_POS_BY_AGE, age)
    phl = ~ph & (u_phl < _by_age(P.PH_LIKE_BY_AGE, age))
    shares = np.zeros((n, len(P.B_SUBTYPE_SHARES)))
    names = list(P.B_SUBTYPE_SHARES)
    for j, name in enumerate(names):
        share = P.B_SUBTYPE_SHARES[name]
        if isinstance(share, tuple):
            cut = 20.0 if name == "HIGH_HYPERDIPLOID" else 30.0
            shares[:, j] = np.where(age < cut, share[0], share[1])
        else:
            shares[:, j] = share
    cum = np.cumsum(shares, axis=1)
    k: np.ndarray = (cum <= u_rest[:, None]).sum(axis=1)
    rest = np.where(k < len(names), np.array([*names, "B_OTHER"], dtype=object)[k], "B_OTHER")
    out[:] = rest
    out[phl] = "PH_LIKE"
    out[ph] = "BCR_ABL1"
    return out


def _frontline(
    rng: np.random.Generator, age: np.ndarray, lineage: np.ndarray, subtype: np.ndarray, dx_year: np.ndarray
) -> np.ndarray:
    n = age.shape[0]
    ph = subtype == "BCR_ABL1"
    cov = {"age_per_10y": (age - P.AGE_CENTER) / 10.0, "dx_year_per_10y": (dx_year - 2013) / 10.0}
    options = ("PED_INSPIRED", "HYPER_CVAD", "ADULT_OTHER", "BLIN_CHEMO")
    eligible = {"BLIN_CHEMO": (lineage == "B") & (dx_year >= 2019)}
    neg = np.array(options, dtype=object)[choose_logit(rng, P.FRONTLINE_ASSIGNMENT, options, cov, eligible, n)]
    ph_options = ("TKI_CHEMO", "TKI_BLIN")
    pos = np.array(ph_options, dtype=object)[
        choose_logit(rng, P.FRONTLINE_ASSIGNMENT, ph_options, cov, {"TKI_BLIN": dx_year >= 2017}, n)
    ]
    return np.where(ph, pos, neg)


def _logit(p: np.ndarray | float) -> np.ndarray:
    return np.log(np.asarray(p) / (1 - np.asarray(p)))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _induction(rng: np.random.Generator, c: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Induction outcome (0 CR, 1 failure, 2 death) and the end-of-induction MRD of remissions."""
    n = c["age"].shape[0]
    age10 = (c["age"] - P.AGE_CENTER) / 10.0
    p_cr = lookup(P.FRONTLINE_CR_PROB, c["frontline"])
    lp_cr = _logit(p_cr) + P.AGE_CR_LOGIT_PER_10Y * age10 + P.ETP_CR_LOGIT_SHIFT * (c["subtype"] == "ETP")
    d = P.INDUCTION_DEATH_PROB
    p_death = _expit(_logit(d["base"]) + d["logit_per_10y"] * age10) + d["HYPER_CVAD"] * (
        c["frontline"] == "HYPER_CVAD"
    )
    u1, u2 = rng.random(n), rng.random(n)
    outcome = np.where(u1 < p_death, 2, np.where(u2 < _expit(lp_cr), 0, 1))
    m = P.P_MRD_NEG
    blin = np.isin(c["frontline"], ("TKI_BLIN", "BLIN_CHEMO"))
    lp_neg = (
        m["base_logit"]
        + m["PH_LIKE"] * (c["subtype"] == "PH_LIKE")
        + m["ETP"] * (c["subtype"] == "ETP")
        + m["KMT2A_R"] * (c["subtype"] == "KMT2A_R")
        + m["BLIN"] * blin
    )
    u3, u4 = rng.random(n), rng.random(n)
    mrd = np.where(u3 < _expit(lp_neg), "NEG", "POS").astype(object)
    mrd[u4 < P.P_MRD_UNK] = "UNK"
    mrd[outcome != 0] = ""
    return outcome, mrd


def draw_cohort(rng: np.random.Generator, n: int, first_day: float, last_day: float) -> Cohort:
    """Draw baseline data, frontline regimen and induction outcome for ``n`` patients.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Number of patients.
    first_day, last_day : float
        Diagnosis dates are uniform on this range (days since 1970-01-01).

    Returns
    -------
    Cohort
    """
    dx = np.floor(first_day + rng.random(n) * (last_day - first_day))
    dx_year = 1970 + dx / 365.2425
    age = _ages(rng, n)
    sex = np.array(SEX, dtype=object)[categorical(rng, P.SEX_PROBS, n)]
    race = np.array(RACE, dtype=object)[categorical(rng, P.RACE_PROBS, n)]
    ethnicity = np.array(ETHNICITY, dtype=object)[categorical(rng, P.ETHNICITY_PROBS, n)]
    center = rng.integers(1, P.CENTERS + 1, size=n)
    lineage = np.where(rng.random(n) < P.P_T_LINEAGE, "T", "B").astype(object)
    u_t = rng.random(n)
    t_sub = np.where(
        u_t < P.P_ETP_AMONG_T, "ETP", np.where(u_t < P.P_ETP_AMONG_T + P.P_T_SUBTYPE_UNK, "UNK", "NON_ETP")
    )
    subtype = np.where(lineage == "T", t_sub, _b_subtypes(rng, age)).astype(object)
    is_t = lineage == "T"
    wbc_med = np.where(is_t, P.WBC_LOG_MEDIAN["T"], P.WBC_LOG_MEDIAN["B"])
    wbc = np.round(np.exp(wbc_med + P.WBC_LOG_SD * rng.standard_normal(n)), 1)
    cns_b = categorical(rng, dict(zip(CNS_STATUS, P.CNS_PROBS["B"], strict=True)), n)
    cns_t = categorical(rng, dict(zip(CNS_STATUS, P.CNS_PROBS["T"], strict=True)), n)
    cns = np.array(CNS_STATUS, dtype=object)[np.where(is_t, cns_t, cns_b)]
    frontline = _frontline(rng, age, lineage, subtype, np.floor(dx_year))
    l1_start = dx + uniform_days(rng, 0, 10, n)
    c = {"age": age, "subtype": subtype, "frontline": frontline}
    outcome, mrd = _induction(rng, c)
    eoi = np.where(outcome == 2, np.nan, l1_start + uniform_days(rng, 28, 42, n))
    return Cohort(
        n, dx, age, sex, race, ethnicity, center, lineage, subtype, wbc, cns, frontline, l1_start, outcome, eoi, mrd
    )
