"""Exact JSON for analysis results: frames with their dtypes, floats bit for bit, dataclasses by name.

The stored reference outputs (``tests/reference/outputs``) are written and read with these two functions,
so a comparison can be exact: every float is its ``float.hex`` text (NaN and infinities included), every
column keeps its dtype, and an object column keeps each cell's type (int, float, str, bool, None).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Stored", "decode", "encode", "read", "write"]


@dataclasses.dataclass(frozen=True)
class Stored:
    """A dataclass as it was stored: its class name and fields (decoded)."""

    name: str
    fields: dict[str, Any]


def _scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        kind = type(value).__name__
        return {"np": kind, "v": _scalar(value.item())}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": value.hex() if math.isfinite(value) else repr(value)}
    raise TypeError(f"cannot store {type(value).__name__}")


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data that :func:`decode` turns back into an exactly equal value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "dataclass": type(value).__name__,
            "fields": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, Stored):
        return {"dataclass": value.name, "fields": {k: encode(v) for k, v in value.fields.items()}}
    if isinstance(value, pd.DataFrame):
        return {
            "frame": [[str(c), str(value[c].dtype), [_scalar(v) for v in value[c].tolist()]] for c in value.columns],
            "index": [str(value.index.dtype), [_scalar(v) for v in value.index.tolist()]],
        }
    if isinstance(value, pd.Series):
        return {"series": str(value.dtype), "name": _scalar(value.name), "values": [_scalar(v) for v in value.tolist()]}
    if isinstance(value, np.ndarray):
        return {
            "array": str(value.dtype),
            "shape": list(value.shape),
            "values": [_scalar(v) for v in value.ravel().tolist()],
        }
    if isinstance(value, dict):
        return {"dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return {"list": [encode(v) for v in value]}
    return _scalar(value)


def _unscalar(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    if "float" in data:
        text = data["float"]
        return float.fromhex(text) if not text.lstrip("-").isalpha() else float(text)
    if "int" in data:
        return int(data["int"])
    if "np" in data:
        return getattr(np, data["np"])(_unscalar(data["v"]))
    raise ValueError(data)


def decode(data: Any) -> Any:
    """The value :func:`encode` stored (a dataclass comes back as :class:`Stored`)."""
    if not isinstance(data, dict):
        return data
    if "dataclass" in data:
        return Stored(data["dataclass"], {k: decode(v) for k, v in data["fields"].items()})
    if "frame" in data:
        index_dtype, index_values = data["index"]
        index = pd.Index([_unscalar(v) for v in index_values], dtype=index_dtype)
        columns = {
            name: pd.Series([_unscalar(v) for v in values], dtype=dtype, index=index)
            for name, dtype, values in data["frame"]
        }
        return pd.DataFrame(columns, index=index)
    if "series" in data:
        return pd.Series([_unscalar(v) for v in data["values"]], dtype=data["series"], name=_unscalar(data["name"]))
    if "array" in data:
        return np.array([_unscalar(v) for v in data["values"]], dtype=data["array"]).reshape(data["shape"])
    if "dict" in data:
        return {decode(k): decode(v) for k, v in data["dict"]}
    if "tuple" in data:
        return tuple(decode(v) for v in data["tuple"])
    if "list" in data:
        return [decode(v) for v in data["list"]]
    return _unscalar(data)


def write(path: Path, outputs: dict[str, Any], header: dict[str, Any]) -> None:
    """``outputs`` (name -> value) to gzipped JSON at ``path``, with ``header`` (where they came from)."""
    document = {"header": header, "outputs": {k: encode(v) for k, v in outputs.items()}}
    text = json.dumps(document, separators=(",", ":")).encode("utf-8")
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as fh:
        fh.write(text)  # no time stamp in the header: the same references give the same bytes


def read(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the decoded outputs of a file :func:`write` wrote."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        document = json.load(fh)
    return document["header"], {k: decode(v) for k, v in document["outputs"].items()}
