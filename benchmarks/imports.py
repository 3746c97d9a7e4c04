"""The imports check against grimp: whole processes, cold and warm, on three trees.

    python benchmarks/imports.py [--runs 5] [--seed 1] [--scenarios a,b,c] [--keep DIR]

Needs preflight plus `benchmarks/requirements.txt` (grimp, django) in the running interpreter.

Measures whole processes, interleaved round-robin with the order rotated every round,
`--runs` times each. A small launcher interpreter forks and execs each command and takes its
wall time (`time.perf_counter` from fork to reaping) and its peak RSS (`ru_maxrss` of the
rusage `os.wait4` returns). Not spawned from this script directly, because a child's
`ru_maxrss` includes the RSS of the process it was forked from: every figure would be
floored at this script's own size. The configurations:

- preflight cold: `python -m preflight check --only imports --app ENTRY --root ROOT
  --format json --log-format json` after deleting `ROOT/__pycache__/preflight-*.pickle`
  (the parse cache and the walk cache);
- preflight warm: the same with both caches filled (by an untimed run before the loop);
- preflight scans cached: the same after deleting only the walk cache
  (`preflight-*.walks.pickle`): every scan comes from the parse cache, the walk runs again,
  as after an edit to one file;
- grimp cold: `grimp.build_graph(PACKAGE, cache_dir=None)` with `PYTHONPATH=ROOT`;
- grimp warm: the same with a `cache_dir` filled by an untimed run before the loop;
- stack floor: `python -c "import click, pydantic_settings, structlog, asyncio"`, the
  libraries preflight is built on (its CLI, configuration, event log and runner): no
  `preflight check` can start faster than this.

Scenarios:

(a) a generated backend of ~4,000 modules in one package, `bigapp`, whose entry `bigapp.main`
    boots ~10 % of it: api, services, models and core, reached through module-level imports and
    an `app = create_app()` factory that imports the routers in its body; the large `tests`
    and `scripts` subpackages are never imported at boot. Files are 40-150 lines (classes,
    functions, docstrings, a few imports each), generated from `random.Random(seed)`.
(b) the same tree, with `bigapp.main` also importing every module (all reachable).
(c) the installed django: ROOT is the directory holding it (site-packages: everything
    installed there counts as first-party, asgiref included), entry `django.core.handlers.asgi`;
    grimp builds `django`.

Before timing, each scenario is checked against CPython (a child imports the entry and lists
the modules under ROOT it loaded) and `preflight graph --format json` (the modules the walk
reached), so the table says whether preflight's reach matches a real boot. (a) and (b) must
pass the check (exit 0): if not, the CPython verdict says whether the generator or preflight
is wrong, and this script exits 1. Caches it writes (the generated tree, grimp's cache dirs,
preflight's pickle in django's site-packages) are removed at the end (`--keep` keeps the tree).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

PACKAGE = "bigapp"
CONFIGS = (
    "preflight cold",
    "preflight warm",
    "grimp cold",
    "grimp warm",
    "preflight scans cached",
    "stack floor",
)
GRIMP = ("grimp cold", "grimp warm")
FLOOR_CHILD = "import click, pydantic_settings, structlog, asyncio"

GRIMP_CHILD = """\
import json, sys, time
import grimp
started = time.perf_counter()
graph = grimp.build_graph(sys.argv[1], cache_dir=sys.argv[2] or None)
print(json.dumps({"modules": len(graph.modules), "ms": (time.perf_counter() - started) * 1000}))
"""

# Forks and execs the measured command from a small fresh interpreter and reports
# "wall_seconds child_maxrss exit_code own_maxrss". Why: a child's ru_maxrss includes the
# peak RSS of the process it was forked from (the kernel keeps it across exec), so spawning
# from this script would floor every figure at this script's own size.
LAUNCHER = """\
import os, resource, sys, time
try:  # this process's own peak: its ru_maxrss would include its parent's (see above)
    own = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
except OSError:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    out.write(f"{wall} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {own}")
"""
LAUNCHER_RSS: list[float] = []

CPYTHON_CHILD = """\
import importlib, json, os, sys
root = os.path.realpath(sys.argv[2])
before = set(sys.modules)
importlib.import_module(sys.argv[1])
loaded = []
for name in sorted(set(sys.modules) - before):
    module = sys.modules[name]
    paths = [getattr(module, "__file__", None) or ""] + list(getattr(module, "__path__", []))
    if any(p and os.path.realpath(p).startswith(root + os.sep) for p in paths):
        loaded.append(name)
