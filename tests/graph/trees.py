"""Small source trees on disk, CPython's verdict on importing them, and the tool's.

A tree is a dict `{relative path: source}` written under `<base>/root`; str sources are
dedented, bytes are written as they are (for bad encodings and NUL bytes). CPython's verdict
comes from a real child interpreter running `import <entry>` with the roots on PYTHONPATH;
the tool's from `walk_entry`, in-process, with the same roots.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preflight.checks.imports import walk_entry
from preflight.config import load_config

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from preflight.codes import Severity
    from preflight.graph.walker import WalkResult
    from preflight.report import Finding

Tree = dict[str, str | bytes]

_NO_MODULE = re.compile(r"^ModuleNotFoundError: No module named '([^']+)'")
_NO_NAME = re.compile(
    r"^ImportError: cannot import name '([^']+)' from (?:partially initialized module )?'([^']+)'"
)
#: A SyntaxError's location line (`File "x.py", line 3` with no `, in <module>` after it).
_SYNTAX_FILE = re.compile(r'^\s*File "([^"]+)", line (\d+)$')


def lines(*text: str) -> str:
    """Source from its lines (for sources with f-string parts too long for one literal)."""
    return "\n".join(text) + "\n"


def write_tree(base: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write `files` under `base/root` and return that root.

    A str source is dedented and loses its leading newlines (so triple-quoted sources can
    start on the line after the quotes); bytes are written exactly.
    """
    root = base / "root"
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@dataclass(frozen=True)
class Outcome:
    """What a child CPython said about `import <entry>`."""

    returncode: int
    stderr: str
    error: str
    """The exception class on the last stderr line (`""` when it passed)."""
    module: str | None = None
    """The module CPython names: missing (ModuleNotFoundError) or lacking `name`."""
    name: str | None = None
    """`cannot import name 'name' from 'module'`."""
    file: Path | None = None
    """Where a SyntaxError is, when CPython shows it (not for NUL bytes)."""

    @property
    def failed(self) -> bool:
        """CPython fails iff the exit code is not 0."""
        return self.returncode != 0

    @property
    def last_line(self) -> str:
        """The last stderr line (the exception), or `""`."""
        said = [line for line in self.stderr.splitlines() if line.strip()]
        return said[-1] if said else ""


def child_environ(roots: Sequence[Path]) -> dict[str, str]:
    """The test's environment without PREFLIGHT_*, with the roots as PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PREFLIGHT_")}
    env["PYTHONPATH"] = os.pathsep.join(str(root) for root in roots)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def cpython_import(
    entry: str, roots: Sequence[Path], cwd: Path, *, recursion_limit: int | None = None
) -> Outcome:
    """Run `import <entry>` in a real child interpreter and parse how it ended."""
    code = f"import {entry}"
    if recursion_limit is not None:
        code = f"import sys; sys.setrecursionlimit({recursion_limit}); {code}"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=child_environ(roots),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return parse_outcome(done.returncode, done.stderr)


def parse_outcome(returncode: int, stderr: str) -> Outcome:
    """Read the exception CPython ended with from its traceback."""
    said = [line for line in stderr.splitlines() if line.strip()]
    last = said[-1] if said else ""
    error = last.split(":", 1)[0] if returncode != 0 else ""
    files = [Path(m[1]) for line in said if (m := _SYNTAX_FILE.match(line))]
    file = files[-1] if files and files[-1].is_file() else None
    if match := _NO_MODULE.match(last):
        return Outcome(returncode, stderr, error, module=match[1], file=file)
    if match := _NO_NAME.match(last):
        return Outcome(returncode, stderr, error, module=match[2], name=match[1], file=file)
    return Outcome(returncode, stderr, error, file=file)


def tool_walk(
    base: Path,
    entry: str,
    roots: Sequence[Path],
    *,
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[WalkResult, int, int]:
    """Walk `entry` the way the imports check does (cache off unless `environ` says)."""
    overrides = {"app": entry, "roots": [str(root) for root in roots], **(cli or {})}
    env = {"PREFLIGHT_IMPORTS__CACHE": "false"} if environ is None else dict(environ)
    config = load_config(overrides, env, base)
    return walk_entry(config)


def errors(result: WalkResult) -> list[Finding]:
    """The findings that fail the run."""
    return [f for f in result.findings if f.severity.value == "error"]


def findings(
    result: WalkResult, code: str | None = None, severity: Severity | None = None
) -> list[Finding]:
    """The findings with this code and severity (either may be None: any)."""
    return [
        f
        for f in result.findings
        if (code is None or f.code == code) and (severity is None or f.severity is severity)
    ]


def describe(result: WalkResult) -> str:
    """One line per finding, for assertion messages."""
    if not result.findings:
        return "  (no findings)"
    return "\n".join(
        f"  {f.code} {f.severity.value} module={f.module} name={f.name} {f.file}:{f.line}"
        f" chain={' -> '.join(f.chain)}: {f.message}"
        for f in result.findings
    )


def module_of(file: Path, roots: Sequence[Path]) -> str | None:
    """The dotted module a file under one of the roots is (None when under none)."""
    for root in roots:
        try:
            relative = file.resolve().relative_to(root.resolve())
        except ValueError:
            continue
        parts = list(relative.with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)
    return None
