"""The house's rules (issue 19): each stage of the flow is a package, packages import only the floors below
them (never a cycle, never up), storage only stores, and the pure core touches no network, database or clock
(STYLE.md). The rules are between packages, so a new module needs no entry here unless it is pure."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import monitor

PACKAGE = Path(monitor.__file__).parent

# The ground floor: shared records and kernels, the top-level modules of monitor and the `text` package.
# They import only one another.
KERNEL = "kernel"
# package -> the packages it may import besides the kernel. A floor imports only floors below it.
FLOORS: dict[str, set[str]] = {
    "match": set(),
    "parse": set(),
    "config": set(),
    "fetch": {"config"},
    "learn": {"match"},
    "storage": set(),  # it reads and writes what it is handed: no matching, learning, parsing or updating
    "update": {"config", "fetch", "parse", "match", "learn", "storage"},
    "digest": {"config", "storage"},
    "service": {"config", "fetch", "parse", "match", "learn", "storage", "update", "digest"},
    "cli": {"config", "fetch", "parse", "match", "learn", "storage", "update", "digest", "service"},
}
KERNEL_PACKAGES = {"text"}
# The pure core: modules that only process data given to them.
PURE = {
    "parse.boilerplate",
    "match.model",
    "learn.quality",
    "learn.teach",
    "learn.disagreements",
    "learn.suggestions",
    "config.edit",
    "fetch.addresses",
    "text.safe",
    "types",
    "errors",
    "units",
    "identity",
    "config.settings",
    "parse.feed",
    "update.policy",
    "cli.report",
    "storage.schema",
    "text.stemming",
    "text.terms",
    "match.rules",
    "match.actors",
    "weeks",
    "digest.events",
    "digest.headline",
    "digest.lexicon",
    "digest.stories",
    "digest.groups",
    "digest.observed",
    "digest.build",
    "digest.decide",
    "update.schedule",
    "config.locate",
    "parse.saved",
    "parse.fast",
    "parse.elements",
    "update.reconcile",
}

IMPURE_LIBRARIES = {"httpx", "sqlite3", "sqlite_utils", "socket", "urllib.request", "requests", "smtplib"}


def modules() -> dict[str, Path]:
    """Every module of monitor by dotted name relative to it (`storage.items`; a package is its __init__)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1] or ["__init__"]
        found[".".join(parts)] = path
    return found


MODULES = modules()


def imports_of(module: str) -> tuple[set[str], set[str]]:
    """The modules of ours a module imports (resolved: `from ..storage import items` is `storage.items`) and
    the libraries it imports."""
    path = MODULES[module]
    here = module.split(".") if path.name == "__init__.py" and module != "__init__" else module.split(".")[:-1]
    ours: set[str] = set()
    libraries: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
            elif node.module and node.module.split(".")[0] == "monitor":
                base, node_module = [], node.module.split(".", 1)[1] if "." in node.module else None
                node = ast.ImportFrom(module=node_module, names=node.names, level=1)
            else:
                libraries.add(node.module or "")
                continue
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                name = f"{target}.{alias.name}" if target else alias.name
                ours.add(name if name in MODULES else target or "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "monitor":
                    ours.add(alias.name.split(".", 1)[1] if "." in alias.name else "__init__")
                else:
                    libraries.add(alias.name)
    return ours - {module}, libraries


def floor_of(module: str) -> str:
    top = "cli" if module == "__main__" else module.split(".")[0]
    if top in FLOORS:
        return top
    return KERNEL  # a top-level module, or a kernel package


def test_every_package_is_a_floor_or_the_kernel():
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages == set(FLOORS) | KERNEL_PACKAGES, f"place new packages in FLOORS: {packages ^ set(FLOORS)}"


def test_the_floors_have_no_cycle():
    try:
        tuple(TopologicalSorter(FLOORS).static_order())
    except CycleError as error:
        raise AssertionError(f"the floors import each other in a circle: {error.args[1]}") from None


def test_packages_import_only_the_floors_below_them():
    wrong = []
    for module in MODULES:
        floor = floor_of(module)
        allowed = {floor, KERNEL} | FLOORS.get(floor, set())
        for imported in imports_of(module)[0]:
            if floor_of(imported) not in allowed:
                wrong.append(f"{module} imports {imported} ({floor} may import {sorted(allowed)})")
    assert not wrong, "imports up or across a floor:\n" + "\n".join(sorted(wrong))


def test_no_module_imports_itself_round_in_a_circle():
    graph = {module: imports_of(module)[0] & set(MODULES) for module in MODULES}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"an import cycle: {' -> '.join(error.args[1])}") from None


def test_pure_modules_exist():
    assert PURE <= set(MODULES), f"PURE names modules that are gone: {PURE - set(MODULES)}"


def test_pure_modules_touch_no_network_database_or_clock():
    for module in PURE:
        _, libraries = imports_of(module)
        assert not libraries & IMPURE_LIBRARIES, f"{module} imports {libraries & IMPURE_LIBRARIES}"
        source = MODULES[module].read_text()
        for clock in ("datetime.now(", "time.time(", "date.today(", "utcnow("):
            assert clock not in source, f"{module} reads the clock ({clock}); take `now` as an argument"


def test_no_test_module_imports_another():
    """Shared helpers live in conftest.py or tests/helpers.py: a test module imported by another runs its
    tests' module-level code twice and ties the two files' edits together."""
    tests = Path(__file__).parent
    found = []
    for path in sorted(tests.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.module else [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [f"{path.name}: {name}" for name in names if name.split(".")[-1].startswith("test_")]
    assert not found, f"test modules importing test modules (move what they share to tests/helpers.py): {found}"
