"""Record keys: a secret random 32-bit integer per patient, drawn at load (``ayaall.records``).

The keys come from a generator seeded by the operating system's randomness (``secrets``) unless a seed is
given (tests and reproducible benchmarks; a known seed lets anyone who knows the patient ids recompute the
keys, so a registry never passes one). They are written beside ``analysis_patients`` in patient order, and
change with every load: a reloaded registry gives other perturbations (``disclosure.cellkey``).
"""

from __future__ import annotations

import secrets

import duckdb
import numpy as np

from ayaall.records import KEY_SPACE, RECORD_KEY, RECORD_KEYS_TABLE

__all__ = ["write_record_keys"]


def write_record_keys(con: duckdb.DuckDBPyConnection, seed: int | None = None) -> int:
    """Create ``record_keys`` (patient_id, record_key UINTEGER) for every ``analysis_patients`` row; return
    how many were written."""
    ids = con.execute("SELECT patient_id FROM analysis_patients ORDER BY patient_id").fetchnumpy()["patient_id"]
    rng = np.random.default_rng(secrets.randbits(128) if seed is None else seed)
    keys = rng.integers(0, KEY_SPACE, size=len(ids), dtype=np.uint64).astype(np.uint32)
    con.register("_record_keys", {"patient_id": ids, RECORD_KEY: keys})
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {RECORD_KEYS_TABLE} AS "
            f"SELECT patient_id, CAST({RECORD_KEY} AS UINTEGER) AS {RECORD_KEY} FROM _record_keys"
        )
    finally:
        con.unregister("_record_keys")
    return len(ids)
