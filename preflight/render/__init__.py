"""Renderers: a report in, text out. Separate from the checks and interchangeable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from preflight.render.console import render_console
from preflight.render.json import render_json

if TYPE_CHECKING:
    from preflight.report import Report

OutputFormat = Literal["console", "json"]


def render(report: Report, output_format: OutputFormat, *, color: bool = False) -> str:
    """Render `report` for stdout in `output_format`."""
    if output_format == "json":
        return render_json(report)
    return render_console(report, color=color)


__all__ = ["OutputFormat", "render", "render_console", "render_json"]
