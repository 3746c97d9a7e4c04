"""`python -m preflight` and the `preflight` console script: the one place that exits.

The exit is immediate (`os._exit` after flushing stdout and stderr): a check cut off at the
deadline may leave a resolver thread behind (it cannot be cancelled) or a task that ignores
cancellation, and interpreter shutdown would join the one and warn about the other, turning a
5 s budget into minutes. preflight registers no exit handlers, so nothing is lost.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

#: The process's start, taken before click and preflight's own modules are imported: the
#: budget counts from here, so `--budget 15s` bounds the whole run, imports included.
STARTED = time.monotonic()

import click  # noqa: E402 - after the start stamp on purpose

from preflight.cli import main as cli  # noqa: E402
from preflight.codes import ExitCode  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Run the command line and exit with its code; usage errors are one `Error:` line."""
    code = run_cli(argv, started=STARTED)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe must not hide the code
            stream.flush()
    os._exit(code)


def run_cli(argv: list[str] | None = None, *, started: float | None = None) -> int:
    """The exit code of one command line, every click error rendered as one line.

    `started` is when the process began: the budget counts from there, imports included.
    """
    try:
        obj = {"started": started} if started is not None else None
        result = cli.main(args=argv, prog_name="preflight", standalone_mode=False, obj=obj)
    except click.exceptions.Abort:
        click.echo("Error: interrupted", err=True)
        return int(ExitCode.SIGINT)
    except click.ClickException as error:
        click.echo(f"Error: {_one_line(error.format_message())}", err=True)
        return error.exit_code
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    return result if isinstance(result, int) else int(ExitCode.OK)


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    main()
