"""Write the stored reference outputs of tests/test_reference_outputs.py from the code of a pinned commit.

The references are what the code of commit ``f3949e2`` returned (the last commit with
``tests/timing_reference.py`` and ``tests/suppression_reference.py``: verbatim copies of the earlier,
slower implementations of the treatment-timing estimators, the group handling of ``fit_km`` and
``logrank_test``, and ``suppress_km``, ``curve_for_display`` and the run protection of the Kaplan–Meier
suppression). This script extracts that commit's files (``git archive``), runs them in a fresh process
on the inputs of ``cases.py`` and stores each result, exactly (``codec.py``), under ``outputs/``.

Run from the repository root: ``python tests/reference/generate.py [--commit f3949e2]``. The commit is
recorded in each file's header; the tests say which commit their expected values come from.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
COMMIT = "f3949e2"
OUTPUTS = HERE / "outputs"


def outcome(fn, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """``fn(*args, **kwargs)``, or the exception's type and message, with the warnings issued (their text)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            result = (type(exc).__name__, str(exc))
    return result, [str(w.message) for w in caught]


def timing_outputs(reference: Any, start_stop_frame: Any) -> dict[str, Any]:
    """The treatment-timing references, keyed ``function | case | variant``."""
    import pandas as pd
    from cases import CASES, GROUP_COLUMNS, LANDMARK_SETS, counting_variants

    out: dict[str, Any] = {}
    for case, data in CASES.items():
        out[f"start_stop_frame | {case}"] = outcome(reference.start_stop_frame, data, "time", "status", "expo")
        shuffled = data.sample(frac=1, random_state=1)
        out[f"start_stop_frame | {case} | shuffled"] = outcome(
            reference.start_stop_frame, shuffled, "time", "status", "expo"
        )
        for i, marks in enumerate(LANDMARK_SETS):
            out[f"fit_landmark | {case} | {i}"] = outcome(
                reference.fit_landmark, data, "time", "status", "expo", marks, times=(5, 15, 30)
            )
        try:
            counting = start_stop_frame(data, "time", "status", "expo")
        except Exception:
            continue
        for name, frame in counting_variants(counting).items():
            out[f"simon_makuch | {case} | {name}"] = outcome(reference.simon_makuch, frame)
            out[f"simon_makuch | {case} | {name} | 0.9"] = outcome(reference.simon_makuch, frame, conf_level=0.9)
            for variance in ("breslow", "hypergeometric"):
                out[f"mantel_byar | {case} | {name} | {variance}"] = outcome(
                    reference.mantel_byar_test, frame, variance=variance
                )
        for ties in ("efron", "breslow"):
            for i, (covariates, options) in enumerate(COX_OPTIONS):
                out[f"fit_cox_counting | {case} | {ties} | {i}"] = outcome(
                    reference.fit_cox_counting, counting, "start", "stop", "event", covariates, ties=ties, **options
                )
    for name, column in GROUP_COLUMNS.items():
        df = pd.DataFrame({"g": column})
        out[f"km_groups | {name}"] = outcome(reference.km_groups, df, "g")
        out[f"logrank_groups | {name}"] = outcome(reference.logrank_groups, df, "g")
    return out


#: the counting-process Cox models of the references: covariates and options
COX_OPTIONS: tuple[tuple[list[str], dict[str, Any]], ...] = (
    (["exposed"], {"cluster_col": "row_id"}),
    (["exposed"], {"robust": True}),
    (["exposed"], {}),
    (["exposed", "age", "sex"], {"cluster_col": "row_id"}),  # missing ages: complete cases only
    (["exposed", "sex"], {"weights_col": "w", "robust": True}),
)
#: (min_cell values, milestone times) of the suppress_km references on the named edge cohorts
EDGE_MIN_CELLS = (0, 1, 5, 11, 30)
RANDOM_MIN_CELLS = (0, 2, 11, 25)


def suppression_outputs(timing_reference: Any, suppression_reference: Any, suppress_km: Any) -> dict[str, Any]:
    """The small-cell suppression references, keyed ``function | case | variant``."""
    import numpy as np
    from cases import EDGE_KM_COHORTS, protect_runs_inputs, random_km_cohort, random_patients

    from analyses.km import fit_km

    out: dict[str, Any] = {}
    for seed in range(30):
        shown, counts, hidden, remainders, min_cell = protect_runs_inputs(seed)
        for remainder in remainders:
            out[f"protect_runs | {seed} | {remainder}"] = timing_reference._protect_runs(
                shown, counts, hidden.copy(), remainder, min_cell
            )
    for seed in range(6):
        data = random_patients(seed, 500)
        data = data.assign(group=np.where(data["expo"] <= 10, "exposed", "unexposed"))
        km = fit_km(data, "time", "status", "group", times=(5, 20))
        for min_cell in (0, 3, 11):
            shown, _ = suppress_km(km, min_cell)
            out[f"curve_for_display | {seed} | {min_cell} | full"] = timing_reference.curve_for_display(shown, km)
            out[f"curve_for_display | {seed} | {min_cell} | alone"] = timing_reference.curve_for_display(shown)
    for case, data in EDGE_KM_COHORTS.items():
        km = fit_km(data, "time", "status", "group", times=(2, 5, 10, 20, 30), rmst_horizon=15)
        for min_cell in EDGE_MIN_CELLS:
            out[f"suppress_km | {case} | {min_cell}"] = suppression_reference.suppress_km(km, min_cell)
    for seed in range(12):
        data = random_km_cohort(seed)
        rng = np.random.default_rng(1000 + seed)
        times = sorted(set(rng.integers(1, 500, int(rng.integers(1, 8))).tolist()))
        km = fit_km(data, "time", "status", "group", times=times, rmst_horizon=100)
        for min_cell in RANDOM_MIN_CELLS:
            out[f"suppress_km | seed{seed} | {min_cell}"] = suppression_reference.suppress_km(km, min_cell)
    return out


def _worker(tree: Path, commit: str) -> None:
    """Inside the pinned commit's files: compute every reference and write it."""
    sys.path[:0] = [str(tree), str(tree / "tests"), str(HERE)]
    import codec
    import suppression_reference
    import timing_reference
    from analyses.suppression import suppress_km
    from analyses.timing import start_stop_frame

    header = {"commit": commit, "script": "tests/reference/generate.py"}
    OUTPUTS.mkdir(exist_ok=True)
    codec.write(OUTPUTS / "timing.json.gz", timing_outputs(timing_reference, start_stop_frame), header)
    codec.write(
        OUTPUTS / "suppression.json.gz",
        suppression_outputs(timing_reference, suppression_reference, suppress_km),
        header,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default=COMMIT)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.commit)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "tree.tar"
        with archive.open("wb") as fh:
            subprocess.run(["git", "archive", args.commit], check=True, stdout=fh, cwd=ROOT)
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "tree", filter="data")
        tree = Path(tmp) / "tree"
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(tree), "--commit", args.commit],
            check=True,
            cwd=tree,
        )
    for path in sorted(OUTPUTS.glob("*.json.gz")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
