"""Turn a simulated chunk into the extract tables of format 1.1 (``ayaall.contract.TABLES``).

Applies the observation window (nothing after a patient's last contact, GVHD onsets only before
death; for adverse events ``toxicity.observed_adverse_events``) and writes the legal variations a
real extract has: local regimen names (resolved through ``regimen_map``) and a few codes in another
case or with surrounding spaces.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ayaall.contract import TABLES
from synthetic_data import params as P
from synthetic_data.cohort import Cohort
from synthetic_data.course import Course
from synthetic_data.toxicity import Toxicities, observed_adverse_events

__all__ = ["build_tables", "patient_ids", "regimen_map_table"]


def patient_ids(numbers: np.ndarray) -> pl.Series:
    """Patient ids ``P0000001``... for the given patient numbers."""
    return ("P" + pl.Series(numbers.astype(np.int64)).cast(pl.Utf8).str.zfill(7)).alias("patient_id")


def _dates(days: np.ndarray) -> pl.Series:
    ok = np.isfinite(days)
    s = pl.Series(np.where(ok, days, 0).astype(np.int32)).cast(pl.Date)
    return pl.select(pl.when(pl.Series(ok)).then(s)).to_series()


def _text(values: np.ndarray) -> pl.Series:
    s = pl.Series(values.astype(str), dtype=pl.Utf8)
    return pl.select(pl.when(s != "").then(s)).to_series()


def _variants(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """Write ``share`` of the codes in lower case or with surrounding spaces (legal, see contract)."""
    out = values.astype(object).copy()
    pick = np.flatnonzero((rng.random(values.shape[0]) < share) & (values != ""))
    style = rng.integers(0, 3, pick.size)
    for i, k in zip(pick, style, strict=True):
        v = str(out[i])
        out[i] = v.lower() if k == 0 else (f" {v} " if k == 1 else f" {v.lower()}")
    return out


def _local_names(rng: np.random.Generator, regimen: np.ndarray) -> np.ndarray:
    """Replace a share of regimen codes by a local name that ``regimen_map`` maps back."""
    out = regimen.astype(object).copy()
    by_code: dict[str, list[str]] = {}
    for name, code in P.LOCAL_REGIMEN_NAMES.items():
        by_code.setdefault(code, []).append(name)
    u = rng.random(out.shape[0])
    pick = np.asarray(rng.integers(0, 2, size=out.shape[0]))
    for code, names in by_code.items():
        sel = (regimen == code) & (u < P.P_LOCAL_NAME)
        out[sel] = np.array(names, dtype=object)[np.asarray(pick[sel]) % len(names)]
    return out


def regimen_map_table() -> pl.DataFrame:
    """The ``regimen_map`` table: every local name the generator writes and its regimen code."""
    return pl.DataFrame({"local_name": list(P.LOCAL_REGIMEN_NAMES), "regimen": list(P.LOCAL_REGIMEN_NAMES.values())})


def _order(pid: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    return np.lexsort((*reversed(keys), pid))


def build_tables(
    rng: np.random.Generator,
    coh: Cohort,
    course: Course,
    last_contact: np.ndarray,
    observed: np.ndarray,
    first_number: int,
    tox: Toxicities,
    tox_rng: np.random.Generator,
) -> dict[str, pl.DataFrame]:
    """Build the nine extract tables (``regimen_map`` excluded) of one simulated chunk.

    Parameters
    ----------
    rng : numpy.random.Generator
    coh : Cohort
    course : Course
    last_contact : numpy.ndarray
        Last contact (float days): the death date when the death is observed, else censoring.
    observed : numpy.ndarray
        True where the death is observed.
    first_number : int
        Patient number of index 0.
    tox : Toxicities
        The chunk's drawn adverse events.
    tox_rng : numpy.random.Generator
        The generator of the toxicities (their code variants), so the other tables do not change.

    Returns
    -------
    dict of str to polars.DataFrame
        Columns exactly as ``ayaall.contract.TABLES``.
    """
    n = coh.n
    pid_all = patient_ids(np.arange(n) + first_number)
    true_death = course.death
    out: dict[str, pl.DataFrame] = {}
    out["patients"] = pl.DataFrame(
        {
            "patient_id": pid_all,
            "sex": _text(_variants(rng, coh.sex, P.P_CODE_VARIANT)),
            "race": _text(coh.race),
            "ethnicity": _text(coh.ethnicity),
            "center_id": _text(np.char.add("C", np.char.zfill(coh.center.astype(str), 2))),
        }
    )
    out["diagnoses"] = pl.DataFrame(
        {
            "patient_id": pid_all,
            "dx_date": _dates(coh.dx),
            "age_at_dx": pl.Series(coh.age),
            "lineage": _text(_variants(rng, coh.lineage, P.P_CODE_VARIANT)),
            "subtype": _text(coh.subtype),
            "wbc_at_dx": pl.Series(coh.wbc),
            "cns_status": _text(coh.cns),
        }
    )
    lines = course.log.table("lines")
    # A relapse seen before the last contact always comes with its salvage line: a line-2 start that
    # falls after the last contact is recorded on the last contact date (still before any death), so
    # salvage_regimen is never NONE for an observed first relapse.
    lc_row, rel_row = last_contact[lines["pid"]], course.rel1[lines["pid"]]
    late = (lines["line_no"] == 2) & (lines["start"] > lc_row) & (rel_row <= lc_row)
    lines["start"] = np.where(late, lc_row, lines["start"])
    keep = lines["start"] <= last_contact[lines["pid"]]
    lines = {k: v[keep] for k, v in lines.items()}
    o = _order(lines["pid"], lines["line_no"])
    end = lines["end"][o]
    end = np.where(end <= last_contact[lines["pid"][o]], end, np.nan)
    regimen = _local_names(rng, _variants(rng, lines["regimen"][o], P.P_CODE_VARIANT))
    out["treatment_lines"] = pl.DataFrame(
        {
            "patient_id": pid_all.gather(lines["pid"][o]),
            "line_no": pl.Series(lines["line_no"][o].astype(np.int64)),
            "regimen": _text(regimen),
            "start_date": _dates(lines["start"][o]),
            "end_date": _dates(end),
        }
    )
    resp = course.log.table("responses")
    keep = resp["date"] <= last_contact[resp["pid"]]
    o = _order(resp["pid"][keep], resp["line_no"][keep], resp["date"][keep])
    r = {k: v[keep][o] for k, v in resp.items()}
    out["responses"] = pl.DataFrame(
        {
            "patient_id": pid_all.gather(r["pid"]),
            "line_no": pl.Series(r["line_no"].astype(np.int64)),
            "assessment_date": _dates(r["date"]),
            "response": _text(r["response"]),
            "mrd": _text(r["mrd"]),
            "mrd_level": pl.Series(r["mrd_level"], nan_to_null=True),
        }
    )
    rel = course.log.table("relapses")
    keep = rel["date"] <= last_contact[rel["pid"]]
    o = _order(rel["pid"][keep], rel["date"][keep])
    r = {k: v[keep][o] for k, v in rel.items()}
    out["relapses"] = pl.DataFrame(
        {
            "patient_id": pid_all.gather(r["pid"]),
            "relapse_date": _dates(r["date"]),
            "site": _text(_variants(rng, r["site"], P.P_CODE_VARIANT)),
        }
    )
    hct = course.log.table("transplants")
    keep = hct["date"] <= last_contact[hct["pid"]]
    o = _order(hct["pid"][keep], hct["date"][keep])
    h = {k: v[keep][o] for k, v in hct.items()}
    limit_ok = {}
    for col in ("agvhd_date", "cgvhd_date"):
        d = h[col]
        limit_ok[col] = (d < true_death[h["pid"]]) & (d <= last_contact[h["pid"]])
    out["transplants"] = pl.DataFrame(
        {
            "patient_id": pid_all.gather(h["pid"]),
            "hct_date": _dates(h["date"]),
            "donor_type": _text(h["donor"]),
            "disease_status": _text(h["status"]),
            "conditioning": _text(h["conditioning"]),
            "agvhd_grade": _text(np.where(limit_ok["agvhd_date"] | (h["agvhd"] == "0"), h["agvhd"], "0")),
            "agvhd_date": _dates(np.where(limit_ok["agvhd_date"], h["agvhd_date"], np.nan)),
            "cgvhd_severity": _text(np.where(limit_ok["cgvhd_date"] | (h["cgvhd"] == "NONE"), h["cgvhd"], "NONE")),
            "cgvhd_date": _dates(np.where(limit_ok["cgvhd_date"], h["cgvhd_date"], np.nan)),
        }
    )
    ae = observed_adverse_events(tox, last_contact, observed, true_death)
    out["adverse_events"] = pl.DataFrame(
        {
            "patient_id": pid_all.gather(ae["pid"]),
            "line_no": pl.Series(ae["line_no"].astype(np.int64)),
            "event": _text(_variants(tox_rng, ae["event"], P.P_CODE_VARIANT)),
            "grade": _text(ae["grade"]),
            "onset_date": _dates(ae["onset"]),
            "resolution_date": _dates(ae["resolution"]),
            "term": _text(ae["term"]),
        }
    )
    vital = np.where(observed, "DEAD", "ALIVE")
    out["followup"] = pl.DataFrame(
        {
            "patient_id": pid_all,
            "last_contact_date": _dates(last_contact),
            "vital_status": _text(_variants(rng, vital, P.P_CODE_VARIANT)),
            "death_date": _dates(np.where(observed, true_death, np.nan)),
            "cause_of_death": _text(np.where(observed, course.cause, "")),
        }
    )
    for name, frame in out.items():
        assert frame.columns == list(TABLES[name].column_names), name
    return out
