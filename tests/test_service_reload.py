"""A running dashboard picks up a new load (reports/service.py, issue 16).

``ayaall load`` renames a new database over the old one; a service opened before must notice (the file at
its path is another file), read the new one for every later request, drop every cached result of the old
load, and say which load it now reflects.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ayaall.cohort import CohortSpec
from dashboard.sidebar import load_line
from etl import load_extract
from reports.service import RegistryService
from reports.survival import survival_view
from synthetic_data import generate_registry


def test_a_running_service_switches_to_a_new_load(demo_extract: Path, tmp_path: Path) -> None:
    """[reload_under_server] Load the demo (3,000 patients), open a service, cache a page; load a
    1,200-patient extract onto the same path: the next requests see 1,200 patients, the new load id and
    cut-off, and the cached survival view of the old load is not served."""
    db = tmp_path / "registry.duckdb"
    load_extract(demo_extract, db, record_key_seed=1)
    service = RegistryService(db)
    try:
        first_info = service.load_info()
        first_n = service.cohort_size(CohortSpec())
        old_view = survival_view(service, CohortSpec(), "OS", "DX", "lineage", "months", 0)
        assert first_n > 2000
        assert load_line(first_info) == f"Load {first_info['load_id']}, data cut-off {first_info['data_cutoff']}"

        other = tmp_path / "other"
        generate_registry(other, n_patients=1200, seed=5)
        load_extract(other, db, record_key_seed=2)

        n = service.cohort_size(CohortSpec())
        info = service.load_info()
        assert service.generation == 1
        assert n < 1300
        assert n != first_n
        assert info["load_id"] != first_info["load_id"]
        assert info["load_id"].startswith("L0002-")  # the new database keeps the history: second load
        new_view = survival_view(service, CohortSpec(), "OS", "DX", "lineage", "months", 0)
        assert int(new_view.summary["Patients"].astype(str).str.replace(",", "").astype(int).sum()) == n
        assert new_view is not old_view
        assert service.cohort_size(CohortSpec()) == n  # and stays there
        assert service.generation == 1
    finally:
        service.close()


def test_a_switch_waits_for_the_query_reading_the_old_load(demo_db: Path, demo_extract: Path, tmp_path: Path) -> None:
    """[reload_in_flight] While a query holds a cursor of the old load, the service keeps answering from
    it (closing it would break that query); once the query is done, the next request switches."""
    db = tmp_path / "registry.duckdb"
    shutil.copy(demo_db, db)
    service = RegistryService(db)
    try:
        n = service.cohort_size(CohortSpec())
        other = tmp_path / "other"
        generate_registry(other, n_patients=900, seed=8)
        with service.reading() as cur:
            load_extract(other, db, record_key_seed=3)
            assert service.cohort_size(CohortSpec()) == n  # the old load still answers
            assert cur.execute("SELECT count(*) FROM analysis_patients").fetchone()[0] >= n
            assert service.generation == 0
        assert service.cohort_size(CohortSpec()) < 1000
        assert service.generation == 1
    finally:
        service.close()


def test_a_service_stays_on_its_load_while_the_path_is_missing(demo_db: Path, tmp_path: Path) -> None:
    """[reload_missing_file] Between two steps of an outside copy the path may not exist: the service
    keeps answering from the file it has open."""
    db = tmp_path / "registry.duckdb"
    shutil.copy(demo_db, db)
    service = RegistryService(db)
    try:
        n = service.cohort_size(CohortSpec())
        db.rename(tmp_path / "moved.duckdb")
        service.cache.clear()
        assert service.cohort_size(CohortSpec()) == n
        assert service.generation == 0
    finally:
        service.close()
