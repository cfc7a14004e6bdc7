"""Write extract tables to CSV or Parquet, one chunk at a time, byte for byte reproducibly."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

__all__ = ["TableWriter", "write_json"]

_BOM = b"\xef\xbb\xbf"


class TableWriter:
    """Append chunks of one table to ``DIR/NAME.csv`` or ``DIR/NAME.parquet``.

    Parameters
    ----------
    path : pathlib.Path
        Output file (its suffix is not checked).
    fmt : {"csv", "parquet"}
    bom : bool
        Start the CSV file with a UTF-8 byte-order mark (legal in format v1).
    ragged_field : str
        Extra field appended to the CSV rows a chunk marks as ragged.
    """

    def __init__(self, path: Path, fmt: str, *, bom: bool = False, ragged_field: str = "") -> None:
        self.path, self.fmt, self.rows = path, fmt, 0
        self._ragged_field = ("," + ragged_field).encode()
        self._csv = path.open("wb") if fmt == "csv" else None
        if self._csv is not None and bom:
            self._csv.write(_BOM)
        self._parquet: pq.ParquetWriter | None = None

    def write(self, frame: pl.DataFrame, ragged: list[int] | None = None) -> None:
        """Append ``frame``; in CSV, rows at positions ``ragged`` get one field too many."""
        if self._csv is not None:
            data = frame.write_csv(None, include_header=self.rows == 0, float_scientific=False).encode()
            if ragged:
                lines = data.split(b"\n")
                skip = 1 if self.rows == 0 else 0
                for r in ragged:
                    lines[r + skip] += self._ragged_field
                data = b"\n".join(lines)
            self._csv.write(data)
        else:
            table = frame.to_arrow()
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._parquet.write_table(table)
        self.rows += frame.height

    def close(self) -> None:
        """Finish the file."""
        if self._csv is not None:
            self._csv.close()
        if self._parquet is not None:
            self._parquet.close()


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON with sorted keys and a trailing newline (stable bytes)."""
    buf = io.StringIO()
    json.dump(payload, buf, indent=2, sort_keys=True, ensure_ascii=False)
    path.write_text(buf.getvalue() + "\n", encoding="utf-8")
