"""The dashboard in a real headless Chromium (dash's ``dash_duo``): each page renders without console
errors, a filter change updates the count and the figure, and a pasted URL reproduces the view."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

_TIMEOUT = 20


@pytest.fixture
def app(demo_db):
    from dashboard.app import create_app

    return create_app(demo_db)


def _service(app):
    return app.server.config["AYAALL_SERVICE"]


def _released(cell: tuple[int, int | None]) -> str:
    """A cohort's size as the page shows it: ``service.cohort_cell``'s count released with its cell key
    (``disclosure.policy`` at the default min cell)."""
    from ayaall.settings import DEFAULT_MIN_CELL
    from disclosure.policy import ReleasePolicy

    return f"{ReleasePolicy(DEFAULT_MIN_CELL).count(*cell):,}"


def _count_text(dash_duo) -> str:
    return dash_duo.find_element("#cohort-count .count-number").text


def _severe_logs(dash_duo) -> list:
    return [entry for entry in (dash_duo.get_logs() or []) if entry.get("level") == "SEVERE"]


def _wait_figure(dash_duo, page: str = "survival") -> None:
    dash_duo.wait_for_element(f"#{page}-figure .main-svg", timeout=_TIMEOUT)


def test_cohort_page_renders_with_attrition_and_table1(dash_duo, app):
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text("#cohort-count", "patients in the cohort", timeout=_TIMEOUT)
    dash_duo.wait_for_contains_text("#cohort-attrition", "patients in the registry", timeout=_TIMEOUT)
    dash_duo.wait_for_contains_text("#cohort-table1", "Age group", timeout=_TIMEOUT)
    from ayaall.cohort import CohortSpec

    assert _count_text(dash_duo) == _released(_service(app).cohort_cell(CohortSpec()))
    assert _severe_logs(dash_duo) == []


def test_survival_filter_change_updates_count_and_figure(dash_duo, app):
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/survival?endpoint=OS/DX&by=lineage")
    _wait_figure(dash_duo)
    before_count = _count_text(dash_duo)
    before_title = dash_duo.find_element("#survival-figure .gtitle").text
    assert before_title.startswith("OS from diagnosis")
    # "Transplanted: yes" in the cohort builder
    dash_duo.find_element(
        "#cohort-sidebar input[value='yes'][id*='hct'], #cohort-sidebar [id*='\"column\":\"hct\"'] input[value='yes']"
    ).click()
    dash_duo.wait_for_text_to_equal("#cohort-count .count-number", _expected_count(app, hct=True), timeout=_TIMEOUT)
    assert _count_text(dash_duo) != before_count
    dash_duo.wait_for_contains_text("#survival-summary", "Median", timeout=_TIMEOUT)
    assert "hct=yes" in dash_duo.driver.current_url
    assert _severe_logs(dash_duo) == []


def _expected_count(app, **flags) -> str:
    from ayaall.cohort import CohortSpec

    cohort = CohortSpec.from_dict({"filters": {k: [v] for k, v in flags.items()}})
    return _released(_service(app).cohort_cell(cohort))


def test_url_reproduces_the_view(dash_duo, app):
    dash_duo.start_server(app)
    url = dash_duo.server_url + "/survival?lineage=T&endpoint=RFS/CR1&by=subtype&unit=years"
    dash_duo.wait_for_page(url=url)
    _wait_figure(dash_duo)
    dash_duo.wait_for_contains_text("#survival-figure .gtitle", "RFS from first complete remission", timeout=_TIMEOUT)
    from ayaall.cohort import CohortSpec

    expected = _service(app).cohort_cell(CohortSpec.from_dict({"filters": {"lineage": ["T"]}}))
    dash_duo.wait_for_text_to_equal("#cohort-count .count-number", _released(expected), timeout=_TIMEOUT)
    assert "Years" in dash_duo.find_element("#survival-figure").text
    assert "ETP" in dash_duo.find_element("#survival-summary").text
    assert "lineage=T" in dash_duo.driver.current_url
    assert _severe_logs(dash_duo) == []


@pytest.mark.parametrize(
    ("path", "marker", "text"),
    [
        ("/quality", "#quality-content", "Load report"),
        ("/cox?endpoint=OS/DX&cov=lineage&cov=age_at_dx", "#cox-table", "Adjusted HR"),
        ("/competing?crendpoint=CIR/CR1&by=lineage", "#competing-tests", "Gray"),
        ("/timing", "#page-content", "Treatment timing"),
        ("/weighting", "#page-content", "Adjusted comparison"),
        ("/response", "#page-content", "Response"),
    ],
    ids=["quality", "cox", "competing", "timing", "weighting", "response"],
)
def test_page_renders_without_console_errors(dash_duo, app, path, marker, text):
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=dash_duo.server_url + path)
    dash_duo.wait_for_contains_text(marker, text, timeout=_TIMEOUT)
    assert _severe_logs(dash_duo) == []
