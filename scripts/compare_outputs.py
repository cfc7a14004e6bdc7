"""Compare everything that leaves the server at two revisions: page outputs, export contents, analyze JSON.

For a refactoring that must not change behaviour: the code of git revision REV (``--against``) and the
working tree each write, in a fresh process, on the same synthetic registry:

* every page's callback outputs (the Dash component trees and figures, as the browser receives them),
* every export kind's tables, methods text and figure JSON (``export.exporter.prepare``), and
* every ``ayaall analyze`` command's JSON,

for a handful of cohorts and options. The two dumps are compared item by item; what differs is printed
(with the first differing path), so each difference can be matched with a fix that was meant.

Run: ``python scripts/compare_outputs.py --against f3949e2 [--patients 3000 --seed 11] [--only survival]``.
``--dump FILE`` writes the working tree's dump only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from revisions import checkout  # noqa: E402

# Values that differ between runs without a change of behaviour: times of export, code revision.
_REVISION = re.compile(r" \(code revision [0-9a-f]+\)")
_VOLATILE = {"exported_at", "git_revision", "git_dirty", "ayaall", "path", "sha256", "files"}

COHORTS: dict[str, dict[str, Any]] = {
    "whole": {},
    "B 15-24": {"lineage": ["B"], "age_group": ["15-19", "20-24"]},
    "T relapsed": {"lineage": ["T"], "relapsed": [True]},
}


def _service_class() -> Any:
    try:
        from reports.service import RegistryService
    except ImportError:
        from dashboard.data import RegistryService
    return RegistryService


def _plain(value: Any) -> Any:
    """JSON-ready: Dash components and figures as the browser gets them, floats kept exactly."""
    import pandas as pd
    import plotly.utils

    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="split", double_precision=15))
    return json.loads(json.dumps(value, cls=plotly.utils.PlotlyJSONEncoder))


def _page_cases(ctx: Any, filters: list[Any]) -> dict[str, Callable[[list[Any], list[dict[str, str]]], Any]]:
    from dashboard.pages.cohort import attrition_table
    from dashboard.pages.competing import competing_outputs
    from dashboard.pages.cox import cox_outputs
    from dashboard.pages.quality import quality_content
    from dashboard.pages.response import response_outputs
    from dashboard.pages.survival import survival_outputs
    from dashboard.pages.timing import timing_outputs
    from dashboard.pages.weighting import weighting_outputs

    try:
        from reports.table1 import table1
    except ImportError:
        from dashboard.table1 import table1

    salvage = ["BLINATUMOMAB", "INOTUZUMAB", "SALVAGE_CHEMO"]
    cov = ["age_at_dx", "cns_status", "mrd_eoi"]
    return {
        "attrition": lambda v, i: attrition_table(ctx, ctx.cohort(v, i)),
        "table1 by lineage": lambda v, i: table1(ctx.service, ctx.cohort(v, i), "lineage", ctx.min_cell),
        "table1 by sex": lambda v, i: table1(ctx.service, ctx.cohort(v, i), "sex", ctx.min_cell),
        "table1 overall": lambda v, i: table1(ctx.service, ctx.cohort(v, i), None, ctx.min_cell),
        "survival OS/DX by frontline": lambda v, i: survival_outputs(ctx, v, i, "OS/DX", "frontline_regimen", "months"),
        "survival EFS/LINE2 by salvage": lambda v, i: survival_outputs(
            ctx, v, i, "EFS/LINE2", "salvage_regimen", "days"
        ),
        "survival OS/DX by hct": lambda v, i: survival_outputs(ctx, v, i, "OS/DX", "hct", "years"),
        "survival OS/REL1 all": lambda v, i: survival_outputs(ctx, v, i, "OS/REL1", "none", "months"),
        "cox OS/DX lineage+age": lambda v, i: cox_outputs(ctx, v, i, "OS/DX", ["lineage", "age_group"], []),
        "competing CIR/CR1 by lineage": lambda v, i: competing_outputs(ctx, v, i, "CIR/CR1", "lineage", "months"),
        "competing NRM/HCT1 all": lambda v, i: competing_outputs(ctx, v, i, "NRM/HCT1", "none", "months"),
        "timing hct OS/DX": lambda v, i: timing_outputs(ctx, v, i, "hct", "OS/DX", ["180", "365"], [], "months"),
        "timing hct OS/LINE2 adjusted": lambda v, i: timing_outputs(
            ctx, v, i, "hct", "OS/LINE2", ["100"], ["age_at_dx"], "months"
        ),
        "weighting salvage": lambda v, i: weighting_outputs(
            ctx, v, i, "salvage_regimen", salvage, cov, "ATE", None, "none", "none", "OS/LINE2", "months"
        ),
        "weighting salvage ATT trim": lambda v, i: weighting_outputs(
            ctx, v, i, "salvage_regimen", salvage, cov, "ATT", "INOTUZUMAB", "0.02", "0.01", "OS/LINE2", "months"
        ),
        "response line 1 by frontline": lambda v, i: response_outputs(ctx, v, i, "1", "cr", "frontline_regimen"),
        "response line 2 by salvage": lambda v, i: response_outputs(ctx, v, i, "2", "mrd_negative", "salvage_regimen"),
        "quality": lambda v, i: quality_content(ctx),
    }


_EXPORT_KINDS: dict[str, dict[str, Any]] = {
    "km": {"figure": "km", "endpoint": "OS", "origin": "DX", "by": "lineage"},
    "cif": {"figure": "cif", "endpoint": "CIR", "origin": "CR1", "by": "frontline_regimen"},
    "forest": {"figure": "forest", "endpoint": "OS", "origin": "DX", "covariates": ("lineage", "age_at_dx")},
    "table1": {"figure": "table1", "by": "lineage", "format": "xlsx"},
    "landmark": {"figure": "landmark", "endpoint": "OS", "origin": "DX", "exposure": "hct", "landmarks": (180.0,)},
    "simon-makuch": {"figure": "simon-makuch", "endpoint": "OS", "origin": "DX", "exposure": "hct"},
    "timing-cox": {
        "figure": "timing-cox",
        "endpoint": "OS",
        "origin": "DX",
        "exposure": "hct",
        "covariates": ("age_at_dx",),
    },
    "balance": {
        "figure": "balance",
        "endpoint": "OS",
        "origin": "LINE2",
        "treatment": "salvage_regimen",
        "covariates": ("age_at_dx", "cns_status"),
    },
    "adjusted-km": {
        "figure": "adjusted-km",
        "endpoint": "OS",
        "origin": "LINE2",
        "treatment": "salvage_regimen",
        "covariates": ("age_at_dx", "cns_status"),
    },
    "weighted-cox": {
        "figure": "weighted-cox",
        "endpoint": "OS",
        "origin": "LINE2",
        "treatment": "salvage_regimen",
        "covariates": ("age_at_dx", "cns_status"),
    },
    "response": {"figure": "response", "line": 2, "outcome": "cr", "by": "salvage_regimen"},
}

_ANALYZE: dict[str, list[str]] = {
    "km": ["km", "--endpoint", "OS", "--origin", "DX", "--by", "frontline_regimen"],
    "km hct": ["km", "--endpoint", "OS", "--origin", "DX", "--by", "hct"],
    "cox": ["cox", "--endpoint", "OS", "--origin", "DX", "--covariates", "lineage,age_at_dx"],
    "cif": ["cif", "--endpoint", "CIR", "--origin", "CR1", "--by", "lineage"],
    "landmark": ["landmark", "--endpoint", "OS", "--origin", "DX", "--exposure", "hct", "--landmarks", "180,365"],
    "iptw": [
        "iptw",
        "--endpoint",
        "OS",
        "--origin",
        "LINE2",
        "--treatment",
        "salvage_regimen",
        "--levels",
        "BLINATUMOMAB,INOTUZUMAB,SALVAGE_CHEMO",
        "--covariates",
        "age_at_dx,cns_status",
    ],
    "response": ["response", "--by", "salvage_regimen", "--line", "2"],
    "table1": ["table1", "--by", "lineage"],
}


def _export_dump(service: Any, cohort: dict[str, Any]) -> dict[str, Any]:
    from export.exporter import prepare
    from export.requests import ExportRequest

    out: dict[str, Any] = {}
    for name, options in _EXPORT_KINDS.items():
        request = ExportRequest(**{"format": "pdf", **options, "cohort": {"filters": cohort}})
        try:
            content = prepare(service, request, cohort_source={"kind": "inline"}, exported_at="2026-01-01T00:00:00Z")
        except Exception as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        figure = None
        if content.kind.figure is not None:
            figure = json.loads(content.figure().to_json())
        out[name] = {
            "tables": {
                k: json.loads(v.to_json(orient="split", double_precision=15)) for k, v in content.frames.items()
            },
            "methods": content.methods,
            "figure": figure,
        }
    return out


def dump(db: Path) -> dict[str, Any]:
    """Everything the code in this process sends out, on the database ``db``."""
    from dashboard.context import PageContext

    try:
        from ayaall.settings import Settings
    except ImportError:
        from dashboard.settings import DashboardSettings as Settings

    try:
        from ayaall.filters import FILTERS
    except ImportError:
        from dashboard.filters import FILTERS

    settings = Settings()
    service = _service_class()(db)
    ctx = PageContext(service, settings)
    ids = [{"type": "cohort-filter", "column": s.column} for s in FILTERS]
    out: dict[str, Any] = {"pages": {}, "exports": {}, "analyze": {}}
    for cohort_name, filters in COHORTS.items():
        values = [filters.get(s.column) for s in FILTERS]
        for case, run in _page_cases(ctx, values).items():
            try:
                result = run(values, ids)
            except Exception as exc:
                result = {"error": f"{type(exc).__name__}: {exc}"}
            out["pages"][f"{cohort_name} | {case}"] = _plain(result)
        for kind, content in _export_dump(service, filters).items():
            out["exports"][f"{cohort_name} | {kind}"] = content
    for case, args in _ANALYZE.items():
        done = subprocess.run(
            [sys.executable, "-m", "ayaall", "analyze", *args, "--db", str(db), "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        out["analyze"][case] = json.loads(done.stdout) if done.returncode == 0 else {"error": done.stderr.strip()}
    return out


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key in _VOLATILE:
                continue
            if key not in a or key not in b:
                return f"{path}/{key}: only in {'after' if key not in a else 'before'}"
            found = _first_difference(a[key], b[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items before, {len(b)} after"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(a, float) and isinstance(b, float) and (a == b or (math.isnan(a) and math.isnan(b))):
        return None
    if isinstance(a, str) and isinstance(b, str):
        a, b = _REVISION.sub("", a), _REVISION.sub("", b)
        if a != b:
            at = next(i for i, (x, y) in enumerate(zip(a + "\0", b + "\0", strict=False)) if x != y)
            return f"{path}: ...{a[max(0, at - 40) : at + 80]!r} before, ...{b[max(0, at - 40) : at + 80]!r} after"
        return None
    if a != b:
        return f"{path}: {str(a)[:120]!r} before, {str(b)[:120]!r} after"
    return None


def _registry(patients: int, seed: int, into: Path) -> Path:
    from etl import load_extract
    from synthetic_data import generate_registry

    extract = into / "extract"
    generate_registry(extract, n_patients=patients, seed=seed)
    db = into / "registry.duckdb"
    load_extract(extract, db)
    return db


def _dump_in(tree: Path, db: Path, into: Path) -> dict[str, Any]:
    target = into / "dump.json"
    env = os.environ | {"PYTHONPATH": str(tree)}
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--db", str(db), "--dump", str(target)],
        cwd=tree,
        env=env,
        check=True,
    )
    return json.loads(target.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="git revision to compare the working tree with")
    parser.add_argument("--db", type=Path, help="registry to use (default: generate one)")
    parser.add_argument("--patients", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--dump", type=Path, help="write the working tree's dump to this file and stop")
    parser.add_argument("--only", default="", help="compare only items whose name contains this text")
    args = parser.parse_args()
    if args.dump:
        args.dump.write_text(json.dumps(dump(args.db), sort_keys=True))
        return 0
    if not args.against:
        parser.error("give --against REV or --dump FILE")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        db = args.db or _registry(args.patients, args.seed, tmp_path)
        (tmp_path / "before").mkdir()
        before = _dump_in(checkout(args.against, tmp_path / "before"), db, tmp_path / "before")
        (tmp_path / "after").mkdir()
        after = _dump_in(ROOT, db, tmp_path / "after")
    same, changed = 0, []
    for section in ("pages", "exports", "analyze"):
        for name in sorted(set(before[section]) | set(after[section])):
            if args.only and args.only not in name:
                continue
            diff = _first_difference(before[section].get(name), after[section].get(name))
            if diff is None:
                same += 1
            else:
                changed.append(f"{section} | {name}: {diff}")
    print(f"{same} items identical, {len(changed)} differ")
    for line in changed:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
