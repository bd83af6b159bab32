"""Beyond one DuckDB file (issue 11): the Parquet lake, the engine-neutral catalog (DuckDB and
Spark SQL through sqlglot), hourly rollups, backup/restore and retention."""
