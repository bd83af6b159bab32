"""Beyond one DuckDB file: the Parquet lake, the engine-neutral catalog (DuckDB and
Spark SQL through sqlglot), hourly rollups, backup/restore and retention."""
