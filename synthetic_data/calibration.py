"""Calibration targets of the synthetic registry as data (``shared/spec/synthetic-calibration.md``).

Each ``Target`` names a quantity computable from ``analysis_patients`` / ``time_to_event`` (or from
the generator's own tables), the published value, the tolerance a seeded cohort of ~20,000 patients
must meet, and the source. ``scope = "case_mix"`` targets are checked on the generator's output in
``tests/test_generator.py``; ``scope = "endpoint"`` targets are for the end-to-end calibration test
once the ETL exists. Tolerances are absolute (proportions) unless ``relative`` is true.

``TOXICITY_TARGETS`` are the published toxicity rates (format 1.1): each is checked against its
binomial (Wilson) or Aalen–Johansen interval at the calibration test's sample size, so its
tolerance is the sampling error rather than a number declared here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TARGETS", "TOXICITY_TARGETS", "Target", "ToxicityTarget", "targets"]


@dataclass(frozen=True)
class Target:
    """One published figure the synthetic registry should reproduce within ``tolerance``."""

    name: str
    value: float
    tolerance: float
    source: str
    definition: str
    scope: str = "case_mix"
    relative: bool = False

    def accepts(self, observed: float) -> bool:
        """True when ``observed`` is within the tolerance of the target value."""
        limit = self.tolerance * abs(self.value) if self.relative else self.tolerance
        return abs(observed - self.value) <= limit


_SEER = "SEER 2000-17, n = 4,842 (ASH 2025 abstract)"
TARGETS: tuple[Target, ...] = (
    Target("age_15_19_share_of_aya", 0.37, 0.03, _SEER, "share of age_group 15-19 among patients aged 15-39"),
    Target("age_20_24_share_of_aya", 0.20, 0.03, _SEER, "share of age_group 20-24 among patients aged 15-39"),
    Target("age_25_29_share_of_aya", 0.143, 0.03, _SEER, "share of age_group 25-29 among patients aged 15-39"),
    Target(
        "age_outside_15_39_share",
        0.07,
        0.03,
        "proposal (the AYA filter must matter)",
        "share of patients with age_at_dx < 15 or >= 40",
    ),
    Target("lineage_t_share", 0.22, 0.02, "BMJ Best Practice; Chiaretti 2013 (proposal)", "share of lineage T"),
    Target(
        "ph_pos_share_age_15_20",
        0.10,
        0.025,
        "Secker-Walker 1991; Moorman, Blood 2010",
        "share of subtype BCR_ABL1 among B-ALL aged 15 to < 21",
    ),
    Target(
        "ph_pos_share_age_21_39",
        0.22,
        0.03,
        "Secker-Walker 1991; Moorman, Blood 2010",
        "share of subtype BCR_ABL1 among B-ALL aged 21 to < 40",
    ),
    Target(
        "ph_like_share_b_age_21_39",
        0.20,
        0.04,
        "Roberts NEJM 2014; Paietta, Blood 2021 (up to 27 %)",
        "share of subtype PH_LIKE among B-ALL aged 21 to < 40",
    ),
    Target("etp_share_of_t", 0.17, 0.03, "Jain, Blood 2016", "share of subtype ETP among T-ALL"),
    Target(
        "cr_ped_inspired",
        0.89,
        0.04,
        "Stock, Blood 2019 (CALGB 10403)",
        "share with cr1 among frontline_regimen PED_INSPIRED (patients with a line-1 assessment or an induction death)",
        "endpoint",
    ),
    Target(
        "efs3_ped_inspired",
        0.59,
        0.06,
        "Stock, Blood 2019 (CALGB 10403)",
        "Kaplan-Meier EFS from DX at 3 years, frontline_regimen PED_INSPIRED",
        "endpoint",
    ),
    Target(
        "os3_ped_inspired",
        0.73,
        0.07,
        "Stock, Blood 2019 (CALGB 10403)",
        "Kaplan-Meier OS from DX at 3 years, frontline_regimen PED_INSPIRED",
        "endpoint",
    ),
    Target("cr_etp", 0.73, 0.06, "Jain, Blood 2016", "share with cr1 among subtype ETP", "endpoint"),
    Target(
        "salvage_chemo_median_os_months",
        8.4,
        2.0,
        "Gökbuget, Blood 2012",
        "median OS from REL1 (days / 30.4375), salvage_regimen SALVAGE_CHEMO",
        "endpoint",
    ),
    Target(
        "salvage_chemo_os3",
        0.24,
        0.06,
        "Gökbuget, Blood 2012",
        "Kaplan-Meier OS from REL1 at 3 years, salvage_regimen SALVAGE_CHEMO",
        "endpoint",
    ),
    Target(
        "salvage_chemo_cr",
        0.42,
        0.08,
        "Gökbuget, Blood 2012",
        "share of relapsed patients on SALVAGE_CHEMO with a line-2 remission",
        "endpoint",
    ),
    Target(
        "blinatumomab_os_hr",
        0.71,
        0.08,
        "Kantarjian, NEJM 2017 (TOWER)",
        "adjusted Cox HR of OS from REL1, BLINATUMOMAB vs SALVAGE_CHEMO (truth.json covariates)",
        "endpoint",
    ),
    Target(
        "inotuzumab_os_hr",
        0.76,
        0.08,
        "Kantarjian, NEJM 2016 (INO-VATE)",
        "adjusted Cox HR of OS from REL1, INOTUZUMAB vs SALVAGE_CHEMO (truth.json covariates)",
        "endpoint",
    ),
    Target(
        "os5_after_hct_cr1",
        0.70,
        0.08,
        "Japan registry, Blood Adv 2022",
        "Kaplan-Meier OS from HCT1 at 5 years, first transplant disease_status CR1",
        "endpoint",
    ),
    Target("grfs1_after_hct", 0.31, 0.10, "Holtan, Blood 2015", "Kaplan-Meier GRFS from HCT1 at 1 year", "endpoint"),
    Target(
        "ltfu_by_5y",
        0.065,
        0.02,
        "Berkman, CEBP 2022; NCDB 2021",
        "1 - KM of 'lost to follow-up' (alive, last contact > 180 days before the cutoff) at 5 years from DX",
        "endpoint",
    ),
)


def targets(scope: str | None = None) -> tuple[Target, ...]:
    """The targets of one scope (``case_mix`` or ``endpoint``), or all of them."""
    return tuple(t for t in TARGETS if scope is None or t.scope == scope)


@dataclass(frozen=True)
class ToxicityTarget:
    """A published toxicity rate: the share of patients starting ``line`` on ``regimen`` with ``event``.

    ``low == high`` for a point value; a range ("about 5-10 %") gives both ends. ``statistic`` is
    ``"proportion"`` (the crude share with the event attributed to the line, grade >= ``min_grade``)
    or ``"cif_3y"`` (Aalen–Johansen cumulative incidence at 3 years, death competing). ``ages``
    restricts CAR_T_CD19 by age at the line's start: ``"<=25"`` (ELIANA) or ``">25"`` (ZUMA-3).
    """

    name: str
    line: int
    regimen: str
    event: str
    min_grade: int
    low: float
    high: float
    source: str
    ages: str = "all"
    statistic: str = "proportion"


_TOWER = "Kantarjian, NEJM 2017 (TOWER)"
_INOVATE = "Kantarjian, NEJM 2016 (INO-VATE)"
_ELIANA = "Maude, NEJM 2018 (ELIANA)"
_ZUMA3 = "Shah, Lancet 2021 (ZUMA-3)"
_PED = "Stock, Blood 2019; pediatric-inspired AYA series (proposal, order of magnitude)"
TOXICITY_TARGETS: tuple[ToxicityTarget, ...] = (
    ToxicityTarget("tower_crs_3plus", 2, "BLINATUMOMAB", "CRS", 3, 0.049, 0.049, _TOWER),
    ToxicityTarget("tower_neurologic_3plus", 2, "BLINATUMOMAB", "ICANS", 3, 0.094, 0.094, _TOWER),
    ToxicityTarget("tower_infection_3plus_blinatumomab", 2, "BLINATUMOMAB", "INFECTION", 3, 0.34, 0.34, _TOWER),
    ToxicityTarget("tower_infection_3plus_chemotherapy", 2, "SALVAGE_CHEMO", "INFECTION", 3, 0.52, 0.52, _TOWER),
    ToxicityTarget("inovate_vod_inotuzumab", 2, "INOTUZUMAB", "VOD_SOS", 1, 0.11, 0.11, _INOVATE),
    ToxicityTarget("inovate_vod_chemotherapy", 2, "SALVAGE_CHEMO", "VOD_SOS", 1, 0.01, 0.01, _INOVATE),
    ToxicityTarget("eliana_crs", 2, "CAR_T_CD19", "CRS", 1, 0.77, 0.77, _ELIANA, "<=25"),
    ToxicityTarget("eliana_crs_3plus", 2, "CAR_T_CD19", "CRS", 3, 0.47, 0.47, _ELIANA, "<=25"),
    ToxicityTarget("eliana_neurologic", 2, "CAR_T_CD19", "ICANS", 1, 0.40, 0.40, _ELIANA, "<=25"),
    ToxicityTarget("eliana_neurologic_3plus", 2, "CAR_T_CD19", "ICANS", 3, 0.13, 0.13, _ELIANA, "<=25"),
    ToxicityTarget("zuma3_crs_3plus", 2, "CAR_T_CD19", "CRS", 3, 0.24, 0.24, _ZUMA3, ">25"),
    ToxicityTarget("zuma3_neurologic_3plus", 2, "CAR_T_CD19", "ICANS", 3, 0.25, 0.25, _ZUMA3, ">25"),
    ToxicityTarget("ped_pancreatitis_3plus", 1, "PED_INSPIRED", "PANCREATITIS", 3, 0.05, 0.10, _PED),
    ToxicityTarget("ped_thrombosis", 1, "PED_INSPIRED", "THROMBOSIS", 1, 0.10, 0.10, _PED),
    ToxicityTarget("ped_osteonecrosis_3y", 1, "PED_INSPIRED", "OSTEONECROSIS", 1, 0.10, 0.10, _PED, statistic="cif_3y"),
)
