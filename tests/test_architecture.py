"""The house rules of docs/architecture.md, checked on the code: which package may import
which, no private name imported across modules, no long function without its reason.

The tables here mirror the table "What each package may import" in docs/architecture.md:
change both together.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "pbxlens"

# Below everything: the error base class (`pbxlens`), settings, the consoles, the background
# thread helper, the CLI's shared error/date helpers and the number-cell parsers. Every package
# may import these.
BASE = frozenset({"pbxlens", "config", "console", "background", "cli_common", "cells"})

# package (or top-level module) -> the other packages it may import, beyond BASE
ALLOWED: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in {
    "pbxlens": {"api"},  # `pbxlens.open`, the Python API's entry, imported when called
    "config": set(),
    "console": set(),
    "background": set(),
    "cli_common": set(),
    "cells": set(),
    "store": set(),
    "models": {"store"},
    "ingest": {"store", "models", "pipeline", "live", "missed_calls", "scale"},
    "simulate": {"ingest"},
    "delivery": {"store"},
    "billing": {"store", "models", "ingest"},
    "missed_calls": {"store", "models", "ingest"},
    "tickets": {"store", "models", "ingest", "delivery"},
    "reports": {"store", "models", "ingest", "billing", "missed_calls", "scale"},
    "scale": {"store", "models", "reports", "billing", "pipeline"},
    "pipeline": {"store", "ingest", "billing", "missed_calls", "reports", "scale"},
    "live": {"store", "models", "ingest", "reports", "billing", "delivery", "simulate"},
    "views": {"store", "reports", "delivery"},
    "api": {"store", "reports"},
    "dashboards": {"store", "models", "ingest", "billing", "missed_calls", "tickets", "reports",
                   "scale", "live", "views", "delivery", "simulate", "pipeline"},
    "cli": {"store", "models", "ingest", "billing", "missed_calls", "tickets", "reports",
            "scale", "live", "views", "delivery", "simulate", "pipeline", "dashboards", "api"},
    "__main__": {"cli"},
}.items()}

# (importing module, imported module or package) -> why the rule above does not hold there
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("pbxlens.live.alerts", "pbxlens.dashboards.i18n"):
        "alert texts come from the translation catalog, which still lives in dashboards",
    ("pbxlens.views.exports", "pbxlens.dashboards.i18n"):
        "export texts come from the translation catalog, which still lives in dashboards",
    ("pbxlens.views.schedules", "pbxlens.dashboards.i18n"):
        "mail texts come from the translation catalog, which still lives in dashboards",
    ("pbxlens.views.render", "pbxlens.dashboards.i18n"):
        "rendered texts come from the translation catalog, which still lives in dashboards",
    ("pbxlens.views.render", "pbxlens.dashboards"):
        "a saved view runs its report as the web app does (service.run_report: roles, masking)",
    ("pbxlens.views.printed", "pbxlens.dashboards.components.charts"):
        "a printed view draws the same chart as the page",
    ("pbxlens.api", "pbxlens.dashboards"):
        "the API's tenant scope is the web app's (dashboards.access), imported when asked",
}

# Only the web app and the CLI import the web frameworks; the routes of these two modules are
# registered on the web app's Flask server.
WEB_FRAMEWORKS = ("dash", "flask", "werkzeug", "dash_ag_grid", "dash_bootstrap_components")
WEB_PACKAGES = frozenset({"dashboards", "cli"})
WEB_EXCEPTIONS = {
    "pbxlens.views.web": "the saved views' HTTP routes, registered on the web app's server",
    "pbxlens.scale.http": "the backup endpoint, registered on the web app's server",
}

LONG = 80
LONG_EXEMPT = ("simulate", "store/migrations", "models/migrations")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.append((".".join(parts), path))
    return out


def _unit(module: str) -> str:
    """The package a module belongs to: `pbxlens.ingest.loader` -> `ingest`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "pbxlens"