print(json.dumps(loaded))
"""


# --- the generated backend -----------------------------------------------------------------

NOUNS = [
    "user",
    "account",
    "order",
    "invoice",
    "payment",
    "product",
    "cart",
    "session",
    "token",
    "report",
    "audit",
    "tenant",
    "team",
    "project",
    "task",
    "comment",
    "message",
    "notification",
    "webhook",
    "subscription",
    "plan",
    "coupon",
    "address",
    "shipment",
    "warehouse",
    "inventory",
    "price",
    "tax",
    "refund",
    "ledger",
]
VERBS = [
    "build",
    "compute",
    "load",
    "sync",
    "merge",
    "render",
    "score",
    "route",
    "check",
    "collect",
]
STDLIB = (
    ("import json", "json.dumps"),
    ("import re", "re.compile"),
    ("import os", "os.getenv"),
    ("import uuid", "uuid.uuid4"),
    ("import hashlib", "hashlib.sha256"),
    ("import time", "time.monotonic"),
    ("import contextlib", "contextlib.suppress"),
    ("from collections import OrderedDict, defaultdict", "defaultdict"),
    ("from datetime import datetime, timedelta, timezone", "timedelta"),
    ("from decimal import Decimal", "Decimal"),
    ("from functools import lru_cache, partial", "partial"),
    ("from itertools import chain, islice", "islice"),
    ("from pathlib import Path", "Path"),
    ("from abc import ABC, abstractmethod", "ABC"),
)

ROUTING = '''\
"""Routing primitives shared by every router: a Router collects handlers, the app mounts them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


class Router:
    """Handlers under one path prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.routes: list[tuple[str, str, Callable[..., Any]]] = []

    def route(self, method: str, path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated function for `method` on `prefix + path`."""

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            self.routes.append((method, self.prefix + path, handler))
            return handler

        return register


