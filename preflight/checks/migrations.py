"""Migrations: whether the database is at the head revision of the app's alembic scripts.

Read statically: the scripts' `revision` / `down_revision` assignments give the graph (merges
included), without importing alembic or running any `env.py`. The database check reads
`alembic_version` on its own connection and asks `migration_problem`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class Revisions:
    """An alembic script folder's revision graph, read statically (no alembic, no env.py)."""

    parents: dict[str, tuple[str, ...]]
    """Each revision's `down_revision`s."""

    @property
    def heads(self) -> frozenset[str]:
        """Revisions no other revision builds on."""
        children = {parent for parents in self.parents.values() for parent in parents}
        return frozenset(self.parents) - children


def read_revisions(scripts: Path) -> Revisions:
    """The revision graph of an alembic script folder, from `versions/*.py` assignments."""
    versions = scripts / "versions"
    if not versions.is_dir():
        raise ValueError(f"no versions/ folder in {scripts}")
    parents: dict[str, tuple[str, ...]] = {}
    for path in sorted(versions.glob("*.py")):
        found = _revision_of(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if found is not None:
            parents[found[0]] = found[1]
    if not parents:
        raise ValueError(f"no revision files in {versions}")
    return Revisions(parents)


def _revision_of(tree: ast.Module) -> tuple[str, tuple[str, ...]] | None:
    """`revision` and `down_revision` of one script (str, None, or a tuple for merges)."""
    values: dict[str, object] = {}
    for node in tree.body:
        target, value = _assignment(node)
        if target in {"revision", "down_revision"} and value is not None:
            try:
                values[target] = ast.literal_eval(value)
            except ValueError:
                continue
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, (tuple, list)):
        return revision, tuple(str(item) for item in down)
    return revision, ()


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return (target.id if isinstance(target, ast.Name) else None), node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


def migration_problem(scripts: Revisions, current: tuple[str, ...]) -> tuple[str, str] | None:
    """(message, hint) when the database is not at the scripts' head; None when it is."""
    heads = sorted(scripts.heads)
    if set(current) == set(heads):
        return None
    head_text = ", ".join(heads)
    if not current:
        return (
            (
                "the database has no alembic revision (alembic_version missing or empty);"
                f" the scripts' head is {head_text}"
            ),
            "run `alembic upgrade head` before starting the app",
        )
    unknown = sorted(set(current) - set(scripts.parents))
    if unknown:
        return (
            (
                f"the database is at {', '.join(unknown)}, unknown to the scripts"
                f" (head {head_text}): ahead of this image, or another branch"
            ),
            "deploy the image that carries those migrations, or check database.migrations",
        )
    return (
        f"the database is at {', '.join(current)}, behind the scripts' head {head_text}",
        "run `alembic upgrade head` before starting the app",
    )
