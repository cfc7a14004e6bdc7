"""Dashboard downloads: the download callback, called as the browser calls it (a POST to Dash's update
endpoint), returns a valid file and its manifest, made with the server's min_cell from the page's cohort
and options; the browser cannot change min_cell; the pages carry the download row."""

from __future__ import annotations

import base64
import json

import plotly.utils
import pytest
from export_support import image_info, pdf_info

from ayaall.filters import FILTERS
from ayaall.settings import Settings

MIN_CELL = 11


@pytest.fixture(scope="module")
def app(demo_db):
    from dashboard.app import create_app

    return create_app(demo_db, Settings(min_cell=MIN_CELL))


def _control(page: str, name: str) -> dict[str, str]:
    return {"name": name, "page": page, "type": "export-control"}


def _post(
    app, page: str, what: str, options: dict[str, object], export: dict[str, object], filters=None, expect: int = 200
):
    """The request Dash's renderer sends when a download button of ``page`` is clicked."""
    from dashboard.downloads import PAGE_EXPORTS

    spec = PAGE_EXPORTS[page]
    filters = filters or {}
    outputs = [
        {"id": _control(page, "file"), "property": "data"},
        {"id": _control(page, "manifest"), "property": "data"},
        {"id": _control(page, "message"), "property": "children"},
    ]
    buttons = [
        {
            "id": {"page": page, "type": "export-button", "what": w},
            "property": "n_clicks",
            "value": 1 if w == what else None,
        }
        for w in (("figure", "data", "bundle") if spec.has_figure else ("data", "bundle"))
    ]
    filter_ids = [{"column": f.column, "type": "cohort-filter"} for f in FILTERS]
    state = [
        [{"id": fid, "property": "value", "value": filters.get(fid["column"])} for fid in filter_ids],
        [{"id": fid, "property": "id", "value": fid} for fid in filter_ids],
        *[{"id": {"name": n, "type": "view-option"}, "property": "value", "value": options[n]} for n in spec.options],
        *[{"id": _control(page, n), "property": "value", "value": v} for n, v in export.items()],
    ]
    key = "...".join(json.dumps(o["id"], sort_keys=True, separators=(",", ":")) + "." + o["property"] for o in outputs)
    payload = {
        "output": f"..{key}..",
        "outputs": outputs,
        "inputs": [buttons],
        "changedPropIds": [
            json.dumps(
                buttons[
                    0
                    if what in ("figure", "data") and not spec.has_figure
                    else ("figure", "data", "bundle").index(what)
                ]["id"],
                sort_keys=True,
                separators=(",", ":"),
            )
            + ".n_clicks"
        ],
        "state": state,
    }
    response = app.server.test_client().post("/_dash-update-component", json=payload)
    if expect != 200:  # refused before it runs (dashboard/guard.py): the sentence
        assert response.status_code == expect, response.data[:500]
        return response.get_data(as_text=True)
    assert response.status_code == 200, response.data[:500]
    return response.get_json()["response"]


def _file(response, page: str) -> tuple[str, bytes]:
    data = response[json.dumps(_control(page, "file"), sort_keys=True, separators=(",", ":"))]["data"]
    return data["filename"], base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode()


def _manifest(response, page: str) -> dict:
    data = response[json.dumps(_control(page, "manifest"), sort_keys=True, separators=(",", ":"))]["data"]
    return json.loads(data["content"])


EXPORT = {"preset": "single", "format": "pdf", "dpi": 300, "grayscale": []}


def test_survival_page_figure_download_is_a_valid_pdf_with_its_manifest(app):
    response = _post(
        app,
        "survival",
        "figure",
        {"endpoint": "OS/DX", "by": "lineage", "unit": "years"},
        EXPORT,
        filters={"sex": ["F"]},
    )
    name, data = _file(response, "survival")
    assert name == "km_OS_DX_by_lineage.pdf"
    info = pdf_info(data)
    assert info["width_pt"] == pytest.approx(85 / 25.4 * 72, abs=0.01)
    manifest = _manifest(response, "survival")
    assert manifest["min_cell"] == MIN_CELL  # the server's setting
    assert manifest["cohort"] == {"kind": "dashboard", "page": "survival", "content": {"filters": {"sex": ["F"]}}}
    assert manifest["request"]["cohort"] == {"filters": {"sex": ["F"]}}
    assert info["manifest"]["request"] == manifest["request"]


