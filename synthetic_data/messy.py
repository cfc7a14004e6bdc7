"""Plant the defects real extracts have (``--messy``), each one recorded for ``defects.json``.

A chunk's tables are turned into text columns, and about ``fraction`` of their rows get one defect
each (the classes are in ``defects.py``). Every defect lands on a different patient, so no row
carries two defects and no defect hides another; quarantining defects avoid rows whose loss would
orphan other rows (a patient's row in ``patients``, a treatment line that has response
assessments). Rows are inserted (duplicates, orphans, events after the cutoff) right after the row
they copy, and line numbers are computed after insertion, so ``source_line`` is the physical line of
the written CSV (header = line 1) or the 1-based Parquet row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from synthetic_data.defects import EXTRA_COLUMN, EXTRA_COLUMN_TABLE, PLANTERS
from synthetic_data.edit import ChunkEdit

__all__ = ["MessyChunk", "plant_defects"]


@dataclass
class MessyChunk:
    """Text tables of a chunk with defects planted, the defects, and CSV rows to make ragged."""

    tables: dict[str, pl.DataFrame]
    defects: list[dict]
    ragged: dict[str, list[int]]


def _pid(first: int, p: int) -> str:
    return f"P{first + p:07d}"


def _finish(
    ctx: ChunkEdit, name: str, fmt: str, offset: int, extra: bool
) -> tuple[pl.DataFrame, list[dict], list[int]]:
    """Apply the inserts, number the lines and return the text frame, its defects and ragged rows."""
    t = ctx.t[name]
    n = t.pidx.shape[0]
    keys = np.concatenate([np.arange(n) * 2, np.array([2 * a + 1 for a, _, _ in t.inserts], dtype=np.int64)])
    order = np.argsort(keys, kind="stable")
    position = np.empty(order.size, dtype=np.int64)
    position[order] = np.arange(order.size)
    base = 2 if fmt == "csv" else 1
    cols = {}
    for c, v in t.cols.items():
        ins = np.array([row[c] for _, row, _ in t.inserts], dtype=object)
        cols[c] = np.concatenate([v, ins])[order]
    if extra:  # an inserted copy carries the note of the row it copies
        note = np.full(n, None, dtype=object)
        note[ctx.rng.random(n) < 0.02] = "checked by registrar"
        copied = np.array([a for a, _, _ in t.inserts], dtype=np.int64)
        cols[EXTRA_COLUMN] = np.concatenate([note, note[copied]])[order]
    defects = []
    for r, d in t.defects.items():
        defects.append(
            {
                "table": name,
                "source_line": offset + int(position[r]) + base,
                "patient_id": _pid(ctx.first, int(t.pidx[r])),
                **d,
            }
        )
    for j, (after, row, d) in enumerate(t.inserts):
        pid = row["patient_id"] if d["defect_class"] == "orphan" else _pid(ctx.first, int(t.pidx[after]))
        defects.append({"table": name, "source_line": offset + int(position[n + j]) + base, "patient_id": pid, **d})
    ragged = sorted(int(position[r]) for r in ctx.ragged) if name == "relapses" else []
    frame = pl.DataFrame([pl.Series(c, v.tolist(), dtype=pl.Utf8) for c, v in cols.items()])
    return frame, defects, ragged


def plant_defects(
    rng: np.random.Generator,
    frames: dict[str, pl.DataFrame],
    fraction: float,
    cutoff: date,
    first_number: int,
    first_chunk: bool,
    fmt: str,
    offsets: dict[str, int],
) -> MessyChunk:
    """Corrupt about ``fraction`` of the rows of one chunk and record every defect.

    Parameters
    ----------
    rng : numpy.random.Generator
    frames : dict of str to polars.DataFrame
        The clean tables of the chunk (``regimen_map`` excluded).
    fraction : float
        Share of rows to corrupt.
    cutoff : datetime.date
        Data cutoff of the extract.
    first_number : int
        Patient number of the chunk's first patient.
    first_chunk : bool
        The first chunk plants at least one defect of every class.
    fmt : {"csv", "parquet"}
        ``ragged_row`` is planted in CSV only.
    offsets : dict of str to int
        Rows of each table written by earlier chunks.

    Returns
    -------
    MessyChunk
    """
    ctx = ChunkEdit(rng, frames, cutoff, first_number)
    planters = [p for c, p in PLANTERS if fmt == "csv" or c != "ragged_row"]
    total = round(fraction * sum(f.height for f in frames.values()))
    each, extra = divmod(total, len(planters))
    for i, plant in enumerate(planters):
        k = each + (1 if i < extra else 0)
        plant(ctx, max(k, 1) if first_chunk else k)
    tables, defects, ragged = {}, [], {}
    for name in frames:
        frame, d, rg = _finish(ctx, name, fmt, offsets.get(name, 0), name == EXTRA_COLUMN_TABLE)
        tables[name], ragged[name] = frame, rg
        defects += d
    return MessyChunk(tables, defects, ragged)
