"""``ayaall analyze cox``: a Cox proportional hazards model, as JSON (cli.md).

Text covariates are coded against ``--ref COL=LEVEL`` (else the first level in sorted order, R's
default); ``--strata`` stratifies the baseline hazard; ``--robust``/``--cluster`` give sandwich standard
errors. The proportional-hazards test is R survival 3.x ``cox.zph(fit, transform = "km", terms = FALSE)``.
The counts (``n``, ``events``, ``n_dropped_missing``: patients left out for a missing covariate) are
released as every count is (``disclosure.counts.model_counts``; ``release`` says how), as the Cox page
shows them. Notes quote no counts. Estimates are computed on the exact data.
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from analyses.cox import fit_cox
from analyses.results import AnalysisWarning
from ayaall.errors import UserError
from ayaall.settings import DEFAULT_MIN_CELL
from disclosure.counts import model_counts, model_keys
from disclosure.policy import policy_for
from reports.analyze.common import (
    check_endpoint,
    check_min_cell,
    cohort_from_args,
    immortal_time_notes,
    json_value,
    warning_notes,
    write_json,
)

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``cox`` to the ``analyze`` subcommands."""
    parser = subparsers.add_parser(
        "cox",
        parents=[common],
        help="Cox proportional hazards regression",
        description="Cox proportional hazards model (R coxph, Efron ties) with the PH test (cox.zph). "
        "Prints JSON (cli.md).",
    )
    parser.add_argument("--covariates", required=True, help="comma-separated analysis_patients columns")
    parser.add_argument(
        "--ref",
        action="append",
        default=[],
        metavar="COL=LEVEL",
        help="reference level of a text covariate (repeatable or comma-separated)",
    )
    parser.add_argument("--strata", help="comma-separated columns stratifying the baseline hazard")
    parser.add_argument("--robust", action="store_true", help="add robust (sandwich) standard errors")
    parser.add_argument("--cluster", help="column identifying clusters for the robust variance")
    parser.add_argument("--ties", choices=("efron", "breslow"), default="efron")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    cohort = cohort_from_args(args)
    refs: dict[str, str] = {}
    for item in (part for arg in args.ref for part in arg.split(",") if part.strip()):
        if "=" not in item:
            raise UserError(f"--ref takes COLUMN=LEVEL, not {item!r}.")
        col, level = item.split("=", 1)
        refs[col.strip()] = level.strip()
    result = run(
        args.db,
        args.endpoint,
        args.origin,
        cohort,
        covariates=[c.strip() for c in args.covariates.split(",") if c.strip()],
        ref_levels=refs,
        strata=[s.strip() for s in (args.strata or "").split(",") if s.strip()],
        robust=args.robust,
        cluster=args.cluster,
        ties=args.ties,
        min_cell=args.min_cell,
    )
    return write_json(result)


def run(
    db: Any,
    endpoint: str,
    origin: str,
    cohort: Any,
    *,
    covariates: list[str],
    ref_levels: dict[str, str] | None = None,
    strata: list[str] | None = None,
    robust: bool = False,
    cluster: str | None = None,
    ties: str = "efron",
    min_cell: int = DEFAULT_MIN_CELL,
) -> dict[str, Any]:
    """The ``analyze cox`` JSON document as a dict (also used by the dashboard's export)."""
    from etl.read import load_analysis_frame

    spec = check_endpoint(endpoint, origin)
    check_min_cell(min_cell)
    if not covariates:
        raise UserError("--covariates needs at least one column.")
    unknown = sorted(set(ref_levels or {}) - set(covariates))
    if unknown:
        raise UserError(f"--ref names {unknown[0]!r}, which is not among --covariates.")
    strata = strata or []
    columns = list(dict.fromkeys([*covariates, *strata, *([cluster] if cluster else [])]))
    frame = load_analysis_frame(db, cohort, endpoint, origin, columns, keys=True)
    notes: list[str] = immortal_time_notes([*covariates, *strata], origin)
    if spec.competing_risks:
        notes.append(
            f"{endpoint} has a competing event (event_code 2), treated as censoring: this is a "
            "cause-specific hazard model."
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        fit = fit_cox(
            frame,
            "time_days",
            "event_code",
            covariates,
            ref_levels=ref_levels,
            strata=strata or None,
            robust=robust,
            cluster_col=cluster,
            ties=ties,
        )
    notes += warning_notes(caught, min_cell)
    used = frame[columns].notna().all(axis=1).to_numpy()
    keys = model_keys(frame, used) if int(used.sum()) == fit.n else (None, None, None)
    counts = model_counts(fit.n, fit.events, len(frame), policy_for(min_cell), keys)
    if fit.n_dropped:
        notes.append("Patients with a missing covariate were left out, as R's na.omit (n_dropped_missing).")
    terms = [
        {
            "term": r["term"],
            "coef": json_value(r["coef"]),
            "se": json_value(r["se"]),
            "robust_se": json_value(r["robust_se"]),
            "hr": json_value(r["hr"]),
            "hr_ci": [json_value(r["hr_ci_lower"]), json_value(r["hr_ci_upper"])],
            "z": json_value(r["z"]),
            "p": json_value(r["p"]),
        }
        for r in fit.terms.to_dict("records")
    ]
    ph = [
        {"term": r["term"], "statistic": json_value(r["statistic"]), "df": int(r["df"]), "p": json_value(r["p"])}
        for r in fit.ph_test.to_dict("records")
    ]
    return {
        "endpoint": endpoint,
        "origin": origin,
        "event": spec.event,
        "n": counts["n"],
        "events": counts["events"],
        "n_dropped_missing": counts["n_dropped"],
        "ties": fit.ties,
        "strata": list(fit.strata),
        "robust": bool(robust or cluster),
        "cluster": cluster,
        "terms": terms,
        "reference_levels": fit.reference_levels,
        "ph_test": ph[:-1],
        "ph_test_global": ph[-1],
        "ph_method": 'survival 3.x cox.zph(fit, transform = "km", terms = FALSE)',
        "loglik": fit.loglik,
        "loglik_null": fit.loglik_null,
        "concordance": json_value(fit.concordance),
        "min_cell": min_cell,
        "release": policy_for(min_cell).to_dict(),
        "notes": notes,
    }
