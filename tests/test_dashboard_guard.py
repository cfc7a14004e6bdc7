"""Malformed callback requests are refused before they run (dashboard/guard.py, issue 16).

Each case posts to the app's real ``/_dash-update-component`` endpoint through Flask's test client, as a
hand-made request would, and checks the status, the one sentence, and that nothing was computed (the
registry service's cache saw no new request).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ayaall.filters import FILTERS
from dashboard import ids
from dashboard.app import create_app
from dashboard.guard import MAX_BODY_BYTES


@pytest.fixture(scope="module")
def app(demo_db: Path):
    return create_app(demo_db)


def _survival_key(app: Any) -> str:
    return next(k for k in app.callback_map if f"{ids.SURV_FIGURE}.figure" in k)


def _survival_body(app: Any, by: Any = "lineage", filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The survival callback's request as the browser sends it: every filter (a wildcard input), the
    endpoint, the grouping and the unit."""
    filters = filters or {}
    filter_entries = [
        {"id": ids.filter_id(s.column), "property": "value", "value": filters.get(s.column)} for s in FILTERS
    ]
    key = _survival_key(app)
    outputs = [
        {"id": part.rpartition(".")[0], "property": part.rpartition(".")[2]} for part in key.strip(".").split("...")
    ]
    return {
        "output": key,
        "outputs": outputs,
        "inputs": [
            filter_entries,
            {"id": ids.option_id("endpoint"), "property": "value", "value": "OS/DX"},
            {"id": ids.option_id("by"), "property": "value", "value": by},
            {"id": ids.option_id("unit"), "property": "value", "value": "months"},
        ],
        "changedPropIds": [json.dumps(ids.option_id("by"), sort_keys=True, separators=(",", ":")) + ".value"],
        "state": [[{"id": e["id"], "property": "id", "value": e["id"]} for e in filter_entries]],
    }


def _post(app: Any, body: Any, raw: bytes | None = None):
    client = app.server.test_client()
    data = raw if raw is not None else json.dumps(body)
    return client.post("/_dash-update-component", data=data, content_type="application/json")


def _misses(app: Any) -> int:
    return app.server.config["AYAALL_SERVICE"].cache.misses


def test_an_offered_request_runs(app) -> None:
    """[offered] The same request with a grouping the page offers gets the survival figure."""
    response = _post(app, _survival_body(app, by="lineage"))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "survival-figure" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("case", "body_kw", "words"),
    [
        ("group_by_patient_id", {"by": "patient_id"}, "not one of its options"),
        ("group_by_a_dict", {"by": {"$where": 1}}, "not one of its options"),
        ("group_by_a_list", {"by": ["lineage", "sex"]}, "a list where one value is expected"),
        ("filter_value_unknown", {"filters": {"lineage": ["X"]}}, "not one of its options"),
        ("filter_100000_values", {"filters": {"lineage": ["B"] * 100_000}}, "100000 values where there are"),
        ("year_range_text", {"filters": {"dx_year": ["2000", "2010"]}}, "not a number"),
        ("year_range_outside", {"filters": {"dx_year": [1900, 2010]}}, "outside its range"),
    ],
)
def test_a_value_the_page_does_not_offer_is_refused(app, case: str, body_kw: dict[str, Any], words: str) -> None:
    """[malformed_callback] Each hand-made value gets a 400 with one sentence naming the control, and
    nothing is computed."""
    if case.startswith("year") and not any(s.column == "dx_year" for s in FILTERS):
        pytest.skip("no diagnosis-year filter")
    before = _misses(app)
    response = _post(app, _survival_body(app, **body_kw))
    text = response.get_data(as_text=True)
    assert response.status_code == 400, text[:300]
    assert words in text
    assert text.count("\n") == 0
    assert text.endswith("offers.")
    assert "patient_id" not in text
    assert "$where" not in text
    assert _misses(app) == before


def test_an_unknown_output_is_refused(app) -> None:
    """[unknown_output] A request for an output no callback has gets a 400, not a traceback."""
    body = _survival_body(app)
    body["output"] = "..nothing.children.."
    response = _post(app, body)
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "The request names an output that no callback of this app has."


def test_a_body_that_is_not_a_callback_is_refused(app) -> None:
    """[not_json] Garbage in the body: 400 and one sentence."""
    response = _post(app, None, raw=b"\x00not json")
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "This is not a Dash callback request."


def test_a_60_mb_body_is_refused_unread(app) -> None:
    """[huge_body] 60 MB is refused by size (413) before it is parsed or logged."""
    before = _misses(app)
    response = _post(app, None, raw=b"[" + b"0," * (30 * 1024 * 1024) + b"0]")
    assert response.status_code == 413
    assert MAX_BODY_BYTES < 60 * 1024 * 1024
    assert _misses(app) == before
