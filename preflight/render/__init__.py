"""Renderers: a report in, text out. Separate from the checks and interchangeable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from preflight.render.console import render_console
from preflight.render.json import render_json

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from preflight.report import Report

OutputFormat = Literal["console", "json", "sarif"]


def render(
    report: Report,
    output_format: OutputFormat,
    *,
    color: bool = False,
    roots: Sequence[Path] = (),
    compact: bool = False,
) -> str:
    """Render `report` for stdout in `output_format`.

    `roots`: where finding files live (source roots, the config file's folder); SARIF needs
    them to write paths relative to the folder preflight runs in. `compact`: JSON on one line.
    """
    if output_format == "json":
        return render_json(report, compact=compact)
    if output_format == "sarif":
        from preflight.render.sarif import render_sarif  # noqa: PLC0415 - only for sarif

        return render_sarif(report, roots=roots)
    return render_console(report, color=color)


__all__ = ["OutputFormat", "render", "render_console", "render_json"]
