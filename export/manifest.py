"""The provenance manifest of an export: ``FILE.manifest.json`` beside it, and a copy inside it where the
format allows (PDF metadata, PNG text chunk, TIFF ImageDescription, SVG ``<metadata>``, the XLSX
Provenance sheet, ``manifest.json`` in a bundle).

A manifest records what was exported (kind, format, preset, dpi, grayscale), the request (the analysis
parameters and the cohort), the database (path, load id, the extract's checksums, the data cut-off), the
software (package version, code revision, library versions), ``min_cell``, the time of the export and
the sha256 of every file written. The copy inside a file cannot hold that file's own hash; it has
``"files": null`` and ``"embedded": true``, and the manifest beside the file lists the hashes.
``ayaall export --from-manifest`` runs the recorded request again.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from analyses.validation import VALIDATED_AGAINST
from ayaall import __version__
from ayaall.errors import UserError
from disclosure.policy import policy_for
from export.presets import get_preset
from export.requests import FIGURE_FORMATS, ExportRequest
from reports.service import RegistryService

__all__ = [
    "SCHEMA",
    "build_manifest",
    "database_provenance",
    "embedded_copy",
    "manifest_bytes",
    "manifest_path",
    "read_manifest",
    "sha256_bytes",
    "software_versions",
    "utc_now",
    "write_manifest",
]

SCHEMA = "ayaall-export-manifest/1"
_LIBRARIES = ("numpy", "pandas", "scipy", "duckdb", "plotly", "kaleido", "choreographer", "openpyxl")
_ROOT = Path(__file__).resolve().parents[1]


def utc_now() -> str:
    """The time of the export, UTC, ISO 8601 to the second (recorded, never used as an analysis default)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_path(out: Path) -> Path:
    """``FILE.manifest.json`` beside ``FILE``."""
    return out.with_name(out.name + ".manifest.json")


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=_ROOT, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def software_versions() -> dict[str, Any]:
    """Package version, code revision (``git rev-parse HEAD``; null without git) and library versions."""
    revision = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if revision else None
    out: dict[str, Any] = {
        "ayaall": __version__,
        "git_revision": revision,
        "git_dirty": None if status is None else bool(status),
        "python": platform.python_version(),
        "validated_against": {ref.name: ref.version for ref in VALIDATED_AGAINST},
    }
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def database_provenance(service: RegistryService) -> dict[str, Any]:
    """The database's current load: path, load id, data cut-off and the extract's checksums (``load_runs``)."""
    info: dict[str, Any] = {"path": str(service.db_path.resolve()), "load_id": None, "data_cutoff": None}
    if not (service.has_table("load_parameters") and service.has_table("load_runs")):
        return info
    load = service.load_info()  # the load the service reads (it follows a new one)
    if load["load_id"] is None:
        return info
    load_id = load["load_id"]
    info.update(load_id=load_id, data_cutoff=load["data_cutoff"])
    runs = service.query_df(
        "SELECT registry, extract_date, extract_path, file_checksums, extract_fingerprint, package_version "
        "FROM load_runs WHERE load_id = ?",
        [load_id],
    )
    if len(runs):
        run = runs.iloc[0]
        info.update(
            registry=run["registry"],
            extract_date=run["extract_date"],
            extract_path=run["extract_path"],
            extract_fingerprint=run["extract_fingerprint"],
            file_checksums=json.loads(run["file_checksums"]) if run["file_checksums"] else {},
            loaded_by=run["package_version"],
        )
    return info


def build_manifest(
    request: ExportRequest,
    *,
    kind_label: str,
    parameters: Mapping[str, Any],
    cohort_source: Mapping[str, Any],
    database: Mapping[str, Any],
    software: Mapping[str, Any],
    exported_at: str,
    outputs: Mapping[str, str],
) -> dict[str, Any]:
    """The manifest without file hashes (``files`` is added by the writer once the files exist)."""
    preset = get_preset(request.preset)
    figure_format = request.figure_format if request.format == "zip" else request.format
    figure = figure_format in FIGURE_FORMATS
    return {
        "schema": SCHEMA,
        "export": {
            "figure": request.figure,
            "label": kind_label,
            "format": request.format,
            "figure_format": request.figure_format if request.format == "zip" else None,
            "table": request.table if request.format == "csv" else None,
            "preset": request.preset if figure else None,
            "width_mm": preset.width_mm if figure else None,
            "dpi": request.dpi if figure_format in ("png", "tiff") else None,
            "grayscale": request.grayscale,
            "unit": request.unit,
            "decimals": request.decimals,
            "outputs": dict(outputs),
        },
        "request": request.to_dict(),
        "analysis": dict(parameters),
        "cohort": dict(cohort_source),
        "database": dict(database),
        "software": dict(software),
        "min_cell": request.min_cell,
        "release": policy_for(request.min_cell).to_dict(),
        "exported_at": exported_at,
        "embedded": False,
        "files": None,
    }


def embedded_copy(manifest: Mapping[str, Any]) -> str:
    """The manifest as the JSON text put inside a file: no file hashes (a file cannot hold its own)."""
    return json.dumps({**manifest, "embedded": True, "files": None}, sort_keys=True, separators=(",", ":"))


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """``manifest`` as indented, key-sorted JSON (UTF-8)."""
    return (json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


def write_manifest(path: Path, manifest: Mapping[str, Any]) -> bytes:
    """Write ``manifest`` as indented JSON and return its bytes."""
    data = manifest_bytes(manifest)
    path.write_bytes(data)
    return data


def read_manifest(path: str | Path) -> dict[str, Any]:
    """A manifest written by ``ayaall export``, or a ``UserError`` saying what is wrong with the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"manifest {path} does not exist.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"manifest {path} is not valid JSON ({exc}).") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("request"), dict):
        raise UserError(f"{path} is not an ayaall export manifest (no schema {SCHEMA!r} with a request).")
    return data
