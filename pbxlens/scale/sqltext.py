"""SQL text plumbing shared by the engine adapters and the rollup router.

The catalog writes DuckDB SQL with positional `?` parameters. To rewrite a query as a syntax
tree (sqlglot) without losing which value belongs to which parameter, each `?` is first named
`:pN` (found with sqlglot's tokenizer, so a `'?'` inside a string literal stays a literal); after
the rewrite, the surviving parameters are turned back into positional `?` in their new textual
order. Values are never written into the SQL text: they stay bound parameters on every engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

_MARK = re.compile(r"__PBXLENS_P(\d+)__")


def parse(sql: str, args: Sequence | Mapping | None) -> tuple[exp.Expression, dict[str, object]]:
    """DuckDB SQL with `?` parameters (args a sequence) or `$name` ones (args a mapping) ->
    (tree with named placeholders pN, {pN: value})."""
    named = isinstance(args, Mapping)
    seq = [] if named or args is None else list(args)
    values: list = []
    parts: list[str] = []
    pos = 0
    toks = sqlglot.tokenize(sql, read="duckdb")
    skip = -1
    for i, tok in enumerate(toks):
        if i == skip:
            continue
        if not named and tok.token_type == TokenType.PLACEHOLDER and tok.text == "?":
            end = tok.end
            if len(values) >= len(seq):
                raise ValueError(f"the query has more parameters than the {len(seq)} values given")
            values.append(seq[len(values)])
        elif (named and tok.token_type == TokenType.PARAMETER and i + 1 < len(toks)
              and toks[i + 1].start == tok.end + 1):
            name = toks[i + 1].text
            if name not in args:
                raise ValueError(f"no value for ${name}")
            values.append(args[name])
            end, skip = toks[i + 1].end, i + 1
        else:
            continue
        parts.append(sql[pos:tok.start])
        parts.append(f":p{len(values)}")
        pos = end + 1
    parts.append(sql[pos:])
    if not named and len(values) != len(seq):
        raise ValueError(f"the query has {len(values)} parameters, {len(seq)} values given")
    tree = sqlglot.parse_one("".join(parts), read="duckdb")
    return tree, {f"p{i + 1}": v for i, v in enumerate(values)}


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