def test_competing_page_grayscale_tiff(app):
    export = {"preset": "double", "format": "tiff", "dpi": 300, "grayscale": ["gray"]}
    response = _post(app, "competing", "figure", {"crendpoint": "CIR/CR1", "by": "none", "unit": "months"}, export)
    name, data = _file(response, "competing")
    assert name.endswith(".tiff")
    info = image_info(data)
    assert info["size"][0] == round(174 / 25.4 * 300)
    assert info["mode"] == "L"


def test_cox_page_bundle_holds_figure_data_methods_manifest(app):
    import io
    import zipfile

    response = _post(app, "cox", "bundle", {"endpoint": "OS/DX", "cov": ["lineage", "age_at_dx"], "ref": []}, EXPORT)
    name, data = _file(response, "cox")
    assert name == "forest_OS_DX.zip"
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    stem = "forest_OS_DX/forest_OS_DX"
    assert {f"{stem}.pdf", f"{stem}_hazard_ratios.csv", f"{stem}.xlsx", f"{stem}_methods.txt"} <= set(names)
    assert "forest_OS_DX/manifest.json" in names


def test_cohort_page_table1_data_download(app):
    """Grouped or not, the Cohort page's Table 1 downloads as the page shows it (all patients in one column
    when there is no grouping; the session-start code refused that download)."""
    response = _post(app, "cohort", "data", {"t1by": "lineage"}, {})
    name, data = _file(response, "cohort")
    assert name == "table1_by_lineage.xlsx"
    assert data[:2] == b"PK"  # an XLSX is a zip
    name, data = _file(_post(app, "cohort", "data", {"t1by": "none"}, {}), "cohort")
    assert name == "table1.xlsx"
    assert data[:2] == b"PK"


def test_the_download_row_is_on_the_pages(app):
    from dashboard.pages import cohort, competing, cox, survival

    for page, module in (("survival", survival), ("competing", competing), ("cox", cox), ("cohort", cohort)):
        from dashboard.context import PageContext

        ctx = PageContext(app.server.config["AYAALL_SERVICE"], Settings(min_cell=MIN_CELL))
        text = json.dumps(module.layout({}, ctx), cls=plotly.utils.PlotlyJSONEncoder)
        assert f'"page": "{page}"' in text, page
        assert "export-button" in text, page


TIMING_OPTIONS = {"exposure": "hct", "endpoint": "OS/DX", "landmark": ["365", "180"], "adjust": [], "unit": "years"}
WEIGHTING_OPTIONS = {
    "treat": "salvage_regimen",
    "levels": ["BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"],
    "wcov": ["age_at_dx", "cns_status"],
    "estimand": "ATT",
    "target": "INOTUZUMAB",
    "trim": "0.01",
    "truncate": "none",
    "wendpoint": "OS/LINE2",
    "unit": "months",
}


def _options(page: str, values: dict[str, object]) -> dict[str, object]:
    from dashboard.downloads import PAGE_EXPORTS

    return {name: values[name] for name in PAGE_EXPORTS[page].options}


def test_timing_page_landmark_download_is_a_grayscale_png_of_the_pages_landmarks(app):
    export = {"preset": "single", "format": "png", "dpi": 300, "grayscale": ["gray"]}
    response = _post(app, "timing-landmark", "figure", _options("timing-landmark", TIMING_OPTIONS), export)
    name, data = _file(response, "timing-landmark")
    assert name == "landmark_OS_DX_hct.png"
    info = image_info(data)
    assert info["mode"] == "L"
    assert info["size"][0] == round(85 / 25.4 * 300)
    manifest = _manifest(response, "timing-landmark")
    assert manifest["request"]["landmarks"] == [180.0, 365.0]
    assert manifest["request"]["unit"] == "years"
    assert manifest["min_cell"] == MIN_CELL
    assert info["manifest"]["request"] == manifest["request"]


def test_timing_page_cox_download_takes_the_pages_adjustment(app):
    options = _options("timing-cox", {**TIMING_OPTIONS, "adjust": ["age_at_dx"]})
    response = _post(app, "timing-cox", "data", options, EXPORT)
    name, data = _file(response, "timing-cox")
    assert name == "timing-cox_OS_DX_hct.xlsx"
    assert data[:2] == b"PK"
    assert _manifest(response, "timing-cox")["request"]["covariates"] == ["age_at_dx"]


