"""The toxicity stack from the exact estimates to what leaves the server (issue 15, items 4-6): the release
rules of ``disclosure.toxicity``, and the Toxicity page, ``ayaall analyze toxicity`` and the ``toxicity``
export showing the same released numbers."""

from __future__ import annotations

import contextlib
import io
import json
import math
from typing import Any

import pandas as pd
import pytest

from ayaall.cohort import CohortSpec

MIN_CELL = 11
EVENTS = ("CRS", "ICANS", "VOD_SOS", "INFECTION")


@pytest.fixture(scope="module")
def page_ctx(service):
    from ayaall.settings import Settings
    from dashboard.context import PageContext

    return PageContext(service, Settings(min_cell=MIN_CELL))


def _analyze(demo_db, *args: str) -> tuple[int, dict[str, Any] | None, str]:
    """``ayaall analyze toxicity ARGS --db DB --json`` in this process: exit code, document, stderr."""
    from ayaall.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["analyze", "toxicity", "--db", str(demo_db), *args, "--json"])
    return code, (json.loads(out.getvalue()) if code == 0 else None), err.getvalue()


def _page(page_ctx, cohort: CohortSpec, line: int, event: str, grade: int, by: str) -> list[Any]:
    """The Toxicity page's outputs for ``cohort`` as the browser receives them."""
    import plotly.utils

    from ayaall.filters import FILTERS
    from dashboard.pages.toxicity import toxicity_outputs
    from dashboard.state import values_from_cohort

    values = values_from_cohort(cohort)
    ids_ = [{"type": "cohort-filter", "column": s.column} for s in FILTERS]
    outputs = toxicity_outputs(page_ctx, [values[s.column] for s in FILTERS], ids_, str(line), event, str(grade), by)
    return json.loads(json.dumps(outputs, cls=plotly.utils.PlotlyJSONEncoder))


def _rows(node: Any) -> list[list[str]]:
    """The cell texts of the first table in a serialized component tree."""

    def walk(n: Any):
        yield n
        if isinstance(n, dict):
            for v in n.values():
                yield from walk(v)
        elif isinstance(n, list):
            for v in n:
                yield from walk(v)

    def text(n: Any) -> str:
        if isinstance(n, dict):
            return text(n.get("props", {}).get("children"))
        if isinstance(n, list):
            return "".join(text(c) for c in n)
        return "" if n is None else str(n)

    table = next(n for n in walk(node) if isinstance(n, dict) and n.get("type") == "Table")
    return [
        [text(td) for td in tr["props"]["children"]]
        for tr in walk(table)
        if isinstance(tr, dict) and tr.get("type") == "Tr"
    ]


def _count(text: str) -> int | None:
    return None if text in ("—", "–") else int(text.replace(",", ""))


@pytest.mark.parametrize(
    ("filters", "line", "by"),
    [({}, 2, "regimen"), ({"lineage": ["B"]}, 1, "sex"), ({}, 1, "none")],
    ids=["line2-regimen", "B-line1-sex", "line1-all"],
)
def test_page_analyze_and_export_show_the_same_toxicity_numbers(
    filters, line, by, demo_db, service, page_ctx, tmp_path
) -> None:
    """[toxicity_layers] For one cohort, line and grouping: the page's rates table (patients, with the event,
    proportion and interval), its p-value, onset and risk table; ``analyze toxicity``'s groups, tests,
    onset, worst grades and risk table; and the export's proportions, tests, onset, worst_grade and
    risk_table sheets hold the same released numbers."""
    from export.exporter import prepare
    from export.requests import ExportRequest
    from reports.formatting import format_p, percent_with_ci

    cohort = CohortSpec.from_dict({"filters": filters})
    path = tmp_path / "cohort.json"
    path.write_text(json.dumps({"filters": filters}))
    code, doc, err = _analyze(demo_db, "--line", str(line), "--by", by, "--cohort", str(path), "--min-cell", "11")
    assert code == 0, err
    assert doc["release"]["min_cell"] == MIN_CELL
    request = ExportRequest(figure="toxicity", line=line, by=by, cohort=cohort.to_dict(), format="xlsx")
    frames = prepare(service, request, cohort_source={}).frames
    exported = frames["proportions"].set_index(["event", "min_grade", "group"])
    assert frames["totals"]["started_line"].tolist() == [doc["n"]]
    compared = 0
    for event in EVENTS:
        printed = next(e for e in doc["events"] if e["event"] == event)
        worst = frames["worst_grade"][frames["worst_grade"]["event"] == event]
        assert [w["n"] for w in printed["worst_grade"]] == [None if pd.isna(v) else int(v) for v in worst["n"]]
        assert [w["worst_grade"] for w in printed["worst_grade"]] == worst["worst_grade"].tolist()
        for threshold in printed["thresholds"]:
            grade = threshold["min_grade"]
            payload = _page(page_ctx, cohort, line, event, grade, by)
            rows = _rows(payload[1])[1:]
            assert [r[0] for r in rows] == [g["group"] for g in threshold["groups"]]
            for row, g in zip(rows, threshold["groups"], strict=True):
                cell = exported.loc[(event, grade, g["group"])]
                assert _count(row[1]) == g["n"] == (None if pd.isna(cell["n"]) else int(cell["n"]))
                assert _count(row[2]) == g["events"] == (None if pd.isna(cell["events"]) else int(cell["events"]))
                lo, hi = g["proportion_ci"]
                assert row[3] == percent_with_ci(g["proportion"], lo, hi)
                if g["proportion"] is None:
                    assert pd.isna(cell["proportion"])
                else:
                    assert math.isclose(cell["proportion"], g["proportion"], abs_tol=5e-5)
                compared += 1
            tests = frames["tests"][(frames["tests"]["event"] == event) & (frames["tests"]["min_grade"] == grade)]
            if threshold["test"] is not None:
                shown = format_p(threshold["test"]["p"])
                assert f"p = {shown}" in json.dumps(payload[1], ensure_ascii=False)
                assert format_p(float(tests["p"].iloc[0])) == shown
            onset = frames["onset"][(frames["onset"]["event"] == event) & (frames["onset"]["min_grade"] == grade)]
            assert [o["median_days"] for o in threshold["onset"]] == [
                None if pd.isna(v) else float(v) for v in onset["median_days"]
            ]
            risk = frames["risk_table"]
            risk = risk[(risk["event"] == event) & (risk["min_grade"] == grade)]
            printed_risk = threshold["cumulative_incidence"]["risk_table"]
            assert [r["at_risk"] for r in printed_risk] == [None if pd.isna(v) else int(v) for v in risk["at_risk"]]
            page_risk = _rows(payload[6]["props"]["children"][4])[1:]
            assert [_count(r[2]) for r in page_risk] == [r["at_risk"] for r in printed_risk]
            assert [_count(r[3]) for r in page_risk] == [r["events"] for r in printed_risk]
    assert compared >= 2 * len(EVENTS)