class Application:
    """The app object the server imports."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.routers: list[Router] = []

    def include(self, router: Router) -> None:
        """Mount a router."""
        self.routers.append(router)

    @property
    def route_count(self) -> int:
        """How many handlers are mounted."""
        return sum(len(router.routes) for router in self.routers)
'''


@dataclass
class Mod:
    """One generated module and what it imports."""

    name: str
    kind: str
    index: int
    deps: list[Mod] = field(default_factory=list)
    lazy: list[Mod] = field(default_factory=list)
    type_only: list[Mod] = field(default_factory=list)

    @property
    def noun(self) -> str:
        return NOUNS[self.index % len(NOUNS)]

    @property
    def stem(self) -> str:
        return self.name.rsplit(".", 1)[1]

    @property
    def cls(self) -> str:
        return f"{self.noun.title()}{self.kind}{self.index:03d}"

    @property
    def func(self) -> str:
        return f"{VERBS[self.index % len(VERBS)]}_{self.noun}_{self.index:03d}"

    @property
    def package(self) -> str:
        return self.name.rsplit(".", 1)[0]

    def path(self, root: Path) -> Path:
        return root.joinpath(*self.name.split(".")).with_suffix(".py")


def layer(package: str, kind: str, count: int, start: int = 0) -> list[Mod]:
    """`count` modules of one kind in `package`, named after nouns (`order_017`)."""
    mods = []
    for offset in range(count):
        index = start + offset
        mods.append(Mod(f"{package}.{NOUNS[index % len(NOUNS)]}_{index:03d}", kind, index))
    return mods


@dataclass
class Tree:
    """The module plan of the backend: what boots, and what only tests and scripts import."""

    core: list[Mod]
    models: list[Mod]
    services: list[Mod]
    deps: list[Mod]
    routers: list[Mod]
    helpers: list[Mod]
    tests: list[Mod]
    scripts: list[Mod]
    packages: list[str]

    @property
    def booted(self) -> list[Mod]:
        return self.core + self.models + self.services + self.deps + self.routers

    @property
    def unbooted(self) -> list[Mod]:
        return self.helpers + self.tests + self.scripts


def plan_boot(rng: random.Random) -> tuple[list[Mod], ...]:
    """The boot path: core < models < services < api deps < routers (no cycles)."""
    core = layer(f"{PACKAGE}.core", "Component", 45)
    models = layer(f"{PACKAGE}.models", "Model", 100)
    services = layer(f"{PACKAGE}.services", "Service", 130)
    deps = layer(f"{PACKAGE}.api.deps", "Dependency", 10)
    routers = layer(f"{PACKAGE}.api.routers", "Router", 110)
    for i, mod in enumerate(core):
        mod.deps = rng.sample(core[:i], min(i, rng.randint(0, 2)))
    for i, mod in enumerate(models):
        mod.deps = rng.sample(core, rng.randint(1, 2)) + rng.sample(models[:i], min(i, 2))
        mod.type_only = rng.sample(services, 1) if rng.random() < 0.2 else []
    for i, mod in enumerate(services):
        # Every core module is imported by some service, every service by some router.
        mod.deps = [core[i % len(core)], *rng.sample(models, rng.randint(1, 3))]
        mod.deps += rng.sample(services[:i], min(i, rng.randint(0, 2)))
        mod.lazy = rng.sample(routers, 1) if rng.random() < 0.15 else []
    for mod in deps:
        mod.deps = rng.sample(core, 2) + rng.sample(services, 1)
    for i, mod in enumerate(routers):
        mod.deps = [deps[i % len(deps)], *rng.sample(models, rng.randint(1, 2))]
        mod.deps += [s for j, s in enumerate(services) if j % len(routers) == i]
    return core, models, services, deps, routers


def plan_tests(rng: random.Random, boot: tuple[list[Mod], ...]) -> tuple[list[Mod], list[Mod]]:
    """Helpers and tests: they import the boot path; nothing on it imports them."""
    core, models, services, deps, routers = boot
    helpers = layer(f"{PACKAGE}.tests.helpers", "Helper", 60)
    for mod in helpers:
        mod.deps = rng.sample(models, 2)
    tests: list[Mod] = []
    for sub, target, count in (
        ("unit.core", core, 250),
        ("unit.models", models, 450),
        ("unit.services", services, 600),
        ("unit.api", routers + deps, 400),
        ("integration", services + routers, 400),
        ("e2e", routers, 180),
    ):
        mods = layer(f"{PACKAGE}.tests.{sub}", "Test", count, start=len(tests))
        for mod in mods:
            mod.deps = rng.sample(target, rng.randint(1, 3))
            mod.deps += rng.sample(helpers, rng.randint(0, 2))
        tests += mods
    fixtures = layer(f"{PACKAGE}.tests.fixtures", "Fixture", 60, start=len(tests))
    for mod in fixtures:
        mod.deps = rng.sample(models, 2) + rng.sample(helpers, 1)
    return helpers, tests + fixtures


def plan_scripts(
    rng: random.Random, core: list[Mod], models: list[Mod], services: list[Mod]
) -> list[Mod]:
    """Migrations and command-line scripts: they import the boot path, never booted."""
    scripts: list[Mod] = []
    for sub, kind, count in (
        ("migrations", "Migration", 500),
        ("ops", "Script", 200),
        ("data", "Script", 200),
        ("reports", "Script", 150),
        ("maintenance", "Script", 100),
        ("oneoff", "Script", 50),
    ):
        mods = layer(f"{PACKAGE}.scripts.{sub}", kind, count, start=len(scripts))
        for mod in mods:
            mod.deps = rng.sample(models if kind == "Migration" else services + core, 2)
        scripts += mods
    return scripts


def plan(rng: random.Random) -> Tree:
    """Decide every module and its imports."""
    core, models, services, deps, routers = plan_boot(rng)
    helpers, tests = plan_tests(rng, (core, models, services, deps, routers))
    scripts = plan_scripts(rng, core, models, services)
    packages = set()
    for mod in core + models + services + deps + routers + helpers + tests + scripts:
        parts = mod.name.split(".")
        packages.update(".".join(parts[:n]) for n in range(1, len(parts)))
    return Tree(core, models, services, deps, routers, helpers, tests, scripts, sorted(packages))


def import_line(mod: Mod, dep: Mod, rng: random.Random) -> tuple[str, str]:
    """An import of `dep` from `mod` in one of the usual forms, and an expression using it."""
    roll = rng.random()
    if dep.package == mod.package and roll < 0.25:
        if roll < 0.12:
            return f"from . import {dep.stem}", f"{dep.stem}.{dep.cls}"
        return f"from .{dep.stem} import {dep.cls}", dep.cls
    if roll < 0.55:
        return f"from {dep.name} import {dep.cls}", dep.cls
    if roll < 0.8:
        return f"from {dep.name} import {dep.cls}, {dep.func}", dep.func
    alias = f"{dep.stem}_mod"
    return f"import {dep.name} as {alias}", f"{alias}.{dep.func}"


def class_block(name: str, noun: str, rng: random.Random) -> list[str]:
    methods = [
        [
            "    def describe(self) -> str:",
            '        """A short human-readable label."""',
            f"        return f\"{{self.name or '{noun}'}}#{{self.id}}\"",
        ],
        [
            f"    def with_tag(self, tag: str) -> {name}:",
            '        """A copy with one more tag."""',
            f"        return {name}(self.id, self.name, [*self.tags, tag], dict(self.meta))",
        ],
        [
            "    def score(self, weights: dict[str, float]) -> float:",
            '        """Weighted mean of the tags."""',
            "        total = 0.0",
            "        for tag in self.tags:",
            "            total += weights.get(tag, 1.0)",
            "        return total / max(len(self.tags), 1)",
        ],
        [
            "    def as_dict(self) -> dict[str, object]:",
            '        """The fields, for serialization."""',
            '        return {"id": self.id, "name": self.name, "tags": list(self.tags)}',
        ],
    ]
    lines = [
        "@dataclass",
        f"class {name}:",
        f'    """The {noun}, as this layer sees it.',
        "",
        f"    Carries the identifiers and tags the {noun} workflow passes between steps.",
        '    """',
        "",
        "    id: int",
        '    name: str = ""',
        "    tags: list[str] = field(default_factory=list)",
        "    meta: dict[str, object] = field(default_factory=dict)",
    ]
    for method in rng.sample(methods, rng.randint(2, 4)):
        lines += ["", *method]
    return lines


