"""The README's code layout holds: no import cycles; the domain reaches the transport through one bridge."""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_PACKAGES = ("chatsite", "accounts", "rooms")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_modules() -> dict[str, Path]:
    """Every module of the app packages but migrations, by dotted name."""
    return {
        module_name(path): path
        for package in APP_PACKAGES
        for path in (REPO_ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The app modules `path` imports anywhere (top level, functions, TYPE_CHECKING blocks)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        found.update(name for name in names if name in modules)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = app_modules()
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> list[str] | None:
        if name in trail:
            return [*trail[trail.index(name) :], name]
        if name in done:
            return None
        for imported in sorted(graph.get(name, ())):
            cycle = visit(imported, [*trail, name])
            if cycle:
                return cycle
        done.add(name)
        return None

    for name in sorted(graph):
        cycle = visit(name, [])
        if cycle:
            return cycle
    return None


def test_no_module_imports_itself_through_others():
    """No import cycle among the app modules (package __init__ imports included)."""
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    """The check above can fail: a two-module loop is reported."""
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_the_domain_reaches_the_transport_only_through_the_bridge_and_the_wire_format():
    """Models, services and selectors use rooms.realtime only through notify and the frame builders."""
    allowed = {
        "rooms.realtime",
        "rooms.realtime.notify",
        "rooms.realtime.protocol",
        "rooms.realtime.protocol.outbound",
    }
    graph = import_graph()
    for domain in (
        "rooms.models",
        "rooms.services",
        "rooms.selectors",
        "rooms.exceptions",
        "accounts.services",
    ):
        transport = {name for name in graph[domain] if name.startswith("rooms.realtime")}
        assert transport <= allowed, f"{domain} imports {sorted(transport - allowed)}"


def test_the_transport_reaches_the_database_only_through_services_and_selectors():
    """No module of rooms.realtime queries a model manager itself."""
    for name, path in app_modules().items():
        if name.startswith("rooms.realtime"):
            assert ".objects." not in path.read_text(), f"{name} queries the ORM directly"