def _type_only(tree: ast.Module) -> set[int]:
    """Ids of the import nodes under `if TYPE_CHECKING:` (a type, no import at run time)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return ids


def _imports(module: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names, line) for every import, at module level or in a function;
    relative imports resolved; `from pbxlens import x` counts as importing `pbxlens.x`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_only(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [a.name for a in node.names]
            if base == "pbxlens":
                found += [(f"pbxlens.{n}" if (ROOT / n).is_dir() or (ROOT / f"{n}.py").exists()
                           else "pbxlens", [n], node.lineno) for n in names]
            else:
                found.append((base, names, node.lineno))
    return found


def _excepted(module: str, target: str) -> bool:
    return any(module == m and (target == t or target.startswith(t + "."))
               for m, t in EXCEPTIONS)


def test_packages_import_only_what_the_architecture_allows():
    wrong = []
    for module, path in _modules():
        unit = _unit(module)
        assert unit in ALLOWED, f"{module}: package {unit} missing from ALLOWED (and the doc)"
        for target, _names, line in _imports(module, path):
            if not target.startswith("pbxlens"):
                continue
            other = _unit(target)
            if other in (unit, *BASE) or other in ALLOWED[unit] or _excepted(module, target):
                continue
            wrong.append(f"{path.relative_to(ROOT.parent)}:{line}: {unit} imports {target}")
    assert not wrong, "imports the architecture does not allow:\n" + "\n".join(wrong)


def test_the_exceptions_are_still_needed():
    used = {(m, t) for m, p in _modules() for tgt, _n, _l in _imports(m, p)
            for (mm, t) in EXCEPTIONS if m == mm and (tgt == t or tgt.startswith(t + "."))}
    assert set(EXCEPTIONS) == used, f"stale exceptions: {set(EXCEPTIONS) - used}"


def test_only_the_web_app_and_the_cli_import_web_frameworks():
    wrong = []
    for module, path in _modules():
        if _unit(module) in WEB_PACKAGES or module in WEB_EXCEPTIONS:
            continue
        for target, _names, line in _imports(module, path):
            if target.split(".")[0] in WEB_FRAMEWORKS:
                wrong.append(f"{path.relative_to(ROOT.parent)}:{line}: imports {target}")
    assert not wrong, "web framework outside the web app:\n" + "\n".join(wrong)


def test_no_private_name_is_imported_across_modules():
    wrong = []
    for module, path in _modules():
        for target, names, line in _imports(module, path):
            if not target.startswith("pbxlens"):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private or any(p.startswith("_") and not p.startswith("__")
                              for p in target.split(".")[1:]):
                wrong.append(f"{path.relative_to(ROOT.parent)}:{line}: {target} {private}")
    assert not wrong, "private names imported across modules:\n" + "\n".join(wrong)


def _long_functions(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    wrong = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = node.end_lineno - node.lineno + 1
            head = "\n".join(lines[first - 1: node.body[0].lineno + 5])
            if length > LONG and f"over {LONG} lines" not in head.lower():
                wrong.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: "
                             f"{node.name} ({length} lines)")
    return wrong


def test_no_function_over_80_lines_without_a_reason():
    """A function over 80 lines says why in a comment among its first lines ("over 80 lines:
    ..."); simulator code and migrations are exempt."""
    wrong = []
    for _module, path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        if not rel.startswith(LONG_EXEMPT):
            wrong += _long_functions(path)
    assert not wrong, "functions over 80 lines without a reason:\n" + "\n".join(wrong)


def _doc_table() -> dict[str, frozenset[str]]:
    """docs/architecture.md's table "What each package may import": package -> the packages
    of its last column ("base only" = none; "every package but x, y" = the others)."""
    doc = (ROOT.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not re.fullmatch(r"`[\w_]+`", cells[0]):
            continue
        name, may = cells[0].strip("`"), cells[2]
        named = set(re.findall(r"`([\w_]+)`", may))
        if may.startswith("every package"):
            named = set(ALLOWED) - BASE - {"pbxlens", "__main__", name} - named
        table[name] = frozenset(named)
    return table


def test_the_architecture_page_mirrors_the_rules():
    expected = {k: v for k, v in ALLOWED.items() if k != "pbxlens"}
    assert _doc_table() == expected
