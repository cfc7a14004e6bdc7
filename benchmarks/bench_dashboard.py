"""Dashboard callback latency on a 100,000-patient synthetic registry (server time, no browser).

Generates and loads the registry once into ``benchmarks/out/`` (seed 5), then times each page's
callback work directly: the first call for a cohort (computed) and a repeated call (LRU cache).
Prints a markdown table. Run: ``python benchmarks/bench_dashboard.py [--patients N]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


def _registry(patients: int, seed: int) -> Path:
    from etl import load_extract
    from synthetic_data import generate_registry

    db = OUT / f"dashboard_{patients}_{seed}.duckdb"
    if not db.exists():
        extract = OUT / f"extract_{patients}_{seed}"
        generate_registry(extract, n_patients=patients, seed=seed)
        load_extract(extract, db)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db = _registry(args.patients, args.seed)

    from dashboard.app import create_app
    from dashboard.context import PageContext
    from dashboard.filters import FILTERS
    from dashboard.pages.cohort import attrition_table
    from dashboard.pages.competing import competing_outputs
    from dashboard.pages.cox import cox_outputs
    from dashboard.pages.survival import survival_outputs
    from dashboard.settings import DashboardSettings
    from dashboard.table1 import table1

    settings = DashboardSettings()
    app = create_app(db, settings)
    ctx = PageContext(app.server.config["AYAALL_SERVICE"], settings)
    ids_ = [{"type": "cohort-filter", "column": s.column} for s in FILTERS]

    def values(**kw):
        return [kw.get(s.column) for s in FILTERS]

    def count(v):
        return ctx.service.cohort_size(ctx.cohort(v, ids_))

    cases = [
        ("cohort count", lambda v: count(v)),
        ("attrition", lambda v: attrition_table(ctx, ctx.cohort(v, ids_))),
        ("Table 1 by lineage", lambda v: table1(ctx.service, ctx.cohort(v, ids_), "lineage", settings.min_cell)),
        (
            "survival OS/DX by frontline",
            lambda v: survival_outputs(ctx, v, ids_, "OS/DX", "frontline_regimen", "months"),
        ),
        (
            "survival EFS/LINE2 by salvage",
            lambda v: survival_outputs(ctx, v, ids_, "EFS/LINE2", "salvage_regimen", "months"),
        ),
        ("Cox OS/DX (regimen, age group)", lambda v: cox_outputs(ctx, v, ids_, "OS/DX", ["lineage", "age_group"], [])),
        ("competing CIR/CR1 by lineage", lambda v: competing_outputs(ctx, v, ids_, "CIR/CR1", "lineage", "months")),
    ]
    cohorts = [
        ("whole registry", values()),
        ("filter: age 15-24, B", values(age_group=["15-19", "20-24"], lineage=["B"])),
    ]
    print(f"Registry: {args.patients:,} patients (seed {args.seed}); times are server time in ms.\n")
    print("| callback | cohort | first call | cached |")
    print("|---|---|---:|---:|")
    for name, fn in cases:
        for cohort_name, v in cohorts:
            t0 = time.perf_counter()
            fn(v)
            first = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            fn(v)
            cached = (time.perf_counter() - t0) * 1000
            print(f"| {name} | {cohort_name} | {first:.0f} | {cached:.1f} |")


if __name__ == "__main__":
    main()
