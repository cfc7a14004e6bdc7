"""The treatment timing, adjusted comparison and response pages in a real headless Chromium (dash's
``dash_duo``): each renders without console errors, a filter change updates the count and the results,
and a pasted URL reproduces the view. Expected numbers come from the view functions the pages call."""

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


def _service(app):
    return app.server.config["AYAALL_SERVICE"]


def _severe_logs(dash_duo) -> list:
    return [entry for entry in (dash_duo.get_logs() or []) if entry.get("level") == "SEVERE"]


def _count(app, filters: dict) -> str:
    """The cohort's size as the page shows it: released with its cell key (``disclosure.policy`` at the
    default min cell)."""
    from ayaall.settings import DEFAULT_MIN_CELL
    from disclosure.policy import ReleasePolicy

    size, key = _service(app).cohort_cell(CohortSpec.from_dict({"filters": filters}))
    return f"{ReleasePolicy(DEFAULT_MIN_CELL).count(size, key):,}"


def _click_flag(dash_duo, column: str, value: str) -> None:
    dash_duo.find_element(f"#cohort-sidebar [id*='\"column\":\"{column}\"'] input[value='{value}']").click()


def _click_link(dash_duo, selector: str, tries: int = 5) -> None:
    """Click the element of ``selector``, finding it again when a callback re-rendered it between finding and
    clicking (the survival page redraws its warning when its results arrive: a stale element)."""
    from selenium.common.exceptions import StaleElementReferenceException

    for attempt in range(tries):
        try:
            dash_duo.wait_for_element(selector, timeout=_TIMEOUT).click()
            return
        except StaleElementReferenceException:
            if attempt == tries - 1:
                raise


def _option_checked(dash_duo, name: str, value: str) -> bool:
    return dash_duo.find_element(f"[id*='\"name\":\"{name}\"'] input[value='{value}']").is_selected()


def test_timing_page(dash_duo, app):
    from reports.timing import timing_view

    service = _service(app)
    dash_duo.start_server(app)
    # the survival page's immortal-time warning leads here, keeping the cohort (also one changed after the
    # warning appeared) and presetting the exposure
    dash_duo.wait_for_page(url=dash_duo.server_url + "/survival?lineage=B&endpoint=OS/DX&by=hct")
    dash_duo.wait_for_element("#exposure-warning-link", timeout=_TIMEOUT)
    dash_duo.wait_for_element("#survival-figure .main-svg", timeout=_TIMEOUT)
    _click_flag(dash_duo, "relapsed", "yes")
    relapsed = {"lineage": ["B"], "relapsed": [True]}
    dash_duo.wait_for_text_to_equal("#cohort-count .count-number", _count(app, relapsed), timeout=_TIMEOUT)
    _click_link(dash_duo, "#exposure-warning-link[href*='relapsed=yes']")
    dash_duo.wait_for_element("#timing-figure .main-svg", timeout=_TIMEOUT)
    url = dash_duo.driver.current_url
    assert "/timing?" in url
    assert "lineage=B" in url
    assert "relapsed=yes" in url
    assert "exposure=hct" in url
    view = timing_view(
        service, CohortSpec.from_dict({"filters": relapsed}), "hct", "OS", "DX", [180, 365], [], _MIN_CELL
    )
    dash_duo.wait_for_contains_text(
        "#timing-landmarks", f"{view.landmark_table['At risk'].iloc[0]:,}", timeout=_TIMEOUT
    )
    dash_duo.wait_for_text_to_equal("#cohort-count .count-number", _count(app, relapsed), timeout=_TIMEOUT)
    # a filter change updates the count and the results
    _click_flag(dash_duo, "hct", "yes")
    transplanted = {"lineage": ["B"], "relapsed": [True], "hct": [True]}
    dash_duo.wait_for_text_to_equal("#cohort-count .count-number", _count(app, transplanted), timeout=_TIMEOUT)
    view = timing_view(
        service, CohortSpec.from_dict({"filters": transplanted}), "hct", "OS", "DX", [180, 365], [], _MIN_CELL
    )
    dash_duo.wait_for_contains_text(
        "#timing-landmarks", f"{view.landmark_table['At risk'].iloc[0]:,}", timeout=_TIMEOUT
    )
    assert "hct=yes" in dash_duo.driver.current_url
    assert _severe_logs(dash_duo) == []
    # a pasted URL reproduces the view
    dash_duo.wait_for_page(url=dash_duo.server_url + "/timing?lineage=T&exposure=car_t&endpoint=OS/REL1&landmark=90")
    dash_duo.wait_for_element("#timing-figure .main-svg", timeout=_TIMEOUT)
    dash_duo.wait_for_contains_text("#timing-figure .gtitle", "CAR-T", timeout=_TIMEOUT)
    dash_duo.wait_for_text_to_equal("#cohort-count .count-number", _count(app, {"lineage": ["T"]}), timeout=_TIMEOUT)
    assert _option_checked(dash_duo, "exposure", "car_t")
    view = timing_view(
        service, CohortSpec.from_dict({"filters": {"lineage": ["T"]}}), "car_t", "OS", "REL1", [90], [], 11
    )
    assert dash_duo.find_element("#timing-landmarks td").text == "91"  # day 90 on the 7-day grid
    assert f"{view.landmark_table['At risk'].iloc[0]:,}" in dash_duo.find_element("#timing-landmarks").text
    assert _severe_logs(dash_duo) == []


