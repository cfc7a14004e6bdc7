"""Dashboard callback latency on a 100,000-patient synthetic registry (server time, no browser).

Generates and loads the registry once into ``benchmarks/out/`` (seed 5), then times each page's
callback work directly. "First call" is a filter change in a running server: every case is run once
untimed (imports, lazy setup), then for each repetition the result cache is emptied (the filter
choices, computed at start-up, are kept) and the call is timed; "cached" is the same call again.
Prints a markdown table of medians and best times.

``--against REV`` measures the code of git revision REV the same way, in alternating rounds with the
working tree (each round a fresh process per tree, so both see the same machine load), and prints both
side by side: before/after numbers from one run.

Run: ``python benchmarks/bench_dashboard.py [--patients N] [--repeat 5] [--against 0ab15a3 --rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revisions import ROOT, checkout

OUT = Path(__file__).parent / "out"
COHORTS = ("whole registry", "age 15-24, B-lineage")


def _registry(patients: int, seed: int) -> Path:
    import duckdb

    from etl import load_extract
    from synthetic_data import generate_registry

    db = OUT / f"dashboard_{patients}_{seed}.duckdb"
    if db.exists():  # loaded by an older loader (no record keys, no era): load it again (the pages use them)
        con = duckdb.connect(str(db), read_only=True)
        found = con.execute(
            "SELECT (SELECT count(*) FROM information_schema.tables WHERE table_name = 'record_keys') "
            "+ (SELECT count(*) FROM information_schema.columns WHERE table_name = 'analysis_patients' "
            "AND column_name = 'era')"
        )
        current = found.fetchone()[0] == 2  # type: ignore[index]
        con.close()
        if not current:
            db.unlink()
    if not db.exists():
        extract = OUT / f"extract_{patients}_{seed}"
        if not extract.exists():
            generate_registry(extract, n_patients=patients, seed=seed)
        try:
            load_extract(extract, db, record_key_seed=seed)
        except TypeError:  # a revision before record keys
            load_extract(extract, db)
    return db


def _cases(db: Path):
    """(name, cohort values -> result) for each measured callback; imports the code under test."""
    from ayaall.filters import FILTERS
    from ayaall.settings import Settings
    from dashboard.app import create_app
    from dashboard.context import PageContext
    from dashboard.pages.cohort import attrition_table
    from dashboard.pages.competing import competing_outputs
    from dashboard.pages.cox import cox_outputs
    from dashboard.pages.response import response_outputs
    from dashboard.pages.survival import survival_outputs
    from dashboard.pages.timing import timing_outputs
    from dashboard.pages.weighting import weighting_outputs
    from reports.table1 import table1

    settings = Settings()
    app = create_app(db, settings)
    ctx = PageContext(app.server.config["AYAALL_SERVICE"], settings)
    ids_ = [{"type": "cohort-filter", "column": s.column} for s in FILTERS]

    def values(**kw):
        return [kw.get(s.column) for s in FILTERS]

    salvage, covariates = ["BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"], ["age_at_dx", "cns_status", "mrd_eoi"]

    def analyze_km(v):
        from reports.analyze.km import run

        return run(db, "OS", "DX", ctx.cohort(v, ids_), by="frontline_regimen", min_cell=settings.min_cell)

    cases = [
        ("cohort count", lambda v: ctx.service.cohort_size(ctx.cohort(v, ids_))),
        ("attrition", lambda v: attrition_table(ctx, ctx.cohort(v, ids_))),
        ("Table 1 by lineage", lambda v: table1(ctx.service, ctx.cohort(v, ids_), "lineage", settings.min_cell)),
        (
            "survival OS/DX by frontline regimen",
            lambda v: survival_outputs(ctx, v, ids_, "OS/DX", "frontline_regimen", "months"),
        ),
        (
            "survival EFS/LINE2 by salvage regimen",
            lambda v: survival_outputs(ctx, v, ids_, "EFS/LINE2", "salvage_regimen", "months"),
        ),
        ("Cox OS/DX (lineage, age group)", lambda v: cox_outputs(ctx, v, ids_, "OS/DX", ["lineage", "age_group"], [])),
        ("competing CIR/CR1 by lineage", lambda v: competing_outputs(ctx, v, ids_, "CIR/CR1", "lineage", "months")),
        ("`ayaall analyze km` OS/DX by frontline regimen (JSON; no cache)", analyze_km),
        (
            "timing: HCT, OS/DX, landmarks 180 and 365",
            lambda v: timing_outputs(ctx, v, ids_, "hct", "OS/DX", ["180", "365"], [], "months"),
        ),
        (
            "adjusted comparison: 3 salvage regimens, OS/LINE2, 3 covariates",
            lambda v: weighting_outputs(
                ctx, v, ids_, "salvage_regimen", salvage, covariates, "ATE", None, "none", "none", "OS/LINE2", "months"
            ),
        ),
        (
            "response: line 1 CR by frontline regimen",
            lambda v: response_outputs(ctx, v, ids_, "1", "cr", "frontline_regimen"),
        ),
    ]
    cohorts = {COHORTS[0]: values(), COHORTS[1]: values(age_group=["15-19", "20-24"], lineage=["B"])}

    def reset() -> None:
        ctx.service.cache.clear()
        ctx.service.filter_choices()

    return cases, cohorts, reset


def _measure(db: Path, repeat: int, only: str = "") -> list[dict]:
    cases, cohorts, reset = _cases(db)
    wanted = [o.strip().lower() for o in only.split(",")]
    cases = [(name, fn) for name, fn in cases if any(o in name.lower() for o in wanted)]
    for _, fn in cases:  # warm-up: imports and lazy setup are not a filter change's cost
        for v in cohorts.values():
            fn(v)
    out = []
    for name, fn in cases:
        for cohort, v in cohorts.items():
            first, cached = [], []
            for _ in range(repeat):
                reset()
                t0 = time.perf_counter()
                fn(v)
                first.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                fn(v)
                cached.append((time.perf_counter() - t0) * 1000)
            out.append({"callback": name, "cohort": cohort, "first": first, "cached": cached})
    return out


def _worker(tree: Path, db: Path, repeat: int, only: str) -> list[dict]:
    """Run the measurement in a fresh process on the code in ``tree``."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        result = Path(fh.name)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        str(db),
        "--repeat",
        str(repeat),
        "--json",
        str(result),
        "--only",
        only,
    ]
    subprocess.run(cmd, check=True, env=env, cwd=tree)
    records = json.loads(result.read_text())
    result.unlink()
    return records


