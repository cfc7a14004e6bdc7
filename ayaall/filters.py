"""The cohort builder's filters, declared once as data: the column, its label and the kind of control.

A filter's column is an ``analysis_patients`` column, so a cohort built here is exactly a cohort file
of cli.md (``analyses.cohort.CohortSpec``).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from ayaall import contract
from ayaall.endpoints import age_group_labels

__all__ = [
    "BY_COLUMNS",
    "CONTINUOUS_COVARIATES",
    "COVARIATES",
    "FILTERS",
    "TABLE_ONE",
    "FilterSpec",
    "column_label",
    "filter_spec",
]


class FilterSpec(NamedTuple):
    column: str
    label: str
    kind: Literal["multi", "bool", "range"]
    codes: tuple[str, ...] = ()  # fixed options; empty = distinct values in the database
    from_load: bool = False  # the options are the loaded database's levels (age bands are a load option)


FILTERS: tuple[FilterSpec, ...] = (
    FilterSpec("age_group", "Age group", "multi", (*age_group_labels(), "UNK"), from_load=True),
    FilterSpec("sex", "Sex", "multi", contract.SEX),
    FilterSpec("race", "Race", "multi", contract.RACE),
    FilterSpec("ethnicity", "Ethnicity", "multi", contract.ETHNICITY),
    FilterSpec("lineage", "Lineage", "multi", contract.LINEAGE),
    FilterSpec("subtype", "Subtype", "multi", contract.SUBTYPES),
    FilterSpec("frontline_regimen", "Frontline regimen", "multi", (*contract.FRONTLINE_REGIMENS, "OTHER", "NONE")),
    FilterSpec("salvage_regimen", "Salvage regimen (line 2)", "multi", (*contract.SALVAGE_REGIMENS, "OTHER", "NONE")),
    FilterSpec("dx_year", "Diagnosis year", "range"),
    FilterSpec("era", "Diagnosis era", "multi", from_load=True),
    FilterSpec("center_id", "Centre", "multi"),
    FilterSpec("cns_status", "CNS status", "multi", contract.CNS_STATUS),
    FilterSpec("mrd_eoi", "End-of-induction MRD", "multi", contract.MRD),
    FilterSpec("cr1", "Reached CR1", "bool"),
    FilterSpec("relapsed", "Relapsed", "bool"),
    FilterSpec("hct", "Transplanted", "bool"),
    FilterSpec("relapse_site", "Site of first relapse", "multi", contract.RELAPSE_SITES),
    FilterSpec("early_relapse", "Early relapse (CR1 under 18 months)", "bool"),
)

# Categorical columns a comparison can be grouped by (label shown in the "group by" menus).
BY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("frontline_regimen", "Frontline regimen"),
    ("salvage_regimen", "Salvage regimen"),
    ("subtype", "Subtype"),
    ("age_group", "Age group"),
    ("lineage", "Lineage"),
    ("sex", "Sex"),
    ("race", "Race"),
    ("ethnicity", "Ethnicity"),
    ("cns_status", "CNS status"),
    ("mrd_eoi", "End-of-induction MRD"),
    ("cr1", "Reached CR1"),
    ("relapsed", "Relapsed"),
    ("hct", "Transplanted (ever)"),
    ("car_t", "CAR-T (ever)"),
    ("induction_failure", "Induction failure"),
    ("center_id", "Centre"),
    ("era", "Diagnosis era"),
    ("relapse_site", "Site of first relapse"),
    ("early_relapse", "Early relapse (CR1 under 18 months)"),
)

# Numeric columns a model can adjust for (as numbers, per unit); with the groupings, every model's menu.
CONTINUOUS_COVARIATES: tuple[tuple[str, str], ...] = (
    ("age_at_dx", "Age at diagnosis (years)"),
    ("wbc_at_dx", "WBC at diagnosis"),
    ("dx_year", "Diagnosis year"),
    ("cr1_months", "Duration of CR1 (months)"),
    ("dx_to_salvage_months", "Months from diagnosis to salvage"),
)
#: the covariates the Cox, Treatment timing and Adjusted comparison pages offer
COVARIATES: tuple[tuple[str, str], ...] = (*CONTINUOUS_COVARIATES, *BY_COLUMNS)


# Table 1's rows, in order: the one list the Cohort page, its download, ``ayaall analyze table1`` and
# ``ayaall export --figure table1`` show (a grouping column is left out of its own table).
TABLE_ONE: tuple[tuple[str, str], ...] = (
    ("age_at_dx", "Age at diagnosis (years)"),
    ("age_group", "Age group"),
    ("sex", "Sex"),
    ("race", "Race"),
    ("ethnicity", "Ethnicity"),
    ("lineage", "Lineage"),
    ("subtype", "Subtype"),
    ("wbc_at_dx", "WBC at diagnosis (x10^9/L)"),
    ("cns_status", "CNS status"),
    ("frontline_regimen", "Frontline regimen"),
    ("mrd_eoi", "End-of-induction MRD"),
    ("cr1", "Reached CR1"),
    ("relapsed", "Relapsed"),
    ("hct", "Transplanted"),
)


def filter_spec(column: str) -> FilterSpec:
    for spec in FILTERS:
        if spec.column == column:
            return spec
    raise KeyError(column)


def column_label(column: str) -> str:
    """The words for an ``analysis_patients`` column (Table 1's, a grouping's or a filter's), else its name."""
    labels = {c: lab for c, lab in BY_COLUMNS} | {f.column: f.label for f in FILTERS} | dict(TABLE_ONE)
    return labels.get(column, column)
