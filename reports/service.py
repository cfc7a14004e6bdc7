"""The dashboard's access to the database: one read-only DuckDB connection and an LRU cache of results.

Nothing is read at import time: ``RegistryService`` opens the database when the app is created, and
every query runs on a cursor of that connection (DuckDB cursors may be used from the server's threads).
Results are cached by a key that names everything they depend on (the cohort, endpoint, origin,
grouping and options), so going back to a cohort already seen costs a dictionary lookup.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd
from threadpoolctl import threadpool_limits

from ayaall.cohort import CohortSpec
from ayaall.filters import FILTERS
from ayaall.records import KEY_SPACE, RECORD_KEY
from etl.read import (
    analysis_columns,
    attrition,
    cohort_patients_sql,
    connect_readonly,
    key_join,
    load_analysis_frame,
    read_frame,
)

__all__ = ["LRUCache", "RegistryService", "cohort_key"]

T = TypeVar("T")


def cohort_key(cohort: CohortSpec) -> str:
    """A hashable, order-independent key for a cohort."""
    return json.dumps(cohort.to_dict(), sort_keys=True, default=str)


class LRUCache:
    """A thread-safe least-recently-used cache of computed results."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
        self.misses += 1
        value = compute()  # outside the lock: a slow fit must not block other users
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class RegistryService:
    """Read-only queries on a loaded database, cached.

    Parameters
    ----------
    db_path : path
        A DuckDB file written by ``ayaall load``.
    cache_size : int
        Results kept in the LRU cache.
    blas_threads : int or None
        Threads the BLAS library may use in this process (None leaves it alone).
    """

    def __init__(self, db_path: str | Path, cache_size: int = 256, blas_threads: int | None = 1) -> None:
        self.db_path = Path(db_path)
        self._con = connect_readonly(self.db_path)
        self._lock = threading.Lock()
        self.cache = LRUCache(cache_size)
        if blas_threads is not None:
            # The fits are numpy on tall, narrow matrices (100,000 x a few covariates): BLAS threads add
            # nothing but contention with the server's own threads. One thread halves a Cox fit at
            # 100,000 patients on a busy 2-core machine (BENCHMARKS.md). Process-wide, set once.
            threadpool_limits(blas_threads, user_api="blas")

    # -- connection ----------------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._con.cursor()

    def query_df(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        cur = self.cursor()
        try:
            return read_frame(cur, sql, params)
        finally:
            cur.close()

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        return self.cache.get_or_compute(key, compute)

    def close(self) -> None:
        self._con.close()

    # -- cohort --------------------------------------------------------------------------------------
    def filter_choices(self) -> dict[str, Any]:
        """Options of every filter control: fixed code lists, or the database's values; year bounds."""

        def compute() -> dict[str, Any]:
            out: dict[str, Any] = {}
            for spec in FILTERS:
                if spec.kind == "range":
                    row = self.query_df(
                        f'SELECT min("{spec.column}") AS lo, max("{spec.column}") AS hi '
                        "FROM analysis_patients WHERE excluded_reason IS NULL"
                    )
                    lo, hi = row.iloc[0]
                    out[spec.column] = (int(lo), int(hi)) if pd.notna(lo) else (2000, 2030)
                elif spec.kind == "multi" and not spec.codes:
                    values = self.query_df(
                        f'SELECT DISTINCT "{spec.column}" AS v FROM analysis_patients '
                        f'WHERE "{spec.column}" IS NOT NULL ORDER BY 1'
                    )
                    out[spec.column] = [str(v) for v in values["v"]]
                else:
                    out[spec.column] = list(spec.codes)
            return out

        return self.cached(("filter_choices",), compute)

    def full_ranges(self) -> dict[str, tuple[int, int]]:
        choices = self.filter_choices()
        return {s.column: choices[s.column] for s in FILTERS if s.kind == "range"}

    def cohort_size(self, cohort: CohortSpec) -> int:
        """Included patients in the cohort (an exact count: release it before showing it)."""
        return self.cohort_cell(cohort)[0]

    def cohort_cell(self, cohort: CohortSpec) -> tuple[int, int | None]:
        """Included patients in the cohort and their cell key (``disclosure.cellkey``; None without record
        keys), for ``ReleasePolicy.count``."""

        def compute() -> tuple[int, int | None]:
            cur = self.cursor()
            try:
                where, params = cohort_patients_sql(cur, cohort)
                key_term, key_sql = key_join(cur, True)
                n, total = cur.execute(  # type: ignore[misc]
                    f"SELECT count(*), sum({RECORD_KEY}) FROM (SELECT ap.patient_id{key_term} "
                    f"FROM analysis_patients ap{key_sql} WHERE {where})",
                    params,
                ).fetchone()
                return int(n), (None if total is None else int(total) % KEY_SPACE)
            finally:
                cur.close()

        return self.cached(("size", cohort_key(cohort)), compute)

    def attrition(self, cohort: CohortSpec) -> pd.DataFrame:
        """The cohort's attrition (``etl.read.attrition``) with the cell keys of each step's patients."""

        def compute() -> pd.DataFrame:
            cur = self.cursor()
            try:
                return attrition(cur, cohort, keys=True)
            finally:
                cur.close()

        return self.cached(("attrition", cohort_key(cohort)), compute)

    def frame(self, cohort: CohortSpec, endpoint: str, origin: str, columns: Sequence[str] = ()) -> pd.DataFrame:
        """The cohort's ``time_to_event`` rows of one endpoint: time_days, event_code, ``columns`` and the
        record key (``ayaall.records``; server side only; in patient order, without the patient id and event
        text, which no page analyses)."""

        def compute() -> pd.DataFrame:
            cur = self.cursor()
            try:
                return load_analysis_frame(cur, cohort, endpoint, origin, list(columns), identifiers=False, keys=True)
            finally:
                cur.close()

        return self.cached(("frame", cohort_key(cohort), endpoint, origin, tuple(columns)), compute)

    def patients(
        self, cohort: CohortSpec, columns: Sequence[str], *, identifiers: bool = True, keys: bool = False
    ) -> pd.DataFrame:
        """The cohort's ``analysis_patients`` rows in patient order: patient_id (unless ``identifiers`` is
        False), ``columns`` and, with ``keys``, the record key (server side only)."""

        def compute() -> pd.DataFrame:
            cur = self.cursor()
            try:
                where, params = cohort_patients_sql(cur, cohort)
                cols = ", ".join(
                    f'ap."{c}"' for c in dict.fromkeys([*(["patient_id"] if identifiers else []), *columns])
                )
                key_term, key_sql = key_join(cur, keys)
                return read_frame(
                    cur,
                    f"SELECT {cols}{key_term} FROM analysis_patients ap{key_sql} WHERE {where} ORDER BY ap.patient_id",
                    params,
                )
            finally:
                cur.close()

        return self.cached(("patients", cohort_key(cohort), tuple(columns), identifiers, keys), compute)

    def columns(self) -> dict[str, str]:
        """``analysis_patients``' columns and their types (``etl.read.analysis_columns``), cached."""

        def compute() -> dict[str, str]:
            cur = self.cursor()
            try:
                return analysis_columns(cur)
            finally:
                cur.close()

        return self.cached(("columns",), compute)

    def has_table(self, name: str) -> bool:
        tables = self.cached(
            ("tables",), lambda: set(self.query_df("SELECT table_name FROM information_schema.tables")["table_name"])
        )
        return name in tables
