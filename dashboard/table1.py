"""Table 1 (baseline characteristics by a comparison variable), suppressed for display.

Stand-in until ``analyses.baseline`` lands: counts and column percentages of each categorical
characteristic per group, and the median (IQR) age. Within each characteristic and group the counts
add up to the group size, so small cells are masked with secondary suppression (rules 1 and 3 of
``analyses.suppression``) and a masked count's percentage is masked with it.
"""

from __future__ import annotations

import pandas as pd

from analyses.cohort import CohortSpec
from analyses.suppression import suppress_totals
from dashboard.data import RegistryService, cohort_key

__all__ = ["TABLE1_ROWS", "table1"]

TABLE1_ROWS: tuple[tuple[str, str], ...] = (
    ("age_group", "Age group"),
    ("sex", "Sex"),
    ("race", "Race"),
    ("ethnicity", "Ethnicity"),
    ("lineage", "Lineage"),
    ("subtype", "Subtype"),
    ("cns_status", "CNS status"),
    ("frontline_regimen", "Frontline regimen"),
    ("mrd_eoi", "End-of-induction MRD"),
    ("cr1", "Reached CR1"),
    ("relapsed", "Relapsed"),
    ("hct", "Transplanted"),
)


def table1(service: RegistryService, cohort: CohortSpec, by: str | None, min_cell: int) -> pd.DataFrame:
    key = ("table1", cohort_key(cohort), by, min_cell)
    return service.cached(key, lambda: _table1(service, cohort, by, min_cell))


def _table1(service: RegistryService, cohort: CohortSpec, by: str | None, min_cell: int) -> pd.DataFrame:
    columns = [c for c, _ in TABLE1_ROWS] + ["age_at_dx"] + ([by] if by else [])
    frame = service.patients(cohort, list(dict.fromkeys(columns)))
    group = frame[by].astype(str) if by else pd.Series("All patients", index=frame.index)
    groups = sorted(group.unique())
    sizes, _ = suppress_totals([int((group == g).sum()) for g in groups], min_cell)
    header = {g: f"{g} (n={'—' if n is None else f'{n:,}'})" for g, n in zip(groups, sizes, strict=True)}
    rows: list[dict[str, str]] = []
    age_row = {"Characteristic": "Age at diagnosis, median (IQR)", "Level": ""}
    for g, n in zip(groups, sizes, strict=True):
        ages = frame.loc[group == g, "age_at_dx"].dropna()
        age_row[header[g]] = (
            "—"
            if n is None or len(ages) < max(min_cell, 1)
            else (f"{ages.median():.1f} ({ages.quantile(0.25):.1f}–{ages.quantile(0.75):.1f})")
        )
    rows.append(age_row)
    for column, label in TABLE1_ROWS:
        if column == by:
            continue
        values = frame[column].astype(str).where(frame[column].notna(), "missing")
        levels = sorted(values.unique())
        cells: dict[str, list[str]] = {}
        for g, n in zip(groups, sizes, strict=True):
            in_group = values[group == g]
            counts = [int((in_group == lev).sum()) for lev in levels]
            masked, _hide_total = suppress_totals(counts, min_cell)
            total = len(in_group)
            cells[g] = [
                "—" if (c is None or n is None) else f"{c:,} ({c / total:.0%})" if total else "0" for c in masked
            ]
        for i, lev in enumerate(levels):
            row = {"Characteristic": label if i == 0 else "", "Level": lev}
            row.update({header[g]: cells[g][i] for g in groups})
            rows.append(row)
    return pd.DataFrame(rows)
