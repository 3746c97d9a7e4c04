"""The `preflight.report/1` JSON document (stdout with `--format json`, and `--report PATH`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from preflight.report import Report


def render_json(report: Report) -> str:
    """The report as one indented JSON object, ending in a newline."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
