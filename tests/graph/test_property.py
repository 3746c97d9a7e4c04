"""Property: on generated package trees, the tool's errors are exactly the broken reachable edges.

Each tree is one package `pkg` of 3-8 modules `pkg.m0`..; some are not written (missing), and
a few more names past the end never exist. Each written module first binds some of the names
`a`, `b`, `c`, then imports 0-3 others at module level, with `import pkg.mK` or
`from pkg.mK import name`. Imports go forward (K > I), plus at most one `import`-form edge
back (K <= I): names are bound before any import runs, so no `from` import meets a partially
initialized module that lacks a name it will bind later, and CPython's verdict depends only on
the broken edges. The expected errors are computed here with a BFS from `pkg.m0`: every import
in a reached module whose target is missing (PF301) or binds no such name (PF302: a module binds
its own names and those its `from` imports bind, even when that import is itself broken); the
tool must report exactly those, and a child CPython must fail exactly when there is one.
"""

from __future__ import annotations

import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from trees import cpython_import, describe, errors, tool_walk, write_tree

NAMES = ("a", "b", "c")
EXTRA_MISSING = 2
"""Module numbers past the last generated one: imports of them always fail."""


@dataclass(frozen=True)
class Edge:
    target: int
    name: str | None
    """`from pkg.mK import name`; None for `import pkg.mK`."""


@dataclass(frozen=True)
class Package:
    written: frozenset[int]
    defines: dict[int, tuple[str, ...]]
    imports: dict[int, tuple[Edge, ...]]
    size: int

    def source(self, index: int) -> str:
        lines = [f"{name} = {index}" for name in self.defines[index]]
        for edge in self.imports[index]:
            if edge.name is None:
                lines.append(f"import pkg.m{edge.target}")
            else:
                lines.append(f"from pkg.m{edge.target} import {edge.name}")
        return "".join(f"{line}\n" for line in lines)

    def files(self) -> dict[str, str | bytes]:
        files: dict[str, str | bytes] = {"pkg/__init__.py": ""}
        for index in sorted(self.written):
            files[f"pkg/m{index}.py"] = self.source(index)
        return files

    def binds(self, index: int) -> set[str]:
        """Names module `index` binds: its own, and those its `from` imports bind."""
        imported = {edge.name for edge in self.imports[index] if edge.name is not None}
        return set(self.defines[index]) | imported

    def broken_edges(self) -> set[tuple[str, str, int, str, str | None]]:
        """(code, file, line, module, name) of every broken edge reachable from m0."""
        broken: set[tuple[str, str, int, str, str | None]] = set()
        seen = {0}
        queue = deque([0])
        while queue:
            index = queue.popleft()
            first_import_line = len(self.defines[index]) + 1
            for offset, edge in enumerate(self.imports[index]):
                where = (f"pkg/m{index}.py", first_import_line + offset)
                target = f"pkg.m{edge.target}"
                if edge.target not in self.written:
                    broken.add(("PF301", *where, target, None))
                    continue
                if edge.name is not None and edge.name not in self.binds(edge.target):
                    broken.add(("PF302", *where, target, edge.name))
                if edge.target not in seen:
                    seen.add(edge.target)
                    queue.append(edge.target)
        return broken


@st.composite
def packages(draw: st.DrawFn) -> Package:
    size = draw(st.integers(min_value=3, max_value=8))
    total = size + EXTRA_MISSING
    unwritten = draw(st.sets(st.integers(min_value=1, max_value=size - 1), max_size=2))
    written = frozenset(range(size)) - unwritten
    defines = {
        i: tuple(sorted(draw(st.sets(st.sampled_from(NAMES), max_size=3)))) for i in range(size)
    }
    back_edge_from = draw(st.none() | st.sampled_from(sorted(written)))
    imports: dict[int, tuple[Edge, ...]] = {}
    for i in range(size):
        forward = range(i + 1, total)
        edge = st.builds(
            Edge,
            target=st.sampled_from(forward),
            name=st.none() | st.sampled_from(NAMES),
        )
        edges = draw(st.lists(edge, max_size=3)) if forward else []
        if i == back_edge_from:
            back = draw(st.sampled_from(sorted(k for k in written if k <= i)))
            position = draw(st.integers(min_value=0, max_value=len(edges)))
            edges.insert(position, Edge(back, None))
        imports[i] = tuple(edges)
    return Package(written, defines, imports, size)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(packages())
def test_errors_are_the_broken_reachable_edges(package: Package) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        root = write_tree(base, package.files())
        expected = package.broken_edges()
        event("CPython must fail" if expected else "CPython must pass")
        result, _, _ = tool_walk(base, "pkg.m0", [root])
        got = {(f.code, f.file, f.line, f.module, f.name) for f in errors(result)}
        sources = "\n".join(f"--- {path}\n{text}" for path, text in package.files().items())
        assert got == expected, f"{sources}\ntool:\n{describe(result)}"
        cpython = cpython_import("pkg.m0", [root], base)
        assert cpython.failed == bool(expected), f"{sources}\nCPython: {cpython.stderr}"


def test_generated_trees_cover_both_verdicts() -> None:
    """The strategy makes passing and failing trees, and both kinds of broken edge."""
    seen: set[str] = set()

    @settings(max_examples=200, deadline=None, database=None)
    @given(packages())
    def collect(package: Package) -> None:
        broken = package.broken_edges()
        seen.add("fail" if broken else "pass")
        seen.update(code for code, *_ in broken)
        seen.update(
            "back-edge" for i, edges in package.imports.items() for e in edges if e.target <= i
        )

    collect()
    assert seen >= {"pass", "fail", "PF301", "PF302", "back-edge"}
