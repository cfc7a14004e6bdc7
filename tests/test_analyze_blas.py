"""``ayaall analyze`` runs each analysis with BLAS on one thread, as the dashboard does."""

from __future__ import annotations

import argparse

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from ayaall.cli import build_parser
from reports.command import _one_blas_thread

ANALYSES = ["km", "cox", "cif", "landmark", "iptw", "response", "toxicity", "table1"]


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_the_wrapper_limits_blas_to_one_thread_and_restores_it() -> None:
    seen: list[list[int]] = []

    def handler(args: argparse.Namespace) -> int:
        seen.append(_blas_threads())
        return 0

    # From a known state of two threads (another test may have limited this process already). There
    # is one BLAS library per package that brings its own (numpy's, and scipy's once it is imported).
    with threadpool_limits(2, user_api="blas"):
        pools = len(_blas_threads())
        assert pools >= 1
        assert _blas_threads() == [2] * pools
        assert _one_blas_thread(handler)(argparse.Namespace()) == 0
        assert _blas_threads() == [2] * pools
    assert seen == [[1] * pools]
    np.ones((3, 3)) @ np.ones(3)  # BLAS still works afterwards


def _analyze_parsers() -> dict[str, argparse.ArgumentParser]:
    def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return dict(action.choices)

    return subparsers(subparsers(build_parser())["analyze"])


def test_every_analysis_handler_is_wrapped() -> None:
    parsers = _analyze_parsers()
    assert sorted(parsers) == sorted(ANALYSES)
    for name, parser in parsers.items():
        assert parser.get_default("handler").__wrapped__.__module__ == f"reports.analyze.{name}"
