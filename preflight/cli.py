"""The command line: parse, load the configuration, run, render, and return the exit code.

Kept cheap to import: `preflight --version` and `preflight codes` load click and nothing
heavy; pydantic-settings, structlog and asyncio are imported inside the commands that use
them. Only `preflight.__main__` turns the returned code into the process's exit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from preflight._version import __version__
from preflight.codes import CHECK_NAMES, ExitCode

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from preflight.config import Config
    from preflight.eventlog import EventLog
    from preflight.report import Report

#: Where `run` writes its report when `--report` is not given; `probe` reads it.
DEFAULT_RUN_REPORT = "preflight/report.json"


def default_run_report() -> Path:
    """`$TMPDIR/preflight/report.json` (or `TEMP`, `TMP`, `/tmp`): run writes it, probe reads it.

    Not `tempfile.gettempdir()`: on a read-only filesystem it raises (the server would never
    start) and it falls back to whichever folder is writable, which `probe` may not agree on.
    """
    folder = next(filter(None, map(os.environ.get, ("TMPDIR", "TEMP", "TMP"))), None)
    return Path(folder or "/tmp") / DEFAULT_RUN_REPORT  # noqa: S108 - tempfile's choice too


class ConfigurationError(click.ClickException):
    """A usage or configuration error: one line, exit 2."""

    exit_code = int(ExitCode.USAGE)


_ENTRY_OPTIONS = [
    click.option("--app", metavar="MODULE[:ATTR]", help="The entry; ATTR() calls a factory."),
    click.option(
        "--root",
        "roots",
        multiple=True,
        metavar="DIR",
        help="Source root, put first on the import path (repeatable).",
    ),
    click.option("--config", metavar="FILE", help="pyproject.toml or preflight.toml."),
]
"""Where the app is and how preflight is configured: every command that reads the app."""


def _entry_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--app`, `--root` and `--config`."""
    for option in reversed(_ENTRY_OPTIONS):
        command = option(command)
    return command