def function_block(name: str, noun: str, rng: random.Random) -> list[str]:
    factor, modulus, cutoff = rng.randint(2, 9), rng.randint(2, 7), rng.randint(1, 20)
    return [
        f"def {name}(values: list[int], factor: int = {factor}) -> int:",
        f'    """Fold the {noun} values: multiples of {modulus} count {factor} times."""',
        "    total = 0",
        "    for position, value in enumerate(values):",
        f"        if value % {modulus} == 0:",
        "            total += value * factor",
        f"        elif position > {cutoff}:",
        "            total -= value",
        "        else:",
        "            total ^= value",
        "    return total",
    ]


def enum_block(name: str, noun: str) -> list[str]:
    return [
        f"class {name}(Enum):",
        f'    """The states a {noun} goes through."""',
        "",
        '    NEW = "new"',
        '    ACTIVE = "active"',
        '    SUSPENDED = "suspended"',
        '    CLOSED = "closed"',
    ]


def kind_blocks(mod: Mod, rng: random.Random) -> tuple[list[str], list[list[str]], list[str]]:
    """Lines right after the imports, extra blocks, and a trailer, by kind of module."""
    noun, i = mod.noun, mod.index
    if mod.kind == "Router":
        handlers = [
            [
                f'@router.route("{method}", "/{noun}s{suffix}")',
                f"def {verb}_{noun}_{i:03d}(limit: int = {rng.randint(10, 99)}) -> dict[str, int]:",
                f'    """{verb.title()} {noun}s."""',
                f'    return {{"{noun}s": limit, "offset": 0}}',
            ]
            for method, verb, suffix in (
                ("GET", "list", ""),
                ("POST", "create", ""),
                ("GET", "read", "/{item_id}"),
                ("DELETE", "delete", "/{item_id}"),
            )
        ]
        return [f'router = Router("/{noun}-{i:03d}")'], handlers, []
    if mod.kind == "Test":
        test = [
            f"class Test{mod.cls}(unittest.TestCase):",
            f'    """Behaviour of the {noun} code."""',
            "",
            "    def setUp(self) -> None:",
            f"        self.values = [{rng.randint(1, 9)}, {rng.randint(10, 99)}, 0]",
        ]
        for k in range(rng.randint(2, 5)):
            test += [
                "",
                f"    def test_{noun}_{k}(self) -> None:",
                "        self.assertGreaterEqual(sum(self.values), 0)",
                "        self.assertIsNotNone(_TARGETS)",
            ]
        return [], [test], []
    if mod.kind == "Migration":
        ops = [
            f'    ("add_column", "{noun}", "field_{k}", "varchar({rng.randint(8, 255)})"),'
            for k in range(rng.randint(2, 6))
        ]
        block = [
            "def upgrade(execute: object = print) -> None:",
            '    """Apply the operations in order."""',
            "    for operation in OPERATIONS:",
            "        execute(operation)  # type: ignore[operator]",
            "",
            "",
            "def downgrade(execute: object = print) -> None:",
            '    """Revert the operations in reverse order."""',
            "    for operation in reversed(OPERATIONS):",
            "        execute(operation)  # type: ignore[operator]",
        ]
        return [f'REVISION = "{i:04d}"', "OPERATIONS = [", *ops, "]"], [block], []
    if mod.kind == "Script":
        block = [
            "def main(argv: list[str] | None = None) -> int:",
            f'    """Command-line entry of the {noun} script."""',
            "    parser = argparse.ArgumentParser(description=__doc__)",
            '    parser.add_argument("--dry-run", action="store_true")',
            f'    parser.add_argument("--limit", type=int, default={rng.randint(10, 1000)})',
            "    args = parser.parse_args(argv)",
            '    logger.info("running with %s", args)',
            "    return 0",
        ]
        return [], [block], ["", "", 'if __name__ == "__main__":', "    raise SystemExit(main())"]
    if mod.kind == "Service" and rng.random() < 0.3:
        block = [
            "def _build_registry() -> dict[str, int]:",
            '    """Index the handlers by name, once, at import time."""',
            f'    return {{name: len(name) for name in ("{noun}", "default", "fallback")}}',
        ]
        return [], [block], ["", "", "REGISTRY = _build_registry()"]
    return [], [], []


def header(mod: Mod, rng: random.Random) -> tuple[list[str], list[str]]:
    """Docstring and imports, and expressions using what they import (so none is unused)."""
    stdlib = ["import logging", "from dataclasses import dataclass, field", "from enum import Enum"]
    uses = []
    for line, use in rng.sample(STDLIB, rng.randint(1, 4)):
        stdlib.append(line)
        uses.append(use)
    stdlib += {"Test": ["import unittest"], "Script": ["import argparse"]}.get(mod.kind, [])
    if mod.type_only:
        stdlib.append("from typing import TYPE_CHECKING")
    first_party = []
    for dep in mod.deps:
        line, use = import_line(mod, dep, rng)
        first_party.append(line)
        uses.append(use)
    if mod.kind == "Router":
        first_party.append(f"from {PACKAGE}.core.routing import Router")
    lines = [
        f'"""{mod.noun.title()} {mod.kind.lower()} #{mod.index} of the {mod.package} package.',
        "",
        f"Generated for the preflight imports benchmark: it looks like the {mod.noun} code of a",
        "backend, with the imports, classes and functions such a module usually has.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *sorted(stdlib),
        "",
    ]
    if rng.random() < 0.05:
        lines += [
            "try:",
            "    import orjson as fast_json",
            "except ImportError:  # optional speed-up",
            "    fast_json = None",
            "",
        ]
    if first_party:
        lines += [*sorted(first_party), ""]
    if mod.type_only:
        lines += ["if TYPE_CHECKING:"]
        lines += [f"    from {d.name} import {d.cls}" for d in mod.type_only]
        lines += [""]
    return lines, uses


