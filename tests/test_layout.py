"""Imports only go downward, and the pure core touches no network, database or clock (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import monitor

PACKAGE = Path(monitor.__file__).parent

# module -> the modules of ours it may import
ALLOWED = {
    "types": set(),
    "fetch.addresses": set(),
    "errors": set(),
    "clock": {"errors"},
    "units": set(),
    "storage.schema": set(),
    "identity": set(),
    "textsafe": set(),
    "parse.boilerplate": set(),
    "match.terms": set(),
    "match.stemming": {"match.terms"},
    "weeks": set(),
    "match.rules": {"match.terms", "types"},
    "config.settings": {"units", "__init__"},
    "config.locate": set(),
    "config.load": {"errors", "identity", "config.locate", "config.settings", "match.terms", "types", "units"},
    "parse.feed": {"parse.boilerplate", "identity", "match.stemming", "textsafe", "types"},
    "update.policy": {"types"},
    "cli.report": {"update.policy", "learn.quality", "learn.teach", "textsafe", "types", "units"},
    "learn.teach": {"match.rules", "match.terms", "types"},
    "match.model": {"match.rules", "match.stemming", "learn.teach", "match.terms", "types"},
    "learn.train": {"errors", "match.model", "types"},
    "learn.quality": set(),
    "fetch.http": {"fetch.addresses", "config.load", "fetch.netguard", "textsafe", "types"},
    "fetch.netguard": set(),
    "update.reconcile": {"types"},
    # storage: the one package that writes SQL, one module per concern.
    "storage.connection": {"errors", "storage.schema", "types"},
    "storage.feeds": {"storage.connection", "identity", "types", "units"},
    "storage.search": {"storage.connection", "match.stemming", "units"},
    "storage.items": {
        "storage.connection",
        "storage.feeds",
        "storage.search",
        "update.reconcile",
        "types",
        "units",
        "weeks",
    },
    "storage.status": {"storage.connection", "units"},
    "storage.digests": {"storage.connection", "types", "units"},
    "storage.labels": {"storage.connection", "identity", "units"},
    "storage.models": {"storage.connection", "match.rules", "match.model", "learn.train", "types", "units"},
    "storage.history": {"storage.connection", "storage.items", "parse.saved", "types", "units"},
    "storage.cleaning": {"storage.connection", "storage.items", "identity", "parse.feed", "units"},
    "storage": {"storage.connection", "storage.feeds", "storage.cleaning", "storage.status"},
    "parse.pool": {"parse.feed", "types"},
    "update.poll": {
        "config.load",
        "errors",
        "fetch.http",
        "match.rules",
        "parse.pool",
        "update.policy",
        "storage",
        "types",
    },
    "digest.events": {"match.stemming", "match.terms", "types"},
    "digest.groups": {"types"},
    "digest.build": {"digest.events", "digest.groups", "types", "weeks"},
    "digest.render": {"digest.build", "textsafe"},
    "digest.deliver": {"config.load", "errors"},
    "digest.publish": {
        "config.load",
        "digest.deliver",
        "digest.build",
        "digest.render",
        "storage",
        "storage.digests",
        "weeks",
    },
    "update.schedule": {"update.policy", "types", "weeks"},
    "service.pidlock": {"errors"},
    "service.daemon": {
        "config.load",
        "digest.deliver",
        "errors",
        "fetch.http",
        "match.rules",
        "service.metrics",
        "parse.pool",
        "service.pidlock",
        "update.poll",
        "update.policy",
        "digest.publish",
        "service.reloading",
        "update.schedule",
        "storage",
        "storage.digests",
        "storage.history",
        "storage.models",
        "types",
        "weeks",
    },
    "service.reloading": {"config.load"},
    "service.metrics": {"types", "units"},
    "config.opml": {"identity", "textsafe", "types"},
    "cli.demo": None,
    "parse.saved": {"identity", "parse.feed", "types"},
    "fetch.archive": {"config.load", "errors", "fetch.http", "identity", "types"},
    "update.backfill": {"fetch.archive", "errors", "update.importing", "storage", "storage.history"},
    "update.importing": {"parse.saved", "parse.pool", "storage", "storage.history", "types"},
    "__main__": {"cli"},
    "__init__": set(),
    "cli": None,  # the top: builds everything
    "cli.group": None,
    "cli.feeds": None,
    "cli.themes": None,
    "cli.digests": None,
    "cli.service": None,
    "cli.history": None,
    "cli.init": None,
    "cli.labels": None,
    "cli.models": None,
    "service": set(),
    "digest": set(),
    "update": set(),
    "learn": set(),
    "config": set(),
    "fetch": set(),
    "parse": set(),
    "match": set(),
}
PURE = {
    "parse.boilerplate",
    "match.model",
    "learn.quality",
    "learn.teach",
    "fetch.addresses",
    "textsafe",
    "types",
    "errors",
    "units",
    "identity",
    "config.settings",
    "parse.feed",
    "update.policy",
    "cli.report",
    "storage.schema",
    "match.stemming",
    "match.terms",
    "match.rules",
    "weeks",
    "digest.events",
    "digest.groups",
    "digest.build",
    "update.schedule",
    "config.locate",
    "parse.saved",
    "update.reconcile",
}
PACKAGES = (
    "cli",
    "config",
    "digest",
    "fetch",
    "learn",
    "match",
    "parse",
    "service",
    "storage",
    "update",
)  # subpackages of monitor, their modules named `storage.items`
IMPURE_LIBRARIES = {"httpx", "sqlite3", "sqlite_utils", "socket", "urllib.request", "requests", "smtplib"}


def source_of(module: str) -> Path:
    """A module's file: `storage` is the package's __init__, `storage.items` a module in it."""
    if module in PACKAGES:
        return PACKAGE / module / "__init__.py"
    return PACKAGE / f"{module.replace('.', '/')}.py"


def imports_of(module: str) -> tuple[set[str], set[str]]:
    tree = ast.parse(source_of(module).read_text())
    # A relative import's base: `.x` in a subpackage's module is a sibling, `..x` a module of monitor.
    inside = module.split(".")[0] if "." in module or module in PACKAGES else None
    ours: set[str] = set()
    libraries: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and inside:
                names = [node.module] if node.module else [a.name for a in node.names]
                ours.update(f"{inside}.{name}" for name in names)
            elif node.level in (1, 2) and node.module in PACKAGES:  # `from .storage import digests`
                for alias in node.names:
                    is_module = (PACKAGE / node.module / f"{alias.name}.py").exists()
                    ours.add(f"{node.module}.{alias.name}" if is_module else node.module)
            elif node.level in (1, 2):
                ours.update([node.module] if node.module else [a.name for a in node.names])
            elif node.module and node.module.startswith("monitor"):
                ours.add(node.module.split(".")[1] if "." in node.module else "__init__")
            elif node.module:
                libraries.add(node.module)
        elif isinstance(node, ast.Import):
            libraries.update(a.name for a in node.names)
    return ours, libraries


def test_every_module_is_placed_in_the_layering():
    modules = {p.stem for p in PACKAGE.glob("*.py")} | set(PACKAGES)
    modules |= {f"{package}.{p.stem}" for package in PACKAGES for p in (PACKAGE / package).glob("*.py")} - {
        f"{package}.__init__" for package in PACKAGES
    }
    assert modules == set(ALLOWED), f"place new modules in ALLOWED: {modules ^ set(ALLOWED)}"


def test_imports_only_go_downward():
    for module, allowed in ALLOWED.items():
        if allowed is None:
            continue
        ours, _ = imports_of(module)
        assert ours <= allowed, f"{module} imports {ours - allowed}"


def test_pure_modules_touch_no_network_database_or_clock():
    for module in PURE:
        _, libraries = imports_of(module)
        assert not libraries & IMPURE_LIBRARIES, f"{module} imports {libraries & IMPURE_LIBRARIES}"
        source = source_of(module).read_text()
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