def test_released_proportions_are_computed_from_released_counts(service) -> None:
    """[toxicity_derived] Every count of the release is 0, masked, or a block midpoint; every proportion
    is events / n of the released counts with the Wilson interval of those (none for a group released as
    fewer than 3k patients); a p-value only where no group's count is masked."""
    from analyses.response import wilson_ci
    from reports.toxicity import toxicity_view

    view = toxicity_view(service, CohortSpec(), 2, "regimen", MIN_CELL)
    p = view.released.proportions
    for col in ("n", "events"):
        assert all(v is None or v == 0 or v % MIN_CELL == MIN_CELL // 2 + 1 for v in p[col]), col
    for r in p.to_dict("records"):
        if pd.isna(r["proportion"]):
            assert r["events"] is None or r["n"] is None or r["n"] < 3 * MIN_CELL
            continue
        assert r["proportion"] == pytest.approx(min(r["events"], r["n"]) / r["n"])
        assert (r["ci_lower"], r["ci_upper"]) == pytest.approx(wilson_ci(min(r["events"], r["n"]), r["n"]))
    masked = p["n"].isna() | p["events"].isna()
    hidden = masked.groupby([p["event"], p["min_grade"]]).any()
    tests = view.released.tests.set_index(["event", "min_grade"])
    assert hidden.any()
    assert (~hidden).any()
    for cell, is_hidden in hidden.items():
        if cell in tests.index:
            assert pd.isna(tests.loc[cell, "p"]) == is_hidden, cell
    gray = view.released.gray.set_index(["event", "min_grade"])
    for cell, is_hidden in hidden.items():
        if is_hidden and cell in gray.index:
            assert pd.isna(gray.loc[cell, "p"]), cell
    worst = view.released.worst_grade
    assert all(v is None or v == 0 or v % MIN_CELL == MIN_CELL // 2 + 1 for v in worst["n"])
    assert "statistic" not in view.released.tests.columns  # with the margins it would narrow the counts


def test_min_cell_0_releases_the_exact_analysis(service) -> None:
    """[toxicity_exact] With disclosure control off the view is the exact analysis: proportions, worst
    grades and onset as ``analyses.toxicity`` gives them on the line's rows."""
    from analyses.toxicity import analyze_toxicity
    from etl.read import load_toxicity_frame
    from reports.toxicity import toxicity_view

    view = toxicity_view(service, CohortSpec(), 1, "regimen", 0, ["CRS", "INFECTION"])
    with service.reading() as cur:
        frame = load_toxicity_frame(cur, CohortSpec(), 1, ["CRS", "INFECTION"])
    exact = analyze_toxicity(frame, "regimen")
    released = view.released.proportions
    assert released["n"].astype(int).tolist() == exact.proportions["n"].tolist()
    assert released["events"].astype(int).tolist() == exact.proportions["events"].tolist()
    assert released["ci_upper"].to_numpy() == pytest.approx(exact.proportions["ci_upper"].to_numpy())
    assert view.released.worst_grade["n"].astype(int).tolist() == exact.worst_grade["n"].tolist()
    medians = [None if pd.isna(v) else float(v) for v in exact.onset["median_days"]]
    assert view.released.onset["median_days"].tolist() == medians
    assert view.n == frame["patient_id"].nunique()


def test_worst_grades_are_merged_when_the_policy_allows_fewer_parts() -> None:
    """[toxicity_partition] Under min cell 5 a partition may show 4 parts: the seven worst-grade
    categories are released as NONE, UNK/1-2 and 3-5, whose counts are the sums of the exact ones."""
    from analyses.toxicity import GRADE_ORDER, ToxicityResult
    from disclosure.policy import ReleasePolicy
    from disclosure.toxicity import _worst, grade_categories

    assert grade_categories(ReleasePolicy(11)) == {g: g for g in GRADE_ORDER}
    assert sorted(set(grade_categories(ReleasePolicy(5)).values())) == ["3-5", "NONE", "UNK/1-2"]
    n = [40, 3, 10, 7, 20, 5, 1]
    worst = pd.DataFrame(
        {"group": "all", "event": "CRS", "worst_grade": list(GRADE_ORDER), "n": n, "total": sum(n), "percent": 0.0}
    )
    empty = pd.DataFrame()
    result = ToxicityResult(empty, empty, worst, empty, empty, empty, empty, None, 0.95)
    released = _worst(result, ReleasePolicy(5, noise=0), None)
    assert released["worst_grade"].tolist() == ["NONE", "UNK/1-2", "3-5"]
    assert released["n"].tolist() == [ReleasePolicy(5).count(c) for c in (40, 20, 26)]
    assert set(released["total"]) == {ReleasePolicy(5).count(86)}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--line", "3"], "The line must be 1 (frontline) or 2 (first salvage), not 3."),
        (["--by", "shoe_size"], "'shoe_size' not a column of analysis_patients"),
        (["--event", "HICCUPS"], "'HICCUPS' is not a toxicity of the extract"),
        (["--min-cell", "-1"], "--min-cell must be 0 or more"),
    ],
)
def test_analyze_toxicity_bad_input_is_one_sentence(demo_db, args, says) -> None:
    """[toxicity_input] An unknown line, column or toxicity is exit code 2 and one line on stderr."""
    code, doc, err = _analyze(demo_db, *args)
    assert code == 2
    assert doc is None
    assert says in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_export_toxicity_checks_its_options(service) -> None:
    """[toxicity_export_options] ``--grade`` 1 or 3, a known ``--event``; neither applies to another kind."""
    from ayaall.errors import UserError
    from export.exporter import default_stem, prepare
    from export.requests import ExportRequest

    for bad, says in (
        (ExportRequest(figure="toxicity", grade=2, format="csv"), "--grade must be 1"),
        (ExportRequest(figure="toxicity", event="HICCUPS", format="csv"), "is not a toxicity"),
        (ExportRequest(figure="km", endpoint="OS", origin="DX", event="CRS", format="csv"), "--event does not apply"),
        (ExportRequest(figure="toxicity", line=3, format="csv"), "--line must be 1"),
    ):
        with pytest.raises(UserError, match=says):
            prepare(service, bad, cohort_source={})
    request = ExportRequest(figure="toxicity", line=2, event="ICANS", grade=3, format="pdf")
    assert default_stem(request) == "toxicity_line2_ICANS_grade3"
    content = prepare(service, request, cohort_source={})
    assert "ASTCT 2019 consensus" in content.methods
    assert "CTCAE v5.0" in content.methods
    assert "next line" in content.methods
    assert "cmprsk" in content.methods
    assert content.manifest["request"]["event"] == "ICANS"
    figure = content.figure()
    assert "ICANS (grade" in json.dumps(figure.layout.to_plotly_json())  # the panel title (print: two lines)


def test_worst_grade_bars_stack_with_masked_shares_left_out(service) -> None:
    """[toxicity_bars] The worst-grade bars are stacked, one trace per category; a masked share is drawn as
    no bar (a NaN restarted plotly's stack at 0 and the bars overlaid), so each group's bar is the sum of
    its shown percentages, and the axis reaches the longest (parts rounded each on its own may pass 100%)."""
    from figures.views import toxicity_grade_figure
    from reports.toxicity import toxicity_view

    view = toxicity_view(service, CohortSpec(), 1, "regimen", MIN_CELL, ["INFECTION"])
    figure = toxicity_grade_figure(view, "INFECTION")
    assert figure.layout.barmode == "stack"
    bars = [t for t in figure.data if t.type == "bar"]
    assert [t.name for t in bars][:2] == ["None", "Grade unknown"]
    worst = view.released.worst_grade
    for i, group in enumerate(bars[0].y):
        drawn = sum(float(t.x[i]) for t in bars)
        shown = worst.loc[worst["group"] == group, "percent"].dropna().sum()
        assert drawn == pytest.approx(shown)
        assert drawn <= figure.layout.xaxis.range[1] + 1e-9
    assert any("—" in t.customdata for t in bars)  # a masked share says so on hover
