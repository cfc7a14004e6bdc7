"""Data quality page: the load report, quarantine counts by reason, warnings, the data cut-off and the
extract's provenance (``load_runs``). Only counts by category are shown, masked like every other count;
no quarantined row, raw value or patient id reaches the browser."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import ids
from dashboard.components import data_table, run_safely
from dashboard.context import PageContext
from disclosure.counts import release_table
from disclosure.policy import ReleasePolicy

__all__ = ["OPTIONS", "PATH", "TITLE", "layout", "reason_category", "register"]

PATH = "/quality"
TITLE = "Data quality"
OPTIONS: dict[str, Any] = {}

# Quarantine reasons and warnings name rows, ids and raw values; they are shown by category only.
_CATEGORIES: tuple[tuple[str, str], ...] = (
    (r"^excluded from endpoints \(([^)]*)\)", r"excluded from endpoints: \1"),
    (r"is empty; it is a required value", "required value missing"),
    (r"^exact duplicate", "exact duplicate row"),
    (r"^conflicting rows", "conflicting duplicate rows"),
    (r"is not in patients", "unknown patient"),
    (r"is not an ISO date", "invalid date"),
    (r"is not a (whole )?number", "invalid number"),
    (r"is not one of the codes", "unknown code"),
    (r"more fields than the header|fewer fields than the header", "malformed row"),
    (r"no loaded treatment line", "no matching treatment line"),
    (r"earlier than an event", "last contact before a recorded event"),
    (r"given for a patient recorded ALIVE", "death date for a living patient"),
    (r"unknown column", "unknown column"),
    (r"before (dx_date|diagnosis)", "dated before diagnosis"),
    (r"after (the )?death", "dated after death"),
)


def reason_category(reason: str | None) -> str:
    """A quarantine reason or warning reduced to its category (no ids, dates or raw values)."""
    text = reason or ""
    for pattern, label in _CATEGORIES:
        match = re.search(pattern, text)
        if match:
            return match.expand(label) if "\\1" in label else label
    return "other"


def layout(query: dict[str, list[str]], page_ctx: PageContext) -> html.Div:
    return html.Div(
        [
            html.H2("Data quality"),
            html.P(
                "How the extract was loaded: rows read, loaded and quarantined per table, why rows were "
                "quarantined, warnings on loaded rows, and where the data came from.",
                className="lead-text",
            ),
            dcc.Loading(html.Div(id=ids.QUALITY_CONTENT)),
            dcc.Store(id="quality-trigger", data=1),
        ]
    )


def register(app: Any, page_ctx: PageContext) -> None:
    @app.callback(Output(ids.QUALITY_CONTENT, "children"), Input("quality-trigger", "data"), State(ids.URL, "pathname"))
    def update(_trigger: int, _path: str | None) -> Any:
        return run_safely(lambda: quality_content(page_ctx), 1)


def quality_content(page_ctx: PageContext) -> html.Div:
    service, min_cell = page_ctx.service, page_ctx.min_cell
    return service.cached(("quality", min_cell), lambda: _content(page_ctx))


def _content(page_ctx: PageContext) -> html.Div:
    service, min_cell = page_ctx.service, page_ctx.min_cell
    runs = service.query_df(
        "SELECT load_id, registry, extract_date, data_cutoff, started_at, finished_at, package_version, status, "
        "patients, patients_excluded, time_to_event_rows, extract_fingerprint FROM load_runs ORDER BY started_at"
    )
    latest = runs.iloc[-1] if len(runs) else None
    provenance = []
    if latest is not None:
        cutoff = pd.Timestamp(latest["data_cutoff"]).date().isoformat() if pd.notna(latest["data_cutoff"]) else "?"
        provenance = [
            html.P(
                [
                    html.Strong("Data cut-off: "),
                    cutoff,
                    " · ",
                    html.Strong("Registry: "),
                    str(latest["registry"]),
                    " · ",
                    html.Strong("Extract date: "),
                    str(latest["extract_date"]),
                ],
                className="cutoff",
            ),
        ]
    policy = page_ctx.policy
    runs_shown = release_table(runs, ["patients", "patients_excluded", "time_to_event_rows"], policy)
    if len(runs):  # the latest load's patients are this database's: released as the Cohort page does
        registry, excluded = _registry_cells(page_ctx)
        last = runs.index[-1]
        runs_shown.loc[last, "patients"] = policy.count(int(runs.loc[last, "patients"]), registry)
        runs_shown.loc[last, "patients_excluded"] = policy.count(int(runs.loc[last, "patients_excluded"]), excluded)
    runs_shown["data_cutoff"] = runs_shown["data_cutoff"].astype(str).str[:10]
    runs_shown["started_at"] = runs_shown["started_at"].astype(str).str[:19]
    runs_shown["finished_at"] = runs_shown["finished_at"].astype(str).str[:19]
    runs_shown["extract_fingerprint"] = runs_shown["extract_fingerprint"].astype(str).str[:12]
    report = service.query_df(
        "SELECT table_name, source_file, rows_read, rows_loaded, rows_quarantined, warnings FROM load_report"
    )
    report_shown = release_table(report, ["rows_read", "rows_loaded", "rows_quarantined", "warnings"], policy)
    patients_rows = report["table_name"] == "patients"
    if patients_rows.sum() == 1:  # the patients loaded are the registry's patients
        i = report.index[patients_rows][0]
        report_shown.loc[i, "rows_loaded"] = policy.count(
            int(report.loc[i, "rows_loaded"]), _registry_cells(page_ctx)[0]
        )
    quarantine = _by_category(service.query_df("SELECT table_name, reason FROM quarantine"), "reason", policy)
    warnings = _by_category(service.query_df("SELECT table_name, issue FROM data_quality_issues"), "issue", policy)
    return html.Div(
        [
            *provenance,
            html.H3("Load report"),
            data_table(
                report_shown.rename(
                    columns={
                        "table_name": "Table",
                        "source_file": "File",
                        "rows_read": "Read",
                        "rows_loaded": "Loaded",
                        "rows_quarantined": "Quarantined",
                        "warnings": "Warnings",
                    }
                ),
                count_columns=["Read", "Loaded", "Quarantined", "Warnings"],
            ),
            html.H3("Quarantined rows by reason"),
            data_table(quarantine, count_columns=["Rows"]),
            html.H3("Warnings on loaded rows"),
            data_table(warnings, count_columns=["Rows"]),
            html.H3("Extract provenance (load runs)"),
            data_table(runs_shown, count_columns=["patients", "patients_excluded", "time_to_event_rows"]),
            html.P(policy.sentence() if min_cell else "", className="notes"),
        ]
    )


def _registry_cells(page_ctx: PageContext) -> tuple[int | None, int | None]:
    """The cell keys of the registry's patients and of those excluded (``etl.read.attrition``'s first rows)."""
    from ayaall.cohort import CohortSpec
    from disclosure.cellkey import key_difference

    frame = page_ctx.service.attrition(CohortSpec())
    registry = frame["remaining_key"].iloc[0]
    included = frame.loc[frame["step"] != "filter", "remaining_key"].iloc[-1]
    return registry, key_difference(registry, included)


def _by_category(frame: pd.DataFrame, column: str, policy: ReleasePolicy) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame({"Table": [], "Reason": [], "Rows": []})
    frame = frame.assign(category=frame[column].map(reason_category))
    counts = frame.groupby(["table_name", "category"], sort=True).size().reset_index(name="Rows")
    counts = release_table(counts, ["Rows"], policy)
    return counts.rename(columns={"table_name": "Table", "category": "Reason"})
