"""The exit-code and finding-code tables, from the one catalogue (`preflight codes`, README)."""

from __future__ import annotations

import json

from preflight.codes import CATALOGUE, EXIT_CODE_MEANINGS


def render_codes(output_format: str) -> str:
    """Both tables as `text`, `json` or `markdown` (the README embeds the markdown)."""
    exits = [(int(code), meaning) for code, meaning in EXIT_CODE_MEANINGS.items()]
    findings = [(e.code, e.severity.value, e.check, e.meaning) for e in CATALOGUE]
    if output_format == "json":
        return (
            json.dumps(
                {
                    "exit_codes": [{"code": c, "meaning": m} for c, m in exits],
                    "finding_codes": [
                        {"code": c, "severity": s, "check": k, "meaning": m}
                        for c, s, k, m in findings
                    ],
                },
                indent=2,
            )
            + "\n"
        )
    if output_format == "markdown":
        lines = ["| exit code | meaning |", "|---|---|"]
        lines += [f"| {c} | {m} |" for c, m in exits]
        lines += ["", "| code | severity | check | meaning |", "|---|---|---|---|"]
        lines += [f"| {c} | {s} | {k} | {m} |" for c, s, k, m in findings]
        return "\n".join(lines) + "\n"
    lines = ["Exit codes:"]
    lines += [f"  {c:>3}  {m}" for c, m in exits]
    lines += ["", "Finding codes:"]
    lines += [f"  {c:<7} {s:<8} {k:<14} {m}" for c, s, k, m in findings]
    return "\n".join(lines) + "\n"
