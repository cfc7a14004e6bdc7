"""``truth.json``: the true parameters the generator used, in a form a test can check against.

The central entry is ``transitions.death_after_first_relapse``: a Cox model of OS from REL1 on the
listed covariates (each with the ``analysis_patients`` column it comes from, its definition and
reference level) should recover its ``log_hr`` values. ``toxicity`` holds the rates of the adverse
events by regimen (shares of the patients starting a line) and how their onsets and grades are drawn.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from synthetic_data import params as P
from synthetic_data import toxicity_params as T
from synthetic_data.params import Hazard

__all__ = ["truth_payload"]

_COVARIATE_COLUMNS: dict[str, tuple[str | None, str]] = {
    "age_per_10y": (
        "age_at_dx",
        "numeric: (age_at_dx - 25) / 10; a Cox term on age_at_dx in years has coef log_hr / 10",
    ),
    "early_relapse": (
        None,
        "1 when REL1 - CR1 < 365 days, else 0; derived from time_to_event: origin_date of the OS/REL1 row "
        "minus origin_date of the RFS/CR1 row (CR1 = first remission assessment before REL1)",
    ),
    "mrd_pos": ("mrd_eoi", "1 when mrd_eoi == POS"),
    "agvhd_3_4": ("transplants.agvhd_grade", "1 when the CR1 transplant's acute GVHD grade is III or IV"),
}


def _term(t: P.Term) -> dict[str, Any]:
    if "=" in t.name:
        column, level = t.name.split("=", 1)
        out: dict[str, Any] = {"column": column, "level": level, "type": "indicator", "definition": t.definition}
    else:
        known, definition = _COVARIATE_COLUMNS.get(t.name, (t.name, t.definition))
        out = {
            "column": known,
            "type": "numeric" if t.name == "age_per_10y" else "indicator",
            "definition": definition,
        }
    return {"name": t.name, "log_hr": t.coef, "source": t.source, **out}


def _hazard(
    h: Hazard, endpoint: str | None = None, origin: str | None = None, references: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "description": h.description,
        "endpoint": endpoint,
        "origin": origin,
        "source": h.source,
        "baseline": {
            "type": "piecewise_exponential",
            "time_unit": "days",
            "breaks_days": list(h.baseline.breaks),
            "hazard_per_day": list(h.baseline.rates),
            "applies_to": "a patient with every covariate 0 (age 25, every indicator at its reference)",
        },
        "reference_levels": references or {},
        "covariates": [_term(t) for t in h.terms],
    }


_REL1_RECIPE = (
    "Cox model (Efron ties) on time_to_event rows endpoint=OS, origin=REL1 (time_days, event_code 1 = death), "
    "joined to analysis_patients, for patients with salvage_regimen among SALVAGE_CHEMO and the levels listed; "
    "covariates: salvage_regimen coded against SALVAGE_CHEMO, age_at_dx (numeric, coef = log_hr of "
    "age_per_10y / 10), indicator lineage == T, indicator subtype == PH_LIKE, indicator early_relapse, "
    "indicator cns_status == CNS3. The fitted coefs estimate log_hr."
)


def truth_payload(seed: int, n_patients: int) -> dict[str, Any]:
    """The ``truth.json`` document for a run (parameters only; independent of the drawn data)."""
    return {
        "seed": seed,
        "n_patients": n_patients,
        "model": "multi-state, piecewise-exponential proportional hazards; see synthetic_data/simulate.py",
        "time_unit": "days",
        "age_center": P.AGE_CENTER,
        "transitions": {
            "death_after_first_relapse": {"cox_recipe": _REL1_RECIPE}
            | _hazard(
                P.DEATH_AFTER_RELAPSE,
                "OS",
                "REL1",
                {
                    "salvage_regimen": "SALVAGE_CHEMO",
                    "lineage": "B",
                    "subtype": "any other subtype",
                    "cns_status": "any other status",
                },
            ),
            "relapse_in_cr1": _hazard(
                P.RELAPSE_IN_CR1,
                None,
                "CR1",
                {"frontline_regimen": "PED_INSPIRED / HYPER_CVAD", "subtype": "B_OTHER and others"},
            ),
            "nrm_in_cr1": _hazard(P.NRM_IN_CR1, None, "CR1", {"frontline_regimen": "any other"}),
            "relapse_after_hct_in_cr1": _hazard(P.RELAPSE_AFTER_HCT, None, "HCT1"),
            "nrm_after_hct_in_cr1": _hazard(P.NRM_AFTER_HCT, None, "HCT1"),
            "death_primary_refractory": _hazard(P.DEATH_REFRACTORY, None, "LINE2"),
            "loss_to_follow_up": {
                "origin": "DX",
                "breaks_days": list(P.LTFU_HAZARD.breaks),
                "hazard_per_day": list(P.LTFU_HAZARD.rates),
                "admin_jitter_days": P.ADMIN_JITTER_DAYS,
            },
        },
        "assignment": {
            "frontline": dataclasses.asdict(P.FRONTLINE_ASSIGNMENT),
            "salvage": dataclasses.asdict(P.SALVAGE_ASSIGNMENT),
            "hct_in_cr1_logit": P.HCT_IN_CR1,
            "hct_in_cr1_window_days": list(P.HCT_IN_CR1_WINDOW_DAYS),
            "frontline_cr_prob": P.FRONTLINE_CR_PROB,
            "salvage_cr_prob": P.SALVAGE_CR_PROB,
        },
        "case_mix": {
            "age_bands": [list(b) for b in P.AGE_BANDS],
            "p_t_lineage": P.P_T_LINEAGE,
            "p_etp_among_t": P.P_ETP_AMONG_T,
            "ph_pos_by_age_upper": [list(x) for x in P.PH_POS_BY_AGE],
            "ph_like_among_ph_neg_b_by_age_upper": [list(x) for x in P.PH_LIKE_BY_AGE],
            "b_subtype_shares": {k: list(v) if isinstance(v, tuple) else v for k, v in P.B_SUBTYPE_SHARES.items()},
        },
        "local_regimen_names": P.LOCAL_REGIMEN_NAMES,
        "toxicity": _toxicity(),
    }


def _toxicity() -> dict[str, Any]:
    return {
        "rates": {
            regimen: {event: dataclasses.asdict(rate) for event, rate in events.items()}
            for regimen, events in T.TOXICITY_RATES.items()
        },
        "rates_definition": (
            "any_grade: share of the patients starting a line with the regimen who have the event attributed to "
            "it; grade_3_plus: share whose worst such event is grade 3-5. Events are kept only when they start "
            "before the next line and the death (and are written only up to the last contact). CAR_T_CD19_YOUNG "
            f"applies to CAR_T_CD19 lines started at ages up to {T.CAR_T_YOUNG_MAX_AGE:g} years; a regimen not "
            "listed takes OTHER. VOD_SOS after_hct: the share among patients transplanted while the line is "
            "their latest; the share of the others is solved so that the marginal share is any_grade."
        ),
        "icans_after_crs": (
            f"P(ICANS | CRS) = min({T.ICANS_AFTER_CRS}, {T.ICANS_AFTER_CRS} * p_icans / p_crs); the share without "
            "CRS is solved so that the marginal share is any_grade"
        ),
        "onset_days": {event: dataclasses.asdict(onset) for event, onset in T.ONSET.items()},
        "grade_4_share_of_grade_3_plus": T.GRADE_4_SHARE,
        "grade_1_share_of_grade_1_2": T.P_GRADE_1_AMONG_MILD,
        "grade_unk_share_of_grade_1_2": T.P_GRADE_UNK_AMONG_MILD,
        "second_episode": T.SECOND_EPISODE,
        "fatal": {
            "within_days": T.FATAL_WITHIN_DAYS,
            "events_by_cause_of_death": {k: list(v) for k, v in T.FATAL_EVENTS.items()},
            "rule": (
                "a death of cause INFECTION or TOXICITY within within_days of the onset of a grade 3-4 event of a "
                "fitting kind makes the latest such event grade 5; written as 5 only when the death is observed"
            ),
        },
        "duration_days": {k: list(v) for k, v in T.DURATION_DAYS.items()},
    }