def test_weighting_page(dash_duo, app):
    from reports.weighting import weighting_view

    service = _service(app)
    salvage = ["BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"]
    cov = ["age_at_dx", "cns_status", "mrd_eoi"]
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/weighting")
    dash_duo.wait_for_element("#weighting-figure .main-svg", timeout=_TIMEOUT)
    dash_duo.wait_for_element("#weighting-balance .main-svg", timeout=_TIMEOUT)
    dash_duo.wait_for_contains_text("#weighting-figure .gtitle", "IPTW-adjusted (ATE)", timeout=_TIMEOUT)
    # a filter change updates the count and the results
    _click_flag(dash_duo, "cr1", "yes")
    flags = {"cr1": [True]}
    dash_duo.wait_for_text_to_equal("#cohort-count .count-number", _count(app, flags), timeout=_TIMEOUT)
    view = weighting_view(
        service, CohortSpec.from_dict({"filters": flags}), "salvage_regimen", salvage, cov, "ATE", None, None, None,
        "OS", "LINE2", _MIN_CELL,
    )  # fmt: skip
    dash_duo.wait_for_contains_text("#weighting-summary", f"Patients analysed: {view.n:,}", timeout=_TIMEOUT)
    assert "cr1=yes" in dash_duo.driver.current_url
    assert _severe_logs(dash_duo) == []
    # a pasted URL reproduces the view
    url = "/weighting?lineage=B&levels=BLINATUMOMAB&levels=SALVAGE_CHEMO&wcov=age_at_dx&estimand=ATT&trim=0.02"
    dash_duo.wait_for_page(url=dash_duo.server_url + url)
    dash_duo.wait_for_contains_text("#weighting-figure .gtitle", "IPTW-adjusted (ATT)", timeout=_TIMEOUT)
    dash_duo.wait_for_text_to_equal("#cohort-count .count-number", _count(app, {"lineage": ["B"]}), timeout=_TIMEOUT)
    view = weighting_view(
        service, CohortSpec.from_dict({"filters": {"lineage": ["B"]}}), "salvage_regimen",
        ["BLINATUMOMAB", "SALVAGE_CHEMO"], ["age_at_dx"], "ATT", None, 0.02, None, "OS", "LINE2", _MIN_CELL,
    )  # fmt: skip
    dash_duo.wait_for_contains_text("#weighting-summary", f"Patients analysed: {view.n:,}", timeout=_TIMEOUT)
    assert "INOTUZUMAB" not in dash_duo.find_element("#weighting-summary").text
    assert _option_checked(dash_duo, "estimand", "ATT")
    assert _severe_logs(dash_duo) == []


def test_response_page(dash_duo, app):
    from reports.response import response_view

    service = _service(app)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/response?line=2&by=salvage_regimen")
    dash_duo.wait_for_element("#response-figure .main-svg", timeout=_TIMEOUT)
    view = response_view(service, CohortSpec(), 2, "cr", "salvage_regimen", _MIN_CELL)
    dash_duo.wait_for_contains_text("#response-table", f"{view.n:,} patients started the line", timeout=_TIMEOUT)
    # a filter change updates the count and the results
    _click_flag(dash_duo, "hct", "yes")
    flags = {"hct": [True]}
    dash_duo.wait_for_text_to_equal("#cohort-count .count-number", _count(app, flags), timeout=_TIMEOUT)
    view = response_view(service, CohortSpec.from_dict({"filters": flags}), 2, "cr", "salvage_regimen", _MIN_CELL)
    dash_duo.wait_for_contains_text("#response-table", f"{view.n:,} patients started the line", timeout=_TIMEOUT)
    assert "hct=yes" in dash_duo.driver.current_url
    assert _severe_logs(dash_duo) == []
    # a pasted URL reproduces the view
    dash_duo.wait_for_page(url=dash_duo.server_url + "/response?line=1&outcome=mrd_negative&by=lineage&sex=F")
    dash_duo.wait_for_contains_text("#response-figure .gtitle", "MRD-negative", timeout=_TIMEOUT)
    dash_duo.wait_for_text_to_equal("#cohort-count .count-number", _count(app, {"sex": ["F"]}), timeout=_TIMEOUT)
    view = response_view(service, CohortSpec.from_dict({"filters": {"sex": ["F"]}}), 1, "mrd_negative", "lineage", 11)
    dash_duo.wait_for_contains_text("#response-table", f"{view.n:,} patients started the line", timeout=_TIMEOUT)
    assert _option_checked(dash_duo, "line", "1")
    assert _severe_logs(dash_duo) == []
