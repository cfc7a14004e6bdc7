"""The one immortal-time guard (``ayaall.exposures``): which variables are known only after each time
zero, the warning's wording, and that every caller asks it (pages, ``ayaall analyze``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ayaall.endpoints import ORIGINS
from ayaall.errors import UserError
from ayaall.exposures import EXPOSURES, immortal_time_warning, is_post_baseline, post_baseline


@pytest.mark.parametrize(
    ("column", "origin", "after"),
    [
        pytest.param("hct", "DX", True, id="transplant_from_diagnosis"),
        pytest.param("salvage_regimen", "CR1", True, id="salvage_from_cr1"),
        pytest.param("salvage_regimen", "REL1", True, id="salvage_from_relapse"),
        pytest.param("salvage_regimen", "LINE2", False, id="salvage_at_its_own_start"),
        pytest.param("hct", "HCT1", False, id="transplant_at_transplant"),
        pytest.param("relapsed", "HCT1", True, id="relapse_after_transplant"),
        pytest.param("lineage", "DX", False, id="baseline_variable"),
        pytest.param("hct1_date", "HCT1", True, id="an_event_date_is_never_baseline"),
    ],
)
def test_post_baseline_by_origin(column: str, origin: str, after: bool) -> None:
    assert is_post_baseline(column, origin) is after
    assert (immortal_time_warning(column, origin) is not None) is after


def test_every_origin_and_exposure_is_declared() -> None:
    for origin in ORIGINS:
        assert post_baseline(origin)  # the event dates at least
    for exposure in EXPOSURES:
        assert is_post_baseline(exposure, "DX")
    with pytest.raises(UserError, match="origin"):
        post_baseline("BIRTH")
    assert is_post_baseline(None, "DX") is False


def test_warning_names_the_bias_in_words() -> None:
    text = immortal_time_warning("hct", "DX")
    assert text is not None
    assert text.startswith("Transplant is only known after time zero (DX)")
    assert "immortal-time bias" in text


def _analyze(db: Path, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "ayaall", "analyze", *args, "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("km", "--endpoint", "OS", "--origin", "DX", "--by", "hct"), id="km_by_hct_from_dx"),
        pytest.param(("cox", "--endpoint", "OS", "--origin", "LINE2", "--covariates", "hct,age_at_dx"), id="cox"),
        pytest.param(("cif", "--endpoint", "CIR", "--origin", "CR1", "--by", "salvage_regimen"), id="cif"),
    ],
)
def test_analyze_warns_on_a_post_baseline_grouping(demo_db: Path, args: tuple[str, ...]) -> None:
    """README promises the warning for ``analyze km --by hct --origin DX``; the session-start code gave none."""
    notes = _analyze(demo_db, *args)["notes"]
    assert any("immortal-time bias" in n and "ayaall analyze landmark" in n for n in notes), notes


def test_analyze_km_by_a_baseline_variable_has_no_warning(demo_db: Path) -> None:
    notes = _analyze(demo_db, "km", "--endpoint", "OS", "--origin", "DX", "--by", "lineage")["notes"]
    assert not any("immortal-time" in n for n in notes)
