"""The defect classes ``--messy`` plants, one planter each (see ``messy.py`` for the rules).

Each planter takes the chunk being edited and a count, chooses that many unused patients for which
the defect makes sense (a DEAD patient for a death contradiction, a line without assessments for a
quarantined line...) and changes or inserts one row per patient, recording the defect with the
outcome the loader is expected to produce: quarantine, warning, excluded or accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np

from synthetic_data.edit import EPOCH, ChunkEdit, copy_row, dmy, insert_row, iso, record, set_cells
from synthetic_data.params import LOCAL_REGIMEN_NAMES

__all__ = [
    "BOM_TABLE",
    "DEFECT_CLASSES",
    "EXTRA_COLUMN",
    "EXTRA_COLUMN_TABLE",
    "FILE_LEVEL_CLASSES",
    "PLANTERS",
    "RAGGED_FIELD",
]

EXTRA_COLUMN_TABLE = "diagnoses"
EXTRA_COLUMN = "registrar_comment"
BOM_TABLE = "patients"
RAGGED_FIELD = "unexpected extra field"
Q, W, X, A = "quarantine", "warning", "excluded", "accepted"


def _simple(
    table: str,
    column: str,
    cls: str,
    expected: str,
    value: Callable[[str, ChunkEdit], object],
    patients: Callable[[ChunkEdit], np.ndarray] | None = None,
    row_ok: Callable[[ChunkEdit], np.ndarray] | None = None,
) -> Callable[[ChunkEdit, int], None]:
    """A defect that overwrites one cell of one row per chosen patient."""

    def plant(ctx: ChunkEdit, k: int) -> None:
        ok = None if row_ok is None else row_ok(ctx)
        elig = ctx.having(table, ok)
        if patients is not None:
            elig &= patients(ctx)
        rows = ctx.rows(table, ctx.patients(elig, k), ok)
        set_cells(ctx, table, rows, column, [value(ctx.t[table].cols[column][r], ctx) for r in rows], cls, expected)

    return plant


def _duplicate(table: str, conflict_col: str | None) -> Callable[[ChunkEdit, int], None]:
    def plant(ctx: ChunkEdit, k: int) -> None:
        t = ctx.t[table]
        rows = ctx.rows(table, ctx.patients(ctx.having(table), k))
        for r in rows:
            copy = copy_row(ctx, table, int(r))
            if conflict_col is None:
                insert_row(ctx, table, int(r), copy, "duplicate_exact", "patient_id", copy["patient_id"], Q)
                continue
            old = copy[conflict_col]
            copy[conflict_col] = _conflicting(conflict_col, old)
            record(t, int(r), "duplicate_conflicting", conflict_col, old, Q)
            insert_row(ctx, table, int(r), copy, "duplicate_conflicting", conflict_col, copy[conflict_col], Q)

    return plant


def _conflicting(column: str, old: object) -> str:
    """A value that differs from ``old`` even after the loader trims and upper-cases both."""
    if column == "age_at_dx":
        return f"{float(str(old or 20)) + 5:.1f}"
    first, second = {"site": ("CNS", "BM"), "donor_type": ("HAPLO", "MUD"), "grade": ("2", "3")}[column]
    return second if str(old).strip().upper() == first else first


def _orphan(table: str) -> Callable[[ChunkEdit, int], None]:
    def plant(ctx: ChunkEdit, k: int) -> None:
        rows = ctx.rows(table, ctx.patients(ctx.having(table), k))
        for r in rows:
            copy = copy_row(ctx, table, int(r))
            if table in ("responses", "adverse_events"):  # rows that must match a treatment line
                copy["line_no"] = "9"
                insert_row(ctx, table, int(r), copy, "orphan", "line_no", "9", Q)
            else:
                copy["patient_id"] = "Z" + str(copy["patient_id"])[1:]
                insert_row(ctx, table, int(r), copy, "orphan", "patient_id", copy["patient_id"], Q)

    return plant


def _after_cutoff(ctx: ChunkEdit, k: int) -> None:
    pts = ctx.patients(~ctx.dead & ctx.having("relapses"), k)
    for r in ctx.rows("relapses", pts):
        copy = copy_row(ctx, "relapses", int(r))
        copy["relapse_date"] = (ctx.cutoff + timedelta(days=int(ctx.rng.integers(1, 200)))).isoformat()
        insert_row(ctx, "relapses", int(r), copy, "events_after_cutoff", "relapse_date", copy["relapse_date"], A)


def _event_after_death(ctx: ChunkEdit, k: int) -> None:
    cutoff = (ctx.cutoff - EPOCH).days
    pts = ctx.patients(ctx.dead & (ctx.n_rel > 0) & (ctx.death < cutoff - 120), k)
    t = ctx.t["relapses"]
    for p in pts:
        r = int(ctx.last_rel_row[p])  # the latest relapse, so the key stays unique
        v = iso(ctx.death[p] + int(ctx.rng.integers(10, 100)))
        t.cols["relapse_date"][r] = v
        record(t, r, "contradiction_event_after_death", "relapse_date", v, X)


def _lc_before_event(ctx: ChunkEdit, k: int) -> None:
    # Not a patient with an adverse event after the latest other event: follow-up would not reach it.
    pts = ctx.patients(~ctx.dead & (ctx.latest - ctx.dx > 90) & (ctx.ae_latest <= ctx.latest), k)
    set_cells(
        ctx,
        "followup",
        pts,
        "last_contact_date",
        [iso(ctx.latest[p] - 30) for p in pts],
        "last_contact_before_event",
        W,
    )


def _toxicity_after_death(ctx: ChunkEdit, k: int) -> None:
    t = ctx.t["adverse_events"]
    pts = ctx.patients(ctx.dead & ctx.having("adverse_events"), k)
    for p in pts:
        rows = np.flatnonzero(t.pidx == p)
        r = int(rows[np.argmax(ctx.ae_onset[rows])])  # the latest, so the key stays unique
        v = iso(ctx.death[p] + int(ctx.rng.integers(10, 100)))
        t.cols["onset_date"][r] = v
        t.cols["resolution_date"][r] = None  # not resolved before its (late) onset
        record(t, r, "contradiction_event_after_death", "onset_date", v, X)


def _toxicity_before_line(ctx: ChunkEdit, k: int) -> None:
    t, lines = ctx.t["adverse_events"], ctx.t["treatment_lines"]
    start = {
        (int(p), str(n)): str(d)
        for p, n, d in zip(lines.pidx, lines.cols["line_no"], lines.cols["start_date"], strict=True)
    }
    for r in ctx.rows("adverse_events", ctx.patients(ctx.having("adverse_events"), k)):
        line_start = date.fromisoformat(start[(int(t.pidx[r]), str(t.cols["line_no"][r]))])
        v = (line_start - timedelta(days=int(ctx.rng.integers(1, 30)))).isoformat()
        t.cols["onset_date"][r] = v
        record(t, int(r), "contradiction_toxicity_before_line_start", "onset_date", v, X)


def _no_other_on_the_day(ctx: ChunkEdit) -> np.ndarray:
    """Adverse events that may become OTHER: not OTHER, and no OTHER of the line on the same day."""
    c, t = ctx.t["adverse_events"].cols, ctx.t["adverse_events"]
    event = np.array([str(v).strip().upper() for v in c["event"]], dtype=object)
    day = [(int(p), str(n), str(d)) for p, n, d in zip(t.pidx, c["line_no"], c["onset_date"], strict=True)]
    taken = {key for key, e in zip(day, event, strict=True) if e == "OTHER"}
    return np.array([e != "OTHER" and key not in taken for key, e in zip(day, event, strict=True)], dtype=bool)


def _followup(
    cls: str, column: str, expected: str, dead: bool, value: Callable[[ChunkEdit, int], object]
) -> Callable[[ChunkEdit, int], None]:
    def plant(ctx: ChunkEdit, k: int) -> None:
        pts = ctx.patients(ctx.dead == dead, k)
        set_cells(ctx, "followup", pts, column, [value(ctx, int(p)) for p in pts], cls, expected)

    return plant


def _ragged(ctx: ChunkEdit, k: int) -> None:
    t = ctx.t["relapses"]
    for r in ctx.rows("relapses", ctx.patients(ctx.having("relapses"), k)):
        record(t, int(r), "ragged_row", None, RAGGED_FIELD, Q)
        ctx.ragged.add(int(r))


def _local(v: str, ctx: ChunkEdit) -> str:
    names = [n for n, c in LOCAL_REGIMEN_NAMES.items() if c == str(v).strip().upper()]
    return names[0]


_LOCAL_OK = frozenset(LOCAL_REGIMEN_NAMES.values())


def _regimen_has_local(ctx: ChunkEdit) -> np.ndarray:
    col = ctx.t["treatment_lines"].cols["regimen"]
    return np.array([str(v) in _LOCAL_OK for v in col], dtype=bool)


def _childless(ctx: ChunkEdit) -> np.ndarray:
    return ctx.childless_line


def _has(column: str, table: str) -> Callable[[ChunkEdit], np.ndarray]:
    return lambda ctx: np.array([v is not None for v in ctx.t[table].cols[column]], dtype=bool)


def _case(v: object, ctx: ChunkEdit) -> str:
    return f" {str(v).strip().lower()} "


# (defect class, planter). Row-level classes only; bom and extra_column are file-level.
PLANTERS: tuple[tuple[str, Callable[[ChunkEdit, int], None]], ...] = (
    ("missing_required", _simple("diagnoses", "dx_date", "missing_required", Q, lambda v, c: None)),
    ("missing_required", _simple("followup", "vital_status", "missing_required", Q, lambda v, c: None)),
    ("missing_required", _simple("relapses", "relapse_date", "missing_required", Q, lambda v, c: None)),
    (
        "missing_required",
        _simple("treatment_lines", "regimen", "missing_required", Q, lambda v, c: None, row_ok=_childless),
    ),
    ("missing_required", _simple("responses", "patient_id", "missing_required", Q, lambda v, c: None)),
    ("missing_required", _simple("transplants", "hct_date", "missing_required", Q, lambda v, c: None)),
    (
        "unparseable_required_date",
        _simple("diagnoses", "dx_date", "unparseable_required_date", Q, lambda v, c: dmy(v)),
    ),
    (
        "unparseable_required_date",
        _simple("relapses", "relapse_date", "unparseable_required_date", Q, lambda v, c: v[:4] + "-13-45"),
    ),
    (
        "unparseable_required_date",
        _simple(
            "treatment_lines", "start_date", "unparseable_required_date", Q, lambda v, c: dmy(v), row_ok=_childless
        ),
    ),
    (
        "unparseable_required_date",
        _simple("followup", "last_contact_date", "unparseable_required_date", Q, lambda v, c: v[:4] + "-13-45"),
    ),
    (
        "unparseable_integer",
        _simple(
            "responses", "line_no", "unparseable_integer", Q, lambda v, c: {"1": "one", "2": "two"}.get(v, "three")
        ),
    ),
    (
        "unparseable_integer",
        _simple(
            "treatment_lines",
            "line_no",
            "unparseable_integer",
            Q,
            lambda v, c: {"1": "one", "2": "two"}.get(v, "three"),
            row_ok=_childless,
        ),
    ),
    ("duplicate_exact", _duplicate("patients", None)),
    ("duplicate_exact", _duplicate("diagnoses", None)),
    ("duplicate_exact", _duplicate("relapses", None)),
    ("duplicate_exact", _duplicate("responses", None)),
    ("duplicate_conflicting", _duplicate("diagnoses", "age_at_dx")),
    ("duplicate_conflicting", _duplicate("relapses", "site")),
    ("duplicate_conflicting", _duplicate("transplants", "donor_type")),
    ("orphan", _orphan("relapses")),
    ("orphan", _orphan("transplants")),
    ("orphan", _orphan("responses")),
    ("missing_required", _simple("adverse_events", "onset_date", "missing_required", Q, lambda v, c: None)),
    (
        "unparseable_required_date",
        _simple("adverse_events", "onset_date", "unparseable_required_date", Q, lambda v, c: dmy(v)),
    ),
    ("unparseable_integer", _simple("adverse_events", "line_no", "unparseable_integer", Q, lambda v, c: "second")),
    ("duplicate_exact", _duplicate("adverse_events", None)),
    ("duplicate_conflicting", _duplicate("adverse_events", "grade")),
    ("orphan", _orphan("adverse_events")),
    ("ragged_row", _ragged),
    ("unknown_code", _simple("patients", "sex", "unknown_code", W, lambda v, c: "X")),
    ("unknown_code", _simple("diagnoses", "subtype", "unknown_code", W, lambda v, c: "PH-LIKE?")),
    ("unknown_code", _simple("diagnoses", "cns_status", "unknown_code", W, lambda v, c: "CNS4")),
    ("unknown_code", _simple("treatment_lines", "regimen", "unknown_code", W, lambda v, c: "ZX-PROTOCOL 7")),
    ("unknown_code", _simple("relapses", "site", "unknown_code", W, lambda v, c: "MARROW")),
    (
        "unknown_code",
        _simple("adverse_events", "event", "unknown_code", W, lambda v, c: "MUCOSITIS", row_ok=_no_other_on_the_day),
    ),
    ("unknown_code", _simple("adverse_events", "grade", "unknown_code", W, lambda v, c: "3+")),
    (
        "unparseable_optional",
        _simple(
            "diagnoses",
            "wbc_at_dx",
            "unparseable_optional",
            W,
            lambda v, c: str(v).replace(".", ","),
            row_ok=_has("wbc_at_dx", "diagnoses"),
        ),
    ),
    ("unparseable_optional", _simple("diagnoses", "age_at_dx", "unparseable_optional", W, lambda v, c: "abc")),
    (
        "unparseable_optional",
        _simple(
            "treatment_lines",
            "end_date",
            "unparseable_optional",
            W,
            lambda v, c: v.replace("-", "/"),
            row_ok=_has("end_date", "treatment_lines"),
        ),
    ),
    (
        "unparseable_optional",
        _simple(
            "transplants",
            "agvhd_date",
            "unparseable_optional",
            W,
            lambda v, c: v.replace("-", "/"),
            row_ok=_has("agvhd_date", "transplants"),
        ),
    ),
    (
        "unparseable_optional",
        _simple(
            "adverse_events",
            "resolution_date",
            "unparseable_optional",
            W,
            lambda v, c: v.replace("-", "/"),
            row_ok=_has("resolution_date", "adverse_events"),
        ),
    ),
    ("out_of_range", _simple("diagnoses", "age_at_dx", "out_of_range", W, lambda v, c: "150")),
    ("out_of_range", _simple("diagnoses", "wbc_at_dx", "out_of_range", W, lambda v, c: "-3.2")),
    ("out_of_range", _simple("responses", "mrd_level", "out_of_range", W, lambda v, c: "1.5")),
    ("code_case_whitespace", _simple("patients", "race", "code_case_whitespace", A, _case)),
    ("code_case_whitespace", _simple("followup", "vital_status", "code_case_whitespace", A, _case)),
    ("code_case_whitespace", _simple("diagnoses", "cns_status", "code_case_whitespace", A, _case)),
    (
        "code_case_whitespace",
        _simple("treatment_lines", "regimen", "code_case_whitespace", A, _case, row_ok=_regimen_has_local),
    ),
    ("code_case_whitespace", _simple("adverse_events", "event", "code_case_whitespace", A, _case)),
    (
        "local_regimen_name",
        _simple("treatment_lines", "regimen", "local_regimen_name", A, _local, row_ok=_regimen_has_local),
    ),
    ("last_contact_before_event", _lc_before_event),
    (
        "contradiction_death_before_dx",
        _followup("contradiction_death_before_dx", "death_date", X, True, lambda c, p: iso(c.dx[p] - 30)),
    ),
    ("contradiction_event_after_death", _event_after_death),
    ("contradiction_event_after_death", _toxicity_after_death),
    ("contradiction_toxicity_before_line_start", _toxicity_before_line),
    (
        "contradiction_dead_without_date",
        _followup("contradiction_dead_without_date", "death_date", X, True, lambda c, p: None),
    ),
    (
        "contradiction_last_contact_before_dx",
        _followup(
            "contradiction_last_contact_before_dx", "last_contact_date", X, False, lambda c, p: iso(c.dx[p] - 60)
        ),
    ),
    (
        "alive_with_death_date",
        _followup(
            "alive_with_death_date", "death_date", W, False, lambda c, p: c.t["followup"].cols["last_contact_date"][p]
        ),
    ),
    ("events_after_cutoff", _after_cutoff),
)
FILE_LEVEL_CLASSES = ("extra_column", "bom")
DEFECT_CLASSES: tuple[str, ...] = (*dict.fromkeys(c for c, _ in PLANTERS), *FILE_LEVEL_CLASSES)
