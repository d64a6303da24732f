"""The apps' layers point one way, read from the source of every module.

api, reports, sla and demo use leads; leads uses criteria and accounts; webhooks
uses them all and nobody uses webhooks (they tell it through signals); nothing
imports upwards, not even inside a function, where a cycle would otherwise hide.
"""

import ast
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parent.parent / "apps"

# app -> the apps it must never import
FORBIDDEN = {
    "accounts": {"criteria", "leads", "sla", "reports", "api", "webhooks", "demo"},
    "criteria": {"leads", "sla", "reports", "api", "webhooks", "demo"},
    "leads": {"sla", "reports", "api", "webhooks", "demo"},
    "outbox": {"accounts", "criteria", "leads", "sla", "reports", "api", "webhooks", "demo"},
    "sla": {"webhooks", "demo"},
    "reports": {"webhooks", "demo"},
    "api": {"webhooks", "demo"},
    "webhooks": {"demo"},
}


def imported_apps(source: str, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import of an ``apps.*`` module anywhere in ``source``."""
    found = []
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names = [target]
        else:
            continue
        found += [(node.lineno, name) for name in names if name.startswith("apps.")]
    return found


def violations() -> list[str]:
    found = []
    for path in sorted(APPS.rglob("*.py")):
        relative = path.relative_to(APPS.parent)
        module = ".".join(relative.with_suffix("").parts)
        app = relative.parts[1]
        for line, name in imported_apps(path.read_text(encoding="utf-8"), module):
            target_app = name.split(".")[1]
            if target_app in FORBIDDEN.get(app, set()):
                found.append(f"{relative}:{line} ({app}) imports {name}")
    return found


def test_no_app_imports_a_layer_above_it():
    assert violations() == []


@pytest.mark.parametrize(
    "source",
    [
        "from apps.sla.clock import sla_deadlines",
        "import apps.reports.admin",
        "def deadlines():\n    from apps.sla import clock\n    return clock",
        "class Admin:\n    def view(self):\n        import apps.api.views as v\n",
        "from ..sla.clock import WorkingCalendar",
    ],
    ids=["from_import", "plain_import", "inside_a_function", "inside_a_method", "relative"],
)
def test_the_check_sees_every_form_of_import(source):
    names = [name for _line, name in imported_apps(source, "apps.criteria.models")]
    assert len(names) == 1 and names[0].split(".")[1] in {"sla", "reports", "api"}
