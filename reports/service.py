"""The dashboard's access to the database: one read-only DuckDB connection and an LRU cache of results.

Nothing is read at import time: ``RegistryService`` opens the database when the app is created, and
every query runs on a cursor of that connection (DuckDB cursors may be used from the server's threads).
Results are cached by a key that names everything they depend on (the cohort, endpoint, origin,
grouping and options), so going back to a cohort already seen costs a dictionary lookup.

**A new load is picked up.** ``ayaall load`` replaces the database file by renaming a new one over it
(``etl.target``), so a connection opened before keeps reading the old file. Before each query and each
cache lookup the service compares the file at ``db_path`` (device and inode, one ``stat``) with the one it
opened; when they differ (and no query is reading the old one) it opens the new file, and from then on every
request reads it and every cached
result of the old load is gone (the cache keys carry the load's generation, so a fit of the old load that
finishes late is never served). ``load_info`` names the load and data cut-off each page reflects.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd
from threadpoolctl import threadpool_limits

from ayaall.cohort import CohortSpec
from ayaall.errors import UserError
from ayaall.filters import FILTERS
from ayaall.records import KEY_SPACE, RECORD_KEY
from etl.read import (
    analysis_columns,
    attrition,
    coded_levels,
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


def _identity(path: Path) -> tuple[int, int] | None:
    """The file at ``path`` as (device, inode); None when it cannot be seen (a load is between steps)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


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
        self._identity = _identity(self.db_path)
        self._generation = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self.cache = LRUCache(cache_size)
        if blas_threads is not None:
            # The fits are numpy on tall, narrow matrices (100,000 x a few covariates): BLAS threads add
            # nothing but contention with the server's own threads. One thread halves a Cox fit at
            # 100,000 patients on a busy 2-core machine (BENCHMARKS.md). Process-wide, set once.
            threadpool_limits(blas_threads, user_api="blas")

    # -- connection ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of the current load's connection for one query or a few, closed after."""
        with self._lock:
            self._follow_reload()
            cur = self._con.cursor()
            self._in_flight += 1
        try:
            yield cur
        finally:
            cur.close()
            with self._lock:
                self._in_flight -= 1

    @property
    def generation(self) -> int:
        """How many new loads this service has switched to since it opened."""
        return self._generation

    def _follow_reload(self) -> None:
        """Switch to the file at ``db_path`` if a load has replaced the one open (module docstring); the
        caller holds the lock.

        DuckDB keeps one database instance per file path in a process, so the old connection is closed
        before the new file is opened (else the path would give the old instance back); that waits until no
        query is reading it (``reading``): until then the old load keeps answering, and the next request
        tries again. A file that cannot be seen leaves the service where it is.
        """
        identity = _identity(self.db_path)
        if identity is None or identity == self._identity or self._in_flight:
            return
        self._con.close()
        try:
            self._con = connect_readonly(self.db_path)
        except UserError:
            self._con = connect_readonly(self.db_path)  # once more: the rename is atomic, the file is whole
        self._identity = identity
        self._generation += 1
        self.cache.clear()

    def query_df(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self.reading() as cur:
            return read_frame(cur, sql, params)

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            self._follow_reload()
            generation = self._generation
        return self.cache.get_or_compute((generation, key), compute)

    def close(self) -> None:
        self._con.close()

    def load_info(self) -> dict[str, str | None]:
        """The load this service reads: ``load_id`` and ``data_cutoff`` (ISO date) of ``load_parameters``."""

        def compute() -> dict[str, str | None]:
            row = self.query_df("SELECT load_id, CAST(data_cutoff AS VARCHAR) AS data_cutoff FROM load_parameters")
            if row.empty:
                return {"load_id": None, "data_cutoff": None}
            return {"load_id": str(row["load_id"].iloc[0]), "data_cutoff": str(row["data_cutoff"].iloc[0])}

        return self.cached(("load_info",), compute)

    # -- cohort --------------------------------------------------------------------------------------
    def filter_choices(self) -> dict[str, Any]:
        """Options of every filter control: fixed code lists, the loaded database's levels where they are a
        load option (its age bands), or the database's values; year bounds."""

        def compute() -> dict[str, Any]:
            out: dict[str, Any] = {}
            with self.reading() as cur:
                levels = coded_levels(cur)
            known = self.columns()
            for spec in FILTERS:
                if spec.column not in known:  # a database loaded before the column existed: nothing to offer
                    out[spec.column] = (2000, 2030) if spec.kind == "range" else []
                elif spec.kind == "range":
                    row = self.query_df(
                        f'SELECT min("{spec.column}") AS lo, max("{spec.column}") AS hi '
                        "FROM analysis_patients WHERE excluded_reason IS NULL"
                    )
                    lo, hi = row.iloc[0]
                    out[spec.column] = (int(lo), int(hi)) if pd.notna(lo) else (2000, 2030)
                elif spec.from_load and spec.column in levels:  # the loaded database's levels (its age bands)
                    out[spec.column] = list(levels[spec.column])
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
            with self.reading() as cur:
                where, params = cohort_patients_sql(cur, cohort)
                key_term, key_sql = key_join(cur, True)
                n, total = cur.execute(  # type: ignore[misc]
                    f"SELECT count(*), sum({RECORD_KEY}) FROM (SELECT ap.patient_id{key_term} "
                    f"FROM analysis_patients ap{key_sql} WHERE {where})",
                    params,
                ).fetchone()
                return int(n), (None if total is None else int(total) % KEY_SPACE)

        return self.cached(("size", cohort_key(cohort)), compute)

    def attrition(self, cohort: CohortSpec) -> pd.DataFrame:
        """The cohort's attrition (``etl.read.attrition``) with the cell keys of each step's patients."""

        def compute() -> pd.DataFrame:
            with self.reading() as cur:
                return attrition(cur, cohort, keys=True)

        return self.cached(("attrition", cohort_key(cohort)), compute)

    def frame(self, cohort: CohortSpec, endpoint: str, origin: str, columns: Sequence[str] = ()) -> pd.DataFrame:
        """The cohort's ``time_to_event`` rows of one endpoint: time_days, event_code, ``columns`` and the
        record key (``ayaall.records``; server side only; in patient order, without the patient id and event
        text, which no page analyses)."""

        def compute() -> pd.DataFrame:
            with self.reading() as cur:
                return load_analysis_frame(cur, cohort, endpoint, origin, list(columns), identifiers=False, keys=True)

        return self.cached(("frame", cohort_key(cohort), endpoint, origin, tuple(columns)), compute)

    def patients(
        self, cohort: CohortSpec, columns: Sequence[str], *, identifiers: bool = True, keys: bool = False
    ) -> pd.DataFrame:
        """The cohort's ``analysis_patients`` rows in patient order: patient_id (unless ``identifiers`` is
        False), ``columns`` and, with ``keys``, the record key (server side only)."""

        def compute() -> pd.DataFrame:
            with self.reading() as cur:
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

        return self.cached(("patients", cohort_key(cohort), tuple(columns), identifiers, keys), compute)

    def columns(self) -> dict[str, str]:
        """``analysis_patients``' columns and their types (``etl.read.analysis_columns``), cached."""

        def compute() -> dict[str, str]:
            with self.reading() as cur:
                return analysis_columns(cur)

        return self.cached(("columns",), compute)

    def has_table(self, name: str) -> bool:
        tables = self.cached(
            ("tables",), lambda: set(self.query_df("SELECT table_name FROM information_schema.tables")["table_name"])
        )
        return name in tables
