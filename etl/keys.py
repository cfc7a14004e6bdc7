"""Record keys: a secret random 32-bit integer per patient, drawn at load (``ayaall.records``).

New keys come from a generator seeded by the operating system's randomness (``secrets``) unless a seed is
given (tests and reproducible benchmarks; a known seed lets anyone who knows the patient ids recompute the
keys, so a registry never passes one). A patient keeps the key the database being replaced gave them
(``previous``): the same patients get the same perturbations load after load, as the cell key method
requires (a reload that drew new keys would let a reader average two releases of one count), and a
reloaded extract gives the same numbers. Keys are written beside ``analysis_patients`` in patient order.
"""

from __future__ import annotations

import secrets

import duckdb
import numpy as np
import pandas as pd

from ayaall.records import KEY_SPACE, RECORD_KEY, RECORD_KEYS_TABLE

__all__ = ["previous_record_keys", "write_record_keys"]


def previous_record_keys(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """The record keys of an open (previous) database, or None when it has none."""
    present = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [RECORD_KEYS_TABLE]
    ).fetchone()
    if not present or not present[0]:
        return None
    return con.execute(f"SELECT patient_id, {RECORD_KEY} FROM {RECORD_KEYS_TABLE}").fetchdf()


def write_record_keys(
    con: duckdb.DuckDBPyConnection, seed: int | None = None, previous: pd.DataFrame | None = None
) -> int:
    """Create ``record_keys`` (patient_id, record_key UINTEGER) for every ``analysis_patients`` row: the
    previous database's key for a patient it had, a new random one otherwise; return how many were new."""
    ids = con.execute("SELECT patient_id FROM analysis_patients ORDER BY patient_id").fetchnumpy()["patient_id"]
    rng = np.random.default_rng(secrets.randbits(128) if seed is None else seed)
    keys = rng.integers(0, KEY_SPACE, size=len(ids), dtype=np.uint64)
    new = np.ones(len(ids), dtype=bool)
    if previous is not None and len(previous):
        old = pd.Series(previous[RECORD_KEY].to_numpy(dtype=np.uint64), index=previous["patient_id"].astype(str))
        found = pd.Series(np.asarray(ids, dtype=object)).map(old)
        kept = found.notna().to_numpy()
        keys[kept] = found[kept].to_numpy(dtype=np.uint64)
        new = ~kept
    frame = pd.DataFrame({"patient_id": ids, RECORD_KEY: keys.astype(np.uint32)})
    con.register("_record_keys", frame)
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {RECORD_KEYS_TABLE} AS "
            f"SELECT patient_id, CAST({RECORD_KEY} AS UINTEGER) AS {RECORD_KEY} FROM _record_keys"
        )
    finally:
        con.unregister("_record_keys")
    return int(new.sum())
