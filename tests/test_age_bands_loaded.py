"""Custom age bands drive every filter and grouping (issue 13.7).

After ``ayaall load --age-bands 15,20,30,40`` the bands are <15, 15-19, 20-29, 30-39, 40+: the Age group
filter offers those, a cohort of 20-29 selects its patients, and a cohort naming 20-24 (a band of the
default load) is an error that names it, on the page, in ``analyze`` and in ``export``, instead of 0
patients.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ayaall.cli import main
from ayaall.cohort import CohortSpec
from ayaall.errors import UserError
from etl import load_extract
from reports.service import RegistryService


@pytest.fixture(scope="module")
def banded_db(demo_extract: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("bands") / "registry.duckdb"
    load_extract(demo_extract, db, age_breaks=(15, 20, 30, 40), record_key_seed=4)
    return db


def test_the_filter_offers_the_loaded_bands(banded_db: Path) -> None:
    """[custom_bands_filter] The Age group choices are the loaded bands in order, then UNK."""
    service = RegistryService(banded_db)
    try:
        assert service.filter_choices()["age_group"] == ["<15", "15-19", "20-29", "30-39", "40+", "UNK"]
        n = service.cohort_size(CohortSpec.from_dict({"filters": {"age_group": ["20-29"]}}))
    finally:
        service.close()
    con = duckdb.connect(str(banded_db), read_only=True)
    try:
        (want,) = con.execute(
            "SELECT count(*) FROM analysis_patients "
            "WHERE excluded_reason IS NULL AND age_at_dx >= 20 AND age_at_dx < 30"
        ).fetchone()
    finally:
        con.close()
    assert n == want > 0


def test_a_band_of_another_load_is_an_error_naming_it(banded_db: Path, tmp_path: Path, capsys) -> None:
    """[custom_bands_unknown_level] 20-24 does not exist here: the service, `analyze km --cohort` and
    `export --cohort` each stop with one sentence naming it and the levels there are."""
    service = RegistryService(banded_db)
    try:
        with pytest.raises(
            UserError, match=r"names '20-24', which is not a level of this database \(<15, 15-19, 20-29"
        ):
            service.cohort_size(CohortSpec.from_dict({"filters": {"age_group": ["20-24"]}}))
    finally:
        service.close()
    cohort = tmp_path / "cohort.json"
    cohort.write_text(json.dumps({"filters": {"age_group": ["20-24"]}}), encoding="utf-8")
    args = ["--db", str(banded_db), "--endpoint", "OS", "--origin", "DX", "--cohort", str(cohort)]
    assert main(["analyze", "km", *args, "--json"]) != 0
    err = capsys.readouterr().err
    assert "'20-24', which is not a level of this database" in err
    assert "Traceback" not in err
    assert main(["export", "--figure", "km", *args, "--out", str(tmp_path / "km.pdf")]) != 0
    err = capsys.readouterr().err
    assert "'20-24', which is not a level of this database" in err
    assert "Traceback" not in err
