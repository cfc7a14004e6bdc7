"""``generate_registry``: write a synthetic registry extract (format 1.1) to a folder."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ayaall import __version__
from ayaall.contract import FORMAT_NAME, FORMAT_VERSION, TABLE_ORDER
from ayaall.errors import UserError
from synthetic_data.defects import BOM_TABLE, EXTRA_COLUMN, EXTRA_COLUMN_TABLE, RAGGED_FIELD
from synthetic_data.messy import plant_defects
from synthetic_data.simulate import simulate_chunk
from synthetic_data.tables import regimen_map_table
from synthetic_data.truth import truth_payload
from synthetic_data.write import TableWriter, write_json

__all__ = ["CHUNK_SIZE", "DEFAULT_CUTOFF", "MAX_MESSY", "GenerationSummary", "generate_registry"]

DEFAULT_CUTOFF = date(2026, 6, 30)
CHUNK_SIZE = 100_000
MAX_MESSY = 0.2
_EPOCH = date(1970, 1, 1)
_DATA_TABLES = tuple(t for t in TABLE_ORDER if t != "regimen_map")


@dataclass(frozen=True)
class GenerationSummary:
    """What ``generate_registry`` wrote."""

    out_dir: Path
    n_patients: int
    seed: int
    messy: float
    fmt: str
    data_cutoff: date
    rows: dict[str, int] = field(default_factory=dict)
    n_defects: int = 0
    seconds: float = 0.0


def _check(
    out_dir: Path, n_patients: int, seed: int, messy: float, fmt: str, data_cutoff: date, first_dx_year: int
) -> None:
    if isinstance(n_patients, bool) or not isinstance(n_patients, int) or n_patients < 1:
        raise UserError(f"--patients must be a positive whole number, got {n_patients!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserError(f"--seed must be a non-negative whole number, got {seed!r}.")
    if not (isinstance(messy, int | float) and 0.0 <= messy <= MAX_MESSY and math.isfinite(messy)):
        raise UserError(f"--messy must be a fraction between 0 and {MAX_MESSY}, got {messy!r}.")
    if fmt not in ("csv", "parquet"):
        raise UserError(f"--format must be csv or parquet, got {fmt!r}.")
    if not 1950 <= first_dx_year < data_cutoff.year:
        raise UserError(
            f"--first-dx-year must be between 1950 and the year before the data cutoff, got {first_dx_year}."
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"the output folder {out_dir} is an existing file, not a folder.")


def _prepare(out_dir: Path, fmt: str, messy: float) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the output folder {out_dir}: {exc.strerror}.") from exc
    other = "parquet" if fmt == "csv" else "csv"
    stale = [out_dir / f"{t}.{other}" for t in TABLE_ORDER]
    if messy == 0:
        stale.append(out_dir / "defects.json")
    for path in stale:  # an extract has one file per table; drop what an earlier run left
        path.unlink(missing_ok=True)


def generate_registry(
    out_dir: str | Path,
    n_patients: int,
    seed: int,
    messy: float = 0.0,
    fmt: str = "csv",
    data_cutoff: date = DEFAULT_CUTOFF,
    progress: bool = False,
    first_dx_year: int = 2000,
) -> GenerationSummary:
    """Simulate ``n_patients`` AYA-ALL patients and write them as a registry extract (format 1.1).

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder to write (created if needed; the generator's own files in it are replaced).
    n_patients : int
        Number of patients.
    seed : int
        Seed of ``numpy.random.default_rng``; the same arguments give byte-identical files.
    messy : float
        Fraction of rows to corrupt (0 to 0.2); every defect is listed in ``defects.json``.
    fmt : {"csv", "parquet"}
        File format of the tables.
    data_cutoff : datetime.date
        Data cutoff (and extract date) written to the manifest; nothing later is observed.
    progress : bool
        Show a tqdm progress bar on stderr.
    first_dx_year : int
        Diagnoses are spread uniformly from 1 January of this year to 30 days before the cutoff.

    Returns
    -------
    GenerationSummary

    Raises
    ------
    ayaall.errors.UserError
        For arguments a user can fix (bad numbers, an output path that is a file).
    """
    started = time.perf_counter()
    out = Path(out_dir)
    _check(out, n_patients, seed, messy, fmt, data_cutoff, first_dx_year)
    _prepare(out, fmt, messy)
    rng = np.random.default_rng(seed)
    first_day = float((date(first_dx_year, 1, 1) - _EPOCH).days)
    cutoff_day = float((data_cutoff - _EPOCH).days)
    writers = {
        t: TableWriter(
            out / f"{t}.{fmt}", fmt, bom=messy > 0 and fmt == "csv" and t == BOM_TABLE, ragged_field=RAGGED_FIELD
        )
        for t in _DATA_TABLES
    }
    defects: list[dict] = []
    try:
        with tqdm(total=n_patients, unit="patients", disable=not progress, desc="generate") as bar:
            for k, start in enumerate(range(0, n_patients, CHUNK_SIZE)):
                n = min(CHUNK_SIZE, n_patients - start)
                chunk = simulate_chunk(rng, n, start + 1, first_day, cutoff_day - 30, cutoff_day)
                frames, ragged = chunk.tables, {}
                if messy > 0:
                    offsets = {t: w.rows for t, w in writers.items()}
                    planted = plant_defects(rng, frames, messy, data_cutoff, start + 1, k == 0, fmt, offsets)
                    frames, ragged, defects = planted.tables, planted.ragged, defects + planted.defects
                for t in _DATA_TABLES:
                    writers[t].write(frames[t], ragged.get(t))
                bar.update(n)
    finally:
        for w in writers.values():
            w.close()
    map_writer = TableWriter(out / f"regimen_map.{fmt}", fmt)
    map_writer.write(regimen_map_table())
    map_writer.close()
    if messy > 0:
        order = {t: i for i, t in enumerate(TABLE_ORDER)}
        defects = _file_level_defects(fmt) + sorted(defects, key=lambda d: (order[d["table"]], d["source_line"]))
        write_json(out / "defects.json", defects)
    cutoff = data_cutoff.isoformat()
    write_json(
        out / "manifest.json",
        {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "registry": f"Synthetic AYA-ALL registry (seed {seed})",
            "extract_date": cutoff,
            "data_cutoff": cutoff,
            "generator": {
                "package": "ayaall",
                "package_version": __version__,
                "seed": seed,
                "n_patients": n_patients,
                "messy": messy,
                "format": fmt,
                "first_dx_year": first_dx_year,
                "chunk_size": CHUNK_SIZE,
            },
        },
    )
    write_json(out / "truth.json", truth_payload(seed, n_patients))
    rows = {t: w.rows for t, w in writers.items()} | {"regimen_map": map_writer.rows}
    return GenerationSummary(
        out, n_patients, seed, messy, fmt, data_cutoff, rows, len(defects), time.perf_counter() - started
    )


def _file_level_defects(fmt: str) -> list[dict]:
    line = 1 if fmt == "csv" else None
    out = [
        {
            "table": EXTRA_COLUMN_TABLE,
            "source_line": line,
            "patient_id": None,
            "column": EXTRA_COLUMN,
            "defect_class": "extra_column",
            "raw_value": EXTRA_COLUMN,
            "expected": "accepted",
        }
    ]
    if fmt == "csv":
        out.append(
            {
                "table": BOM_TABLE,
                "source_line": 1,
                "patient_id": None,
                "column": None,
                "defect_class": "bom",
                "raw_value": "\ufeff",
                "expected": "accepted",
            }
        )
    return out
