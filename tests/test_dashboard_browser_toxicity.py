"""The Toxicity page in a real headless Chromium (dash's ``dash_duo``): it renders both figures and its
tables without console errors, a grade change updates the table and the URL, and a pasted URL reproduces
the view. Expected numbers come from the view function the page calls."""

from __future__ import annotations

import pytest

from ayaall.cohort import CohortSpec

pytestmark = pytest.mark.browser

_TIMEOUT = 30
_MIN_CELL = 11  # the app's default


@pytest.fixture
def app(demo_db):
    from dashboard.app import create_app

    return create_app(demo_db)


def _severe_logs(dash_duo) -> list:
    return [entry for entry in (dash_duo.get_logs() or []) if entry.get("level") == "SEVERE"]


def test_toxicity_page(dash_duo, app):
    from reports.toxicity import toxicity_view

    service = app.server.config["AYAALL_SERVICE"]
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/toxicity?line=2&txevent=CRS&txby=regimen")
    dash_duo.wait_for_element("#toxicity-grade-figure .main-svg", timeout=_TIMEOUT)
    dash_duo.wait_for_element("#toxicity-cif-figure .main-svg", timeout=_TIMEOUT)
    view = toxicity_view(service, CohortSpec(), 2, "regimen", _MIN_CELL, ["CRS"])
    dash_duo.wait_for_contains_text("#toxicity-table", f"{view.n:,} patients started the line", timeout=_TIMEOUT)
    dash_duo.wait_for_contains_text("#toxicity-table", "Cytokine release syndrome, any grade", timeout=_TIMEOUT)
    dash_duo.wait_for_contains_text("#toxicity-cif-table", "Numbers at risk", timeout=_TIMEOUT)
    assert "worst grade" in dash_duo.find_element("#toxicity-grade-figure .gtitle").text
    # the grade threshold: the table's title and the URL follow
    dash_duo.find_element("[id*='\"name\":\"txgrade\"'] input[value='3']").click()
    dash_duo.wait_for_contains_text("#toxicity-table", "grade 3 or worse", timeout=_TIMEOUT)
    assert "txgrade=3" in dash_duo.driver.current_url
    assert _severe_logs(dash_duo) == []
    # a pasted URL reproduces the view: another toxicity, line and grouping, a cohort
    dash_duo.wait_for_page(url=dash_duo.server_url + "/toxicity?line=1&txevent=INFECTION&txby=sex&lineage=B")
    dash_duo.wait_for_contains_text("#toxicity-table", "Infection, any grade", timeout=_TIMEOUT)
    view = toxicity_view(service, CohortSpec.from_dict({"filters": {"lineage": ["B"]}}), 1, "sex", 11, ["INFECTION"])
    dash_duo.wait_for_contains_text("#toxicity-table", f"{view.n:,} patients started the line", timeout=_TIMEOUT)
    first = view.released.proportions.iloc[0]
    assert f"{first['n']:,}" in dash_duo.find_element("#toxicity-table").text
    assert _severe_logs(dash_duo) == []