def _common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every checking command takes; unset ones fall through to env and file."""
    options = [
        *_ENTRY_OPTIONS,
        click.option(
            "--budget", metavar="DURATION", help="Hard deadline: 500ms, 15s, 2m or seconds."
        ),
        click.option(
            "--only", metavar="NAME,...", help=f"Run only these: {', '.join(CHECK_NAMES)}."
        ),
        click.option("--skip", metavar="NAME,...", help="Do not run these checks."),
        click.option(
            "--format",
            "output_format",
            type=click.Choice(["console", "json", "sarif"]),
            help="stdout at the end (default: console on a TTY, else json).",
        ),
        click.option(
            "--log-format",
            type=click.Choice(["auto", "json", "console"]),
            help="Event log on stderr (default auto: console on a TTY, else JSON).",
        ),
        click.option("--report", metavar="PATH", help="Also write the JSON report there."),
        click.option("--strict/--no-strict", default=None, help="Warnings fail too."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _cli_overrides(**given: Any) -> dict[str, Any]:  # noqa: ANN401 - click hands over any value
    """Only the options given on the command line, by configuration key."""
    renames = {"output_format": "format"}
    overrides = {}
    for name, value in given.items():
        if value is None or value == ():
            continue
        overrides[renames.get(name, name)] = list(value) if isinstance(value, tuple) else value
    return overrides


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="preflight", message="%(prog)s %(version)s"
)
def main() -> None:
    """Stop a broken Python backend from booting: find every start-up failure in one pass."""


@main.command()
@_common_options
@click.pass_context
def check(ctx: click.Context, /, **options: Any) -> None:  # noqa: ANN401
    """Run the checks, print the outcome, exit with the code of the earliest failing stage."""
    report = _run(options, started=_process_start(ctx))
    ctx.exit(report.exit_code)


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@_common_options
@click.argument(
    "command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD [ARG]..."
)
@click.pass_context
def run(ctx: click.Context, /, command: tuple[str, ...], **options: Any) -> None:  # noqa: ANN401
    """Run the checks; on pass exec CMD in place of this process, on fail exit with the code."""
    if command[0].startswith("-"):  # an unknown option (a typo) lands in CMD: not a program
        msg = f"no such option: {command[0]} (the server command goes after --)"
        raise click.UsageError(msg, ctx)
    if os.environ.get("PREFLIGHT_DISABLE", "").lower() in {"1", "true", "yes", "on"}:
        _warn_disabled()
        _exec(command)
    report = _run(
        options,
        print_report=lambda report: report.exit_code != ExitCode.OK,
        default_report=default_run_report(),
        started=_process_start(ctx),
        command=command,
    )
    if report.exit_code != ExitCode.OK:
        ctx.exit(report.exit_code)
    _exec(command)


@main.command()
@_entry_options
@click.option(
    "--budget",
    "probe_budget",
    metavar="DURATION",
    help="Deadline of the probe (default [tool.preflight.probe] budget, 2s).",
)
@click.option("--report", metavar="PATH", help="The report `run` wrote (default: run's).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["console", "json"]),
    help="stdout at the end (default: console on a TTY, else json).",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    help="Event log on stderr (default auto: console on a TTY, else JSON).",
)
@click.pass_context
def probe(ctx: click.Context, /, probe_budget: str | None, **options: Any) -> None:  # noqa: ANN401
    """Exec probe / HEALTHCHECK: the last report, then the live checks; exit 0 or the code."""
    from preflight import eventlog  # noqa: PLC0415 - heavy imports only on this path
    from preflight import probe as probes  # noqa: PLC0415
    from preflight.durations import parse_duration  # noqa: PLC0415

    budget_ms = None
    if probe_budget is not None:
        try:
            budget_ms = parse_duration(probe_budget)
        except ValueError as error:
            raise ConfigurationError(f"--budget: {error}") from None
    config = _load_config(options)
    eventlog.configure(eventlog.resolve_log_format(config.log_format, sys.stderr))
    log = eventlog.EventLog()
    try:
        outcome = probes.probe(
            config,
            environ=os.environ,
            budget_ms=budget_ms,
            observer=log,
            started=_process_start(ctx),
        )
        fmt = config.format or ("console" if sys.stdout.isatty() else "json")
        click.echo(probes.render_outcome(outcome, fmt), nl=False)
    except Exception as error:  # noqa: BLE001 - a bug in preflight is exit 70, never a traceback
        log.internal_error(error)
        _internal_exit()
    log.probe_finished(outcome.exit_code, outcome.headline, outcome.reason, str(outcome.last.path))
    ctx.exit(outcome.exit_code)


@main.command()
@_entry_options
@click.option(
    "--why", "why_module", metavar="MODULE", help="Print the chains from the entry to it."
)
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "dot"]), default="text"
)
def graph(why_module: str | None, output_format: str, **options: Any) -> None:  # noqa: ANN401
    """Print the import graph reachable from the entry at boot (first-party modules)."""
    from preflight.checks.imports import walk_entry  # noqa: PLC0415 - keep start cheap
    from preflight.render.graph import render_graph, render_why  # noqa: PLC0415

    config = _load_config(options)
    if config.app is None:
        raise ConfigurationError("graph needs an entry: --app, PREFLIGHT_APP or app in the config")
    result, _, _ = walk_entry(config)
    if why_module is not None:
        click.echo(render_why(result, why_module), nl=False)
    else:
        click.echo(render_graph(result, output_format), nl=False)


@main.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    help="markdown is the README's table.",
)
def codes(output_format: str) -> None:
    """Print the exit-code and finding-code tables."""
    from preflight.render.codes import render_codes  # noqa: PLC0415 - keep start cheap

    click.echo(render_codes(output_format), nl=False)


# --- the run itself -------------------------------------------------------------------------


def _run(
    options: dict[str, Any],
    *,
    print_report: Callable[[Report], bool] = lambda _: True,
    default_report: Path | None = None,
    started: float | None = None,
    command: tuple[str, ...] = (),
) -> Report:
    """Load the configuration, run the checks with the event log on, render, write the report.

    `default_report` is where the report goes when no option, variable or file names a path;
    `started` (`time.monotonic()`) is when the budget began, if before this call. A `command`
    (the server `run` execs) selects `[tool.preflight.run] checks` unless `--only` is given.
    """
    from preflight import eventlog  # noqa: PLC0415 - heavy imports only on this path

    config = _load_config(options)
    if config.report is None and default_report is not None:
        config = config.model_copy(update={"report": default_report})
    if command and not config.only:
        config = config.model_copy(update={"only": config.run.checks})
    eventlog.configure(eventlog.resolve_log_format(config.log_format, sys.stderr))
    log = eventlog.EventLog()
    try:
        report = _execute(config, log, started, command)
        if print_report(report):
            _print(report, config, compact=bool(command))
        _write_report(report, config, log)
        if report.exit_code != ExitCode.OK:
            _write_termination_message(report, config, log)
    except Exception as error:  # noqa: BLE001 - a bug in preflight is exit 70, never a traceback
        log.internal_error(error)
        _internal_exit()
    log.finished(report)
    return report


def _load_config(options: dict[str, Any]) -> Config:
    """The configuration from these options, the environment and the file; bad input exits 2."""
    from preflight.config import ConfigError, load_config  # noqa: PLC0415 - pydantic is heavy

    try:
        config = load_config(_cli_overrides(**options), os.environ, Path.cwd())
    except ConfigError as error:
        raise ConfigurationError(str(error)) from None
    for root in config.roots:
        if not root.is_dir():
            raise ConfigurationError(
                f"roots: {str(root)!r} is not a directory"
                " (--root, PREFLIGHT_ROOTS or roots in the config file name source folders)"
            )
    return config


def _execute(
    config: Config, log: EventLog, started: float | None, command: tuple[str, ...]
) -> Report:
    from preflight.checks import REGISTRY  # noqa: PLC0415 - read at call time: tests swap it
    from preflight.runner import execute  # noqa: PLC0415

    report = execute(
        config, REGISTRY, environ=os.environ, observer=log, started=started, command=command
    )
    if report.interrupted is not None:
        log.interrupted(report.interrupted)
    return report


def _print(report: Report, config: Config, *, compact: bool = False) -> None:
    """The report on stdout; `compact` (for `run`) puts JSON on one line, one log entry."""
    from preflight.render import render  # noqa: PLC0415

    fmt = config.format or ("console" if sys.stdout.isatty() else "json")
    roots = (*config.roots, *((config.config.parent,) if config.config else ()))
    text = render(report, fmt, color=sys.stdout.isatty(), roots=roots, compact=compact)
    click.echo(text, nl=False)


def _write_report(report: Report, config: Config, log: EventLog) -> None:
    if config.report is None:
        return
    from preflight.render import render_json  # noqa: PLC0415

    path = config.report
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.write_text(render_json(report), encoding="utf-8")
        partial.replace(path)
    except OSError as error:
        log.report_not_written(path, error)


def _write_termination_message(report: Report, config: Config, log: EventLog) -> None:
    """On failure, the summary Kubernetes shows in `kubectl describe` (see `termination`)."""
    from preflight import termination  # noqa: PLC0415

    text = termination.summary(report, report_path=config.report)
    error = termination.write(config.termination_log, text)
    if error is not None:
        log.termination_not_written(config.termination_log, error)


def _process_start(ctx: click.Context) -> float | None:
    """When the process started, if the entry point said (`main(obj={"started": ...})`)."""
    obj = ctx.find_root().obj
    started = obj.get("started") if isinstance(obj, dict) else None
    return started if isinstance(started, float) else None


def _internal_exit() -> NoReturn:
    raise click.exceptions.Exit(int(ExitCode.INTERNAL))


def _warn_disabled() -> None:
    from preflight import eventlog  # noqa: PLC0415

    eventlog.configure(
        eventlog.resolve_log_format(os.environ.get("PREFLIGHT_LOG_FORMAT", "auto"), sys.stderr)
    )
    eventlog.EventLog().disabled()


def _exec(command: Sequence[str]) -> NoReturn:
    """Replace this process with `command` (same PID: the server gets the platform's signals).

    Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across exec:
    they are reset first, so CMD starts with the dispositions a shell would give it.
    """
    import signal  # noqa: PLC0415 - only the exec needs it

    sys.stdout.flush()
    sys.stderr.flush()
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(signum, signal.SIG_DFL)
    try:
        os.execvp(command[0], list(command))  # noqa: S606 - exec-ing the server is the point
    except OSError as error:
        code = 127 if isinstance(error, FileNotFoundError) else 126
        click.echo(f"Error: cannot start {command[0]!r}: {error.strerror}", err=True)
        raise click.exceptions.Exit(code) from None
