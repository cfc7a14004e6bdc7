"""The numbers behind a figure as CSV (one table per file) and XLSX (one sheet per table, plus a Methods
and a Provenance sheet).

Count columns (``TableSpec.counts``) are written as whole numbers; a count masked by small-cell
suppression is an empty cell, never a number. Estimates arrive rounded (``export.rounding``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from export.kinds.base import TableSpec

__all__ = ["csv_bytes", "prepare", "xlsx_bytes"]


def prepare(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """A copy with the count columns as nullable integers (masked counts empty)."""
    out = frame.reset_index(drop=True).copy()
    for col in spec.counts:
        if col in out.columns:
            values = [None if v is None or pd.isna(v) else int(v) for v in out[col]]
            out[col] = pd.array(values, dtype="Int64")
    return out


def csv_bytes(frame: pd.DataFrame, spec: TableSpec) -> bytes:
    """One table as UTF-8 CSV with a header row."""
    return prepare(frame, spec).to_csv(index=False, lineterminator="\n").encode("utf-8")


def xlsx_bytes(
    frames: Mapping[str, pd.DataFrame],
    specs: Sequence[TableSpec],
    *,
    methods: str,
    manifest: Mapping[str, Any],
    exported_at: str,
) -> bytes:
    """Every table as a sheet, then ``Methods`` (the paragraph) and ``Provenance`` (the manifest, flattened)."""
    from openpyxl.styles import Alignment, Font

    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for spec in specs:
            prepare(frames[spec.name], spec).to_excel(writer, sheet_name=spec.name[:31], index=False)
        book = writer.book
        sheet = book.create_sheet("Methods")
        sheet["A1"] = "Methods"
        sheet["A1"].font = Font(bold=True)
        sheet["A2"] = methods
        sheet["A2"].alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions["A"].width = 120
        prov = book.create_sheet("Provenance")
        prov.append(["field", "value"])
        for key, value in _flatten(manifest):
            prov.append([key, value])
        prov.append(["manifest_json", json.dumps(manifest, sort_keys=True)])
        prov.column_dimensions["A"].width = 40
        prov.column_dimensions["B"].width = 100
        stamp = datetime.fromisoformat(exported_at.replace("Z", "+00:00")).replace(tzinfo=None)
        book.properties.created = stamp
        book.properties.creator = "ayaall export"
    return out.getvalue()


def _flatten(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key in sorted(node):
            yield from _flatten(node[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list | tuple):
        yield prefix, json.dumps(node)
    else:
        yield prefix, node
