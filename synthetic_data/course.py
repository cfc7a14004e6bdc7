"""The disease course after induction: first remission, transplant, relapse, salvage, death.

All draws are vectorized over the patients of a chunk; see ``simulate.py`` for the model as a whole.
Rows are collected per table as arrays of patient index + columns; dates are float days since epoch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ayaall.contract import (
    AGVHD_GRADES,
    CAUSES_OF_DEATH,
    CGVHD_SEVERITY,
    CONDITIONING,
    DONOR_TYPES,
    RELAPSE_SITES,
    SALVAGE_REGIMENS,
)
from synthetic_data import params as P
from synthetic_data.cohort import Cohort
from synthetic_data.sampling import (
    categorical,
    choose_logit,
    linear_predictor,
    lookup,
    sample_pw_exponential,
    uniform_days,
)

__all__ = ["Course", "EventLog", "simulate_course"]

_SALVAGE_OPTIONS = (
    "SALVAGE_CHEMO",
    "BLINATUMOMAB",
    "INOTUZUMAB",
    "CAR_T_CD19",
    "ICB_COMBO",
    "TRIAL_OTHER",
    "VENETOCLAX_BASED",
    "NELARABINE",
    "CAR_T_CD7",
    "DARATUMUMAB_BASED",
)
assert set(_SALVAGE_OPTIONS) == set(SALVAGE_REGIMENS)


@dataclass
class EventLog:
    """Rows of the event tables, collected as lists of column arrays and concatenated at the end."""

    parts: dict[str, list[dict[str, np.ndarray]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: str, **columns: np.ndarray) -> None:
        self.parts[table].append(columns)

    def table(self, name: str) -> dict[str, np.ndarray]:
        parts = self.parts[name]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


@dataclass
class Course:
    """Per-patient outcome plus the event rows of one chunk (before censoring)."""

    death: np.ndarray  # float day, inf = alive for ever (censoring decides)
    cause: np.ndarray
    cr1: np.ndarray  # date of the first remission (nan = none)
    rel1: np.ndarray  # date of the first relapse (nan = none)
    log: EventLog


def _ceil_days(t: np.ndarray) -> np.ndarray:
    return np.maximum(np.ceil(t), 1.0)


def _codes(rng: np.random.Generator, codes: tuple[str, ...], probs: dict[str, float], n: int) -> np.ndarray:
    """Draw ``n`` codes with ``probs``; ``codes`` is the contract's list, which every key must be in."""
    if not set(probs) <= set(codes):
        raise ValueError(f"probabilities for codes outside the contract: {sorted(set(probs) - set(codes))}")
    return np.array(list(probs), dtype=object)[categorical(rng, probs, n)] if n else np.array([], dtype=object)


def _mrd_level(rng: np.random.Generator, mrd: np.ndarray) -> np.ndarray:
    n = mrd.shape[0]
    neg = np.where(rng.random(n) < 0.5, 10 ** rng.uniform(-6, -4.05, n), np.nan)
    pos = 10 ** rng.uniform(-4, -1, n)
    return np.round(np.where(mrd == "NEG", neg, np.where(mrd == "POS", pos, np.nan)), 7)


def _assessments(
    rng: np.random.Generator,
    log: EventLog,
    idx: np.ndarray,
    line_no: int,
    dates: np.ndarray,
    remission: np.ndarray,
    mrd: np.ndarray | None = None,
) -> None:
    """Add response rows; ``remission`` decides CR/CRi/CRh vs PR/NR."""
    n = idx.shape[0]
    kind = np.array(["CR", "CRI", "CRH"], dtype=object)[
        categorical(rng, dict(zip("abc", P.P_CR_RESPONSE_KIND, strict=True)), n)
    ]
    fail = np.where(rng.random(n) < 0.6, "NR", "PR").astype(object)
    response = np.where(remission, kind, fail)
    if mrd is None:
        mrd = np.where(rng.random(n) < 0.65, "NEG", "POS").astype(object)
        mrd[rng.random(n) < P.P_MRD_UNK] = "UNK"
    mrd = np.where(remission, mrd, np.where(rng.random(n) < 0.7, "POS", "UNK")).astype(object)
    log.add(
        "responses",
        pid=idx,
        line_no=np.full(n, line_no),
        date=dates,
        response=response,
        mrd=mrd,
        mrd_level=_mrd_level(rng, mrd),
    )


