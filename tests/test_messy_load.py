"""A seeded messy extract loads with every row accounted for and every planted defect handled.

``ayaall generate --messy`` records each defect it plants in defects.json (table, line, column,
class, and what the loader should do: quarantine, warning, excluded, accepted). Here the real
loader reads such an extract and the database must agree with that list in both directions: each
planted defect got its expected treatment, and nothing that was not planted was quarantined,
warned about or excluded.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from ayaall.contract import REGIMENS
from etl import load_extract
from synthetic_data import generate_registry

# What the loader's exclusion reason is for each planted contradiction (endpoints.md).
_EXCLUSION = {
    "contradiction_event_after_death": "event after death",
    "contradiction_death_before_dx": "death before diagnosis",
    "contradiction_dead_without_date": "dead without death date",
    "contradiction_last_contact_before_dx": "last contact before diagnosis",
    "contradiction_toxicity_before_line_start": "toxicity before its line start",
}


@pytest.fixture(scope="module", params=["csv", "parquet"])
def messy(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp(f"messy_{request.param}")
    generate_registry(folder / "extract", n_patients=4000, seed=3, messy=0.05, fmt=request.param)
    load_extract(folder / "extract", folder / "db.duckdb")
    con = duckdb.connect(str(folder / "db.duckdb"), read_only=True)
    defects = json.loads((folder / "extract" / "defects.json").read_text())
    yield request.param, folder / "extract", con, defects
    con.close()


def test_every_row_is_accounted_for(messy) -> None:
    fmt, extract, con, _ = messy
    for table, read, loaded, quarantined in con.execute(
        "SELECT table_name, rows_read, rows_loaded, rows_quarantined FROM load_report"
    ).fetchall():
        assert read == loaded + quarantined, table
        if fmt == "csv":
            lines = (extract / f"{table}.csv").read_bytes().count(b"\n") - 1  # minus the header
            assert read == lines, table
        (stg,) = con.execute(f"SELECT count(*) FROM stg_{table}").fetchone()
        (q,) = con.execute("SELECT count(*) FROM quarantine WHERE table_name = ?", [table]).fetchone()
        assert (stg, q) == (loaded, quarantined), table


def test_every_defect_class_is_planted(messy) -> None:
    fmt, _, _, defects = messy
    classes = {d["defect_class"] for d in defects}
    expected = {
        "missing_required",
        "unparseable_required_date",
        "unparseable_integer",
        "duplicate_exact",
        "duplicate_conflicting",
        "orphan",
        "unknown_code",
        "unparseable_optional",
        "out_of_range",
        "code_case_whitespace",
        "local_regimen_name",
        "last_contact_before_event",
        "alive_with_death_date",
        "events_after_cutoff",
        "extra_column",
        *_EXCLUSION,
    }
    if fmt == "csv":
        expected |= {"ragged_row", "bom"}
    assert expected <= classes


def test_quarantine_holds_exactly_the_planted_rows(messy) -> None:
    _, _, con, defects = messy
    planted = {(d["table"], d["source_line"]) for d in defects if d["expected"] == "quarantine"}
    got = set(con.execute("SELECT table_name, source_line FROM quarantine").fetchall())
    assert got == planted
    empty = con.execute("SELECT count(*) FROM quarantine WHERE reason IS NULL OR reason = ''").fetchone()
    assert empty == (0,)


def test_warnings_name_the_planted_rows_and_columns(messy) -> None:
    _, _, con, defects = messy
    warned = {
        (t, line, col)
        for t, line, col in con.execute(
            "SELECT table_name, source_line, column_name FROM data_quality_issues WHERE issue NOT LIKE 'excluded%'"
        ).fetchall()
    }
    planted = [d for d in defects if d["expected"] == "warning"]
    missing = [d for d in planted if (d["table"], d["source_line"], d["column"]) not in warned]
    assert missing == []
    # Nothing unplanted is warned about, except the file-level report of the extra column.
    planted_rows = {(d["table"], d["source_line"]) for d in planted}
    unplanted = {(t, line) for t, line, col in warned if (t, line) not in planted_rows and line is not None}
    assert unplanted == set()


def test_contradictory_patients_are_excluded_with_their_reason(messy) -> None:
    _, _, con, defects = messy
    reasons = dict(
        con.execute(
            "SELECT patient_id, excluded_reason FROM analysis_patients WHERE excluded_reason IS NOT NULL"
        ).fetchall()
    )
    for d in defects:
        if d["expected"] == "excluded":
            assert reasons.get(d["patient_id"]) == _EXCLUSION[d["defect_class"]], d
    # Other exclusions are the knock-on of a quarantined diagnosis or follow-up row, and only that.
    knock_on = {
        d["patient_id"] for d in defects if d["expected"] == "quarantine" and d["table"] in {"diagnoses", "followup"}
    }
    contradictions = {d["patient_id"] for d in defects if d["expected"] == "excluded"}
    others = {pid: r for pid, r in reasons.items() if pid not in contradictions}
    assert set(others) <= knock_on
    assert set(others.values()) <= {"no diagnosis", "no follow-up"}


def test_accepted_variants_load_as_their_codes(messy) -> None:
    _, _, con, defects = messy
    for d in defects:
        if d["expected"] != "accepted" or d["source_line"] is None or d["table"] == "regimen_map":
            continue
        if d["defect_class"] in {"bom", "extra_column"}:
            continue
        (n,) = con.execute(
            f"SELECT count(*) FROM stg_{d['table']} WHERE source_line = ?", [d["source_line"]]
        ).fetchone()
        assert n == 1, d
    mapped = [d for d in defects if d["defect_class"] == "local_regimen_name"]
    assert mapped
    codes = {r[0] for r in con.execute("SELECT DISTINCT regimen FROM stg_treatment_lines").fetchall()}
    assert codes <= set(REGIMENS)