def test_weighting_page_bundle_records_the_pages_comparison(app):
    import io
    import zipfile

    response = _post(app, "weighting-km", "bundle", _options("weighting-km", WEIGHTING_OPTIONS), EXPORT)
    name, data = _file(response, "weighting-km")
    assert name == "adjusted-km_OS_LINE2_salvage_regimen.zip"
    stem = "adjusted-km_OS_LINE2_salvage_regimen/adjusted-km_OS_LINE2_salvage_regimen"
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert {f"{stem}.pdf", f"{stem}_curve.csv", f"{stem}_weights.csv", f"{stem}_methods.txt"} <= set(names)
    request = _manifest(response, "weighting-km")["request"]
    assert (request["estimand"], request["target"], request["trim"], request["truncate"]) == (
        "ATT",
        "INOTUZUMAB",
        0.01,
        None,
    )
    assert request["covariates"] == ["age_at_dx", "cns_status"]


def test_weighting_page_ate_drops_the_att_target(app):
    options = _options("weighting-balance", {**WEIGHTING_OPTIONS, "estimand": "ATE"})
    response = _post(app, "weighting-balance", "figure", options, {**EXPORT, "format": "svg"})
    name, data = _file(response, "weighting-balance")
    assert name == "balance_OS_LINE2_salvage_regimen.svg"
    assert data.startswith(b"<?xml")
    assert _manifest(response, "weighting-balance")["request"]["target"] is None


def test_response_page_figure_download_and_a_message_for_a_bad_line(app):
    options = {"line": "2", "outcome": "mrd_negative", "by": "salvage_regimen"}
    response = _post(app, "response", "figure", options, EXPORT)
    name, data = _file(response, "response")
    assert name == "response_line2_mrd_negative_by_salvage_regimen.pdf"
    assert pdf_info(data)["width_pt"] == pytest.approx(85 / 25.4 * 72, abs=0.01)
    assert _manifest(response, "response")["request"]["outcome"] == "mrd_negative"
    # A line the page does not offer is refused before the download runs (dashboard/guard.py).
    refused = _post(app, "response", "figure", {**options, "line": "first"}, EXPORT, expect=400)
    assert refused.startswith('The control {"name":"line","type":"view-option"} was sent a value that is not one')


def test_the_treatment_pages_have_a_download_row_under_each_figure(app):
    from dashboard.context import PageContext
    from dashboard.pages import response, timing, weighting

    ctx = PageContext(app.server.config["AYAALL_SERVICE"], Settings(min_cell=MIN_CELL))
    for module, keys in (
        (timing, ("timing-landmark", "timing-sm", "timing-cox")),
        (weighting, ("weighting-balance", "weighting-km", "weighting-cox")),
        (response, ("response",)),
    ):
        text = json.dumps(module.layout({}, ctx), cls=plotly.utils.PlotlyJSONEncoder)
        for key in keys:
            assert f'"page": "{key}"' in text, key
        assert text.count('"what": "figure"') == len(keys), module.__name__


def test_toxicity_page_data_download_is_the_pages_released_numbers(app):
    """[toxicity_download] The Toxicity page's data download names its line, toxicity and threshold, its
    manifest records them, and its proportions sheet holds the page view's released counts."""
    import io

    import pandas as pd

    from ayaall.cohort import CohortSpec
    from reports.toxicity import toxicity_view

    options = {"line": "2", "txevent": "ICANS", "txgrade": "3", "txby": "sex"}
    response = _post(app, "toxicity", "data", options, EXPORT)
    name, data = _file(response, "toxicity")
    assert name == "toxicity_line2_ICANS_grade3_by_sex.xlsx"
    manifest = _manifest(response, "toxicity")
    recorded = manifest["request"]
    assert (recorded["event"], recorded["grade"], recorded["by"]) == ("ICANS", 3, "sex")
    sheet = pd.read_excel(io.BytesIO(data), sheet_name="proportions")
    sheet = sheet[(sheet["event"] == "ICANS") & (sheet["min_grade"] == 3)]
    view = toxicity_view(app.server.config["AYAALL_SERVICE"], CohortSpec(), 2, "sex", MIN_CELL, ["ICANS"])
    page = view.released.proportions
    page = page[page["min_grade"] == 3]
    assert sheet["group"].tolist() == page["group"].tolist()
    assert [None if pd.isna(v) else int(v) for v in sheet["events"]] == page["events"].tolist()
    assert [None if pd.isna(v) else int(v) for v in sheet["n"]] == page["n"].tolist()
