"""Calibration parameters of the synthetic AYA-ALL registry, declared as data with their sources.

Every number the simulation uses lives here, next to the publication it was shaped by
(``shared/spec/synthetic-calibration.md``); values marked *proposal* are reasonable choices where no
single source fits. Times are in days; hazards are per day. ``simulate.py`` reads these objects and
``truth.py`` writes them to ``truth.json``, so the file always states what the generator used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "ADMIN_JITTER_DAYS",
    "AGE_BANDS",
    "AGE_CENTER",
    "AGE_CR_LOGIT_PER_10Y",
    "AGVHD_PROBS",
    "B_SUBTYPE_SHARES",
    "CAUSE_NRM",
    "CENTERS",
    "CGVHD_PROBS",
    "CNS_PROBS",
    "CONDITIONING_PROBS",
    "DAYS_PER_MONTH",
    "DEATH_AFTER_RELAPSE",
    "DEATH_REFRACTORY",
    "DONOR_PROBS",
    "ETHNICITY_PROBS",
    "ETP_CR_LOGIT_SHIFT",
    "FRONTLINE_ASSIGNMENT",
    "FRONTLINE_CR_PROB",
    "HCT_IN_CR1",
    "HCT_IN_CR1_WINDOW_DAYS",
    "INDUCTION_DEATH_PROB",
    "LOCAL_REGIMEN_NAMES",
    "LTFU_HAZARD",
    "NRM_AFTER_HCT",
    "NRM_IN_CR1",
    "PH_LIKE_BY_AGE",
    "PH_POS_BY_AGE",
    "P_CODE_VARIANT",
    "P_CR_RESPONSE_KIND",
    "P_ETP_AMONG_T",
    "P_HCT_AFTER_CR2",
    "P_HCT_NOT_CR",
    "P_LOCAL_NAME",
    "P_MRD_NEG",
    "P_MRD_UNK",
    "P_SECOND_LINE1_ASSESSMENT",
    "P_T_LINEAGE",
    "P_T_SUBTYPE_UNK",
    "RACE_PROBS",
    "RELAPSE_AFTER_HCT",
    "RELAPSE_IN_CR1",
    "RELAPSE_SITE_PROBS",
    "SALVAGE_ASSIGNMENT",
    "SALVAGE_CR_PROB",
    "SEX_PROBS",
    "WBC_LOG_MEDIAN",
    "WBC_LOG_SD",
    "Hazard",
    "MultinomialLogit",
    "PiecewiseExponential",
    "Term",
    "month_rates",
]

DAYS_PER_MONTH = 30.4375
AGE_CENTER = 25.0  # covariate age_per_10y = (age_at_dx - AGE_CENTER) / 10


def _ln(hr: float) -> float:
    return round(math.log(hr), 6)


@dataclass(frozen=True)
class PiecewiseExponential:
    """A piecewise-constant baseline hazard: ``rates[k]`` per day on ``[breaks[k], breaks[k+1])``."""

    breaks: tuple[float, ...]
    rates: tuple[float, ...]


def month_rates(breaks_months: tuple[float, ...], per_month: tuple[float, ...]) -> PiecewiseExponential:
    """Build a baseline from breaks in months and hazards per month (easier to read against papers)."""
    return PiecewiseExponential(
        tuple(b * DAYS_PER_MONTH for b in breaks_months), tuple(r / DAYS_PER_MONTH for r in per_month)
    )


@dataclass(frozen=True)
class Term:
    """One proportional-hazards (or logit) term: a named covariate and its true coefficient."""

    name: str
    coef: float
    definition: str
    source: str = "proposal"


@dataclass(frozen=True)
class Hazard:
    """A proportional-hazards transition: baseline times ``exp(sum of terms)``."""

    name: str
    baseline: PiecewiseExponential
    terms: tuple[Term, ...]
    source: str
    description: str = ""

    def coef(self, name: str) -> float:
        for t in self.terms:
            if t.name == name:
                return t.coef
        return 0.0


@dataclass(frozen=True)
class MultinomialLogit:
    """Choice among ``options``: linear predictor per option (``coefs[option][term]``), reference 0."""

    reference: str
    coefs: dict[str, dict[str, float]] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    eligibility: dict[str, str] = field(default_factory=dict)


# --- case mix ------------------------------------------------------------------------------------
# (low, high, probability). SEER 2000-17 (n = 4,842): 15-19 37 %, 20-24 20 %, the rest ~14 % per
# five years; a small share outside 15-39 so that the AYA age filter matters (proposal).
AGE_BANDS: tuple[tuple[float, float, float], ...] = (
    (10.0, 15.0, 0.035),
    (15.0, 20.0, 0.37 * 0.93),
    (20.0, 25.0, 0.20 * 0.93),
    (25.0, 30.0, 0.43 / 3 * 0.93),
    (30.0, 35.0, 0.43 / 3 * 0.93),
    (35.0, 40.0, 0.43 / 3 * 0.93),
    (40.0, 50.0, 0.035),
)
SEX_PROBS = {"M": 0.585, "F": 0.41, "U": 0.005}
RACE_PROBS = {
    "WHITE": 0.74,
    "BLACK": 0.06,
    "ASIAN": 0.07,
    "AIAN": 0.01,
    "NHPI": 0.005,
    "MULTIPLE": 0.025,
    "OTHER": 0.045,
    "UNK": 0.045,
}
ETHNICITY_PROBS = {"HISPANIC": 0.36, "NON_HISPANIC": 0.6, "UNK": 0.04}
CENTERS = 40

P_T_LINEAGE = 0.22  # BMJ Best Practice; Chiaretti, Haematologica 2013 (proposal 78/22)
P_ETP_AMONG_T = 0.17  # Jain, Blood 2016
P_T_SUBTYPE_UNK = 0.03
# Ph+ by age: ~10 % at 15-20, ~22 % at 21-39 (Secker-Walker 1991; Moorman, Blood 2010).
PH_POS_BY_AGE: tuple[tuple[float, float], ...] = ((15.0, 0.04), (21.0, 0.10), (40.0, 0.22), (999.0, 0.30))
# Ph-like among Ph-negative B-ALL: up to 27 % at 21-39, ~21 % of Ph-negative adult B-ALL
# (Roberts NEJM 2014; Paietta, Blood 2021).
PH_LIKE_BY_AGE: tuple[tuple[float, float], ...] = ((15.0, 0.12), (21.0, 0.17), (999.0, 0.26))
# Other Ph-negative B subtypes, share of the remaining B-ALL (Paietta 2021 E2993; Moorman 2010;
# Chiaretti 2013). HIGH_HYPERDIPLOID 13 % under 20 vs 5 % older; ETV6_RUNX1 absent from 30.
B_SUBTYPE_SHARES: dict[str, float | tuple[float, float]] = {
    "DUX4_R": 0.085,
    "KMT2A_R": 0.08,
    "LOW_HYPODIPLOID": 0.04,
    "HIGH_HYPERDIPLOID": (0.13, 0.05),  # (age < 20, age >= 20)
    "TCF3_PBX1": 0.07,
    "PAX5ALT": 0.12,
    "ZNF384_R": 0.05,
    "MEF2D_R": 0.03,
    "ETV6_RUNX1": (0.02, 0.0),  # (age < 30, age >= 30)
    "IAMP21": 0.03,
    "UNK": 0.05,
}
CNS_PROBS = {"B": (0.86, 0.06, 0.04, 0.04), "T": (0.80, 0.08, 0.08, 0.04)}  # CNS1, CNS2, CNS3, UNK
WBC_LOG_MEDIAN = {"B": math.log(12.0), "T": math.log(45.0)}
WBC_LOG_SD = 1.2

# --- frontline -------------------------------------------------------------------------------------
# Multinomial logit among Ph-negative patients (reference PED_INSPIRED): older patients more often on
# adult regimens (Rytting, AJH 2016); BLIN_CHEMO only for B-ALL from 2019. Ph+ patients choose
# between TKI_CHEMO and TKI_BLIN (TKI_BLIN only from 2017).
FRONTLINE_ASSIGNMENT = MultinomialLogit(
    reference="PED_INSPIRED",
    coefs={
        "HYPER_CVAD": {"intercept": -1.2, "age_per_10y": 1.3, "dx_year_per_10y": -0.4},
        "ADULT_OTHER": {"intercept": -1.6, "age_per_10y": 1.0, "dx_year_per_10y": -0.6},
        "BLIN_CHEMO": {"intercept": -1.4, "age_per_10y": 0.3, "dx_year_per_10y": 0.0},
        "TKI_BLIN": {"intercept": -0.6, "age_per_10y": 0.2, "dx_year_per_10y": 0.8},
    },
    definitions={
        "age_per_10y": f"(age_at_dx - {AGE_CENTER:g}) / 10",
        "dx_year_per_10y": "(dx_year - 2013) / 10",
        "intercept": "1",
    },
    eligibility={
        "PED_INSPIRED": "subtype != BCR_ABL1",
        "HYPER_CVAD": "subtype != BCR_ABL1",
        "ADULT_OTHER": "subtype != BCR_ABL1",
        "BLIN_CHEMO": "subtype != BCR_ABL1 and lineage == B and dx_year >= 2019",
        "TKI_CHEMO": "subtype == BCR_ABL1 (reference among Ph+)",
        "TKI_BLIN": "subtype == BCR_ABL1 and dx_year >= 2017",
    },
)
# End-of-induction remission probability by regimen: CALGB 10403 CR 89 % (Stock, Blood 2019);
# hyper-CVAD 98 % vs augmented BFM 93 % (Rytting 2016); TKI / blinatumomab regimens high (proposal).
FRONTLINE_CR_PROB = {
    "PED_INSPIRED": 0.91,
    "HYPER_CVAD": 0.94,
    "ADULT_OTHER": 0.86,
    "TKI_CHEMO": 0.94,
    "TKI_BLIN": 0.96,
    "BLIN_CHEMO": 0.93,
}
ETP_CR_LOGIT_SHIFT = -1.3  # CR 73 % vs 91 % (Jain, Blood 2016)
AGE_CR_LOGIT_PER_10Y = -0.2  # proposal
# Induction death; treatment-related mortality 3 % on CALGB 10403 (Stock 2019), higher with age.
INDUCTION_DEATH_PROB = {"base": 0.025, "logit_per_10y": 0.35, "HYPER_CVAD": 0.01}
P_MRD_NEG = {"base_logit": 0.6, "PH_LIKE": -0.7, "ETP": -0.8, "BLIN": 0.8, "KMT2A_R": -0.4}  # proposal
P_MRD_UNK = 0.05
P_SECOND_LINE1_ASSESSMENT = 0.3
P_CR_RESPONSE_KIND = (0.85, 0.10, 0.05)  # CR, CRI, CRH among remissions

# --- first remission ---------------------------------------------------------------------------------
_T_MRD = "mrd_eoi == POS (first line-1 remission assessment)"
RELAPSE_IN_CR1 = Hazard(
    "relapse_in_cr1",
    month_rates((0, 12, 24, 36, 60), (0.0080, 0.0058, 0.0030, 0.0013, 0.0002)),
    (
        Term("mrd_pos", _ln(4.5), _T_MRD, "Berry, JAMA Oncol 2017: 10-yr EFS 64 % vs 21 %"),
        Term("age_per_10y", _ln(1.25), f"(age_at_dx - {AGE_CENTER:g}) / 10", "MDACC: 3-yr OS 85 % vs 60 %"),
        Term("subtype=PH_LIKE", _ln(1.6), "subtype == PH_LIKE", "Jain, Blood 2017 (OS HR 1.82)"),
        Term("subtype=KMT2A_R", _ln(1.5), "subtype == KMT2A_R"),
        Term("subtype=LOW_HYPODIPLOID", _ln(1.7), "subtype == LOW_HYPODIPLOID"),
        Term("subtype=HIGH_HYPERDIPLOID", _ln(0.6), "subtype == HIGH_HYPERDIPLOID"),
        Term("subtype=ETV6_RUNX1", _ln(0.5), "subtype == ETV6_RUNX1"),
        Term("subtype=DUX4_R", _ln(0.6), "subtype == DUX4_R"),
        Term("subtype=ETP", _ln(1.8), "subtype == ETP", "Jain, Blood 2016"),
        Term("cns_status=CNS3", _ln(1.2), "cns_status == CNS3", "Marks, Blood 2009 (proposal)"),
        Term("frontline_regimen=ADULT_OTHER", _ln(1.3), "frontline_regimen == ADULT_OTHER"),
        Term("frontline_regimen=TKI_CHEMO", _ln(1.2), "frontline_regimen == TKI_CHEMO"),
        Term("frontline_regimen=TKI_BLIN", _ln(0.7), "frontline_regimen == TKI_BLIN"),
        Term("frontline_regimen=BLIN_CHEMO", _ln(0.65), "frontline_regimen == BLIN_CHEMO"),
    ),
    "Stock, Blood 2019 (CALGB 10403 3-yr EFS 59 %); Berry 2017",
    "time from CR1 (end-of-induction remission) to first relapse; competing with NRM and HCT in CR1",
)
NRM_IN_CR1 = Hazard(
    "nrm_in_cr1",
    month_rates((0, 6, 24), (0.0020, 0.0008, 0.0003)),
    (
        Term("age_per_10y", _ln(1.4), f"(age_at_dx - {AGE_CENTER:g}) / 10"),
        Term("frontline_regimen=HYPER_CVAD", _ln(1.5), "frontline_regimen == HYPER_CVAD"),
    ),
    "proposal (treatment-related mortality 3 %, Stock 2019)",
    "death in first remission without relapse or transplant",
)
# Probability of allo-HCT in CR1 (logistic); time from CR1 uniform on the window below.
HCT_IN_CR1: dict[str, float] = {
    "intercept": -3.0,
    "subtype=BCR_ABL1": 1.8,
    "mrd_pos": 2.0,
    "subtype=ETP": 1.4,
    "subtype=KMT2A_R": 1.2,
    "subtype=LOW_HYPODIPLOID": 1.0,
    "subtype=PH_LIKE": 0.6,
}
HCT_IN_CR1_WINDOW_DAYS = (90, 210)

# --- after allo-HCT --------------------------------------------------------------------------------
AGVHD_PROBS = {"0": 0.40, "I": 0.18, "II": 0.22, "III": 0.13, "IV": 0.07}  # proposal, ~20 % III-IV
CGVHD_PROBS = {"NONE": 0.45, "MILD": 0.13, "MODERATE": 0.27, "SEVERE": 0.15}  # proposal
DONOR_PROBS = {"MSD": 0.28, "MUD": 0.34, "MMUD": 0.08, "HAPLO": 0.22, "UCB": 0.06, "UNK": 0.02}
CONDITIONING_PROBS = {"MAC": 0.82, "RIC": 0.16, "UNK": 0.02}
RELAPSE_AFTER_HCT = Hazard(
    "relapse_after_hct_in_cr1",
    month_rates((0, 12, 24), (0.009, 0.004, 0.001)),
    (Term("mrd_pos", _ln(1.8), _T_MRD),),
    "Japan registry, Blood Adv 2022 (5-yr OS after HCT in CR1 70 %)",
    "relapse after allo-HCT performed in CR1",
)
NRM_AFTER_HCT = Hazard(
    "nrm_after_hct_in_cr1",
    month_rates((0, 3, 12, 36), (0.013, 0.0045, 0.0013, 0.0005)),
    (
        Term("agvhd_3_4", _ln(2.5), "agvhd_grade in (III, IV)"),
        Term("age_per_10y", _ln(1.3), f"(age_at_dx - {AGE_CENTER:g}) / 10"),
    ),
    "Japan registry, Blood Adv 2022; Holtan, Blood 2015 (1-yr GRFS ~31 %)",
    "death without relapse after allo-HCT performed in CR1",
)

# --- after first relapse: the model the recovery test checks ---------------------------------------
_SALVAGE_REF = "SALVAGE_CHEMO"
DEATH_AFTER_RELAPSE = Hazard(
    "death_after_first_relapse",
    # Reference patient (SALVAGE_CHEMO, age 25, B, not Ph-like, late relapse, not CNS3): median OS
    # ~10 months; an average chemotherapy-salvaged mix ~8 months, 3-yr OS ~20-24 % (Gökbuget 2012).
    month_rates((0, 6, 12, 24, 36), (0.052, 0.056, 0.021, 0.008, 0.003)),
    (
        Term("salvage_regimen=BLINATUMOMAB", _ln(0.71), "salvage_regimen == BLINATUMOMAB", "TOWER"),
        Term("salvage_regimen=INOTUZUMAB", _ln(0.76), "salvage_regimen == INOTUZUMAB", "INO-VATE"),
        Term("salvage_regimen=CAR_T_CD19", _ln(0.55), "salvage_regimen == CAR_T_CD19", "ELIANA/ZUMA-3"),
        Term("salvage_regimen=CAR_T_CD7", _ln(0.60), "salvage_regimen == CAR_T_CD7"),
        Term("salvage_regimen=NELARABINE", _ln(0.90), "salvage_regimen == NELARABINE"),
        Term("salvage_regimen=VENETOCLAX_BASED", _ln(0.85), "salvage_regimen == VENETOCLAX_BASED"),
        Term("salvage_regimen=DARATUMUMAB_BASED", _ln(0.85), "salvage_regimen == DARATUMUMAB_BASED"),
        Term("salvage_regimen=ICB_COMBO", _ln(0.65), "salvage_regimen == ICB_COMBO"),
        Term("salvage_regimen=TRIAL_OTHER", _ln(0.85), "salvage_regimen == TRIAL_OTHER"),
        Term("age_per_10y", _ln(1.15), f"(age_at_dx - {AGE_CENTER:g}) / 10"),
        Term("lineage=T", _ln(1.25), "lineage == T"),
        Term("subtype=PH_LIKE", _ln(1.5), "subtype == PH_LIKE", "Jain, Blood 2017 (proposal size)"),
        Term("early_relapse", _ln(1.8), "REL1 - CR1 < 365 days", "Gökbuget, Blood 2012 (CR1 < 1 yr)"),
        Term("cns_status=CNS3", _ln(1.1), "cns_status == CNS3", "Marks, Blood 2009 (proposal)"),
    ),
    "Gökbuget, Blood 2012; Kantarjian NEJM 2016, 2017; Laetsch JCO 2023; Shah 2021",
    "death from any cause after the first relapse; drawn first, intermediate events conditional on it",
)
SALVAGE_ASSIGNMENT = MultinomialLogit(
    reference=_SALVAGE_REF,
    coefs={
        # Sicker patients (early relapse, Ph-like) go more often to newer agents: confounding by
        # indication that makes naive and adjusted salvage comparisons differ (proposal).
        "BLINATUMOMAB": {"intercept": -0.2, "early_relapse": 1.3, "age_per_10y": 0.0, "subtype=PH_LIKE": 0.7},
        "INOTUZUMAB": {"intercept": -0.7, "early_relapse": 1.4, "age_per_10y": 0.3, "subtype=PH_LIKE": 0.7},
        "CAR_T_CD19": {"intercept": -1.3, "early_relapse": 1.6, "age_per_10y": -0.5, "subtype=PH_LIKE": 0.8},
        "ICB_COMBO": {"intercept": -2.6, "early_relapse": 1.0, "age_per_10y": 0.0},
        "TRIAL_OTHER": {"intercept": -2.0, "early_relapse": 0.8, "age_per_10y": 0.0},
        "VENETOCLAX_BASED": {"intercept": -1.2, "early_relapse": 1.0, "age_per_10y": 0.2},
        "NELARABINE": {"intercept": 0.3, "early_relapse": 0.8, "age_per_10y": 0.0},
        "CAR_T_CD7": {"intercept": -1.2, "early_relapse": 1.5, "age_per_10y": -0.3},
        "DARATUMUMAB_BASED": {"intercept": -1.3, "early_relapse": 1.0, "age_per_10y": 0.0},
    },
    definitions={
        "age_per_10y": f"(age_at_dx - {AGE_CENTER:g}) / 10",
        "early_relapse": "REL1 - CR1 < 365 days",
        "subtype=PH_LIKE": "subtype == PH_LIKE",
        "intercept": "1",
    },
    eligibility={
        "SALVAGE_CHEMO": "always (reference)",
        "BLINATUMOMAB": "lineage == B and relapse_year >= 2015",
        "INOTUZUMAB": "lineage == B and relapse_year >= 2017",
        "CAR_T_CD19": "lineage == B and relapse_year >= 2018",
        "ICB_COMBO": "lineage == B and relapse_year >= 2019",
        "TRIAL_OTHER": "always",
        "VENETOCLAX_BASED": "relapse_year >= 2018",
        "NELARABINE": "lineage == T and relapse_year >= 2006",
        "CAR_T_CD7": "lineage == T and relapse_year >= 2021",
        "DARATUMUMAB_BASED": "lineage == T and relapse_year >= 2019",
    },
)
# Remission after salvage (CR/CRi/CRh): chemo 42 % (Gökbuget 2012; TOWER control 25 %), blinatumomab
# 44 %, inotuzumab 81 %, CAR-T 71-81 % (Kantarjian 2016, 2017; Laetsch 2023; Shah 2021).
SALVAGE_CR_PROB = {
    "SALVAGE_CHEMO": 0.42,
    "BLINATUMOMAB": 0.44,
    "INOTUZUMAB": 0.78,
    "CAR_T_CD19": 0.78,
    "CAR_T_CD7": 0.75,
    "NELARABINE": 0.40,
    "VENETOCLAX_BASED": 0.50,
    "DARATUMUMAB_BASED": 0.45,
    "ICB_COMBO": 0.60,
    "TRIAL_OTHER": 0.45,
}
# To transplant among those in CR2 (TOWER 24 % overall; INO-VATE 39.6 % vs 10.5 %).
P_HCT_AFTER_CR2 = {"SALVAGE_CHEMO": 0.35, "INOTUZUMAB": 0.55, "CAR_T_CD19": 0.25, "default": 0.45}
P_HCT_NOT_CR = 0.10
RELAPSE_SITE_PROBS = {"BM": 0.70, "CNS": 0.10, "TESTIS": 0.02, "COMBINED": 0.12, "OTHER_EM": 0.03, "UNK": 0.03}

# Induction failure (primary refractory): death hazard from line-2 start (proposal, median ~7 months).
DEATH_REFRACTORY = Hazard(
    "death_primary_refractory",
    month_rates((0, 6, 12, 24), (0.09, 0.07, 0.03, 0.01)),
    (Term("age_per_10y", _ln(1.15), f"(age_at_dx - {AGE_CENTER:g}) / 10"),),
    "proposal",
    "death after induction failure, from the start of line 2",
)
CAUSE_NRM = {"INFECTION": 0.5, "TOXICITY": 0.3, "SECOND_MALIGNANCY": 0.05, "OTHER": 0.1, "UNK": 0.05}

# --- follow-up -----------------------------------------------------------------------------------------
# Loss to follow-up ~6.5 % by 5 years, ~23 % by 15 years (Berkman, CEBP 2022; NCDB 2021).
LTFU_HAZARD = PiecewiseExponential((0.0, 5 * 365.25), (-math.log(1 - 0.065) / (5 * 365.25), 0.021 / 365.25))
ADMIN_JITTER_DAYS = 120  # last contact of patients alive at the cutoff falls up to this long before it

# --- local regimen names (written to regimen_map.csv) ---------------------------------------------
LOCAL_REGIMEN_NAMES = {
    "CALGB 10403": "PED_INSPIRED",
    "Augmented BFM": "PED_INSPIRED",
    "Hyper-CVAD": "HYPER_CVAD",
    "Blincyto": "BLINATUMOMAB",
    "Besponsa": "INOTUZUMAB",
    "Kymriah": "CAR_T_CD19",
    "Tecartus": "CAR_T_CD19",
    "Atriance": "NELARABINE",
    "Ponatinib + hyper-CVAD": "TKI_CHEMO",
}
P_LOCAL_NAME = 0.12  # share of eligible lines written with a local name
P_CODE_VARIANT = 0.005  # share of code cells written in another case or with spaces (legal)
