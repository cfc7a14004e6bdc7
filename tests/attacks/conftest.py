"""Fixtures of the disclosure attacks: the server's outputs at min cell 11 on the demo registry, the same
requests with disclosure off (the truth), the release parameters the server states, seeded cohorts."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from attacks.harness import Release, random_cohorts

MIN_CELL = 11
#: the seed of every random choice of the attacks (cohorts, paddings)
SEED = 20261204


@pytest.fixture(scope="session")
def attack_service(demo_db: Path):
    """One read-only service on the demo registry for all attack modules (its cache is keyed by min cell,
    so the released and the exact outputs never mix)."""
    from reports.service import RegistryService

    svc = RegistryService(demo_db, cache_size=2048)
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def ctx(attack_service: Any):
    """The dashboard's page context at the default min cell, 11."""
    from ayaall.settings import Settings
    from dashboard.context import PageContext

    return PageContext(attack_service, Settings(min_cell=MIN_CELL))


@pytest.fixture(scope="session")
def truth_ctx(attack_service: Any):
    """The same pages with disclosure control off (``--min-cell 0``): the ground truth."""
    from ayaall.settings import Settings
    from dashboard.context import PageContext

    return PageContext(attack_service, Settings(min_cell=0))


def run_analyze(args: list[str], db: Path) -> dict[str, Any]:
    """``ayaall analyze ARGS --db DB --json`` in this process (the console script's own ``main``), parsed."""
    from ayaall.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["analyze", *args, "--db", str(db), "--json"])
    assert code == 0, f"ayaall analyze {' '.join(args)} exited {code}"
    return json.loads(out.getvalue())


@pytest.fixture(scope="session")
def analyze(demo_db: Path):
    """``analyze(args)``: the JSON of ``ayaall analyze ARGS`` on the demo registry."""
    return lambda args: run_analyze(list(args), demo_db)


@pytest.fixture(scope="session")
def release(analyze: Any) -> Release:
    """What the server says about how its numbers are released: the ``release`` block of its JSON (absent
    on the session-start code, whose shown counts are exact)."""
    for args in (["km", "--endpoint", "OS", "--origin", "DX"], ["table1"]):
        block = analyze([*args, "--min-cell", str(MIN_CELL)]).get("release")
        if block:
            return Release.from_block(block, MIN_CELL)
    return Release(k=MIN_CELL)


@pytest.fixture(scope="session")
def cohorts(attack_service: Any) -> list[dict[str, Any]]:
    """Four seeded random cohorts of 60 to 700 patients."""
    return random_cohorts(attack_service, SEED, 4)


@pytest.fixture(scope="session")
def scoreboard():
    """``scoreboard(score)`` records an attack's score; with ``ATTACK_REPORT=FILE`` in the environment every
    score is written there as JSON at the end of the session (the measurements of tests/attacks/README.md)."""
    import os

    scores: list[Any] = []
    yield scores.append
    path = os.environ.get("ATTACK_REPORT")
    if path:
        rows = [
            {
                "attack": s.name,
                "recovered": s.recovered,
                "small": s.small,
                "tried": s.tried,
                "wrong": s.wrong,
                "examples": s.examples,
            }
            for s in scores
        ]
        Path(path).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
