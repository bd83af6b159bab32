"""SQL text plumbing shared by the engine adapters and the rollup router.

The catalog writes DuckDB SQL with positional `?` parameters. To rewrite a query as a syntax
tree (sqlglot) without losing which value belongs to which parameter, each `?` is first named
`:pN` (found with sqlglot's tokenizer, so a `'?'` inside a string literal stays a literal); after
the rewrite, the surviving parameters are turned back into positional `?` in their new textual
order. Values are never written into the SQL text: they stay bound parameters on every engine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

_MARK = re.compile(r"__PBXLENS_P(\d+)__")


def parse(sql: str, args: Sequence | None) -> tuple[exp.Expression, dict[str, object]]:
    """DuckDB SQL with `?` parameters -> (tree with named placeholders pN, {pN: value})."""
    args = list(args or [])
    parts: list[str] = []
    pos = n = 0
    for tok in sqlglot.tokenize(sql, read="duckdb"):
        if tok.token_type == TokenType.PLACEHOLDER and tok.text == "?":
            n += 1
            parts.append(sql[pos:tok.start])
            parts.append(f":p{n}")
            pos = tok.end + 1
    parts.append(sql[pos:])
    if n != len(args):
        raise ValueError(f"the query has {n} parameters, {len(args)} values given")
    tree = sqlglot.parse_one("".join(parts), read="duckdb")
    return tree, {f"p{i + 1}": v for i, v in enumerate(args)}


def render(tree: exp.Expression, params: dict[str, object], dialect: str) -> tuple[str, list]:
    """The tree in `dialect` with positional `?` parameters and their values in order."""
    tree = tree.copy()
    for ph in list(tree.find_all(exp.Placeholder)):
        name = ph.name
        if not name.startswith("p") or not name[1:].isdigit():
            raise ValueError(f"unexpected placeholder {name!r}")
        ph.replace(exp.Var(this=f"__PBXLENS_P{name[1:]}__"))
    text = tree.sql(dialect=dialect)
    values: list = []

    def sub(m: re.Match) -> str:
        values.append(params[f"p{m.group(1)}"])
        return "?"

    return _MARK.sub(sub, text), values


def table_names(tree: exp.Expression) -> set[str]:
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}