def render(mod: Mod, rng: random.Random) -> str:
    """A 40-150 line module: docstring, imports, constants, classes, functions."""
    target = rng.randint(40, 150)
    lines, uses = header(mod, rng)
    prelude, extras, trailer = kind_blocks(mod, rng)
    lines += [
        "logger = logging.getLogger(__name__)",
        "_TARGETS = (",
        *(f"    {u}," for u in uses),
        ")",
    ]
    lines += [f"DEFAULT_{mod.noun.upper()}_LIMIT = {rng.randint(10, 500)}", *prelude, "", ""]
    blocks = [class_block(mod.cls, mod.noun, rng), function_block(mod.func, mod.noun, rng)]
    blocks += extras
    blocks += [
        [
            f"def load_{dep.stem}() -> object:",
            '    """Imported on first use only: the router layer is heavy."""',
            f"    from {dep.name} import {dep.cls}",
            "",
            f"    return {dep.cls}",
        ]
        for dep in mod.lazy
    ]
    k = 0
    while len(lines) + sum(len(b) + 2 for b in blocks) + len(trailer) < target:
        k += 1
        roll = rng.randrange(3)
        if roll == 0:
            blocks.append(class_block(f"{mod.cls}Part{k}", mod.noun, rng))
        elif roll == 1:
            blocks.append(function_block(f"{mod.func}_step{k}", mod.noun, rng))
        else:
            blocks.append(enum_block(f"{mod.cls}State{k}", mod.noun))
    for block in blocks:
        lines += [*block, "", ""]
    return "\n".join(lines[:-2] + trailer) + "\n"


def main_module(tree: Tree, everything: bool) -> str:
    lines = [
        '"""The ASGI entry: `uvicorn bigapp.main:app`."""',
        "",
        "from __future__ import annotations",
        "",
        "import logging",
        "",
        f"from {PACKAGE} import models  # registers every model",
        f"from {PACKAGE}.core import {tree.core[0].stem}, {tree.core[1].stem}",
        f"from {PACKAGE}.core.routing import Application",
        f"from {PACKAGE}.factory import create_app",
        "",
    ]
    if everything:
        lines += ["# Scenario (b): the entry boots every module of the tree."]
        lines += [f"import {mod.name}" for mod in tree.booted + tree.unbooted]
        lines += [""]
    lines += [
        "logger = logging.getLogger(__name__)",
        f"_SETUP = (models, {tree.core[0].stem}, {tree.core[1].stem})",
        "",
        "app: Application = create_app()",
        'logger.info("booted with %d routes", app.route_count)',
    ]
    return "\n".join(lines) + "\n"


def factory_module(tree: Tree) -> str:
    stems = [mod.stem for mod in tree.routers]
    return "\n".join(
        [
            '"""The application factory: builds the app and mounts every router."""',
            "",
            "from __future__ import annotations",
            "",
            "import logging",
            "",
            f"from {PACKAGE}.core.routing import Application",
            "",
            "logger = logging.getLogger(__name__)",
            "",
            "",
            'def create_app(title: str = "bigapp") -> Application:',
            '    """The app, with its routers mounted."""',
            "    app = Application(title)",
            "    register_routers(app)",
            "    return app",
            "",
            "",
            "def register_routers(app: Application) -> None:",
            '    """Import and mount the routers (imported here: tests build partial apps)."""',
            f"    from {PACKAGE}.api.routers import (",
            *[f"        {stem}," for stem in stems],
            "    )",
            "",
            "    for module in (",
            *[f"        {stem}," for stem in stems],
            "    ):",
            "        app.include(module.router)",
            '    logger.debug("mounted %d routers", len(app.routers))',
            "",
        ]
    )


