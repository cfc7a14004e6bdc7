"""ENUM types for the coded columns of the staged and analysis tables, generated from the code lists.

A coded column (sex, lineage, a regimen, an endpoint ...) holds one of a few fixed codes, and
``source_file`` (raw and staged tables) one of the extract's file names. Stored as an ENUM such a
column is a small integer per row; as text, DuckDB appends every value to a string segment and
dictionary- and FSST-compresses it on every write. At 1,000,000 patients that is 20M values of
``time_to_event`` alone (BENCHMARKS.md, "Generate and load").

The codes come from where they are declared (``ayaall.contract`` for the extract's code lists,
``ayaall.endpoints`` for endpoints, origins and event descriptions, the load's age breaks for the
age groups, the extract's files for ``source_file``); nothing is listed here. Each type's values
are in **sorted (byte) order**, so an ENUM column sorts, compares and takes ``min``/``max``
exactly as its text did (DuckDB orders an ENUM by position in its list). Only the storage type
differs: every value reads back as the same text, and ``CAST(column AS VARCHAR)`` gives the column
of the loaders before ENUMs. Readers that hand rows to pandas use ``analyses.cohort.read_frame``,
which gives these columns as text again (pandas would make them Categoricals).
"""

from __future__ import annotations

import duckdb

from ayaall.contract import TABLES, Kind
from ayaall.endpoints import ENDPOINT_NAMES, EVENT_DESCRIPTIONS, ORIGINS

__all__ = ["NO_REGIMEN", "UNKNOWN_AGE_GROUP", "create_enum_types", "enum_types"]

NO_REGIMEN = "NONE"
"""``analysis_patients`` frontline/salvage regimen of a patient without that line."""

UNKNOWN_AGE_GROUP = "UNK"
"""``analysis_patients.age_group`` of a patient without an age at diagnosis."""


def _code_lists() -> dict[str, tuple[str, ...]]:
    """``<column>_code``: the codes of every coded column of the extract, by column name."""
    out: dict[str, tuple[str, ...]] = {}
    for table in TABLES.values():
        for c in table.columns:
            if c.kind is not Kind.CODE:
                continue
            name = f"{c.name}_code"
            if name in out and set(out[name]) != set(c.codes):  # one name, one list
                raise ValueError(f"columns named {c.name} have different code lists")
            out[name] = c.codes
    return out


def enum_types(age_labels: tuple[str, ...], source_files: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Every ENUM type of a load: name -> values in sorted order.

    ``<column>_code`` for each coded column of the extract (``stg_<table>``); ``source_file_code``,
    the names of the extract's files (``source_file`` of ``raw_<table>`` and ``stg_<table>``, one
    value per table); for ``analysis_patients``, ``age_group_code`` (the load's age groups and UNK)
    and ``any_regimen_code`` (the regimens and NONE); for ``time_to_event``, ``endpoint_code``,
    ``origin_code`` and ``event_desc_code``.
    """
    lists = {
        **_code_lists(),
        "source_file_code": source_files,
        "age_group_code": (*age_labels, UNKNOWN_AGE_GROUP),
        "endpoint_code": tuple(ENDPOINT_NAMES),
        "origin_code": ORIGINS,
        "event_desc_code": EVENT_DESCRIPTIONS,
    }
    lists["any_regimen_code"] = (*lists["regimen_code"], NO_REGIMEN)
    return {name: tuple(sorted(set(values))) for name, values in lists.items()}


def create_enum_types(
    con: duckdb.DuckDBPyConnection, age_labels: tuple[str, ...], source_files: tuple[str, ...]
) -> None:
    """Create the types of ``enum_types`` in the database of ``con``."""
    for name, values in enum_types(age_labels, source_files).items():
        quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
        con.execute(f"CREATE TYPE {name} AS ENUM ({quoted})")