def _merge(runs: list[list[dict]]) -> dict[tuple[str, str], dict[str, list[float]]]:
    merged: dict[tuple[str, str], dict[str, list[float]]] = {}
    for records in runs:
        for r in records:
            slot = merged.setdefault((r["callback"], r["cohort"]), {"first": [], "cached": []})
            slot["first"] += r["first"]
            slot["cached"] += r["cached"]
    return merged


def _ms(values: list[float]) -> str:
    median = statistics.median(values)
    return f"{median:.0f}" if median >= 10 else f"{median:.1f}"


def _cached(name: str, values: list[float]) -> str:
    return "–" if "no cache" in name else _ms(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5, help="timed first calls per case and round")
    parser.add_argument("--against", metavar="REV", help="also measure git revision REV (before/after)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per tree with --against")
    parser.add_argument(
        "--only",
        default="",
        help="measure only the callbacks whose name contains this text (or one of, comma-separated)",
    )
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.json.write_text(json.dumps(_measure(args.worker, args.repeat, args.only)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    db = _registry(args.patients, args.seed).resolve()
    load = os.getloadavg()[0]
    print(f"Registry: {args.patients:,} patients (seed {args.seed}); server time in ms; load average {load:.1f}.\n")
    if not args.against:
        merged = _merge([_measure(db, args.repeat, args.only)])
        print(f"Median of {args.repeat} first calls (best in brackets) and of the cached calls.\n")
        print("| callback | cohort | first call | cached |")
        print("|---|---|---:|---:|")
        for (name, cohort), r in merged.items():
            print(f"| {name} | {cohort} | {_ms(r['first'])} ({min(r['first']):.0f}) | {_cached(name, r['cached'])} |")
        return
    with tempfile.TemporaryDirectory() as tmp:
        before_tree = checkout(args.against, Path(tmp))
        before, after = [], []
        for _ in range(args.rounds):
            before.append(_worker(before_tree, db, args.repeat, args.only))
            after.append(_worker(ROOT, db, args.repeat, args.only))
    b, a = _merge(before), _merge(after)
    n = args.rounds * args.repeat
    print(f"Median of {n} first calls per tree (best in brackets), {args.rounds} alternating rounds; cached: median.\n")
    print(f"| callback | cohort | {args.against}: first | now: first | now: cached |")
    print("|---|---|---:|---:|---:|")
    for key, r in a.items():
        old = b.get(key)
        before_cell = f"{_ms(old['first'])} ({min(old['first']):.0f})" if old else "–"
        after_cell = f"{_ms(r['first'])} ({min(r['first']):.0f})"
        print(f"| {key[0]} | {key[1]} | {before_cell} | {after_cell} | {_cached(key[0], r['cached'])} |")


if __name__ == "__main__":
    main()
