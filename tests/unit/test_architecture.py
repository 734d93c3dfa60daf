"""The rings of docs/architecture.md, checked on the code: imports point inward, never across.

Only imports that run count: those under `if TYPE_CHECKING:` are for the type
checker (the domain names `config.ScreeningSettings` in one signature that way).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "topcontact_mail"


def _runtime_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for n in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.startswith(("topcontact_mail", "exchange_sandbox"))}


def _modules(ring: str) -> list[Path]:
    return (
        sorted((PACKAGE / ring).rglob("*.py"))
        if (PACKAGE / ring).is_dir()
        else [PACKAGE / f"{ring}.py"]
    )


#: ring → what its modules may import of the project (besides themselves).
ALLOWED = {
    "domain": ("topcontact_mail.domain",),
    "ports": ("topcontact_mail.domain", "topcontact_mail.ports"),
    "services": (
        "topcontact_mail.domain",
        "topcontact_mail.ports",
        "topcontact_mail.services",
        "topcontact_mail.logs",
    ),
    "reports": ("topcontact_mail.domain", "topcontact_mail.ports", "topcontact_mail.reports"),
}


@pytest.mark.parametrize("ring", sorted(ALLOWED))
def test_each_inner_ring_imports_only_what_is_further_in(ring: str) -> None:
    wrong = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in _modules(ring)
        for name in _runtime_imports(path)
        if not name.startswith(ALLOWED[ring])
    }
    assert wrong == set()


def test_no_adapter_imports_another() -> None:
    adapters = PACKAGE / "adapters"
    own = {p.stem if p.is_file() else p.name for p in adapters.iterdir() if p.name != "__init__.py"}
    own.discard("__pycache__")
    # The one retry policy and Sent Items listing both backends share, and the JSON both
    # stores keep (not adapters).
    shared = {"retry", "sent_listing", "payloads"}
    crossing = set()
    for path in adapters.rglob("*.py"):
        home = path.relative_to(adapters).parts[0].removesuffix(".py")
        for name in _runtime_imports(path):
            parts = name.split(".")
            if parts[:2] != ["topcontact_mail", "adapters"] or len(parts) < 3:
                continue
            if parts[2] not in (home, *shared):
                crossing.add(f"{path.relative_to(PACKAGE)} imports {name}")
    assert crossing == set()
    assert own >= {"ews", "graph", "memory", "sqlite_store"}


def test_only_the_demo_and_sandbox_commands_touch_the_test_double() -> None:
    users = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(name.startswith("exchange_sandbox") for name in _runtime_imports(path))
    }
    assert users <= {"entrypoints/commands/demo.py"}


def test_every_module_the_architecture_page_names_exists() -> None:
    import re

    root = PACKAGE.parent
    doc = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:[\w-]+/)*[\w-]+(?:\.py|/))`", doc))
    known = {
        str(p.relative_to(root)) + ("/" if p.is_dir() else "")
        for p in [
            root / "topcontact_mail",
            *root.glob("topcontact_mail/**/*"),
            *root.glob("tests/**/*"),
            *root.glob("sandbox/*"),
        ]
        if "__pycache__" not in p.parts
    }
    missing = {name for name in named if not any(k.endswith(name) for k in known)}
    assert len(named) > 20
    assert missing == set()
