"""Coded columns stored as ENUMs (etl/enums.py): same values, order and pandas frames as text."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ayaall.contract import REGIMENS, TABLES, Kind
from ayaall.endpoints import ENDPOINT_NAMES, EVENT_DESCRIPTIONS, ORIGINS, age_group_labels
from etl.enums import create_enum_types, enum_types
from etl.read import analysis_columns, read_frame

_LABELS = age_group_labels()
_FILES = ("patients.csv", "followup.csv")


def _enum_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE data_type LIKE 'ENUM(%' ORDER BY table_name, column_name"
    ).fetchall()


def test_every_code_list_has_its_type_in_sorted_order() -> None:
    types = enum_types(_LABELS, _FILES)
    for table in TABLES.values():
        for c in table.columns:
            if c.kind is Kind.CODE:
                assert types[f"{c.name}_code"] == tuple(sorted(c.codes)), (table.name, c.name)
    assert types["endpoint_code"] == tuple(sorted(ENDPOINT_NAMES))
    assert types["origin_code"] == tuple(sorted(ORIGINS))
    assert types["event_desc_code"] == tuple(sorted(EVENT_DESCRIPTIONS))
    assert types["source_file_code"] == ("followup.csv", "patients.csv")


def test_regimens_declared_out_of_order_are_sorted_and_none_is_added() -> None:
    # REGIMENS is declared frontline first (PED_INSPIRED, HYPER_CVAD, ...), not alphabetically.
    assert list(REGIMENS) != sorted(REGIMENS)
    types = enum_types(_LABELS, _FILES)
    assert types["regimen_code"] == tuple(sorted(REGIMENS))
    assert types["any_regimen_code"] == tuple(sorted([*REGIMENS, "NONE"]))


def test_age_groups_include_unknown_and_sort_as_text() -> None:
    # "<15" sorts after "40+" as text ('<' is 0x3C); the ENUM must sort the same way.
    types = enum_types(age_group_labels((15, 20, 25, 30, 40)), _FILES)
    assert types["age_group_code"] == ("15-19", "20-24", "25-29", "30-39", "40+", "<15", "UNK")


def test_enum_sorts_compares_and_aggregates_as_text() -> None:
    con = duckdb.connect()
    create_enum_types(con, _LABELS, _FILES)
    con.execute(
        "CREATE TABLE t AS SELECT r AS txt, CAST(r AS regimen_code) AS code "
        "FROM unnest(?) AS u(r) UNION ALL SELECT NULL, NULL",
        [list(REGIMENS)],
    )
    by_text = con.execute("SELECT txt FROM t ORDER BY txt NULLS LAST").fetchall()
    by_code = con.execute("SELECT CAST(code AS VARCHAR) FROM t ORDER BY code NULLS LAST").fetchall()
    assert by_code == by_text
    assert (
        con.execute("SELECT min(code), max(code) FROM t").fetchone()
        == con.execute("SELECT min(txt), max(txt) FROM t").fetchone()
    )
    # comparing with text, including a value that is not a code, behaves as on text
    for sql in ("code = 'OTHER'", "code IN ('BLINATUMOMAB', 'NOT_A_CODE')", "code > 'HYPER_CVAD'", "code = 'X'"):
        text_sql = sql.replace("code", "txt")
        assert (
            con.execute(f"SELECT count(*) FROM t WHERE {sql}").fetchone()
            == con.execute(f"SELECT count(*) FROM t WHERE {text_sql}").fetchone()
        ), sql


def test_loaded_coded_columns_are_enums_of_the_code_lists(demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        columns = {(t, c): kind for t, c, kind in _enum_columns(con)}
    finally:
        con.close()
    for table in TABLES.values():
        for c in table.columns:
            if c.kind is Kind.CODE:
                codes = ", ".join(f"'{x}'" for x in sorted(c.codes))
                assert columns[(f"stg_{table.name}", c.name)] == f"ENUM({codes})"
        assert (f"raw_{table.name}", "source_file") in columns
        assert (f"stg_{table.name}", "source_file") in columns
    for name in ("endpoint", "origin", "event_desc"):
        assert ("time_to_event", name) in columns
    for name in ("sex", "race", "ethnicity", "age_group", "lineage", "subtype", "cns_status", "mrd_eoi"):
        assert ("analysis_patients", name) in columns
    assert ("analysis_patients", "frontline_regimen") in columns
    # Patient ids, free text and the raw values stay text.
    assert ("analysis_patients", "patient_id") not in columns
    assert ("analysis_patients", "excluded_reason") not in columns
    assert not [k for k in columns if k[0].startswith("raw_") and k[1] != "source_file"]


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("analysis_patients", "patient_id, sex, age_group, frontline_regimen, salvage_regimen, mrd_eoi, lineage"),
        ("time_to_event", "patient_id, endpoint, origin, event_desc, time_days"),
        ("stg_transplants", "patient_id, agvhd_grade, cgvhd_severity, source_file"),
    ],
)
def test_read_frame_gives_the_frame_text_columns_gave(demo_db: Path, table: str, columns: str) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        names = [c.strip() for c in columns.split(",")]
        frame = read_frame(con, f"SELECT {columns} FROM {table} ORDER BY ALL")
        as_text = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" if c != "time_days" else c for c in names)
        expected = con.execute(f"SELECT {as_text} FROM {table} ORDER BY ALL").df()
    finally:
        con.close()
    assert not any(isinstance(d, pd.CategoricalDtype) for d in frame.dtypes)
    pd.testing.assert_frame_equal(frame, expected)
    # missing values are None, as a VARCHAR column gives them (not NaN)
    for c in names:
        if frame[c].dtype == object and frame[c].isna().any():
            assert frame[c][frame[c].isna()].map(lambda v: v is None).all(), c


def test_read_frame_missing_and_empty_cases() -> None:
    con = duckdb.connect()
    create_enum_types(con, _LABELS, _FILES)
    # a column with only missing values; a missing value among codes; no rows at all
    con.execute(
        "CREATE TABLE t AS SELECT CAST(NULL AS sex_code) AS all_missing, CAST(s AS sex_code) AS some_missing, i "
        "FROM (VALUES ('F', 1), (NULL, 2), ('M', 3)) v(s, i)"
    )
    frame = read_frame(con, "SELECT * FROM t ORDER BY i")
    assert frame["all_missing"].tolist() == [None, None, None]
    assert frame["some_missing"].tolist() == ["F", None, "M"]
    assert frame["some_missing"].dtype == object
    assert frame["some_missing"].unique().tolist() == ["F", None, "M"]  # order of appearance, as for text
    empty = read_frame(con, "SELECT some_missing FROM t WHERE i > ?", [9])
    assert len(empty) == 0
    assert empty["some_missing"].dtype == object
    # a grouping over the frame lists only the values present (a Categorical would list U too)
    assert frame.groupby("some_missing").size().to_dict() == {"F": 1, "M": 1}


def test_analysis_columns_reports_coded_columns_as_text(demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        kinds = analysis_columns(con)
    finally:
        con.close()
    assert kinds["sex"] == "VARCHAR"
    assert kinds["frontline_regimen"] == "VARCHAR"
    assert kinds["dx_year"] == "INTEGER"
    assert not [k for k in kinds.values() if k.startswith("ENUM")]
