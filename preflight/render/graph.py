"""`preflight graph`: the boot-time import graph as text, JSON or Graphviz dot, and `--why`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from preflight.graph.walker import WalkResult


def render_graph(result: WalkResult, output_format: str) -> str:
    """The first-party modules reached at boot and the imports between them."""
    edges = sorted({(e.importer, e.target, e.line, e.kind) for e in result.edges if e.first_party})
    if output_format == "json":
        document = {
            "modules": [
                {"name": name, "file": resolved.relative_file(), "chain": list(result.chains[name])}
                for name, resolved in result.modules.items()
            ],
            "edges": [
                {"importer": a, "target": b, "line": line, "kind": kind}
                for a, b, line, kind in edges
            ],
        }
        return json.dumps(document, indent=2) + "\n"
    if output_format == "dot":
        lines = ["digraph imports {", "  rankdir=LR;"]
        lines += [
            f'  "{a}" -> "{b}" [label="{line}{_dot_style(kind)}"];' for a, b, line, kind in edges
        ]
        return "\n".join([*lines, "}"]) + "\n"
    by_importer: dict[str, list[str]] = {}
    for importer, target, line, kind in edges:
        suffix = "" if kind == "import" else f" ({kind})"
        by_importer.setdefault(importer, []).append(f"  -> {target}  :{line}{suffix}")
    lines = []
    for module in result.modules:
        lines.append(module)
        lines += by_importer.get(module, [])
    return "\n".join(lines) + "\n"


def _dot_style(kind: str) -> str:
    return "" if kind == "import" else f'", style="dashed", tooltip="{kind}'


def why(result: WalkResult, module: str, limit: int = 10) -> list[tuple[str, ...]]:
    """Chains from the entry to `module`: the shortest through each module that imports it."""
    importers = sorted({e.importer for e in result.edges if e.target == module})
    chains = []
    for importer in importers[:limit]:
        chain = result.chains.get(importer)
        if chain is not None:
            chains.append((*chain, module))
    if not chains and module in result.chains:
        chains.append(result.chains[module])
    return sorted(chains, key=len)


def render_why(result: WalkResult, module: str) -> str:
    """`--why MODULE`: one chain per line, or why there is none."""
    chains = why(result, module)
    if not chains:
        return f"{module} is not imported at boot from the entry\n"
    return "".join(" -> ".join(chain) + "\n" for chain in chains)
