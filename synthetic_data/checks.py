"""Read a written extract back as text and list the ways it breaks the contract or its own history.

Used by the generator's tests (and handy when changing the simulation): ``consistency_problems`` on a
clean extract must return an empty list.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from ayaall.contract import TABLES, Kind

__all__ = ["consistency_problems", "normalized", "read_tables"]

_EVENT_DATES = (
    ("treatment_lines", "start_date"),
    ("responses", "assessment_date"),
    ("relapses", "relapse_date"),
    ("transplants", "hct_date"),
    ("transplants", "agvhd_date"),
    ("transplants", "cgvhd_date"),
    ("treatment_lines", "end_date"),
    ("adverse_events", "onset_date"),
    ("adverse_events", "resolution_date"),
)


def read_tables(out_dir: str | Path) -> dict[str, pl.DataFrame]:
    """Every table of the extract in ``out_dir`` with all columns as text (empty cell = null)."""
    out = {}
    for name in TABLES:
        for suffix in ("csv", "parquet"):
            path = Path(out_dir) / f"{name}.{suffix}"
            if path.exists():
                if suffix == "csv":
                    frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True)
                else:
                    frame = pl.read_parquet(path)
                out[name] = frame.with_columns(pl.all().cast(pl.Utf8))
    return out


def normalized(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Codes upper-cased and stripped, local regimen names mapped, as the loader does (no typing)."""
    mapping = dict(zip(tables["regimen_map"]["local_name"], tables["regimen_map"]["regimen"], strict=True))
    out = {}
    for name, frame in tables.items():
        spec = TABLES[name]
        exprs = []
        for c in frame.columns:
            if c in spec.column_names and spec.column(c).kind is Kind.CODE:
                e = pl.col(c).str.strip_chars()
                if c == "regimen" and name == "treatment_lines":
                    e = e.replace(mapping)
                exprs.append(e.str.to_uppercase().alias(c))
        out[name] = frame.with_columns(exprs) if exprs else frame
    return out


def consistency_problems(out_dir: str | Path) -> list[str]:
    """Contract and date-consistency violations of a *clean* extract (empty list = none).

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder written by ``generate_registry`` with ``messy=0``.

    Returns
    -------
    list of str
        One sentence per problem found.
    """
    cutoff = json.loads((Path(out_dir) / "manifest.json").read_text())["data_cutoff"]
    t = normalized(read_tables(out_dir))
    problems: list[str] = []
    ids = t["patients"]["patient_id"]
    for name, spec in TABLES.items():
        frame = t[name]
        if tuple(frame.columns) != spec.column_names:
            problems.append(f"{name}: columns {frame.columns}")
        if frame.select(spec.key).is_duplicated().any():
            problems.append(f"{name}: duplicate keys")
        for col in spec.columns:
            values = frame[col.name]
            if col.required and values.null_count():
                problems.append(f"{name}.{col.name}: missing required values")
            if col.kind is Kind.CODE:
                present = values.drop_nulls()
                bad = present.filter(~present.is_in(pl.Series(col.codes).implode()))
                if bad.len():
                    problems.append(f"{name}.{col.name}: codes {bad.unique().to_list()[:5]}")
            if col.kind is Kind.DATE and values.drop_nulls().str.to_date("%Y-%m-%d", strict=False).null_count():
                problems.append(f"{name}.{col.name}: unparseable dates")
        if name != "regimen_map" and name != "patients" and not frame["patient_id"].is_in(ids.implode()).all():
            problems.append(f"{name}: orphan rows")
    for name in ("patients", "diagnoses", "followup"):
        if t[name].height != ids.len() or t[name]["patient_id"].n_unique() != ids.len():
            problems.append(f"{name}: not one row per patient")
    lines = t["treatment_lines"].select(["patient_id", "line_no"])
    if t["responses"].join(lines, on=["patient_id", "line_no"], how="anti").height:
        problems.append("responses: assessments without a treatment line")
    fu = t["followup"]
    dead = fu["vital_status"] == "DEAD"
    if (dead != fu["death_date"].is_not_null()).any():
        problems.append("followup: death_date present iff DEAD is violated")
    person = (
        t["diagnoses"]
        .select("patient_id", "dx_date")
        .join(fu.select("patient_id", "death_date", "last_contact_date"), on="patient_id")
    )
    for name, date_col in _EVENT_DATES:
        ev = t[name].select("patient_id", pl.col(date_col).alias("d")).drop_nulls().join(person, on="patient_id")
        for what, cond in (
            ("before diagnosis", pl.col("d") < pl.col("dx_date")),
            ("after death", pl.col("d") > pl.col("death_date")),
            ("after last contact", pl.col("d") > pl.col("last_contact_date")),
            ("after the cutoff", pl.col("d") > cutoff),
        ):
            if ev.filter(cond).height:
                problems.append(f"{name}.{date_col}: {ev.filter(cond).height} dates {what}")
    if person.filter(pl.col("last_contact_date") < pl.col("dx_date")).height:
        problems.append("followup: last contact before diagnosis")
    if person.filter((pl.col("death_date") < pl.col("dx_date")) | (pl.col("death_date") > cutoff)).height:
        problems.append("followup: death before diagnosis or after the cutoff")
    hct = t["transplants"]
    if hct.filter((pl.col("agvhd_date") < pl.col("hct_date")) | (pl.col("cgvhd_date") < pl.col("hct_date"))).height:
        problems.append("transplants: GVHD onset before the transplant")
    return problems + _adverse_event_problems(t)


def _adverse_event_problems(t: dict[str, pl.DataFrame]) -> list[str]:
    """Adverse events (format 1.1) that break their line or the death record."""
    problems = []
    ae = t["adverse_events"].join(
        t["treatment_lines"].select("patient_id", "line_no", "start_date"), on=["patient_id", "line_no"], how="left"
    )
    if ae.filter(pl.col("start_date").is_null()).height:
        problems.append("adverse_events: events without a treatment line")
    if ae.filter(pl.col("onset_date") < pl.col("start_date")).height:
        problems.append("adverse_events: onset before the start of its line")
    if ae.filter(pl.col("resolution_date") < pl.col("onset_date")).height:
        problems.append("adverse_events: resolution before onset")
    fatal = ae.filter(pl.col("grade") == "5").join(t["followup"], on="patient_id", how="left")
    if fatal.filter(pl.col("vital_status") != "DEAD").height:
        problems.append("adverse_events: grade 5 for a patient not recorded DEAD")
    if fatal.filter(~pl.col("cause_of_death").is_in(["INFECTION", "TOXICITY"])).height:
        problems.append("adverse_events: grade 5 with a cause of death other than INFECTION or TOXICITY")
    return problems
