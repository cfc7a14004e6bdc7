"""Export timings: browser start, render time per figure format and preset, and file sizes.

Uses the 3,000-patient demo registry (seed 11, as the tests) in ``benchmarks/out/``; one kaleido /
Chromium session serves every render of the process, so its start is timed once, on its own. Each
figure is rendered ``--repeat`` times and the median kept. Prints markdown tables.
Run: ``python benchmarks/bench_export.py [--patients N] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from export_support import TREATMENT_KINDS  # the treatment pages' starting options

OUT = Path(__file__).parent / "out"


def _registry(patients: int, seed: int) -> Path:
    from etl import load_extract
    from synthetic_data import generate_registry

    db = OUT / f"export_{patients}_{seed}.duckdb"
    if not db.exists():
        extract = OUT / f"export_extract_{patients}_{seed}"
        generate_registry(extract, n_patients=patients, seed=seed)
        load_extract(extract, db)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db = _registry(args.patients, args.seed)

    from export.exporter import prepare, render
    from export.render import get_renderer
    from export.requests import ExportRequest
    from reports.service import RegistryService

    service = RegistryService(db)
    start = time.perf_counter()
    get_renderer()
    print(f"browser start (kaleido + Chromium, once per process): {time.perf_counter() - start:.2f} s\n")

    figures = {
        "km OS/DX by frontline_regimen": {"figure": "km", "endpoint": "OS", "origin": "DX", "by": "frontline_regimen"},
        "cif CIR/CR1 by lineage": {"figure": "cif", "endpoint": "CIR", "origin": "CR1", "by": "lineage"},
        "forest OS/DX, 2 covariates": {
            "figure": "forest",
            "endpoint": "OS",
            "origin": "DX",
            "covariates": ("frontline_regimen", "age_at_dx"),
        },
    }
    # The Treatment timing, Adjusted comparison and Response pages' figures, at the single preset, with the
    # options each page starts with (as the export tests use them).
    single = {
        "landmark OS/DX hct, days 180 and 365": TREATMENT_KINDS["landmark"],
        "simon-makuch OS/DX hct": TREATMENT_KINDS["simon-makuch"],
        "timing-cox OS/DX hct, adjusted for age": TREATMENT_KINDS["timing-cox"],
        "balance OS/LINE2 salvage, 3 covariates": TREATMENT_KINDS["balance"],
        "adjusted-km OS/LINE2 salvage": TREATMENT_KINDS["adjusted-km"],
        "weighted-cox OS/LINE2 salvage": TREATMENT_KINDS["weighted-cox"],
        "response line 2 CR by salvage regimen": TREATMENT_KINDS["response"],
    }
    cases = [("svg", 600), ("pdf", 600), ("png", 300), ("png", 600), ("png", 1200), ("tiff", 600)]
    print("| figure | preset | format | dpi | render s (median) | size |")
    print("|---|---|---|---:|---:|---:|")
    runs = [(label, fields, ("single", "double"), cases) for label, fields in figures.items()]
    runs += [(label, fields, ("single",), cases[:4]) for label, fields in single.items()]
    for label, fields, presets, formats in runs:
        for preset in presets:
            for fmt, dpi in formats:
                request = ExportRequest(**fields, format=fmt, preset=preset, dpi=dpi)
                content = prepare(service, request, cohort_source={"kind": "bench"})  # analysis cached after one
                times, size = [], 0
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    size = len(render(content, f"x.{fmt}")[f"x.{fmt}"])
                    times.append(time.perf_counter() - t)
                shown_dpi = str(dpi) if fmt in ("png", "tiff") else "—"
                print(
                    f"| {label} | {preset} | {fmt} | {shown_dpi} | {statistics.median(times):.2f} | "
                    f"{size / 1024:,.0f} KB |"
                )
    for fmt in ("csv", "xlsx", "txt", "zip"):
        request = ExportRequest(**figures["km OS/DX by frontline_regimen"], format=fmt)
        t = time.perf_counter()
        content = prepare(service, request, cohort_source={"kind": "bench"})
        size = len(render(content, f"x.{fmt}")[f"x.{fmt}"])
        print(f"| km data | — | {fmt} | — | {time.perf_counter() - t:.2f} | {size / 1024:,.0f} KB |")
    service.close()


if __name__ == "__main__":
    main()
