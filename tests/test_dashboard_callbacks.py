"""Dashboard callbacks without a browser: the app factory, URL state, and small-cell suppression of every
output on the 3,000-patient demo registry (no count from 1 to min_cell - 1, no patient id)."""

from __future__ import annotations

import json
import re

import plotly.utils
import pytest

from ayaall.cohort import CohortSpec
from ayaall.settings import Settings
from dashboard.context import PageContext

MIN_CELL = 11


@pytest.fixture(scope="module")
def page_ctx(demo_db):
    from dashboard.app import create_app

    app = create_app(demo_db, Settings(min_cell=MIN_CELL))
    return PageContext(app.server.config["AYAALL_SERVICE"], Settings(min_cell=MIN_CELL))


def _json(output) -> str:
    return json.dumps(output, cls=plotly.utils.PlotlyJSONEncoder)


def _assert_safe(output) -> None:
    """No patient id, and every count (table cells marked ``count``, risk-table text) is 0 or >= MIN_CELL."""
    text = _json(output)
    assert "patient_id" not in text
    assert not re.search(r"\bP\d{7}\b", text), "a patient id reached the output"
    for cell in _count_cells(json.loads(text)):
        value = int(cell.replace(",", ""))
        assert value == 0 or value >= MIN_CELL, f"count {value} below min_cell"


def _count_cells(node):
    if isinstance(node, dict):
        props = node.get("props", {})
        if node.get("type") == "Td" and props.get("className") == "count" and props.get("children") != "—":
            yield props["children"]
        if node.get("meta") == "risk-table":
            yield from (t for t in node.get("text", []) if t != "—")
        for value in node.values():
            yield from _count_cells(value)
    elif isinstance(node, list):
        for value in node:
            yield from _count_cells(value)


def _filters(page_ctx, **values):
    from ayaall.filters import FILTERS

    ids_ = [{"type": "cohort-filter", "column": s.column} for s in FILTERS]
    return [values.get(s.column) for s in FILTERS], ids_


COHORTS = {
    "everyone": {},
    "t_lineage": {"lineage": ["T"]},
    "small_subset": {"subtype": ["IAMP21", "ETV6_RUNX1"], "age_group": ["30-39"]},
    "transplanted_relapsed": {"hct": "yes", "relapsed": "yes"},
}


@pytest.mark.parametrize("cohort", list(COHORTS), ids=list(COHORTS))
@pytest.mark.parametrize(
    ("endpoint", "by"),
    [("OS/DX", "frontline_regimen"), ("EFS/LINE2", "salvage_regimen"), ("GRFS/HCT1", "subtype"), ("RFS/CR1", None)],
)
def test_survival_outputs_are_suppressed(page_ctx, cohort, endpoint, by):
    from dashboard.pages.survival import survival_outputs

    values, ids_ = _filters(page_ctx, **COHORTS[cohort])
    out = survival_outputs(page_ctx, values, ids_, endpoint, by or "none", "months")
    _assert_safe(out)


@pytest.mark.parametrize("cohort", list(COHORTS), ids=list(COHORTS))
def test_other_page_outputs_are_suppressed(page_ctx, cohort):
    from dashboard.pages.cohort import attrition_table
    from dashboard.pages.competing import competing_outputs
    from dashboard.pages.cox import cox_outputs
    from dashboard.pages.quality import quality_content
    from reports.table1 import table1

    values, ids_ = _filters(page_ctx, **COHORTS[cohort])
    spec = page_ctx.cohort(values, ids_)
    _assert_safe(attrition_table(page_ctx, spec))
    from dashboard.components import data_table

    _assert_safe(data_table(table1(page_ctx.service, spec, "lineage", MIN_CELL)))
    _assert_safe(cox_outputs(page_ctx, values, ids_, "OS/DX", ["lineage", "age_at_dx"], []))
    _assert_safe(competing_outputs(page_ctx, values, ids_, "CIR/CR1", "subtype", "years"))
    _assert_safe(quality_content(page_ctx))


def test_table1_cells_respect_min_cell(page_ctx):
    from reports.table1 import table1

    table = table1(page_ctx.service, CohortSpec(), "lineage", MIN_CELL)
    for value in table.drop(columns=["Characteristic", "Level"]).to_numpy().ravel():
        match = re.match(r"^([\d,]+) \(", str(value))
        if match:
            n = int(match.group(1).replace(",", ""))
            assert n == 0 or n >= MIN_CELL


def test_degenerate_cohort_shows_a_message(page_ctx):
    from dashboard.pages.survival import survival_outputs

    values, ids_ = _filters(page_ctx, dx_year=[1990, 1991])
    out = survival_outputs(page_ctx, values, ids_, "OS/DX", "lineage", "months")
    assert "cohort" in _json(out[0]).lower()
    assert out[2] == {"display": "none"}


def test_cox_degenerate_model_message(page_ctx):
    from dashboard.pages.cox import cox_outputs

    out = cox_outputs(page_ctx, [], [], "OS/DX", [], [])
    assert "covariate" in _json(out[0])


def test_post_baseline_exposure_warns_and_links_to_timing(page_ctx):
    from dashboard.pages.survival import survival_outputs

    out = survival_outputs(page_ctx, [], [], "OS/DX", "hct", "months")
    assert "/timing" in _json(out[5])
    assert survival_outputs(page_ctx, [], [], "OS/HCT1", "subtype", "months")[5] is None


