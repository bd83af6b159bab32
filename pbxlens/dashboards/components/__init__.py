"""Render functions: each takes plain data (a Result, a chart dict, option lists) and
returns Dash components. No queries, no callbacks."""
