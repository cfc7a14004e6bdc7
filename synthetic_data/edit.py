"""The editing state of one chunk while defects are planted (used by ``defects`` and ``messy``).

``ChunkEdit`` holds the chunk's tables as text columns plus the facts planters choose patients by
(dead or alive, dates, relapses); ``record``, ``set_cells`` and ``insert_row`` change a table and
remember the defect for ``defects.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

__all__ = ["EPOCH", "ChunkEdit", "EditTable", "copy_row", "dmy", "insert_row", "iso", "record", "set_cells"]

EPOCH = date(1970, 1, 1)


@dataclass
class EditTable:
    """One table being edited: text columns, row owners, defects and rows to insert."""

    cols: dict[str, np.ndarray]
    pidx: np.ndarray  # chunk patient index per row (-1 for inserted orphans)
    touched: np.ndarray
    defects: dict[int, dict] = field(default_factory=dict)
    inserts: list[tuple[int, dict[str, object], dict]] = field(default_factory=list)


def iso(days: np.ndarray | float) -> str:
    """ISO date of a day count since 1970-01-01."""
    return (EPOCH + timedelta(days=int(days))).isoformat()


class ChunkEdit:
    """The chunk being corrupted: tables, per-patient facts and the patients already used."""

    def __init__(self, rng: np.random.Generator, frames: dict[str, pl.DataFrame], cutoff: date, first: int):
        self.rng, self.cutoff, self.first = rng, cutoff, first
        n = frames["patients"].height
        self.n = n
        self.used = np.zeros(n, dtype=bool)
        self.order = rng.permutation(n)
        self.t: dict[str, EditTable] = {}
        for name, frame in frames.items():
            pid = frame["patient_id"].str.slice(1).cast(pl.Int64).to_numpy() - first
            text = frame.cast(pl.Utf8)
            cols = {c: text[c].to_numpy().astype(object) for c in text.columns}
            self.t[name] = EditTable(cols, pid, np.zeros(frame.height, dtype=bool))
        fu = frames["followup"]
        self.dead = fu["vital_status"].str.strip_chars().str.to_uppercase().to_numpy() == "DEAD"
        self.dx = frames["diagnoses"]["dx_date"].cast(pl.Int32).to_numpy().astype(float)
        self.death = fu["death_date"].cast(pl.Int32).fill_null(10**6).to_numpy().astype(float)
        self.latest = self.dx.copy()
        for name, col in (
            ("treatment_lines", "start_date"),
            ("responses", "assessment_date"),
            ("relapses", "relapse_date"),
            ("transplants", "hct_date"),
        ):
            d = frames[name][col].cast(pl.Int32).to_numpy().astype(float)
            np.maximum.at(self.latest, self.t[name].pidx, d)
        # The latest adverse event (format 1.1): follow-up L does not extend to it (endpoints.md).
        self.ae_latest = np.full(n, -np.inf)
        self.ae_onset = frames["adverse_events"]["onset_date"].cast(pl.Int32).to_numpy().astype(float)
        np.maximum.at(self.ae_latest, self.t["adverse_events"].pidx, self.ae_onset)
        self.n_rel = np.bincount(self.t["relapses"].pidx, minlength=n)
        self.last_rel_row = np.searchsorted(self.t["relapses"].pidx, np.arange(n), side="right") - 1
        # A line that no response or adverse event refers to (quarantining it orphans nothing).
        lines = frames["treatment_lines"]
        children = pl.concat([frames[t].select(["patient_id", "line_no"]) for t in ("responses", "adverse_events")])
        keys = children.unique().with_columns(pl.lit(False).alias("_c"))
        self.childless_line = (
            lines.select(["patient_id", "line_no"])
            .join(keys, on=["patient_id", "line_no"], how="left", maintain_order="left")["_c"]
            .fill_null(True)
            .to_numpy()
        )
        self.ragged: set[int] = set()

    def patients(self, eligible: np.ndarray, k: int) -> np.ndarray:
        """Up to ``k`` random unused patients among ``eligible``; marks them used."""
        cand = self.order[eligible[self.order] & ~self.used[self.order]][:k]
        self.used[cand] = True
        return cand

    def rows(self, table: str, patients: np.ndarray, row_ok: np.ndarray | None = None) -> np.ndarray:
        """One row of ``table`` per patient (a random eligible one)."""
        t = self.t[table]
        ok = ~t.touched if row_ok is None else (~t.touched & row_ok)
        idx = np.flatnonzero(ok & np.isin(t.pidx, patients))
        idx = idx[self.rng.permutation(idx.size)]
        _, first = np.unique(t.pidx[idx], return_index=True)
        return idx[first]

    def having(self, table: str, row_ok: np.ndarray | None = None) -> np.ndarray:
        """Patients with at least one row of ``table`` (satisfying ``row_ok``)."""
        t = self.t[table]
        m = np.zeros(self.n, dtype=bool)
        m[t.pidx if row_ok is None else t.pidx[row_ok]] = True
        return m


def record(t: EditTable, row: int, cls: str, column: str | None, raw: object, expected: str) -> dict:
    """Remember a defect on an existing row and mark the row as used."""
    d = {"defect_class": cls, "column": column, "raw_value": None if raw is None else str(raw), "expected": expected}
    t.defects[row] = d
    t.touched[row] = True
    return d


def set_cells(ctx: ChunkEdit, table: str, rows: np.ndarray, column: str, values: list, cls: str, expected: str) -> None:
    """Overwrite ``column`` of ``rows`` with ``values`` (None = empty cell) and record each defect."""
    t = ctx.t[table]
    for r, v in zip(rows, values, strict=True):
        t.cols[column][r] = v
        record(t, int(r), cls, column, "" if v is None else v, expected)


def insert_row(
    ctx: ChunkEdit, table: str, after: int, row: dict, cls: str, column: str | None, raw: object, expected: str
) -> None:
    """Insert ``row`` right after row ``after`` (which stays clean) and record its defect."""
    t = ctx.t[table]
    t.touched[after] = True
    d = {"defect_class": cls, "column": column, "raw_value": None if raw is None else str(raw), "expected": expected}
    t.inserts.append((after, row, d))


def copy_row(ctx: ChunkEdit, table: str, r: int) -> dict:
    """Row ``r`` of ``table`` as a dict of text values."""
    return {c: v[r] for c, v in ctx.t[table].cols.items()}


def dmy(v: str) -> str:
    """An ISO date rewritten day/month/year (unparseable as ISO)."""
    return f"{v[8:10]}/{v[5:7]}/{v[0:4]}"
