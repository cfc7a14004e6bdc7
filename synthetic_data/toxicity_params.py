"""Toxicity parameters of the synthetic registry (format 1.1 ``adverse_events``), as data with sources.

Rates are shares of the patients who start a line of therapy with a given regimen: ``any_grade`` the
share with at least one event of the type, ``grade_3_plus`` the share whose worst event of the type
is grade 3 or worse (the figures trials report, ``shared/spec/synthetic-calibration.md``). Values
without a source are *proposals* of the right order of magnitude. A registry records severe
toxicities reliably and mild ones patchily, so for the common chemotherapy toxicities the any-grade
share is only a little above the grade >= 3 share. ``truth.json`` records everything here.

Grading: CRS and ICANS by the ASTCT 2019 consensus, the others by CTCAE v5 (febrile neutropenia
is grade 3 or worse by definition). The "neurologic events" of TOWER, ELIANA and ZUMA-3 are
recorded as ICANS; ELIANA graded CRS on the Penn scale, and its figures are used as published.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CAR_T_YOUNG_MAX_AGE",
    "DURATION_DAYS",
    "FATAL_EVENTS",
    "FATAL_WITHIN_DAYS",
    "GRADE_4_SHARE",
    "ICANS_AFTER_CRS",
    "ONSET",
    "P_GRADE_1_AMONG_MILD",
    "P_GRADE_UNK_AMONG_MILD",
    "P_NO_RESOLUTION",
    "P_NO_TERM",
    "SECOND_EPISODE",
    "TERMS",
    "TOXICITY_RATES",
    "Onset",
    "Rate",
    "rates_for",
]


@dataclass(frozen=True)
class Rate:
    """Share of a regimen's patients with the event (worst grade per patient and line).

    ``after_hct`` (VOD/SOS only): the share among patients transplanted while the line is their
    latest one; the share among the others is solved so that the marginal share is ``any_grade``
    (INO-VATE: 11 %, most after a subsequent transplant).
    """

    any_grade: float
    grade_3_plus: float
    source: str = "proposal"
    after_hct: float | None = None


_TOWER = "Kantarjian, NEJM 2017 (TOWER)"
_INOVATE = "Kantarjian, NEJM 2016 (INO-VATE)"
_ELIANA = "Maude, NEJM 2018 (ELIANA)"
_ZUMA3 = "Shah, Lancet 2021 (ZUMA-3)"
_CALGB = "Stock, Blood 2019 (CALGB 10403); proposal"

_MYELOSUPPRESSIVE = {
    "INFECTION": Rate(0.45, 0.38),
    "FEBRILE_NEUTROPENIA": Rate(0.50, 0.50),
    "HEPATOTOXICITY": Rate(0.12, 0.07),
    "NEUROTOXICITY": Rate(0.06, 0.02),
    "TLS": Rate(0.03, 0.02),
    "VOD_SOS": Rate(0.01, 0.007, after_hct=0.03),
    "OTHER": Rate(0.05, 0.03),
}

TOXICITY_RATES: dict[str, dict[str, Rate]] = {
    # Frontline: asparaginase (pancreatitis, thrombosis, hepatotoxicity) and steroid (osteonecrosis)
    # toxicities are most frequent on pediatric-inspired regimens in AYAs.
    "PED_INSPIRED": {
        "INFECTION": Rate(0.40, 0.35),
        "FEBRILE_NEUTROPENIA": Rate(0.45, 0.45),
        "PANCREATITIS": Rate(0.09, 0.07, _CALGB),
        "THROMBOSIS": Rate(0.10, 0.06, _CALGB),
        "HEPATOTOXICITY": Rate(0.30, 0.25, _CALGB),
        # drawn for 10.5 % so that the cumulative incidence with death competing is about 10 % by 3 years
        "OSTEONECROSIS": Rate(0.105, 0.05, _CALGB),
        "NEUROTOXICITY": Rate(0.08, 0.04),
        "TLS": Rate(0.03, 0.02),
        "VOD_SOS": Rate(0.01, 0.007, after_hct=0.03),
        "OTHER": Rate(0.05, 0.03),
    },
    "HYPER_CVAD": {
        **_MYELOSUPPRESSIVE,
        "INFECTION": Rate(0.55, 0.45),
        "FEBRILE_NEUTROPENIA": Rate(0.65, 0.65),
        "PANCREATITIS": Rate(0.02, 0.01),
        "THROMBOSIS": Rate(0.06, 0.03),
        "OSTEONECROSIS": Rate(0.04, 0.02),
        "NEUROTOXICITY": Rate(0.10, 0.04),
    },
    "ADULT_OTHER": {
        **_MYELOSUPPRESSIVE,
        "PANCREATITIS": Rate(0.04, 0.03),
        "THROMBOSIS": Rate(0.07, 0.04),
        "OSTEONECROSIS": Rate(0.05, 0.03),
    },
    "TKI_CHEMO": {**_MYELOSUPPRESSIVE, "THROMBOSIS": Rate(0.08, 0.05), "OSTEONECROSIS": Rate(0.03, 0.01)},
    "TKI_BLIN": {
        "CRS": Rate(0.10, 0.02),
        "ICANS": Rate(0.20, 0.04),
        "INFECTION": Rate(0.30, 0.20),
        "FEBRILE_NEUTROPENIA": Rate(0.15, 0.15),
        "THROMBOSIS": Rate(0.05, 0.03),
        "OTHER": Rate(0.05, 0.02),
    },
    "BLIN_CHEMO": {
        "CRS": Rate(0.12, 0.02),
        "ICANS": Rate(0.20, 0.05),
        "INFECTION": Rate(0.40, 0.32),
        "FEBRILE_NEUTROPENIA": Rate(0.40, 0.40),
        "PANCREATITIS": Rate(0.06, 0.04),
        "THROMBOSIS": Rate(0.08, 0.05),
        "HEPATOTOXICITY": Rate(0.20, 0.15),
        "OSTEONECROSIS": Rate(0.07, 0.03),
        "VOD_SOS": Rate(0.01, 0.007, after_hct=0.03),
        "OTHER": Rate(0.05, 0.03),
    },
    # Relapsed / refractory.
    "SALVAGE_CHEMO": {
        **_MYELOSUPPRESSIVE,
        "INFECTION": Rate(0.62, 0.52, _TOWER + ": about a half with chemotherapy"),
        "FEBRILE_NEUTROPENIA": Rate(0.55, 0.55),
        "VOD_SOS": Rate(0.01, 0.007, _INOVATE + ": 1 % with chemotherapy", after_hct=0.02),
    },
    "BLINATUMOMAB": {
        "CRS": Rate(0.144, 0.049, _TOWER),
        "ICANS": Rate(0.30, 0.094, _TOWER + " (neurologic events; any grade a proposal)"),
        "INFECTION": Rate(0.45, 0.34, _TOWER + ": about a third"),
        "FEBRILE_NEUTROPENIA": Rate(0.20, 0.20),
        "HEPATOTOXICITY": Rate(0.10, 0.05),
        "VOD_SOS": Rate(0.01, 0.007, after_hct=0.02),
        "OTHER": Rate(0.05, 0.02),
    },
    "INOTUZUMAB": {
        "VOD_SOS": Rate(0.11, 0.08, _INOVATE + ": VOD/SOS 11 %, most after a subsequent transplant", after_hct=0.22),
        "INFECTION": Rate(0.35, 0.28),
        "FEBRILE_NEUTROPENIA": Rate(0.30, 0.30),
        "HEPATOTOXICITY": Rate(0.25, 0.10),
        "OTHER": Rate(0.05, 0.02),
    },
    # CAR_T_CD19 at ages > CAR_T_YOUNG_MAX_AGE (brexucabtagene, ZUMA-3); younger: CAR_T_CD19_YOUNG.
    "CAR_T_CD19": {
        "CRS": Rate(0.89, 0.24, _ZUMA3 + " (grade >= 3); any grade 89 %"),
        "ICANS": Rate(0.60, 0.25, _ZUMA3 + " (neurologic events grade >= 3); any grade 60 %"),
        "INFECTION": Rate(0.40, 0.25),
        "FEBRILE_NEUTROPENIA": Rate(0.35, 0.35),
        "TLS": Rate(0.03, 0.02),
        "VOD_SOS": Rate(0.01, 0.007, after_hct=0.02),
        "OTHER": Rate(0.05, 0.02),
    },
    "CAR_T_CD19_YOUNG": {
        "CRS": Rate(0.77, 0.47, _ELIANA + " (grade 3-4 on the Penn scale)"),
        "ICANS": Rate(0.40, 0.13, _ELIANA + " (neurologic events, grade 3 13 %)"),
        "INFECTION": Rate(0.40, 0.24),
        "FEBRILE_NEUTROPENIA": Rate(0.35, 0.35),
        "TLS": Rate(0.03, 0.02),
        "VOD_SOS": Rate(0.01, 0.007, after_hct=0.02),
        "OTHER": Rate(0.05, 0.02),
    },
    "CAR_T_CD7": {
        "CRS": Rate(0.90, 0.10),
        "ICANS": Rate(0.10, 0.02),
        "INFECTION": Rate(0.40, 0.25),
        "FEBRILE_NEUTROPENIA": Rate(0.35, 0.35),
        "OTHER": Rate(0.05, 0.02),
    },
    "ICB_COMBO": {
        "CRS": Rate(0.20, 0.06),
        "ICANS": Rate(0.25, 0.08),
        "INFECTION": Rate(0.40, 0.30),
        "FEBRILE_NEUTROPENIA": Rate(0.25, 0.25),
        "OTHER": Rate(0.12, 0.05),
    },
    "NELARABINE": {
        **_MYELOSUPPRESSIVE,
        "NEUROTOXICITY": Rate(0.30, 0.10),
        "INFECTION": Rate(0.40, 0.30),
        "FEBRILE_NEUTROPENIA": Rate(0.45, 0.45),
    },
    "VENETOCLAX_BASED": {**_MYELOSUPPRESSIVE, "TLS": Rate(0.06, 0.04), "FEBRILE_NEUTROPENIA": Rate(0.60, 0.60)},
    "DARATUMUMAB_BASED": {**_MYELOSUPPRESSIVE, "INFECTION": Rate(0.50, 0.35), "OTHER": Rate(0.15, 0.03)},
    "TRIAL_OTHER": {**_MYELOSUPPRESSIVE, "OTHER": Rate(0.10, 0.04)},
    "OTHER": dict(_MYELOSUPPRESSIVE),
}
CAR_T_YOUNG_MAX_AGE = 25.0  # ELIANA enrolled patients up to 25 years (age at the start of the line)


def rates_for(key: str) -> dict[str, Rate]:
    """The event rates of a regimen (``CAR_T_CD19_YOUNG``: CAR_T_CD19 up to ``CAR_T_YOUNG_MAX_AGE``)."""
    return TOXICITY_RATES.get(key, TOXICITY_RATES["OTHER"])


@dataclass(frozen=True)
class Onset:
    """When an event starts, in whole days after ``after`` (the line's start, or the transplant or CRS).

    ``kind = "uniform"``: uniform on ``[low, high]``; ``"gamma"``: ``low`` plus the floor of a gamma
    draw (``shape``, ``scale``), cut at ``high``. With ``within_line`` (early toxicities), an onset that
    falls on or after the patient's death or next line is drawn again uniformly between ``after`` and
    the day before: the share of patients with the event is the published one, as in a trial that
    counts every treated patient (only a death or next line on the day itself prevents it). Without
    it (osteonecrosis), such an event is not recorded: death competes and the next line censors.
    """

    kind: str
    low: int
    high: int
    shape: float = 0.0
    scale: float = 0.0
    after: str = "line start"
    within_line: bool = True


ONSET: dict[str, Onset] = {
    # CRS within days of CAR-T infusion or blinatumomab start (median about 3 days; day 0 possible).
    "CRS": Onset("gamma", 0, 14, 1.6, 2.0),
    # ICANS a few days after CRS; without CRS, within the first weeks.
    "ICANS": Onset("gamma", 1, 21, 1.8, 2.0, after="CRS onset"),
    "ICANS_WITHOUT_CRS": Onset("gamma", 2, 28, 2.0, 2.5),
    # VOD/SOS within weeks of inotuzumab, or within a month of a transplant.
    "VOD_SOS": Onset("uniform", 14, 60),
    "VOD_SOS_AFTER_HCT": Onset("uniform", 5, 28, after="transplant"),
    "INFECTION": Onset("uniform", 3, 120),
    "FEBRILE_NEUTROPENIA": Onset("uniform", 5, 40),
    "TLS": Onset("uniform", 0, 4),
    "PANCREATITIS": Onset("uniform", 7, 270),
    "THROMBOSIS": Onset("uniform", 7, 240),
    "HEPATOTOXICITY": Onset("uniform", 7, 150),
    # Osteonecrosis over months to years of frontline therapy (all within 3 years).
    "OSTEONECROSIS": Onset("uniform", 90, 1000, within_line=False),
    "NEUROTOXICITY": Onset("uniform", 5, 150),
    "OTHER": Onset("uniform", 1, 120),
}
# ICANS mostly follows CRS: P(ICANS | CRS) = min(ICANS_AFTER_CRS, ICANS_AFTER_CRS * p_icans / p_crs); the
# share without CRS is solved so that the marginal is the published one.
ICANS_AFTER_CRS = 0.95

# Grades. Within grade >= 3, the share of grade 4 (grade 5 only from the death record, below); within
# grade 1-2, the share of grade 1; a share of the mild events is recorded without a grade (UNK).
GRADE_4_SHARE = {"default": 0.3, "FEBRILE_NEUTROPENIA": 0.15, "OSTEONECROSIS": 0.35, "THROMBOSIS": 0.2}
P_GRADE_1_AMONG_MILD = 0.5
P_GRADE_UNK_AMONG_MILD = 0.08
# Further episodes (lower grade, 14-60 days before or after the worst one).
SECOND_EPISODE = {"INFECTION": 0.10, "FEBRILE_NEUTROPENIA": 0.05}

# A death of cause INFECTION or TOXICITY within FATAL_WITHIN_DAYS of the onset of a grade 3-4 event of
# the fitting kind (the latest one) makes that event grade 5: the death is on or after its onset.
FATAL_WITHIN_DAYS = 60
FATAL_EVENTS = {
    "INFECTION": ("INFECTION", "FEBRILE_NEUTROPENIA"),
    "TOXICITY": ("CRS", "ICANS", "VOD_SOS", "TLS", "PANCREATITIS", "THROMBOSIS", "HEPATOTOXICITY", "NEUROTOXICITY"),
}

# Duration until resolution (uniform days); osteonecrosis is chronic and often unresolved.
DURATION_DAYS = {
    "CRS": (2, 10),
    "ICANS": (2, 14),
    "VOD_SOS": (14, 60),
    "INFECTION": (5, 21),
    "FEBRILE_NEUTROPENIA": (3, 10),
    "TLS": (2, 7),
    "PANCREATITIS": (5, 30),
    "THROMBOSIS": (30, 180),
    "HEPATOTOXICITY": (7, 60),
    "OSTEONECROSIS": (180, 720),
    "NEUROTOXICITY": (7, 90),
    "OTHER": (3, 30),
}
P_NO_RESOLUTION = {"default": 0.10, "OSTEONECROSIS": 0.7}
P_NO_TERM = 0.5
TERMS = {
    "CRS": ("Cytokine release syndrome",),
    "ICANS": ("Immune effector cell-associated neurotoxicity syndrome", "Encephalopathy", "Aphasia"),
    "NEUROTOXICITY": ("Peripheral sensory neuropathy", "Seizure", "Encephalopathy"),
    "VOD_SOS": ("Sinusoidal obstruction syndrome", "Hepatic veno-occlusive disease"),
    "INFECTION": ("Sepsis", "Lung infection", "Bacteremia", "Invasive fungal infection", "Catheter related infection"),
    "FEBRILE_NEUTROPENIA": ("Febrile neutropenia",),
    "TLS": ("Tumor lysis syndrome",),
    "PANCREATITIS": ("Pancreatitis",),
    "THROMBOSIS": ("Thromboembolic event", "Cerebral venous thrombosis", "Catheter related thrombosis"),
    "HEPATOTOXICITY": ("Alanine aminotransferase increased", "Blood bilirubin increased"),
    "OSTEONECROSIS": ("Osteonecrosis",),
    "OTHER": ("Mucositis oral", "Hyperglycemia", "Allergic reaction"),
}
