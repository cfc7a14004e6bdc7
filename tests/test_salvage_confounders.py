"""The confounders of salvage comparisons (issue 13.3), derived at load into ``analysis_patients``.

For each patient: the site of the first relapse, the duration of CR1 in months and early relapse (CR1 under
18 months), the months from diagnosis to the start of salvage, and the era of diagnosis (default <2010,
2010-2014, 2015+; ``ayaall load --era-bands`` changes them). Each is checked against the staged dates it is
made from; each is a filter or a grouping, and an adjustment covariate, and is known only from the first
relapse on (the immortal-time guard).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from ayaall.cohort import CohortSpec
from ayaall.exposures import is_post_baseline
from ayaall.filters import BY_COLUMNS, COVARIATES, FILTERS
from etl import load_extract
from reports.service import RegistryService

MONTH = 30.4375


def _frame(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_each_confounder_follows_from_the_staged_dates(demo_db: Path) -> None:
    """[salvage_confounders] cr1_months = (R1 - CR1) / 30.4375 rounded to 0.1; early_relapse = under 18
    months; relapse_site the site of the earliest relapse (UNK when not given); dx_to_salvage_months from the
    diagnosis to line 2; all empty for a patient without the event."""
    df = _frame(
        demo_db,
        "SELECT ap.*, (SELECT arg_min(site, relapse_date) FROM stg_relapses r WHERE r.patient_id = ap.patient_id) "
        "AS first_site FROM analysis_patients ap WHERE excluded_reason IS NULL",
    )
    both = df["cr1_date"].notna() & df["relapse1_date"].notna()
    days = (df["relapse1_date"] - df["cr1_date"]).dt.days
    assert both.sum() > 100
    assert np.allclose(df.loc[both, "cr1_months"], (days[both] / MONTH).round(1))
    assert (df.loc[both, "early_relapse"] == (days[both] < 18 * MONTH)).all()
    assert df.loc[~both, "cr1_months"].isna().all()
    assert df.loc[~both, "early_relapse"].isna().all()
    relapsed = df["relapse1_date"].notna()
    assert (
        df.loc[relapsed, "relapse_site"].astype(str) == df.loc[relapsed, "first_site"].fillna("UNK").astype(str)
    ).all()
    assert df.loc[~relapsed, "relapse_site"].isna().all()
    salvage = df["line2_date"].notna()
    assert np.allclose(
        df.loc[salvage, "dx_to_salvage_months"],
        ((df.loc[salvage, "line2_date"] - df.loc[salvage, "dx_date"]).dt.days / MONTH).round(1),
    )
    years = df["dx_date"].dt.year
    want = np.where(years < 2010, "<2010", np.where(years < 2015, "2010-2014", "2015+"))
    assert (df["era"].astype(str) == want).all()


def test_era_bands_are_a_load_option(demo_extract: Path, tmp_path: Path) -> None:
    """[era_bands] --era-bands 2005,2012,2018 gives <2005, 2005-2011, 2012-2017, 2018+; the Diagnosis era
    filter offers them in that order and a cohort of one era selects its years."""
    db = tmp_path / "registry.duckdb"
    load_extract(demo_extract, db, era_breaks=(2005, 2012, 2018), record_key_seed=3)
    service = RegistryService(db)
    try:
        assert service.filter_choices()["era"] == ["<2005", "2005-2011", "2012-2017", "2018+"]
        n = service.cohort_size(CohortSpec.from_dict({"filters": {"era": ["2012-2017"]}}))
    finally:
        service.close()
    (want,) = _frame(
        db,
        "SELECT count(*) AS n FROM analysis_patients WHERE excluded_reason IS NULL AND dx_year BETWEEN 2012 AND 2017",
    )["n"]
    assert n == want > 0


def test_the_confounders_are_filters_groupings_and_covariates_known_from_the_relapse() -> None:
    """[salvage_confounders_vocabulary] Era groups every page and is baseline at every time zero; the relapse
    facts are baseline from REL1 and LINE2 and post-baseline (guarded) from DX and CR1."""
    filters = {s.column for s in FILTERS}
    groupings = {c for c, _ in BY_COLUMNS}
    covariates = {c for c, _ in COVARIATES}
    assert {"era", "relapse_site", "early_relapse"} <= filters & groupings
    assert {"cr1_months", "dx_to_salvage_months", "era", "relapse_site", "early_relapse"} <= covariates
    for column in ("relapse_site", "cr1_months", "early_relapse"):
        assert is_post_baseline(column, "DX")
        assert is_post_baseline(column, "CR1")
        assert not is_post_baseline(column, "REL1")
        assert not is_post_baseline(column, "LINE2")
    assert not any(is_post_baseline("era", origin) for origin in ("DX", "CR1", "REL1", "LINE2", "HCT1"))
    assert is_post_baseline("dx_to_salvage_months", "REL1")
    assert not is_post_baseline("dx_to_salvage_months", "LINE2")


@pytest.mark.parametrize("by", ["era", "relapse_site", "early_relapse"])
def test_the_survival_page_groups_by_each(service, by: str) -> None:
    """[salvage_confounders_pages] OS from the start of salvage by each new grouping: a released curve per
    group and no immortal-time warning (each is known at LINE2)."""
    from reports.survival import survival_view

    view = survival_view(service, CohortSpec(), "OS", "LINE2", by, "months", 11)
    assert view.summary["Group"].nunique() >= 2 if "Group" in view.summary else len(view.summary) >= 2
    assert not any("immortal" in n.lower() for n in view.notes)
