"""The `preflight.report/1` JSON document (stdout with `--format json`, and `--report PATH`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from preflight.report import Report


def render_json(report: Report, *, compact: bool = False) -> str:
    """The report as one JSON object, ending in a newline: indented, or on one line.

    One line is for a container's stdout, where a log collector makes every line an entry.
    """
    if compact:
        return json.dumps(report.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