def generate(root: Path, seed: int, everything: bool) -> Tree:
    """Write the backend under `root/bigapp`; returns its plan."""
    rng = random.Random(seed)
    tree = plan(rng)
    shutil.rmtree(root, ignore_errors=True)
    for package in tree.packages:
        path = root.joinpath(*package.split("."), "__init__.py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'"""The {package} package."""\n')
    models_init = [f"from {m.name} import {m.cls}" for m in tree.models]
    root.joinpath(PACKAGE, "models", "__init__.py").write_text(
        '"""The models: importing the package registers every one."""\n\n'
        + "\n".join(models_init)
        + "\n\n__all__ = [\n"
        + "".join(f'    "{m.cls}",\n' for m in tree.models)
        + "]\n"
    )
    root.joinpath(PACKAGE, "core", "routing.py").write_text(ROUTING)
    root.joinpath(PACKAGE, "factory.py").write_text(factory_module(tree))
    root.joinpath(PACKAGE, "main.py").write_text(main_module(tree, everything))
    for mod in tree.booted + tree.unbooted:
        mod.path(root).write_text(render(mod, rng))
    return tree


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Sample:
    """One finished child."""

    wall_ms: float
    rss_mb: float
    exit_code: int
    stdout: bytes
    stderr: bytes


def run_child(argv: list[str], env: dict[str, str], cwd: Path) -> Sample:
    """Run to completion through the launcher; its wall time and its own peak RSS."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as usage,
    ):
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, usage.name, *argv]
        subprocess.run(launcher, cwd=cwd, env=env, stdout=out, stderr=err, check=True)
        wall_s, maxrss, code, own = usage.read().split()
        out.seek(0)
        err.seek(0)
        LAUNCHER_RSS.append(int(own) / rss_scale())
        return Sample(
            float(wall_s) * 1000, int(maxrss) / rss_scale(), int(code), out.read(), err.read()
        )


def rss_scale() -> int:
    """ru_maxrss is in bytes on macOS, KiB on Linux; this turns it into MiB."""
    return 1024 * 1024 if sys.platform == "darwin" else 1024


@dataclass
class Scenario:
    """One tree and entry, and everything measured on it."""

    key: str
    title: str
    root: Path
    entry: str
    package: str
    grimp_cache: Path
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    cpython: tuple[int, list[str]] = (0, [])
    reached: list[str] = field(default_factory=list)

    def clear_preflight_cache(self, pattern: str = "preflight-*.pickle") -> None:
        for path in self.root.joinpath("__pycache__").glob(pattern):
            path.unlink()

    def argv(self, config: str) -> list[str]:
        if config == "stack floor":
            return [sys.executable, "-c", FLOOR_CHILD]
        if config.startswith("preflight"):
            return [
                *(sys.executable, "-m", "preflight", "check", "--only", "imports"),
                *("--app", self.entry, "--root", str(self.root)),
                *("--format", "json", "--log-format", "json"),
            ]
        cache = str(self.grimp_cache) if config == "grimp warm" else ""
        return [sys.executable, "-c", GRIMP_CHILD, self.package, cache]


def child_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFLIGHT_", "PYTHON"))}
    env["PYTHONPATH"] = str(root)
    return env


def prepare(scenario: Scenario, cwd: Path) -> None:
    """Untimed: CPython's verdict, the walk's reach, and both warm caches filled."""
    env = child_env(scenario.root) | {"PYTHONDONTWRITEBYTECODE": "1"}
    done = run_child(
        [sys.executable, "-c", CPYTHON_CHILD, scenario.entry, str(scenario.root)], env, cwd
    )
    if done.exit_code == 0:
        loaded = json.loads(done.stdout)
    else:
        loaded = [*done.stderr.decode(errors="replace").strip().splitlines(), "(no output)"][-1:]
    scenario.cpython = (done.exit_code, loaded)
    graph = run_child(
        [
            *(sys.executable, "-m", "preflight", "graph", "--format", "json"),
            *("--app", scenario.entry, "--root", str(scenario.root)),
        ],
        child_env(scenario.root),
        cwd,
    )
    with contextlib.suppress(ValueError):
        scenario.reached = [m["name"] for m in json.loads(graph.stdout)["modules"]]
    shutil.rmtree(scenario.grimp_cache, ignore_errors=True)
    scenario.grimp_cache.mkdir(parents=True)
    # The walk cache does not keep a walk of files changed in the last 2 s (their mtimes
    # could still move unseen): a tree generated a moment ago must settle first.
    time.sleep(2.1)
    for config in ("preflight warm", "grimp warm"):
        run_child(scenario.argv(config), child_env(scenario.root), cwd)


def measure(scenarios: list[Scenario], runs: int, cwd: Path) -> None:
    """Every configuration of every scenario, once per round, the order rotated each round."""
    jobs = [(s, c) for s in scenarios for c in CONFIGS]
    for scenario, config in jobs:
        scenario.samples[config] = []
    for round_ in range(runs):
        shift = round_ % len(jobs)
        for scenario, config in jobs[shift:] + jobs[:shift]:
            if config == "preflight cold":
                scenario.clear_preflight_cache()
            elif config == "preflight scans cached":
                scenario.clear_preflight_cache("preflight-*.walks.pickle")
            sample = run_child(scenario.argv(config), child_env(scenario.root), cwd)
            scenario.samples[config].append(sample)


# --- reporting -----------------------------------------------------------------------------


def parse(sample: Sample) -> dict[str, Any] | None:
    """The child's JSON output (preflight's report, or the grimp child's line)."""
    try:
        return dict(json.loads(sample.stdout))
    except ValueError:
        return None


def inner_ms(config: str, sample: Sample) -> float | None:
    """What the child measured itself: the imports check's duration, or build_graph's."""
    document = parse(sample)  # None for the stack floor, which prints nothing
    if document is None:
        return None
    if config.startswith("preflight"):
        return float(imports_check(document)["duration_ms"])
    return float(document["ms"])


