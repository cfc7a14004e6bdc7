"""The files of a git revision, for benchmarks that measure it beside the working tree (``--against REV``)."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

__all__ = ["ROOT", "checkout"]

ROOT = Path(__file__).resolve().parent.parent


def checkout(rev: str, into: Path) -> Path:
    """The files of git revision ``rev`` (``git archive``), extracted under ``into``; returns the tree."""
    archive = into / "tree.tar"
    with archive.open("wb") as fh:
        subprocess.run(["git", "archive", rev], check=True, stdout=fh, cwd=ROOT)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"
