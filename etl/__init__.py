"""Registry extract (format v1) to DuckDB: raw, staged and analysis layers with a load account."""

from etl.load import LoadResult, TableCount, load_extract

__all__ = ["LoadResult", "TableCount", "load_extract"]