def test_results_come_from_the_cache(page_ctx):
    from reports.survival import survival_view

    cache = page_ctx.service.cache
    survival_view(page_ctx.service, CohortSpec(), "OS", "DX", "lineage", "years", MIN_CELL)
    hits = cache.hits
    survival_view(page_ctx.service, CohortSpec(), "OS", "DX", "lineage", "years", MIN_CELL)
    assert cache.hits == hits + 1


@pytest.mark.parametrize(
    ("page", "args"),
    [
        ("cox", ("OS/DX", ["lineage", "age_at_dx"], [])),
        ("competing", ("CIR/CR1", "lineage", "months")),
    ],
)
def test_whole_page_outputs_come_from_the_cache(page_ctx, page, args):
    """A repeated cohort and options return the same outputs (figure included) from the cache, without
    rebuilding the figure; another option is computed afresh."""
    import importlib

    outputs = getattr(importlib.import_module(f"dashboard.pages.{page}"), f"{page}_outputs")
    first = outputs(page_ctx, [], [], *args)
    misses = page_ctx.service.cache.misses
    again = outputs(page_ctx, [], [], *args)
    assert page_ctx.service.cache.misses == misses  # nothing computed
    assert all(a is b for a, b in zip(first, again, strict=True))
    other = outputs(page_ctx, [], [], "EFS/DX" if page == "cox" else "NRM/CR1", *args[1:])
    assert other[1] is not first[1]


def test_url_state_round_trip(page_ctx):
    from dashboard.state import cohort_from_values, encode_search, filter_values_from_query, parse_search

    search = "?lineage=T&age_group=15-19&age_group=20-24&dx_year=2005..2015&hct=yes&endpoint=OS/DX&by=subtype"
    values = filter_values_from_query(parse_search(search))
    cohort = cohort_from_values(values)
    assert cohort.to_dict() == {
        "filters": {
            "age_group": ["15-19", "20-24"],
            "lineage": ["T"],
            "dx_year": {"min": 2005, "max": 2015},
            "hct": [True],
        }
    }
    again = encode_search(values, [("endpoint", "OS/DX"), ("by", "subtype")])
    assert parse_search(again) == parse_search(search)


def test_cohort_file_upload_round_trip(page_ctx):
    import base64

    from ayaall.errors import UserError
    from dashboard.sidebar import parse_cohort_upload
    from dashboard.state import values_from_cohort

    doc = {"filters": {"lineage": ["B"], "dx_year": {"min": 2010, "max": 2020}}}
    contents = "data:application/json;base64," + base64.b64encode(json.dumps(doc).encode()).decode()
    cohort = parse_cohort_upload(contents, "c.json")
    assert cohort.to_dict() == doc
    assert values_from_cohort(cohort)["dx_year"] == [2010, 2020]
    bad = "data:application/json;base64," + base64.b64encode(b'{"filters": {"wbc_at_dx": [1]}}').decode()
    with pytest.raises(UserError, match="does not offer"):
        parse_cohort_upload(bad, "bad.json")


def test_min_cell_cannot_be_changed_from_the_browser(page_ctx):
    from dashboard.app import create_app

    app = create_app(page_ctx.service.db_path)
    inputs = {i["property"] for cb in app.callback_map.values() for i in cb["inputs"]}
    assert not any("min" in p and "cell" in p for p in inputs)


def test_basic_auth_and_trusted_header(page_ctx, tmp_path):
    from werkzeug.security import generate_password_hash

    from dashboard.app import create_app

    users = tmp_path / "users"
    users.write_text(f"ana:{generate_password_hash('s3cret')}\n")
    app = create_app(page_ctx.service.db_path, Settings(basic_auth_file=users))
    client = app.server.test_client()
    assert client.get("/").status_code == 401
    assert client.get("/", auth=("ana", "wrong")).status_code == 401
    assert client.get("/", auth=("ana", "s3cret")).status_code == 200
    app = create_app(page_ctx.service.db_path, Settings(trusted_user_header="X-Remote-User"))
    client = app.server.test_client()
    assert client.get("/").status_code == 403
    assert client.get("/", headers={"X-Remote-User": "ana"}).status_code == 200


def test_serve_command_is_registered():
    from ayaall.cli import build_parser

    args = build_parser().parse_args(["serve", "--db", "x.duckdb"])
    assert (args.host, args.port, args.min_cell) == ("127.0.0.1", 8050, 11)
    assert callable(args.handler)


@pytest.mark.parametrize("min_cell", ["0", "1"])
def test_serve_refuses_exact_counts_without_the_flag_that_names_the_risk(min_cell, demo_db, capsys, monkeypatch):
    """[serve_min_cell_0] ``ayaall serve --min-cell 0`` (or 1: blocks of one patient) stops with one
    sentence naming --unsafe-exact-counts, before any app is built; with the flag it starts (the server,
    ``serve_app``, replaced here) and warns that every browser gets exact counts."""
    from ayaall.cli import main

    started = []
    monkeypatch.setattr("dashboard.command.serve_app", lambda app, host, port, settings: started.append(port))
    assert main(["serve", "--db", str(demo_db), "--min-cell", min_cell]) != 0
    err = capsys.readouterr().err
    assert "--unsafe-exact-counts" in err
    assert "single patients" in err
    assert "Traceback" not in err
    assert started == []
    assert main(["serve", "--db", str(demo_db), "--min-cell", min_cell, "--unsafe-exact-counts"]) == 0
    assert started
    assert "no disclosure control" in capsys.readouterr().err
    assert main(["serve", "--db", str(demo_db)]) == 0  # the default needs no flag
