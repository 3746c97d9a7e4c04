"""The failure summary: the final event's headline and the Kubernetes termination message.

Kubernetes shows the container's termination-message file (at most 4096 bytes) in
`kubectl describe pod`, next to the exit code: the one place an operator sees *why* without
searching logs. On failure `preflight check`/`run` write there a headline (stage, exit code)
and the failing findings, one line each, cut at a UTF-8 boundary so the file stays valid
text. Everything is masked again here: this text leaves the process.
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from preflight.codes import ExitCode
from preflight.secrets import mask_secrets

if TYPE_CHECKING:
    from pathlib import Path

    from preflight.report import Finding, Report

#: Kubernetes reads at most this many bytes of the termination-message file.
LIMIT_BYTES = 4096
#: The path Kubernetes mounts by default (`terminationMessagePath`).
DEFAULT_PATH = "/dev/termination-log"
#: Longest line a single finding may take, so one long traceback cannot crowd out the rest.
LINE_BYTES = 600
#: Room kept for the closing "... and N more" line.
_TAIL_RESERVE = 120


def stage_name(exit_code: int) -> str:
    """The start-up stage an exit code names: `imports`, `database`, `interrupted by SIGTERM`."""
    try:
        code = ExitCode(exit_code)
    except ValueError:
        return f"exit {exit_code}"
    if code in {ExitCode.SIGINT, ExitCode.SIGTERM}:
        return f"interrupted by {code.name}"
    if code is ExitCode.INTERNAL:
        return "internal error"
    if code is ExitCode.USAGE:
        return "configuration"
    return code.name.lower()


def headline(exit_code: int) -> str:
    """One stable line for a failure, `imports failed (exit 3)`: what logs are grouped by."""
    stage = stage_name(exit_code)
    verb = "" if stage.startswith(("interrupted", "internal")) else " failed"
    return f"{stage}{verb} (exit {exit_code})"


def summary(report: Report, *, report_path: Path | None = None) -> str:
    """The termination message: the headline, then failing findings, at most `LIMIT_BYTES`."""
    failing = sorted(
        (f for f in report.findings if f.fails(strict=report.strict)),
        key=lambda f: f.exit_code,  # earliest stage first; stable within a stage
    )
    count = f"{len(failing)} failing finding{'s' if len(failing) != 1 else ''}"
    lines = [f"preflight: {headline(report.exit_code)}: {count}"]
    used = _size(lines[0]) + 1
    shown = 0
    for finding in failing:
        line = _truncate(_finding_line(finding), LINE_BYTES)
        if used + _size(line) + 1 > LIMIT_BYTES - _TAIL_RESERVE:
            break
        lines.append(line)
        used += _size(line) + 1
        shown += 1
    if shown < len(failing):
        where = f": full report in {report_path}" if report_path is not None else ""
        lines.append(_truncate(f"... and {len(failing) - shown} more{where}", _TAIL_RESERVE - 1))
    return _truncate(mask_secrets("\n".join(lines)) + "\n", LIMIT_BYTES)


def _finding_line(finding: Finding) -> str:
    where = finding.file or finding.module
    if where and finding.file and finding.line:
        where = f"{where}:{finding.line}"
    text = f"{finding.code} {finding.check}: {finding.message}"
    if where:
        text += f" [{where}]"
    if finding.hint:
        text += f" hint: {finding.hint}"
    return " ".join(text.split())


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    marker = "..."
    cut = data[: limit - len(marker)].decode("utf-8", errors="ignore")
    return cut + marker


def destination(setting: str) -> tuple[str, bool] | None:
    """Where to write and whether to create the file; None when disabled.

    The default `/dev/termination-log` is written only when it exists (Kubernetes mounts it):
    elsewhere it is absent, and creating files under /dev would be wrong. A path the user
    chose is created if missing (its folder must exist), so a volume can collect it.
    """
    if not setting:
        return None
    return setting, setting != DEFAULT_PATH


def write(setting: str, text: str) -> OSError | None:
    """Write `text` to the termination-message file; the error if a chosen path failed.

    The default path missing or read-only is not an error: outside Kubernetes it is normal.
    """
    target = destination(setting)
    if target is None:
        return None
    path, create = target
    flags = os.O_WRONLY | os.O_TRUNC | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as error:
        if not create and error.errno in {errno.ENOENT, errno.EACCES, errno.EROFS, errno.EPERM}:
            return None
        return error
    try:
        os.write(fd, text.encode("utf-8")[:LIMIT_BYTES])
    except OSError as error:
        return error
    finally:
        os.close(fd)
    return None