def imports_check(report: dict[str, Any]) -> dict[str, Any]:
    """The imports check's entry in a preflight JSON report."""
    return next(c for c in report["checks"] if c["name"] == "imports")


def median_wall(samples: list[Sample]) -> float:
    return statistics.median(s.wall_ms for s in samples)


def report(scenario: Scenario, runs: int) -> bool:
    """Print the scenario's table and notes; False when a generated tree fails the check."""
    print(f"\n### ({scenario.key}) {scenario.title}\n")
    print(f"root `{scenario.root}`, entry `{scenario.entry}`, grimp package `{scenario.package}`")
    print(
        f"{runs} runs each, interleaved; wall time of the whole process in ms. In-process: "
        "preflight's own duration_ms of the imports check (walk, cache load and save), "
        "grimp's build_graph() alone.\n"
    )
    print("| configuration | median ms | min | max | in-process ms (median) | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for config in CONFIGS:
        samples = scenario.samples[config]
        walls = [s.wall_ms for s in samples]
        inner = [x for x in (inner_ms(config, s) for s in samples) if x is not None]
        inner_text = f"{statistics.median(inner):.0f}" if inner else "-"
        print(
            f"| {config} | {statistics.median(walls):.0f} | {min(walls):.0f} | {max(walls):.0f} "
            f"| {inner_text} | {max(s.rss_mb for s in samples):.0f} |"
        )
    medians = {config: median_wall(scenario.samples[config]) for config in CONFIGS}
    print(
        f"\n- preflight cold / grimp cold: "
        f"**{medians['preflight cold'] / medians['grimp cold']:.2f}x**"
    )
    print(
        f"- preflight warm / grimp warm: "
        f"**{medians['preflight warm'] / medians['grimp warm']:.2f}x** (scans cached, walk "
        f"re-run: {medians['preflight scans cached'] / medians['grimp warm']:.2f}x; the stack "
        f"floor alone: {medians['stack floor'] / medians['grimp warm']:.2f}x)"
    )
    cold, warm = (parse(scenario.samples[c][-1]) for c in CONFIGS[:2])
    cold_metrics, warm_metrics = (imports_check(d)["metrics"] if d else {} for d in (cold, warm))
    warm_parsed = {
        imports_check(d)["metrics"].get("files_parsed", "?") if d else "?"
        for d in map(parse, scenario.samples["preflight warm"])
    }
    warm_reused = {
        imports_check(d)["metrics"].get("walk_cached", "?") if d else "?"
        for d in map(parse, scenario.samples["preflight warm"])
    }
    grimp_modules = {
        str(d["modules"]) if d else "? (failed)"
        for c in GRIMP
        for d in map(parse, scenario.samples[c])
    }
    print(
        f"- modules: preflight reached {cold_metrics.get('modules', '?')} "
        f"(cold: {cold_metrics.get('files_parsed', '?')} files parsed; "
        f"warm: {warm_metrics.get('files_cached', '?')} from the cache, "
        f"{'/'.join(map(str, sorted(warm_parsed, key=str)))} parsed, walk reused: "
        f"{'/'.join(map(str, sorted(warm_reused, key=str)))}); "
        f"grimp's graph holds {', '.join(sorted(grimp_modules))}"
    )
    for config, document in zip(CONFIGS[:2], (cold, warm), strict=True):
        if document is None or not imports_check(document)["metrics"]:
            tail = scenario.samples[config][-1].stderr.decode(errors="replace").strip()
            summary = imports_check(document)["summary"] if document else tail[-300:]
            print(f"- **{config} did not finish the walk**: {summary}")
    ok = compare_with_cpython(scenario)
    codes = {c: sorted({s.exit_code for s in scenario.samples[c]}) for c in CONFIGS[:2]}
    findings = cold["findings"] if cold else []
    by_severity = {
        sev: sum(1 for f in findings if f["severity"] == sev)
        for sev in ("error", "warning", "info")
    }
    print(
        f"- preflight exit code: cold {codes['preflight cold']}, warm {codes['preflight warm']}; "
        f"findings: {by_severity['error']} errors, {by_severity['warning']} warnings, "
        f"{by_severity['info']} info"
    )
    for finding in [f for f in findings if f["severity"] == "error"][:3]:
        where = f" at {finding['file']}:{finding['line']}" if finding["file"] else ""
        print(f"  - {finding['code']} {finding['message']}{where}")
    if scenario.key in {"a", "b"} and codes["preflight cold"] + codes["preflight warm"] != [0, 0]:
        print(
            "- **FAIL: the imports check does not pass on a generated tree** " + verdict(scenario)
        )
        ok = False
    return ok


def compare_with_cpython(scenario: Scenario) -> bool:
    """Print how the walk's reach compares with what a real import loads."""
    code, loaded = scenario.cpython
    if code != 0:
        print(f"- CPython import of the entry: **fails** (exit {code}): {loaded[0]}")
        return scenario.key not in {"a", "b"}
    real, walked = set(loaded), set(scenario.reached)
    print(
        f"- CPython import of the entry: ok, {len(real)} modules under the root loaded; "
        f"the walk reached {len(walked)}: {len(walked & real)} in common, "
        f"{len(walked - real)} only in the walk, {len(real - walked)} only in CPython"
    )
    for label, names in (("only in the walk", walked - real), ("only in CPython", real - walked)):
        if names:
            print(f"  - {label} (first 5): {', '.join(sorted(names)[:5])}")
    return True


def verdict(scenario: Scenario) -> str:
    if scenario.cpython[0] != 0:
        return "and CPython cannot import the entry either: the generator is wrong."
    return "but CPython imports the entry fine: preflight is wrong."


# --- main ----------------------------------------------------------------------------------


def source_fingerprint() -> str:
    """The preflight under test: its git commit (+dirty) and a hash of its sources."""
    spec = importlib.util.find_spec("preflight")
    if spec is None or not spec.submodule_search_locations:
        return "preflight not found"
    package = Path(next(iter(spec.submodule_search_locations)))
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    git = ["git", "-C", str(package.parent)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, check=False)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "preflight"], capture_output=True, check=False
    )
    commit = head.stdout.decode().strip() or "no git"
    if dirty.stdout.strip():
        commit += "+dirty"
    return f"preflight sources {package} at {commit}, sha256 {digest.hexdigest()[:12]}"


