"""The `-X importtime` profile of the app's import: what every cold start of the app pays.

CPython writes one stderr line per completed import (`import time: self | cumulative | name`,
nested imports indented two spaces per level). The child brackets the app's import with two
marker lines, so preflight's own bootstrap and later stages are not counted. Pure: lines in,
figures out.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

PREFIX = "import time:"
#: Written by the child on stderr right before it imports app code, and right after.
START_MARKER = "preflight-appload: import-profile start"
END_MARKER = "preflight-appload: import-profile end"
#: How many of the slowest modules the profile keeps.
SLOWEST = 10


@dataclass(frozen=True, slots=True)
class ImportLine:
    """One parsed `import time:` line."""

    module: str
    self_us: int
    cumulative_us: int
    depth: int
    """0 for an import the profiled code did itself, 1 for one that import did, ..."""


def parse_line(line: str) -> ImportLine | None:
    """The import a line reports, or None (the header, or not an import-time line)."""
    if not line.startswith(PREFIX):
        return None
    parts = line[len(PREFIX) :].split("|", 2)
    if len(parts) != 3:  # noqa: PLR2004 - self | cumulative | name
        return None
    try:
        self_us, cumulative_us = int(parts[0]), int(parts[1])
    except ValueError:  # the header line: `self [us] | cumulative | imported package`
        return None
    name = parts[2].rstrip("\n")
    stripped = name.lstrip(" ")
    # One space follows the bar; each nesting level adds two.
    depth = max(0, (len(name) - len(stripped) - 1) // 2)
    return ImportLine(stripped, self_us, cumulative_us, depth)


@dataclass(slots=True)
class ImportProfile:
    """Accumulates the lines between the markers: the total and the slowest modules."""

    total_us: int = 0
    """Sum of the cumulative times of the top-level imports: the whole import's cost."""
    modules: int = 0
    """How many modules were imported (each is imported once)."""
    _slowest: list[tuple[int, int, str, int]] = field(default_factory=list)

    def add(self, item: ImportLine) -> None:
        """Count one import."""
        self.modules += 1
        if item.depth == 0:
            self.total_us += item.cumulative_us
        entry = (item.cumulative_us, -self.modules, item.module, item.self_us)
        if len(self._slowest) < SLOWEST:
            heapq.heappush(self._slowest, entry)
        else:
            heapq.heappushpop(self._slowest, entry)

    def slowest(self) -> list[dict[str, int | str]]:
        """The slowest modules by cumulative time (their own imports included), slowest first."""
        ordered = sorted(self._slowest, reverse=True)
        return [
            {"module": name, "cumulative_ms": round(cum / 1000), "self_ms": round(own / 1000)}
            for cum, _, name, own in ordered
        ]

    def metrics(self) -> dict[str, object]:
        """The profile as JSON-ready metrics."""
        return {
            "import_time_ms": round(self.total_us / 1000),
            "modules_imported": self.modules,
            "slowest_imports": self.slowest(),
        }


class ImportTimeFilter:
    """Splits the child's stderr: import-time lines feed the profile, the rest is output.

    Only lines between the start and end markers count; import-time lines outside them (the
    interpreter's and preflight's own bootstrap) are dropped, never shown as the app's output.
    """

    def __init__(self) -> None:
        """Start outside the profiled window."""
        self.profile = ImportProfile()
        self.started = False
        self.finished = False

    def feed(self, line: str) -> bool:
        """Take one stderr line; True when it is the app's own output (keep it)."""
        if line.startswith(PREFIX):
            if self.started and not self.finished:
                parsed = parse_line(line)
                if parsed is not None:
                    self.profile.add(parsed)
            return False
        text = line.rstrip("\n")
        if text == START_MARKER:
            self.started = True
            return False
        if text == END_MARKER:
            self.finished = True
            return False
        return True
