"""The price of disclosure control on curves: released against exact, on a large synthetic registry.

For every group of several endpoint × grouping analyses (Kaplan–Meier survival; cumulative incidence of
both causes), the released curve (``disclosure.curves`` / ``disclosure.incidence`` at the default policy:
counts rounded to midpoints of blocks of 11, a 7-day grid) is compared with the exact curve of the same
patients:

* **distance at the released times**: the largest |released − exact| at the times the released curve
  reports (its grid times; both right-continuous there), over the drawn part;
* **distance everywhere**: the same over every exact event time too (adds the time coarsening: within a
  week the exact curve has stepped and the released one has not yet);
* **inside the band**: the share of released times at which the released curve lies inside the exact
  curve's pointwise 95% interval.

The released curves are the pages' (``reports.survival`` / ``reports.competing``: counts shifted by their
cell keys, -2 to +2, then rounded), on a registry loaded with record keys seeded by ``--seed``.

Summarised by group size. Run: ``python benchmarks/bench_curve_release.py [--patients 100000 --seed 42]``
(generates and loads the registry into benchmarks/out/ the first time).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = Path(__file__).parent / "out"
KM_CASES = (
    ("OS", "DX", "frontline_regimen"),
    ("OS", "DX", "subtype"),
    ("OS", "DX", "center_id"),
    ("EFS", "DX", "age_group"),
    ("RFS", "CR1", "lineage"),
    ("OS", "REL1", "salvage_regimen"),
    ("OS", "LINE2", "salvage_regimen"),
    ("EFS", "LINE2", "salvage_regimen"),
    ("OS", "HCT1", "age_group"),
    ("GRFS", "HCT1", None),
)
CIF_CASES = (("CIR", "CR1", "frontline_regimen"), ("NRM", "CR1", "age_group"), ("CIR", "HCT1", "lineage"))
# smaller groups: cohorts of one centre, of patients aged 40+, of T-ALL
COHORT_CASES = (
    ({"center_id": ["C01"]}, "OS", "DX", "frontline_regimen"),
    ({"center_id": ["C02"]}, "EFS", "DX", "subtype"),
    ({"center_id": ["C03"]}, "OS", "REL1", "salvage_regimen"),
    ({"age_group": ["40+"]}, "OS", "DX", "subtype"),
    ({"lineage": ["T"]}, "OS", "REL1", "salvage_regimen"),
    ({"lineage": ["T"], "age_group": ["30-39"]}, "OS", "DX", "frontline_regimen"),
)
BINS = ((33, 100), (100, 500), (500, 1000), (1000, 5000), (5000, 10**9))


def _registry(patients: int, seed: int) -> Path:
    import duckdb

    from etl import load_extract
    from synthetic_data import generate_registry

    db = OUT / f"release_{patients}_{seed}.duckdb"
    if db.exists():  # a database loaded before record keys existed is loaded again (with its keys)
        con = duckdb.connect(str(db), read_only=True)
        keyed = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'record_keys'")
        has_keys = keyed.fetchone()[0] > 0  # type: ignore[index]
        con.close()
        if not has_keys:
            db.unlink()
    if not db.exists():
        OUT.mkdir(exist_ok=True)
        extract = OUT / f"release_extract_{patients}_{seed}"
        if not extract.exists():
            generate_registry(extract, n_patients=patients, seed=seed)
        load_extract(extract, db, record_key_seed=seed)
    return db


def _at(frame: pd.DataFrame, times: np.ndarray, column: str) -> np.ndarray:
    t = frame["time_days"].to_numpy(float)
    i = np.searchsorted(t, times, side="right") - 1
    return frame[column].to_numpy(float)[np.maximum(i, 0)]


def _compare(released: pd.DataFrame, exact: pd.DataFrame, est: str, lo: str, hi: str) -> dict[str, float]:
    released = released.dropna(subset=[est])
    times = released["time_days"].to_numpy(float)
    everywhere = np.unique(np.r_[times, exact["time_days"].to_numpy(float)])
    everywhere = everywhere[everywhere <= times.max()]
    r_at, e_at = _at(released, times, est), _at(exact, times, est)
    lower, upper = _at(exact, times, lo), _at(exact, times, hi)
    inside = np.isnan(lower) | ((r_at >= lower - 1e-12) & (r_at <= upper + 1e-12))
    excess = np.where(np.isnan(lower), 0.0, np.maximum(lower - r_at, r_at - upper))
    return {
        "excess": float(max(excess.max(), 0.0)),
        "at_released": float(np.abs(r_at - e_at).max()),
        "everywhere": float(np.abs(_at(released, everywhere, est) - _at(exact, everywhere, est)).max()),
        "inside": float(inside.mean()),
    }


def measure(db: Path) -> pd.DataFrame:
    """Each group's released curve as the pages release it (``reports.survival.survival_view``,
    ``reports.competing.competing_view``: cell keys, rounding, the grid) against the exact fit of the same
    patients (groups combined as the page combines them)."""
    from analyses.cif import cumulative_incidence
    from analyses.km import fit_km
    from ayaall.cohort import CohortSpec
    from disclosure.groups import OTHER_GROUPS
    from reports.competing import competing_view
    from reports.service import RegistryService
    from reports.survival import survival_view

    service = RegistryService(db)

    def grouped(frame: pd.DataFrame, by: str | None, combined: list[str]) -> pd.DataFrame:
        if by is None:
            return frame
        frame = frame[frame[by].notna()]
        labels = frame[by].astype(str)
        return frame.assign(**{by: labels.where(~labels.isin(combined), OTHER_GROUPS)})

    rows = []
    cases = [({}, *c) for c in KM_CASES] + list(COHORT_CASES)
    for filters, endpoint, origin, by in cases:
        cohort = CohortSpec.from_dict({"filters": filters})
        view = survival_view(service, cohort, endpoint, origin, by, "days", 11)
        frame = grouped(service.frame(cohort, endpoint, origin, [by] if by else []), by, view.combined)
        exact = fit_km(frame, "time_days", "event_code", by)
        for group, n in exact.summary[["group", "n"]].itertuples(index=False):
            where = f" in {filters}" if filters else ""
            case = {"curve": "KM", "analysis": f"{endpoint}/{origin} by {by or 'none'}{where}", "group": group, "n": n}
            mine = view.km.curve[view.km.curve["group"] == group]
            if len(mine) < 2:
                rows.append(case | {"drawn": False})
                continue
            theirs = exact.curve[exact.curve["group"] == group]
            rows.append(case | {"drawn": True} | _compare(mine, theirs, "survival", "ci_lower", "ci_upper"))
    for endpoint, origin, by in CIF_CASES:
        view = competing_view(service, CohortSpec(), endpoint, origin, by, 11)
        frame = grouped(service.frame(CohortSpec(), endpoint, origin, [by] if by else []), by, view.combined)
        exact = cumulative_incidence(frame, "time_days", "event_code", by)
        for group, n in exact.summary[["group", "n"]].itertuples(index=False):
            for cause in ("event", "competing"):
                case = {"curve": f"CIF {cause}", "analysis": f"{endpoint}/{origin} by {by}", "group": group, "n": n}
                mine = view.curve[view.curve["group"] == group]
                if mine[f"cif_{cause}"].notna().sum() < 2:
                    rows.append(case | {"drawn": False})
                    continue
                theirs = exact.curve[exact.curve["group"] == group]
                rows.append(
                    case
                    | {"drawn": True}
                    | _compare(mine, theirs, f"cif_{cause}", f"ci_lower_{cause}", f"ci_upper_{cause}")
                )
    return pd.DataFrame(rows)


def summary(frame: pd.DataFrame) -> str:
    lines = [
        "| group size | groups | drawn | largest distance at the released times, pp (median) | "
        "largest distance everywhere, pp | released times inside the exact 95% band | largest excess "
        "beyond the band, pp |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    below = frame[frame["n"] < BINS[0][0]]
    if len(below):
        lines.append(f"| < {BINS[0][0]} | {len(below)} | {int(below['drawn'].sum())} | — | — | — | — |")
    for lo, hi in BINS:
        part = frame[(frame["n"] >= lo) & (frame["n"] < hi)]
        drawn = part[part["drawn"]]
        if not len(part):
            continue
        label = f"{lo:,}–{hi - 1:,}" if hi < 10**9 else f"≥ {lo:,}"
        if not len(drawn):
            lines.append(f"| {label} | {len(part)} | 0 | — | — | — | — |")
            continue
        lines.append(
            f"| {label} | {len(part)} | {len(drawn)} | {100 * drawn['at_released'].max():.2f} "
            f"({100 * drawn['at_released'].median():.2f}) | {100 * drawn['everywhere'].max():.2f} | "
            f"{100 * drawn['inside'].min():.1f}% (lowest), {100 * drawn['inside'].mean():.2f}% (mean) | "
            f"{100 * drawn['excess'].max():.2f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", type=Path, help="a loaded registry to use instead")
    args = parser.parse_args()
    frame = measure(args.db or _registry(args.patients, args.seed))
    print(summary(frame))
    worst = frame[frame["drawn"] & (frame["n"] >= 1000)].sort_values("at_released", ascending=False).head(5)
    print("\nWorst groups of 1,000 or more (distance at the released times):")
    print(worst[["curve", "analysis", "group", "n", "at_released", "everywhere", "inside"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
