# %% [markdown]
# # pbxlens from Python
#
# A notebook-style tour of the Python API (`docs/api.md`): open a store read-only, list the
# reports, take one as a pandas or polars DataFrame, and query the calls themselves. Run it as
# a script (`python docs/examples/api_tour.py [STORE]`, default `data/pbxlens.duckdb`, e.g.
# after `make demo`) or cell by cell in Jupyter / VS Code. The test suite runs it.

# %%
import sys

import polars as pl

import pbxlens

store = sys.argv[1] if len(sys.argv) > 1 else "data/pbxlens.duckdb"
lens = pbxlens.open(store)  # read-only; full numbers (privacy=False masks them)
first, last = lens.span()  # the days the store holds calls for
print(f"calls from {first} to {last}; {len(lens.reports())} reports")

# %% [markdown]
# ## One report as a DataFrame
# `lens.report(id, start, end, filters)` runs the report the web page and
# `pbxlens report ID` show; its tables become Arrow, pandas or polars frames (durations in
# seconds, money as exact decimals, one column per report column).

# %%
queues = lens.report("cdr.queues", start=first, end=last)
df = queues.to_pandas("queues")  # its one table, by key
print(df[["label", "total.n", "answered.n", "unanswered.n", "kpi.sl", "kpi.asa"]]
      .to_string(index=False))
print("totals:", {k: queues.totals()[k] for k in ("total.n", "answered.n", "kpi.sl")})

# %% [markdown]
# ## Filters, and a report with one table per queue
# Filters are the CLI's (`docs/reports.md` lists them per report). The frames stack a report's
# tables (here one per queue) under a `table` column; `to_polars(table)` takes one of them.

# %%
busiest = df.sort_values("total.n", ascending=False)["key"].iloc[0]
by_hour = lens.report("cdr.queues_by_hour", start=first, end=last,
                      filters={"queue": busiest, "exit_cause": ["NCC", "TRASFERIMENTO"]})
hours = by_hour.to_polars()
print(hours.filter(pl.col("total.n") > 0).select("table", "label", "total.n",
                                                 "answered.avg_talk"))

# %% [markdown]
# ## The calls themselves
# `lens.calls()` is a polars LazyFrame of one row per call: build any breakdown the catalog
# lacks, e.g. answered incoming calls per hour and their mean wait.

# %%
per_hour = (lens.calls(start=first, end=last)
            .filter((pl.col("direction") == "incoming") & (pl.col("status") == "OK"))
            .group_by("hr").agg(calls=pl.len(), mean_wait_s=pl.col("wait_s").mean().round(1))
            .sort("hr").collect())
print(per_hour)

# %% [markdown]
# ## The same workbook as the web page's export

# %%
queues.to_xlsx("queues.xlsx")
print("wrote queues.xlsx")
lens.close()