def _transplant(
    rng: np.random.Generator,
    log: EventLog,
    idx: np.ndarray,
    dates: np.ndarray,
    status: str,
    death: np.ndarray,
    agrade: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Add allo-HCT rows with GVHD drawn at the transplant; onsets after death are not recorded."""
    n = idx.shape[0]
    if agrade is None:
        agrade = _codes(rng, AGVHD_GRADES, P.AGVHD_PROBS, n)
    cgvhd = _codes(rng, CGVHD_SEVERITY, P.CGVHD_PROBS, n)
    adate = np.where(agrade != "0", dates + uniform_days(rng, 14, 70, n), np.nan)
    cdate = np.where(cgvhd != "NONE", dates + uniform_days(rng, 100, 330, n), np.nan)
    late_a = adate >= death
    late_c = cdate >= death
    agrade = np.where(late_a, "0", agrade)
    cgvhd = np.where(late_c, "NONE", cgvhd)
    log.add(
        "transplants",
        pid=idx,
        date=dates,
        donor=_codes(rng, DONOR_TYPES, P.DONOR_PROBS, n),
        status=np.full(n, status, dtype=object),
        conditioning=_codes(rng, CONDITIONING, P.CONDITIONING_PROBS, n),
        agvhd=agrade.astype(object),
        agvhd_date=np.where(late_a, np.nan, adate),
        cgvhd=cgvhd.astype(object),
        cgvhd_date=np.where(late_c, np.nan, cdate),
    )
    severe = ((agrade == "III") | (agrade == "IV")) | ((cgvhd == "MODERATE") | (cgvhd == "SEVERE"))
    return agrade, severe


def _nrm_cause(rng: np.random.Generator, n: int) -> np.ndarray:
    return _codes(rng, CAUSES_OF_DEATH, P.CAUSE_NRM, n)


def _salvage(
    rng: np.random.Generator, coh: Cohort, idx: np.ndarray, start: np.ndarray, early: np.ndarray
) -> np.ndarray:
    """Assign the first salvage regimen (confounded by indication) and add the line-2 rows."""
    n = idx.shape[0]
    year = 1970 + start / 365.2425
    lin_b = coh.lineage[idx] == "B"
    eligible = {}
    for name, rule in P.SALVAGE_ASSIGNMENT.eligibility.items():
        ok = np.ones(n, dtype=bool)
        if "lineage == B" in rule:
            ok &= lin_b
        if "lineage == T" in rule:
            ok &= ~lin_b
        if "relapse_year >= " in rule:
            ok &= year >= int(rule.rsplit(">= ", 1)[1])
        eligible[name] = ok
    cov = {
        "age_per_10y": (coh.age[idx] - P.AGE_CENTER) / 10.0,
        "early_relapse": early.astype(float),
        "subtype=PH_LIKE": (coh.subtype[idx] == "PH_LIKE").astype(float),
    }
    pick = choose_logit(rng, P.SALVAGE_ASSIGNMENT, _SALVAGE_OPTIONS, cov, eligible, n)
    return np.array(_SALVAGE_OPTIONS, dtype=object)[pick]


def _after_salvage(
    rng: np.random.Generator,
    coh: Cohort,
    log: EventLog,
    idx: np.ndarray,
    start: np.ndarray,
    death: np.ndarray,
    regimen: np.ndarray,
    hct_status_cr: str,
    prior_hct: np.ndarray,
) -> np.ndarray:
    """Line-2 response, transplant, second relapse, line 3 and cause, all conditional on ``death``.

    Primary refractory patients (``hct_status_cr == "CR1"``) get no relapse rows: a relapse row would
    put them in the REL1 population with a death time that is not from the REL1 model.
    """
    n = idx.shape[0]
    t_d = death - start
    a1 = start + uniform_days(rng, 28, 42, n)
    has_a1 = a1 < death
    p = lookup(P.SALVAGE_CR_PROB, regimen)
    lp = np.log(p / (1 - p)) + 0.6 * np.log(np.maximum(t_d, 1.0) / 300.0)
    cr = has_a1 & (rng.random(n) < 1 / (1 + np.exp(-lp)))
    _assessments(rng, log, idx[has_a1], 2, a1[has_a1], cr[has_a1])
    a2 = a1 + uniform_days(rng, 45, 90, n)
    two = has_a1 & (a2 < death) & (rng.random(n) < P.P_SECOND_LINE1_ASSESSMENT)
    _assessments(rng, log, idx[two], 2, a2[two], cr[two])
    end2 = np.minimum(start + uniform_days(rng, 28, 120, n), death)
    log.add("lines", pid=idx, line_no=np.full(n, 2), regimen=regimen, start=start, end=end2)
    # allo-HCT after salvage, only for those alive at the planned date (never moves the death)
    # longer survivors are likelier transplant candidates: selection on the drawn death time
    fitness = np.clip(t_d / 365.0, 0.25, 1.5)
    p_hct = lookup(P.P_HCT_AFTER_CR2, regimen, P.P_HCT_AFTER_CR2["default"]) * np.where(prior_hct, 0.3, 1.0)
    p_hct = np.minimum(p_hct * fitness, 0.9)
    h_date = a1 + uniform_days(rng, 30, 100, n)
    hct_cr = cr & (rng.random(n) < p_hct) & (h_date < death - 1)
    h_nc = a1 + uniform_days(rng, 20, 60, n)
    hct_nc = has_a1 & ~cr & (rng.random(n) < P.P_HCT_NOT_CR * fitness) & (h_nc < death - 1)
    _transplant(rng, log, idx[hct_cr], h_date[hct_cr], hct_status_cr, death[hct_cr])
    _transplant(rng, log, idx[hct_nc], h_nc[hct_nc], "NOT_CR", death[hct_nc])
    hct_any = np.where(hct_cr, h_date, np.where(hct_nc, h_nc, np.nan))
    last = np.fmax(np.fmax(np.where(two, a2, a1), hct_any), start)
    # death in remission vs second relapse before death
    dead = np.isfinite(death)
    rel2 = death - uniform_days(rng, 20, 120, n)
    has_rel2 = cr & dead & (rel2 > last + 14) & (rng.random(n) < 0.8) & (hct_status_cr != "CR1")
    log.add(
        "relapses",
        pid=idx[has_rel2],
        date=rel2[has_rel2],
        site=_codes(rng, RELAPSE_SITES, P.RELAPSE_SITE_PROBS, int(has_rel2.sum())),
    )
    l3 = has_rel2 & (rng.random(n) < 0.6)
    s3 = rel2 + np.minimum(uniform_days(rng, 0, 14, n), np.floor((death - rel2) / 2))
    pool = np.array(["SALVAGE_CHEMO", "TRIAL_OTHER", "VENETOCLAX_BASED", "INOTUZUMAB"], dtype=object)
    reg3 = np.where(coh.lineage[idx] == "T", "NELARABINE", pool[rng.integers(0, len(pool), n)])
    log.add(
        "lines",
        pid=idx[l3],
        line_no=np.full(int(l3.sum()), 3),
        regimen=reg3[l3].astype(object),
        start=s3[l3],
        end=np.full(int(l3.sum()), np.nan),
    )
    cause = np.full(n, "DISEASE", dtype=object)
    in_rem = cr & ~has_rel2
    post_hct = in_rem & np.isfinite(hct_any) & (death - hct_any < 365)
    u = np.asarray(rng.random(size=n))
    cause[post_hct] = np.where(u[post_hct] < 0.45, "GVHD", np.where(u[post_hct] < 0.85, "INFECTION", "TOXICITY"))
    other = in_rem & ~post_hct & (hct_status_cr != "CR1")
    cause[other] = _nrm_cause(rng, int(other.sum()))
    return cause


def _relapsed(
    rng: np.random.Generator,
    coh: Cohort,
    log: EventLog,
    idx: np.ndarray,
    rel: np.ndarray,
    cr1: np.ndarray,
    prior_hct: np.ndarray,
    death: np.ndarray,
    cause: np.ndarray,
) -> None:
    """First relapse: death drawn from the PH model first, then everything else conditional on it."""
    n = idx.shape[0]
    early = (rel - cr1) < 365
    log.add("relapses", pid=idx, date=rel, site=_codes(rng, RELAPSE_SITES, P.RELAPSE_SITE_PROBS, n))
    regimen = _salvage(rng, coh, idx, rel, early)
    cov = {f"salvage_regimen={r}": (regimen == r).astype(float) for r in SALVAGE_REGIMENS}
    cov |= {
        "age_per_10y": (coh.age[idx] - P.AGE_CENTER) / 10.0,
        "lineage=T": (coh.lineage[idx] == "T").astype(float),
        "subtype=PH_LIKE": (coh.subtype[idx] == "PH_LIKE").astype(float),
        "early_relapse": early.astype(float),
        "cns_status=CNS3": (coh.cns[idx] == "CNS3").astype(float),
    }
    t_d = _ceil_days(
        sample_pw_exponential(rng, P.DEATH_AFTER_RELAPSE.baseline, linear_predictor(P.DEATH_AFTER_RELAPSE, cov, n))
    )
    d = rel + t_d
    start = rel + np.minimum(uniform_days(rng, 0, 21, n), np.floor(t_d / 2))
    death[idx] = d
    cause[idx] = _after_salvage(rng, coh, log, idx, start, d, regimen, "CR2", prior_hct)


def simulate_course(rng: np.random.Generator, coh: Cohort) -> Course:
    """Simulate everything after diagnosis for the patients of ``coh`` (see ``simulate.py``)."""
    n = coh.n
    log = EventLog()
    death = np.full(n, np.inf)
    cause = np.full(n, "", dtype=object)
    cr1 = np.where(coh.outcome == 0, coh.eoi, np.nan)
    rel1 = np.full(n, np.nan)
    cov = coh.covariates()
    # induction deaths
    ind_d = np.flatnonzero(coh.outcome == 2)
    death[ind_d] = coh.l1_start[ind_d] + uniform_days(rng, 5, 40, ind_d.size)
    cause[ind_d] = np.where(rng.random(ind_d.size) < 0.6, "INFECTION", "TOXICITY")
    # end-of-induction assessment (and a second line-1 assessment for some)
    assessed = np.flatnonzero(coh.outcome != 2)
    _assessments(rng, log, assessed, 1, coh.eoi[assessed], coh.outcome[assessed] == 0, coh.mrd[assessed])
    # first remission: relapse, death in remission and allo-HCT in CR1 compete
    c = np.flatnonzero(coh.outcome == 0)
    sub = {k: v[c] for k, v in cov.items()}
    t_rel = sample_pw_exponential(rng, P.RELAPSE_IN_CR1.baseline, linear_predictor(P.RELAPSE_IN_CR1, sub, c.size))
    t_nrm = sample_pw_exponential(rng, P.NRM_IN_CR1.baseline, linear_predictor(P.NRM_IN_CR1, sub, c.size))
    h = P.HCT_IN_CR1
    lp_h = h["intercept"] + sum(h[k] * sub[k] for k in h if k != "intercept")
    lo, hi = P.HCT_IN_CR1_WINDOW_DAYS
    t_hct = np.where(rng.random(c.size) < 1 / (1 + np.exp(-lp_h)), uniform_days(rng, lo, hi, c.size), np.inf)
    first = np.argmin(np.stack([t_rel, t_nrm, t_hct]), axis=0)
    t_first = _ceil_days(np.min(np.stack([t_rel, t_nrm, t_hct]), axis=0))
    event_day = coh.eoi[c] + t_first
    a2 = coh.eoi[c] + uniform_days(rng, 60, 100, c.size)
    two = (a2 < event_day) & (rng.random(c.size) < P.P_SECOND_LINE1_ASSESSMENT)
    mrd2 = np.where(coh.mrd[c] == "POS", np.where(rng.random(c.size) < 0.5, "NEG", "POS"), coh.mrd[c])
    _assessments(rng, log, c[two], 1, a2[two], np.ones(int(two.sum()), dtype=bool), mrd2[two].astype(object))
    nrm = first == 1
    death[c[nrm]] = event_day[nrm]
    cause[c[nrm]] = _nrm_cause(rng, int(nrm.sum()))
    # allo-HCT in CR1, then relapse or death without relapse after it
    hc = first == 2
    hidx, hdate = c[hc], event_day[hc]
    sub_h = {k: v[hc] for k, v in sub.items()}
    agrade_probe = _codes(rng, AGVHD_GRADES, P.AGVHD_PROBS, hidx.size)  # drives the NRM hazard
    sub_h["agvhd_3_4"] = np.isin(agrade_probe, ("III", "IV")).astype(float)
    tr = sample_pw_exponential(
        rng, P.RELAPSE_AFTER_HCT.baseline, linear_predictor(P.RELAPSE_AFTER_HCT, sub_h, hidx.size)
    )
    tn = sample_pw_exponential(rng, P.NRM_AFTER_HCT.baseline, linear_predictor(P.NRM_AFTER_HCT, sub_h, hidx.size))
    h_rel = tr < tn
    h_event = hdate + _ceil_days(np.minimum(tr, tn))
    death[hidx[~h_rel]] = h_event[~h_rel]
    _, severe = _transplant(rng, log, hidx, hdate, "CR1", np.where(h_rel, np.inf, h_event), agrade_probe)
    nrm_h = ~h_rel
    cause[hidx[nrm_h]] = np.where(severe[nrm_h], "GVHD", _nrm_cause(rng, int(nrm_h.sum())))
    # first relapse (directly from CR1, or after HCT in CR1)
    r_idx = np.concatenate([c[first == 0], hidx[h_rel]])
    r_day = np.concatenate([event_day[first == 0], h_event[h_rel]])
    prior = np.concatenate([np.zeros(int((first == 0).sum()), dtype=bool), np.ones(int(h_rel.sum()), dtype=bool)])
    rel1[r_idx] = r_day
    _relapsed(rng, coh, log, r_idx, r_day, cr1[r_idx], prior, death, cause)
    # line 1 rows: end at maintenance end or the next event
    l1_end = np.where(coh.outcome == 2, death, np.nan)
    stop = np.fmin(rel1, death)
    l1_end[c] = np.minimum(coh.l1_start[c] + uniform_days(rng, 600, 900, c.size), stop[c])
    l1_end[c[hc]] = np.minimum(l1_end[c[hc]], hdate)
    # primary refractory: salvage, death from its own hazard, no relapse rows
    f = np.flatnonzero(coh.outcome == 1)
    l1_end[f] = coh.eoi[f] + uniform_days(rng, 0, 7, f.size)
    start2 = coh.eoi[f] + uniform_days(rng, 14, 35, f.size)
    sub_f = {k: v[f] for k, v in cov.items()}
    t_f = _ceil_days(
        sample_pw_exponential(rng, P.DEATH_REFRACTORY.baseline, linear_predictor(P.DEATH_REFRACTORY, sub_f, f.size))
    )
    death[f] = start2 + t_f
    reg_f = _salvage(rng, coh, f, start2, np.ones(f.size, dtype=bool))
    cause[f] = _after_salvage(rng, coh, log, f, start2, death[f], reg_f, "CR1", np.zeros(f.size, dtype=bool))
    log.add(
        "lines", pid=np.arange(n), line_no=np.ones(n, dtype=int), regimen=coh.frontline, start=coh.l1_start, end=l1_end
    )
    return Course(death, cause, cr1, rel1, log)