def versions() -> str:
    found = []
    for dist in ("preflight-boot", "grimp", "django"):
        try:
            found.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{dist} missing")
    return ", ".join(found)


def site_root(name: str) -> Path:
    """The directory holding the installed package `name` (found without importing it)."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        sys.exit(f"{name} is not installed: pip install -r benchmarks/requirements.txt")
    return Path(spec.origin).resolve().parent.parent


@contextlib.contextmanager
def workdir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        shutil.rmtree(keep / "cwd", ignore_errors=True)
        keep.mkdir(parents=True, exist_ok=True)
        yield keep.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="preflight-bench-") as tmp:
        yield Path(tmp).resolve()


def build_scenarios(base: Path, keys: list[str], seed: int) -> list[Scenario]:
    scenarios = []
    for key, everything in (("a", False), ("b", True)):
        if key not in keys:
            continue
        root = base / f"tree-{key}"
        # In a child: this process stays small, so its RSS does not leak into the children's.
        argv = [sys.executable, __file__, "--generate", str(root), "--seed", str(seed)]
        done = subprocess.run(
            [*argv, *(["--everything"] if everything else [])],
            capture_output=True,
            check=True,
        )
        stats = json.loads(done.stdout)
        reach = "everything" if everything else "~10 %"
        print(
            f"generated ({key}): {stats['files']} files, {stats['lines']} lines, "
            f"{stats['bytes'] / 1e6:.1f} MB; {stats['booted']} plain modules on the boot path, "
            f"{stats['unbooted']} in tests and scripts"
        )
        scenarios.append(
            Scenario(
                key,
                f"generated `{PACKAGE}`, {stats['files']} modules, the entry reaches {reach}",
                root,
                f"{PACKAGE}.main",
                PACKAGE,
                base / f"grimp-cache-{key}",
            )
        )
    if "c" in keys:
        root = site_root("django")
        scenarios.append(
            Scenario(
                "c",
                "installed django, root = its site-packages",
                root,
                "django.core.handlers.asgi",
                "django",
                base / "grimp-cache-c",
            )
        )
    return scenarios


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenarios", default="a,b,c", help="comma-separated: a, b, c")
    parser.add_argument("--keep", type=Path, help="generate into DIR and leave it there")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--everything", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate is not None:
        tree = generate(args.generate, args.seed, everything=args.everything)
        files = list(args.generate.rglob("*.py"))
        stats = {
            "files": len(files),
            "lines": sum(f.read_bytes().count(b"\n") for f in files),
            "bytes": sum(f.stat().st_size for f in files),
            "booted": len(tree.booted),
            "unbooted": len(tree.unbooted),
        }
        print(json.dumps(stats))
        return
    site_root("grimp")
    keys = args.scenarios.split(",")
    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    print(versions())
    fingerprint = source_fingerprint()
    print(fingerprint)
    ok = True
    with workdir(args.keep) as base:
        scenarios = build_scenarios(base, keys, args.seed)
        cwd = base / "cwd"
        cwd.mkdir()
        try:
            for scenario in scenarios:
                prepare(scenario, cwd)
            measure(scenarios, args.runs, cwd)
            print(
                "\nWall time and peak RSS (ru_maxrss from os.wait4) are taken by a small launcher "
                "that forks and execs each command; RSS figures are floored at the launcher's own "
                f"peak RSS, at most {max(LAUNCHER_RSS):.0f} MB."
            )
            for scenario in scenarios:
                ok = report(scenario, args.runs) and ok
        finally:
            for scenario in scenarios:
                if scenario.key == "c":
                    scenario.clear_preflight_cache()
    if source_fingerprint() != fingerprint:
        print("\n**preflight's sources changed during the run: the figures mix versions**")
        ok = False
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
