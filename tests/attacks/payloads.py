"""Requests a reader can make, and the rows behind them.

Each ``*_page`` function calls a page's callback function as the server does and returns its outputs as the
browser receives them; ``export_workbook`` runs an export to XLSX and reads every sheet back;
``analyze_curves`` reads the curves of ``ayaall analyze`` JSON. The ``*_subjects`` functions build the
truth: the rows each analysis uses, from the database through the lower layers (``etl.read``,
``analyses.counting``), never through ``disclosure``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from attacks.harness import (
    Curve,
    Release,
    Subjects,
    cohort_spec,
    filter_ids,
    page_values,
    parse_count,
    plain,
    tables,
    text_of,
)

__all__ = [
    "analyze_curves",
    "competing_page",
    "export_workbook",
    "frame_curves",
    "group_counts",
    "group_sizes",
    "iptw_subjects",
    "km_subjects",
    "landmark_subjects",
    "response_page",
    "sentence_counts",
    "simon_makuch_subjects",
    "summary_counts",
    "survival_page",
    "table1_counts",
    "table1_page",
    "timing_page",
    "weighting_page",
]


# -------------------------------------------------------------------------------------------- requests
def survival_page(ctx: Any, filters: Mapping[str, Any], endpoint: str, by: str | None, unit: str = "days") -> Any:
    from dashboard.pages.survival import survival_outputs

    return plain(survival_outputs(ctx, page_values(filters), filter_ids(), endpoint, by or "none", unit))


def competing_page(ctx: Any, filters: Mapping[str, Any], endpoint: str, by: str | None, unit: str = "days") -> Any:
    from dashboard.pages.competing import competing_outputs

    return plain(competing_outputs(ctx, page_values(filters), filter_ids(), endpoint, by or "none", unit))


def timing_page(
    ctx: Any, filters: Mapping[str, Any], exposure: str, endpoint: str, marks: Sequence[str], unit: str = "days"
) -> Any:
    from dashboard.pages.timing import timing_outputs

    return plain(timing_outputs(ctx, page_values(filters), filter_ids(), exposure, endpoint, list(marks), [], unit))


def weighting_page(
    ctx: Any,
    filters: Mapping[str, Any],
    levels: Sequence[str],
    covariates: Sequence[str],
    estimand: str,
    target: str | None,
    unit: str = "days",
) -> Any:
    from dashboard.pages.weighting import weighting_outputs

    return plain(
        weighting_outputs(
            ctx,
            page_values(filters),
            filter_ids(),
            "salvage_regimen",
            list(levels),
            list(covariates),
            estimand,
            target,
            "none",
            "none",
            "OS/LINE2",
            unit,
        )
    )


def response_page(ctx: Any, filters: Mapping[str, Any], line: str, outcome: str, by: str) -> Any:
    from dashboard.pages.response import response_outputs

    return plain(response_outputs(ctx, page_values(filters), filter_ids(), line, outcome, by))


def table1_page(ctx: Any, filters: Mapping[str, Any], by: str | None) -> pd.DataFrame:
    """The Cohort page's Table 1 (``reports.table1.table1``, the frame ``data_table`` shows)."""
    from reports.table1 import table1

    return table1(ctx.service, cohort_spec(filters), by, ctx.min_cell)


def export_workbook(service: Any, **request: Any) -> dict[str, pd.DataFrame]:
    """Every sheet of an XLSX export of ``ExportRequest(**request)`` (count cells as numbers, masked empty)."""
    from export.exporter import prepare, render
    from export.requests import ExportRequest

    content = prepare(service, ExportRequest(format="xlsx", **request), cohort_source={})
    data = render(content, "attack.xlsx")["attack.xlsx"]
    return pd.read_excel(io.BytesIO(data), sheet_name=None)


# ---------------------------------------------------------------------------------------------- readers
def summary_counts(payload: Any, release: Release, first: str = "Group") -> dict[str, dict[str, tuple[int, int]]]:
    """Per group, the bounds of the counts of a page's per-group table (the first column ``first``): every
    column whose header names patients or events."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for rows in tables(payload):
        if not rows or rows[0][:1] != [first]:
            continue
        header = rows[0]
        count_cols = [i for i, h in enumerate(header) if "Patients" in h or "Events" in h or "events" in h]
        for row in rows[1:]:
            for i in count_cols:
                if i < len(row):
                    out.setdefault(row[0], {})[header[i]] = release.bounds(parse_count(row[i]))
    return out


def group_counts(payload: Any, first: str = "Group") -> dict[str, int | None]:
    """Every count cell of a page's per-group tables ('group | column' -> value as shown; in a risk table,
    whose second column is its time, 'group @ time | column')."""
    out: dict[str, int | None] = {}
    for rows in tables(payload):
        if not rows or rows[0][:1] != [first]:
            continue
        timed = len(rows[0]) > 1 and rows[0][1].startswith(("Time", "Day"))  # a risk table: a row per time
        for row in rows[1:]:
            where = f"{row[0]} @ {row[1]}" if timed else row[0]
            for head, cell in zip(rows[0][1:], row[1:], strict=False):
                if any(w in head.lower() for w in ("patients", "events", "responders", "at risk", "censored")):
                    out[f"{where} | {head}"] = parse_count(cell)
    return out


def table1_counts(frame: pd.DataFrame) -> dict[str, int | None]:
    """Every count cell of Table 1 ('variable | level | group' -> value as shown), and the group sizes."""
    out: dict[str, int | None] = {}
    variable = ""
    groups = [c for c in frame.columns if "(n=" in c]
    for c in groups:
        out[f"n | {c.split(' (n=')[0]}"] = parse_count(c.split("(n=")[1].rstrip(")"))
    for row in frame.itertuples(index=False):
        record = dict(zip(frame.columns, row, strict=True))
        variable = record["Characteristic"] or variable
        if record["Level"] in ("median (IQR)", "mean (SD)"):
            continue
        for c in groups:
            out[f"{variable} | {record['Level']} | {c.split(' (n=')[0]}"] = parse_count(record[c])
    return out


def sentence_counts(payload: Any) -> dict[str, int | None]:
    """The Response page's totals sentence ("1,187 patients started the line; 573 responded; ...")."""
    out: dict[str, int | None] = {}
    text = text_of(payload)
    for name, pattern in (
        ("started", r"([\d,—]+|fewer than \d+) patients started"),
        ("responded", r"; ([\d,—]+|fewer than \d+) responded"),
        ("not assessed", r"; ([\d,—]+|fewer than \d+) had no assessment"),
    ):
        match = re.search(pattern, text)
        if match:
            out[name] = parse_count(match.group(1))
    return out


