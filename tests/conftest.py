"""Shared fixtures: a small synthetic registry, generated and loaded once per test session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/builders.py


@pytest.fixture(scope="session")
def demo_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean synthetic extract of 3,000 patients (seed 11), as ``ayaall generate`` writes it."""
    from synthetic_data import generate_registry

    out = tmp_path_factory.mktemp("demo") / "extract"
    generate_registry(out, n_patients=3000, seed=11)
    return out


@pytest.fixture(scope="session")
def demo_db(demo_extract: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo extract loaded into a DuckDB file (treat as read-only: it is shared)."""
    from etl import load_extract

    db = tmp_path_factory.mktemp("demo_db") / "registry.duckdb"
    load_extract(demo_extract, db, record_key_seed=11)
    return db


@pytest.fixture(scope="module")
def service(demo_db: Path):
    """A ``RegistryService`` on the demo registry, one per test module (so each starts with an empty
    cache), closed after the module."""
    from reports.service import RegistryService

    svc = RegistryService(demo_db)
    yield svc
    svc.close()


# ---- dashboard browser tests (owned by dashboard/; keep this block at the end) -------------------------
# Headless Chromium for dash's ``dash_duo`` fixture: the system browser and driver, no network chatter.
def pytest_setup_options():
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    return options


# ---- end of dashboard browser tests block ----------------------------------------------------------------
