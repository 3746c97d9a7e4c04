"""SARIF 2.1.0, for GitHub code scanning and other SARIF viewers (`--format sarif`).

One run; the tool's rules are the whole code catalogue (so a rule's description is there even
for a code this run did not produce); one result per finding, its level from the severity.
A finding's file is relative to a source root (imports) or to the config file's folder
(distributions): it is located on disk and written relative to `SRCROOT`, the repository
preflight runs in (the nearest folder up from the working directory holding `.git`, else the
working directory), which `originalUriBaseIds` records. GitHub resolves a relative path
against the repository's root, also when preflight ran in a subfolder of a monorepo. No
`partialFingerprints`: GitHub's upload-sarif action computes `primaryLocationLineHash` from
the source when they are absent, which a tool cannot reproduce. Findings without a file (a
database that does not answer) carry no location.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from preflight._version import __version__
from preflight.codes import CATALOGUE, Severity

if TYPE_CHECKING:
    from collections.abc import Sequence

    from preflight.codes import FindingCode
    from preflight.report import Finding, Report

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"
URI_BASE_ID = "SRCROOT"
INFORMATION_URI = "https://pypi.org/project/preflight-boot/"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render_sarif(report: Report, *, roots: Sequence[Path] = (), srcroot: Path | None = None) -> str:
    """The report as a SARIF 2.1.0 log; `roots` are where finding files are looked up."""
    return json.dumps(sarif_log(report, roots=roots, srcroot=srcroot), indent=2) + "\n"


def sarif_log(
    report: Report, *, roots: Sequence[Path] = (), srcroot: Path | None = None
) -> dict[str, Any]:
    """The SARIF log object (see `render_sarif`)."""
    base = (srcroot or repository_root(Path.cwd())).resolve()
    index = {entry.code: position for position, entry in enumerate(CATALOGUE)}
    results = [_result(f, index[f.code], roots, base) for f in report.findings]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "preflight",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(entry) for entry in CATALOGUE],
            }
        },
        "originalUriBaseIds": {URI_BASE_ID: {"uri": base.as_uri().rstrip("/") + "/"}},
        "invocations": [
            {
                "executionSuccessful": report.exit_code != 70,  # noqa: PLR2004 - ExitCode.INTERNAL
                "exitCode": report.exit_code,
            }
        ],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def repository_root(folder: Path) -> Path:
    """The checkout `folder` is in (the nearest folder up holding `.git`), else `folder`."""
    folder = folder.resolve()
    return next((f for f in (folder, *folder.parents) if (f / ".git").exists()), folder)


def _rule(entry: FindingCode) -> dict[str, Any]:
    check = "preflight itself" if entry.check == "*" else f"the {entry.check} check"
    return {
        "id": entry.code,
        "shortDescription": {"text": entry.meaning},
        "fullDescription": {
            "text": f"{entry.meaning} (reported by {check}; exit code {entry.exit_code})."
        },
        "defaultConfiguration": {"level": _LEVELS[entry.severity]},
        "properties": {"tags": ["preflight", "internal" if entry.check == "*" else entry.check]},
    }


def _result(finding: Finding, rule_index: int, roots: Sequence[Path], base: Path) -> dict[str, Any]:
    text = finding.message
    if finding.chain:
        text += "\nchain: " + " -> ".join(finding.chain)
    if finding.hint:
        text += f"\nhint: {finding.hint}"
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.severity],
        "message": {"text": text},
    }
    if finding.file is not None:
        physical: dict[str, Any] = {"artifactLocation": _artifact(finding.file, roots, base)}
        if finding.line is not None and finding.line >= 1:
            physical["region"] = {"startLine": finding.line}
        result["locations"] = [{"physicalLocation": physical}]
    properties = {
        key: value
        for key, value in (
            ("check", finding.check),
            ("module", finding.module),
            ("name", finding.name),
            ("chain", list(finding.chain) or None),
        )
        if value is not None
    }
    result["properties"] = properties
    return result


def _artifact(file: str, roots: Sequence[Path], base: Path) -> dict[str, str]:
    """`file` found under a root, written relative to `base` (else as an absolute file URI)."""
    given = Path(file)
    candidates = [given] if given.is_absolute() else [root / given for root in roots]
    found = next((path.resolve() for path in candidates if path.is_file()), None)
    if found is None:
        if given.is_absolute():
            return {"uri": given.as_uri()}
        return {"uri": quote(given.as_posix()), "uriBaseId": URI_BASE_ID}
    try:
        relative = found.relative_to(base)
    except ValueError:
        return {"uri": found.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": URI_BASE_ID}
