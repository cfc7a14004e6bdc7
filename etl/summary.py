"""A plain-text overview of a loaded database: who is in it and how many events each endpoint has."""

from __future__ import annotations

import duckdb

from ayaall.endpoints import ENDPOINTS

__all__ = ["registry_summary"]


def registry_summary(con: duckdb.DuckDBPyConnection) -> str:
    """Patients by age group and lineage, exclusions, and rows/events per endpoint and origin."""
    run = con.execute(
        "SELECT load_id, registry, data_cutoff FROM load_runs ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    assert run is not None  # every database 'ayaall load' writes has its load in load_runs
    lines = [f"Registry: {run[1]} (load {run[0]}, data cut-off {run[2]})", ""]
    (total, excluded) = con.execute("SELECT count(*), count(excluded_reason) FROM analysis_patients").fetchone()  # type: ignore[misc]
    lines.append(f"{total:,} patients, {excluded:,} excluded from endpoints")
    rows = con.execute(
        "SELECT a.label, count(ap.patient_id) FILTER (WHERE ap.lineage = 'B'), "
        "count(ap.patient_id) FILTER (WHERE ap.lineage = 'T'), count(ap.patient_id) "
        "FROM age_bands a LEFT JOIN analysis_patients ap ON ap.age_group = a.label "
        "AND ap.excluded_reason IS NULL GROUP BY a.label, a.sort_order ORDER BY a.sort_order"
    ).fetchall()
    lines += ["", f"{'age group':<10} {'B-ALL':>8} {'T-ALL':>8} {'all':>8}"]
    lines += [f"{label:<10} {b:>8,} {t:>8,} {n:>8,}" for label, b, t, n in rows]
    counts = {
        (e, o): (n, ev)
        for e, o, n, ev in con.execute(
            "SELECT endpoint, origin, count(*), count(*) FILTER (WHERE event_code = 1) FROM time_to_event GROUP BY 1, 2"
        ).fetchall()
    }
    lines += ["", f"{'endpoint':<40} {'patients':>9} {'events':>8}"]
    for spec in ENDPOINTS:
        n, ev = counts.get((spec.endpoint, spec.origin), (0, 0))
        lines.append(f"{spec.label:<40} {n:>9,} {ev:>8,}")
    return "\n".join(lines)