def _float(values: Sequence[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def analyze_curves(doc: Mapping[str, Any]) -> list[Curve]:
    """The curves of ``ayaall analyze km`` JSON, one per group."""
    out = []
    for g in doc.get("groups", []):
        rows = g.get("curve") or []
        if len(rows) < 2:
            continue
        out.append(
            Curve(
                panel="analyze",
                group=str(g["group"]),
                x=_float([r["time_days"] for r in rows]),
                y=_float([r["survival"] for r in rows]),
                lower=_float([r.get("ci_lower") for r in rows]),
                upper=_float([r.get("ci_upper") for r in rows]),
            )
        )
    return out


def frame_curves(
    frame: pd.DataFrame,
    y: str = "survival",
    lower: str = "ci_lower",
    upper: str = "ci_upper",
    by: Sequence[str] = ("group",),
) -> list[Curve]:
    """Curves from an export's curve table (one per value of the ``by`` columns)."""
    out = []
    for key, rows in frame.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        out.append(
            Curve(
                panel=" ".join(str(k) for k in key[:-1]),
                group=str(key[-1]),
                x=rows["time_days"].to_numpy(float),
                y=rows[y].to_numpy(float),
                lower=rows[lower].to_numpy(float) if lower in rows else None,
                upper=rows[upper].to_numpy(float) if upper in rows else None,
                marks=rows["time_days"].to_numpy(float)[rows["has_censoring"].astype(bool).to_numpy()]
                if "has_censoring" in rows
                else None,
            )
        )
    return out


def group_sizes(payload: Any, release: Release) -> dict[str, int]:
    """Each group's largest possible size, from the page's per-group table (for the inversion's first step)."""
    return {g: max(v[1] for v in cols.values()) for g, cols in summary_counts(payload, release).items() if cols}


# ------------------------------------------------------------------------------------------------ truth
def km_subjects(service: Any, filters: Mapping[str, Any], endpoint: str, origin: str, by: str | None) -> Subjects:
    frame = service.frame(cohort_spec(filters), endpoint, origin, [by] if by else [])
    return Subjects.of(frame, by)


def _exposure(service: Any, filters: Mapping[str, Any], endpoint: str, origin: str, exposure: str) -> pd.DataFrame:
    from etl.read import exposure_frame

    with service.reading() as cur:
        return exposure_frame(cur, cohort_spec(filters), endpoint, origin, exposure, [], identifiers=False)


def landmark_subjects(
    service: Any, filters: Mapping[str, Any], endpoint: str, origin: str, exposure: str, mark: float
) -> Subjects:
    """Patients in follow-up after day ``mark``, by exposure on or before it, with time from the landmark."""
    frame = _exposure(service, filters, endpoint, origin, exposure)
    frame = frame[frame["time_days"] > mark]
    expo = pd.to_numeric(frame["exposure_days"], errors="coerce")
    return Subjects(
        entry=np.full(len(frame), -np.inf),
        stop=frame["time_days"].to_numpy(float) - mark,
        status=frame["event_code"].to_numpy(int),
        group=np.where(expo.to_numpy(float) <= mark, "exposed", "unexposed").astype(object),
    )


def simon_makuch_subjects(
    service: Any, filters: Mapping[str, Any], endpoint: str, origin: str, exposure: str
) -> Subjects:
    """Counting-process rows: unexposed until exposure, exposed after it (``analyses.counting``)."""
    from analyses.counting import start_stop_frame

    frame = _exposure(service, filters, endpoint, origin, exposure)
    rows = start_stop_frame(frame, "time_days", "event_code", "exposure_days")
    start = rows["start"].to_numpy(float)
    return Subjects(
        entry=np.where(start <= 0, -np.inf, start),
        stop=rows["stop"].to_numpy(float),
        status=rows["event"].to_numpy(int),
        group=np.where(rows["exposed"].to_numpy() == 1, "exposed", "unexposed").astype(object),
    )


def iptw_subjects(
    service: Any, filters: Mapping[str, Any], levels: Sequence[str], covariates: Sequence[str]
) -> Subjects:
    """The patients a weighted comparison of salvage regimens analyses (levels given, every covariate known)."""
    frame = service.frame(cohort_spec(filters), "OS", "LINE2", ["salvage_regimen", *covariates])
    frame = frame[frame["salvage_regimen"].astype(str).isin(levels)].dropna(subset=list(covariates))
    return Subjects.of(frame, "salvage_regimen")
