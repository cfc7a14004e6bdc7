"""Every component id of the dashboard, declared once.

Cohort filters and view options use pattern-matching ids so that one callback can write the whole view
state into the URL and another can set every filter from an uploaded cohort file.
"""

from __future__ import annotations

from dash import ALL

__all__ = [
    "COHORT_COUNT",
    "COHORT_DOWNLOAD",
    "COHORT_RESET",
    "COHORT_SAVE",
    "COHORT_UPLOAD",
    "COHORT_UPLOAD_MESSAGE",
    "FILTER_ALL",
    "LOAD_INFO",
    "NAV",
    "OPTION_ALL",
    "PAGE",
    "URL",
    "filter_id",
    "nav_id",
    "nav_id_all",
    "option_id",
]

URL = "url"
NAV = "nav"
PAGE = "page-content"
COHORT_COUNT = "cohort-count"
LOAD_INFO = "load-info"
COHORT_SAVE = "cohort-save"
COHORT_DOWNLOAD = "cohort-download"
COHORT_UPLOAD = "cohort-upload"
COHORT_UPLOAD_MESSAGE = "cohort-upload-message"
COHORT_RESET = "cohort-reset"

_FILTER = "cohort-filter"
_OPTION = "view-option"
_NAV = "nav-link"

FILTER_ALL = {"type": _FILTER, "column": ALL}
OPTION_ALL = {"type": _OPTION, "name": ALL}


def filter_id(column: str) -> dict[str, str]:
    """Id of the cohort filter on ``column`` (an ``analysis_patients`` column)."""
    return {"type": _FILTER, "column": column}


def option_id(name: str) -> dict[str, str]:
    """Id of the view option ``name`` (its key in the URL query string, e.g. ``endpoint``)."""
    return {"type": _OPTION, "name": name}


def nav_id(path: str) -> dict[str, str]:
    return {"type": _NAV, "path": path}


def nav_id_all() -> dict[str, object]:
    return {"type": _NAV, "path": ALL}


# Page outputs -------------------------------------------------------------------------------------
ATTRITION = "cohort-attrition"
TABLE1 = "cohort-table1"
SURV_FIGURE = "survival-figure"
SURV_SUMMARY = "survival-summary"
SURV_TESTS = "survival-tests"
SURV_MESSAGE = "survival-message"
SURV_EXPOSURE_WARNING = "survival-exposure-warning"
COX_FOREST = "cox-forest"
COX_TABLE = "cox-table"
COX_PH = "cox-ph"
COX_MESSAGE = "cox-message"
CR_FIGURE = "competing-figure"
CR_TABLE = "competing-table"
CR_TESTS = "competing-tests"
CR_MODELS = "competing-models"
CR_MESSAGE = "competing-message"
TIMING_CONTENT = "timing-content"
WEIGHTING_CONTENT = "weighting-content"
RESPONSE_CONTENT = "response-content"
QUALITY_CONTENT = "quality-content"
EXPOSURE_WARNING_LINK = "exposure-warning-link"
TIMING_MESSAGE = "timing-message"
TIMING_FIGURE = "timing-figure"  # landmark curves
TIMING_LANDMARKS = "timing-landmarks"
TIMING_SM_FIGURE = "timing-sm-figure"
TIMING_SM_TABLE = "timing-sm-table"
TIMING_COX_FIGURE = "timing-cox-figure"
TIMING_COX_TABLE = "timing-cox-table"
WEIGHTING_MESSAGE = "weighting-message"
WEIGHTING_FIGURE = "weighting-figure"  # adjusted Kaplan-Meier curves
WEIGHTING_SUMMARY = "weighting-summary"
WEIGHTING_BALANCE = "weighting-balance"  # love plot
WEIGHTING_BALANCE_TABLE = "weighting-balance-table"
WEIGHTING_COX_FIGURE = "weighting-cox-figure"
WEIGHTING_COX_TABLE = "weighting-cox-table"
RESPONSE_MESSAGE = "response-message"
RESPONSE_FIGURE = "response-figure"
RESPONSE_TABLE = "response-table"
TOXICITY_CONTENT = "toxicity-content"
TOXICITY_MESSAGE = "toxicity-message"
TOXICITY_TABLE = "toxicity-table"
TOXICITY_GRADE_FIGURE = "toxicity-grade-figure"
TOXICITY_CIF_FIGURE = "toxicity-cif-figure"
TOXICITY_CIF_TABLE = "toxicity-cif-table"
