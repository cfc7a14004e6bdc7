"""The registry extract contract, format v1.1, declared once as data.

Everything that reads or writes an extract (the loader, the synthetic generator, the documentation
test) takes table names, columns, types and code lists from here, so the contract in
``shared/spec/registry-extract.md`` has exactly one home in the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ACCEPTED_VERSIONS",
    "AE_EVENTS",
    "AE_GRADES",
    "AGVHD_GRADES",
    "CAUSES_OF_DEATH",
    "CGVHD_SEVERITY",
    "CNS_STATUS",
    "CONDITIONING",
    "DONOR_TYPES",
    "ETHNICITY",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "FRONTLINE_REGIMENS",
    "HCT_DISEASE_STATUS",
    "LINEAGE",
    "MRD",
    "RACE",
    "REGIMENS",
    "RELAPSE_SITES",
    "REMISSION_RESPONSES",
    "RESPONSES",
    "SALVAGE_REGIMENS",
    "SEX",
    "SUBTYPES",
    "SUBTYPES_B",
    "SUBTYPES_T",
    "TABLES",
    "TABLE_ORDER",
    "VITAL_STATUS",
    "ColumnSpec",
    "Kind",
    "TableSpec",
]

FORMAT_NAME = "aya-all-registry-extract"
FORMAT_VERSION = 1.1
# Format 1.1 adds the optional adverse_events table; an extract of format 1 (no such table) still loads.
ACCEPTED_VERSIONS: tuple[float, ...] = (1, 1.1)

SEX = ("M", "F", "U")
RACE = ("WHITE", "BLACK", "ASIAN", "AIAN", "NHPI", "MULTIPLE", "OTHER", "UNK")
ETHNICITY = ("HISPANIC", "NON_HISPANIC", "UNK")
LINEAGE = ("B", "T")
SUBTYPES_B = (
    "BCR_ABL1",
    "PH_LIKE",
    "KMT2A_R",
    "ETV6_RUNX1",
    "HIGH_HYPERDIPLOID",
    "LOW_HYPODIPLOID",
    "IAMP21",
    "TCF3_PBX1",
    "DUX4_R",
    "ZNF384_R",
    "MEF2D_R",
    "PAX5ALT",
    "B_OTHER",
)
SUBTYPES_T = ("ETP", "NON_ETP")
SUBTYPES = (*SUBTYPES_B, *SUBTYPES_T, "UNK")
CNS_STATUS = ("CNS1", "CNS2", "CNS3", "UNK")

FRONTLINE_REGIMENS = ("PED_INSPIRED", "HYPER_CVAD", "ADULT_OTHER", "TKI_CHEMO", "TKI_BLIN", "BLIN_CHEMO")
SALVAGE_REGIMENS = (
    "BLINATUMOMAB",
    "INOTUZUMAB",
    "CAR_T_CD19",
    "CAR_T_CD7",
    "SALVAGE_CHEMO",
    "NELARABINE",
    "VENETOCLAX_BASED",
    "DARATUMUMAB_BASED",
    "ICB_COMBO",
    "TRIAL_OTHER",
)
REGIMENS = (*FRONTLINE_REGIMENS, *SALVAGE_REGIMENS, "OTHER")

RESPONSES = ("CR", "CRI", "CRH", "PR", "NR", "NE")
REMISSION_RESPONSES = ("CR", "CRI", "CRH")
MRD = ("NEG", "POS", "UNK")
RELAPSE_SITES = ("BM", "CNS", "TESTIS", "COMBINED", "OTHER_EM", "UNK")
DONOR_TYPES = ("MSD", "MUD", "MMUD", "HAPLO", "UCB", "UNK")
HCT_DISEASE_STATUS = ("CR1", "CR2", "CR3P", "NOT_CR", "UNK")
CONDITIONING = ("MAC", "RIC", "UNK")
AGVHD_GRADES = ("0", "I", "II", "III", "IV", "UNK")
CGVHD_SEVERITY = ("NONE", "MILD", "MODERATE", "SEVERE", "UNK")
VITAL_STATUS = ("ALIVE", "DEAD")
CAUSES_OF_DEATH = ("DISEASE", "INFECTION", "GVHD", "TOXICITY", "SECOND_MALIGNANCY", "OTHER", "UNK")
# Adverse events (format 1.1): CRS and ICANS graded by the ASTCT 2019 consensus, the others by CTCAE v5.
AE_EVENTS = (
    "CRS",
    "ICANS",
    "NEUROTOXICITY",
    "VOD_SOS",
    "INFECTION",
    "FEBRILE_NEUTROPENIA",
    "TLS",
    "PANCREATITIS",
    "THROMBOSIS",
    "HEPATOTOXICITY",
    "OSTEONECROSIS",
    "OTHER",
)
AE_GRADES = ("1", "2", "3", "4", "5", "UNK")  # 5 = fatal


class Kind(StrEnum):
    """How a column's text is parsed."""

    TEXT = "text"
    CODE = "code"
    DATE = "date"
    INTEGER = "integer"
    NUMBER = "number"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an extract table.

    ``required`` means the *value* must be present and parseable (a row without it is
    quarantined); every listed column must be present in the file unless ``optional_column``.
    ``minimum``/``maximum`` bound numbers; a value outside them is treated as unparseable.
    ``unknown_as`` is what an unknown code becomes (the row is kept with a warning): by default UNK
    where the code list has it, else missing. A *required* code with no ``unknown_as`` and no UNK
    (``vital_status``, a regimen in regimen_map) cannot be guessed, so its row is quarantined.
    """

    name: str
    kind: Kind
    required: bool = False
    codes: tuple[str, ...] = ()
    optional_column: bool = False
    minimum: float | None = None
    maximum: float | None = None
    unknown_as: str | None = None

    @property
    def unknown_code_value(self) -> str | None:
        """The value an unknown code becomes, or None when it becomes missing."""
        if self.unknown_as is not None:
            return self.unknown_as
        return "UNK" if "UNK" in self.codes else None


@dataclass(frozen=True)
class TableSpec:
    """One table of an extract: its columns, key and the table its rows must match."""

    name: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    required_table: bool
    parent: str | None = None
    parent_key: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


_PID = ColumnSpec("patient_id", Kind.TEXT, required=True)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "patients",
            (
                _PID,
                ColumnSpec("sex", Kind.CODE, codes=SEX),
                ColumnSpec("race", Kind.CODE, codes=RACE),
                ColumnSpec("ethnicity", Kind.CODE, codes=ETHNICITY),
                ColumnSpec("center_id", Kind.TEXT, optional_column=True),
            ),
            key=("patient_id",),
            required_table=True,
        ),
        TableSpec(
            "diagnoses",
            (
                _PID,
                ColumnSpec("dx_date", Kind.DATE, required=True),
                ColumnSpec("age_at_dx", Kind.NUMBER, minimum=0, maximum=120),
                ColumnSpec("lineage", Kind.CODE, codes=LINEAGE),
                ColumnSpec("subtype", Kind.CODE, codes=SUBTYPES),
                ColumnSpec("wbc_at_dx", Kind.NUMBER, minimum=0),
                ColumnSpec("cns_status", Kind.CODE, codes=CNS_STATUS),
            ),
            key=("patient_id",),
            required_table=True,
            parent="patients",
            parent_key=("patient_id",),
        ),
        TableSpec(
            "treatment_lines",
            (
                _PID,
                ColumnSpec("line_no", Kind.INTEGER, required=True, minimum=1),
                ColumnSpec("regimen", Kind.CODE, required=True, codes=REGIMENS, unknown_as="OTHER"),
                ColumnSpec("start_date", Kind.DATE, required=True),
                ColumnSpec("end_date", Kind.DATE),
            ),
            key=("patient_id", "line_no"),
            required_table=True,
            parent="patients",
            parent_key=("patient_id",),
        ),
        TableSpec(
            "responses",
            (
                _PID,
                ColumnSpec("line_no", Kind.INTEGER, required=True, minimum=1),
                ColumnSpec("assessment_date", Kind.DATE, required=True),
                ColumnSpec("response", Kind.CODE, codes=RESPONSES),
                ColumnSpec("mrd", Kind.CODE, codes=MRD),
                ColumnSpec("mrd_level", Kind.NUMBER, minimum=0, maximum=1),
            ),
            key=("patient_id", "line_no", "assessment_date"),
            required_table=False,
            parent="treatment_lines",
            parent_key=("patient_id", "line_no"),
        ),
        TableSpec(
            "relapses",
            (
                _PID,
                ColumnSpec("relapse_date", Kind.DATE, required=True),
                ColumnSpec("site", Kind.CODE, codes=RELAPSE_SITES),
            ),
            key=("patient_id", "relapse_date"),
            required_table=False,
            parent="patients",
            parent_key=("patient_id",),
        ),
        TableSpec(
            "transplants",
            (
                _PID,
                ColumnSpec("hct_date", Kind.DATE, required=True),
                ColumnSpec("donor_type", Kind.CODE, codes=DONOR_TYPES),
                ColumnSpec("disease_status", Kind.CODE, codes=HCT_DISEASE_STATUS),
                ColumnSpec("conditioning", Kind.CODE, codes=CONDITIONING),
                ColumnSpec("agvhd_grade", Kind.CODE, codes=AGVHD_GRADES),
                ColumnSpec("agvhd_date", Kind.DATE),
                ColumnSpec("cgvhd_severity", Kind.CODE, codes=CGVHD_SEVERITY),
                ColumnSpec("cgvhd_date", Kind.DATE),
            ),
            key=("patient_id", "hct_date"),
            required_table=False,
            parent="patients",
            parent_key=("patient_id",),
        ),
        TableSpec(
            "adverse_events",
            (
                _PID,
                ColumnSpec("line_no", Kind.INTEGER, required=True, minimum=1),
                # An event outside the list is kept as OTHER with a warning (its raw value is kept there).
                ColumnSpec("event", Kind.CODE, required=True, codes=AE_EVENTS, unknown_as="OTHER"),
                ColumnSpec("grade", Kind.CODE, codes=AE_GRADES),
                ColumnSpec("onset_date", Kind.DATE, required=True),
                ColumnSpec("resolution_date", Kind.DATE),
                ColumnSpec("term", Kind.TEXT),
            ),
            key=("patient_id", "line_no", "event", "onset_date"),
            required_table=False,
            parent="treatment_lines",
            parent_key=("patient_id", "line_no"),
        ),
        TableSpec(
            "followup",
            (
                _PID,
                ColumnSpec("last_contact_date", Kind.DATE, required=True),
                ColumnSpec("vital_status", Kind.CODE, required=True, codes=VITAL_STATUS),
                ColumnSpec("death_date", Kind.DATE),
                ColumnSpec("cause_of_death", Kind.CODE, codes=CAUSES_OF_DEATH),
            ),
            key=("patient_id",),
            required_table=True,
            parent="patients",
            parent_key=("patient_id",),
        ),
        TableSpec(
            "regimen_map",
            (
                ColumnSpec("local_name", Kind.TEXT, required=True),
                ColumnSpec("regimen", Kind.CODE, required=True, codes=REGIMENS),
            ),
            key=("local_name",),
            required_table=False,
        ),
    )
}

# Load order: a table comes after the table its rows must match.
TABLE_ORDER: tuple[str, ...] = (
    "regimen_map",
    "patients",
    "diagnoses",
    "treatment_lines",
    "responses",
    "relapses",
    "transplants",
    "adverse_events",
    "followup",
)
