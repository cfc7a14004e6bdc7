"""Latency of the treatment pages' callbacks (timing, adjusted comparison, response) on a 100,000-patient
synthetic registry: server time, no browser, first call for a cohort and the same call again (LRU cache).

Uses the registry of ``bench_dashboard.py`` (generated and loaded into ``benchmarks/out/`` once, seed 5).
Prints a markdown table. Run: ``python benchmarks/bench_treatment_pages.py [--patients N]``.
"""

from __future__ import annotations

import argparse
import time

from bench_dashboard import OUT, _registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db = _registry(args.patients, args.seed)

    from ayaall.filters import FILTERS
    from ayaall.settings import Settings
    from dashboard.app import create_app
    from dashboard.context import PageContext
    from dashboard.pages.response import response_outputs
    from dashboard.pages.timing import timing_outputs
    from dashboard.pages.weighting import weighting_outputs

    settings = Settings()
    app = create_app(db, settings)
    ctx = PageContext(app.server.config["AYAALL_SERVICE"], settings)
    ids_ = [{"type": "cohort-filter", "column": s.column} for s in FILTERS]

    def values(**kw):
        return [kw.get(s.column) for s in FILTERS]

    salvage = ["BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"]
    cases = [
        (
            "timing: HCT, OS/DX, landmarks 180 and 365",
            lambda v: timing_outputs(ctx, v, ids_, "hct", "OS/DX", ["180", "365"], [], "months"),
        ),
        (
            "timing: same, adjusted for age",
            lambda v: timing_outputs(ctx, v, ids_, "hct", "OS/DX", ["180", "365"], ["age_at_dx"], "months"),
        ),
        (
            "weighting: salvage regimens, OS/LINE2, 3 covariates",
            lambda v: weighting_outputs(
                ctx,
                v,
                ids_,
                "salvage_regimen",
                salvage,
                ["age_at_dx", "cns_status", "mrd_eoi"],
                "ATE",
                None,
                "none",
                "none",
                "OS/LINE2",
                "months",
            ),
        ),
        (
            "response: line 1 CR by frontline regimen",
            lambda v: response_outputs(ctx, v, ids_, "1", "cr", "frontline_regimen"),
        ),
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
