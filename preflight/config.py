"""Configuration: command line > environment > config file > defaults, with pydantic-settings.

`config_sources` is the one place that orders the sources. Each source is also validated on
its own first, so an error names where the bad value came from: the option (`--budget`), the
variable (`PREFLIGHT_DATABASE__URL_ENV`) or the file and table (`pyproject.toml:
[tool.preflight.database] connect_timeout`). Any problem raises `ConfigError`, one line; the
command line turns it into exit 2.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from preflight.codes import CHECK_NAMES, OPT_IN_CHECKS
from preflight.durations import parse_duration
from preflight.render import OutputFormat  # noqa: TC001 - pydantic reads field types at run time
from preflight.secrets import mask_secrets

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

#: Names a key of one source the way the user wrote it (`--budget`, `PREFLIGHT_BUDGET`, ...).
Describe = Callable[[Sequence[str | int]], str]

ENV_PREFIX = "PREFLIGHT_"
NESTED_DELIMITER = "__"
#: `PREFLIGHT_*` variables that are not configuration keys (read by other parts of preflight).
NON_CONFIG_VARIABLES = frozenset({"PREFLIGHT_DISABLE"})
#: Keys whose values are paths: relative ones are resolved against the config file's folder.
_FILE_PATH_KEYS = (
    ("roots",),
    ("report",),
    ("distributions", "requirements"),
    ("database", "migrations"),
)


class ConfigError(Exception):
    """Invalid configuration: one line naming the source, the key and the problem.

    The message is masked here, once: a value quoted back to the user may be a DSN.
    """

    def __init__(self, message: str) -> None:
        """Keep `message` as one line, with password-shaped parts masked."""
        super().__init__(mask_secrets(" ".join(message.split())))


def _split_names(value: object) -> object:
    """Accept a list, a JSON list, or a comma-separated string (as env vars and flags say lists)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def _split_paths(value: object) -> object:
    """Like `_split_names`, also splitting on `os.pathsep` as PYTHONPATH does (`src:lib`)."""
    if isinstance(value, str) and not value.strip().startswith("["):
        value = value.replace(os.pathsep, ",")
    return _split_names(value)


def _known_checks(names: tuple[str, ...]) -> tuple[str, ...]:
    for name in names:
        if name not in CHECK_NAMES:
            msg = f"unknown check {name!r}{_did_you_mean(name, CHECK_NAMES)}"
            msg += f"; known checks: {', '.join(CHECK_NAMES)}"
            raise ValueError(msg)
    return names


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


DurationMs = Annotated[int, BeforeValidator(parse_duration)]
NameList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_split_names)]
PathList = Annotated[tuple[Path, ...], NoDecode, BeforeValidator(_split_paths)]
CheckList = Annotated[
    tuple[str, ...], NoDecode, BeforeValidator(_split_names), AfterValidator(_known_checks)
]

_APP_SPEC = re.compile(
    r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*(:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*(\(\))?)?$"
)
_CLASS_SPEC = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


class _Section(BaseModel):
    """A `[tool.preflight.<check>]` table: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ImportsConfig(_Section):
    """`[tool.preflight.imports]`."""

    lazy: Literal["warn", "error", "ignore"] = "warn"
    """Severity of imports inside function bodies that are not run at import time."""
    ignore: NameList = ()
    """Modules whose findings are silenced."""
    cache: bool = True
    """Keep scans and the walk's result in `<root>/__pycache__/` between runs (a build step
    warms them)."""


class SettingsCheckConfig(_Section):
    """`[tool.preflight.settings]`."""

    class_: str | None = Field(default=None, alias="class")
    """The app's pydantic-settings class, `package.module:ClassName`."""

    @field_validator("class_")
    @classmethod
    def _module_colon_class(cls, value: str | None) -> str | None:
        if value is not None and not _CLASS_SPEC.match(value):
            msg = f"{value!r} is not of the form package.module:ClassName"
            raise ValueError(msg)
        return value


class MiddlewareConfig(_Section):
    """`[tool.preflight.middleware]`: the policy, outermost first."""

    order: NameList = ()
    """The relative order the listed middleware must keep, outermost first."""
    required: NameList = ()
    """Middleware that must be present."""
    allow_duplicates: bool = False
    """Accept the same middleware class registered more than once."""
    django_settings: str | None = None
    """Django: the settings module whose `MIDDLEWARE` is read (else `DJANGO_SETTINGS_MODULE`)."""


class DatabaseConfig(_Section):
    """`[tool.preflight.database]`."""

    url: str | None = None
    """A DSN; takes precedence over `url_env`."""
    url_env: str = "DATABASE_URL"
    """The environment variable holding the DSN."""
    connect_timeout: DurationMs = 5000
    """Longest a single connection attempt may take (also capped by the budget)."""
    query: str = Field(default="SELECT 1", min_length=1)
    """Run after connecting: the database must answer it."""
    max_latency: DurationMs | None = None
    """Warn when connect + query take longer."""
    migrations: Path | None = None
    """An alembic script folder (with `versions/`): the database's `alembic_version` must be
    at its head revision."""


class ServiceConfig(_Section):
    """One `[[tool.preflight.services]]` entry."""

    name: str = Field(min_length=1)
    """What the dependency is called in findings."""
    url: str
    """`http(s)://...` expects a 2xx/3xx; `tcp://host:port` a connect; `redis://` a PONG."""
    timeout: DurationMs = 5000
    """Longest a single attempt may take (also capped by the budget)."""
    expect_status: tuple[int, ...] = ()
    """HTTP: the statuses that pass (default: any 2xx or 3xx)."""
    expect_body: str | None = None
    """HTTP: a substring the body must contain."""

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in {"http", "https", "tcp", "redis", "rediss"}:
            msg = "expected a URL starting with http://, https://, tcp://, redis:// or rediss://"
            raise ValueError(msg)
        return value


class DistributionsConfig(_Section):
    """`[tool.preflight.distributions]`."""

    requirements: PathList = ()
    """Requirements files to check the installed distributions against."""
    extras: NameList = ()
    """Extras of the app's own `[project]` whose dependencies are declared too."""
    distribution: str | None = None
    """An installed distribution whose own `Requires-Dist` declare the app's requirements."""


#: The checks `run` selects when `--only` is not given: what every container start pays for.
#: The app, middleware and lifespan checks import the whole app in a child (the server then
#: imports it again), so they are left to `check`, CI and build steps unless chosen here.
RUN_DEFAULT_CHECKS: tuple[str, ...] = (
    "imports",
    "settings",
    "bind",
    "database",
    "services",
    "distributions",
)


class RunConfig(_Section):
    """`[tool.preflight.run]`: what `preflight run` checks before it execs the server."""

    checks: CheckList = RUN_DEFAULT_CHECKS
    """The checks `run` selects when `--only`/`PREFLIGHT_ONLY` is not set."""


class ProbeConfig(_Section):
    """`[tool.preflight.probe]`: `preflight probe` and the ASGI probe endpoint."""

    budget: DurationMs = 2_000
    """Hard deadline of one probe (its live checks), in milliseconds."""
    ttl: DurationMs = 5_000
    """How long the ASGI endpoint reuses a live-check result before it runs them again."""


LogFormat = Literal["auto", "json", "console"]


class ConfigModel(BaseModel):
    """Everything preflight is told: SPEC's command-line options and configuration keys.

    A plain model, so one source's values can be validated on their own (pydantic-settings'
    `BaseSettings.model_validate` reads the process environment too).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    app: str | None = None
    """The entry, `module[:attr]`, `attr()` meaning a factory to call."""
    roots: PathList = ()
    """Source roots put first on the import path; `load_config` makes them absolute and
    defaults them to the current directory."""
    config: Path | None = None
    """The config file, from the command line or `PREFLIGHT_CONFIG` only."""
    budget: DurationMs = 15_000
    """Hard deadline of the whole run, in milliseconds."""
    only: CheckList = ()
    """Run only these checks."""
    skip: CheckList = ()
    """Do not run these checks."""
    format: OutputFormat | None = None
    """What goes to stdout: `console` on a TTY, else `json`, when unset."""
    log_format: LogFormat = "auto"
    """The event log on stderr."""
    report: Path | None = None
    """Also write the JSON report here."""
    strict: bool = False
    """Warnings fail too."""
    termination_log: str = "/dev/termination-log"
    """On failure, a summary (at most 4 KiB) goes to this file when it exists and is writable
    (Kubernetes shows it in `kubectl describe`); an empty string disables it."""
    imports: ImportsConfig = ImportsConfig()
    settings: SettingsCheckConfig = SettingsCheckConfig()
    middleware: MiddlewareConfig = MiddlewareConfig()
    database: DatabaseConfig = DatabaseConfig()
    services: tuple[ServiceConfig, ...] = ()
    distributions: DistributionsConfig = DistributionsConfig()
    run: RunConfig = RunConfig()
    probe: ProbeConfig = ProbeConfig()

    @field_validator("app")
    @classmethod
    def _module_attr(cls, value: str | None) -> str | None:
        if value is not None and not _APP_SPEC.match(value):
            msg = f"{value!r} is not of the form package.module[:attr] or package.module:factory()"
            raise ValueError(msg)
        return value

    def selected_checks(self) -> tuple[str, ...]:
        """The checks to run, in boot order: `only` (or all but the opt-in ones) without `skip`."""
        wanted = set(self.only) if self.only else set(CHECK_NAMES) - OPT_IN_CHECKS
        return tuple(name for name in CHECK_NAMES if name in wanted and name not in self.skip)


class Config(ConfigModel, BaseSettings):
    """The configuration as pydantic-settings builds it from its sources (see `config_sources`)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        validate_default=False,  # defaults are already values (milliseconds), not user input
    )


# --- sources ------------------------------------------------------------------------------


class EnvironSource(EnvSettingsSource):
    """`PREFLIGHT_*` variables from an injected mapping (tests and children pass their own).

    Unknown top-level `PREFLIGHT_*` variables are kept, so validation reports them: a typo
    such as `PREFLIGHT_BUGDET` must not be ignored silently.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        """Read from `environ` instead of `os.environ`."""
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, False, self.env_ignore_empty, self.env_parse_none_str)  # noqa: FBT003

    def __call__(self) -> dict[str, Any]:
        """The known keys as pydantic-settings reads them, plus unknown names to be rejected."""
        data = super().__call__()
        fields = {name.lower() for name in Config.model_fields}
        for name in self._environ:
            upper = name.upper()
            if not upper.startswith(ENV_PREFIX) or upper in NON_CONFIG_VARIABLES:
                continue
            key = upper[len(ENV_PREFIX) :].split(NESTED_DELIMITER, 1)[0].lower()
            if key not in fields:
                data[key] = self._environ[name]
        return data


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """A parsed config file: where it is, how to name its keys, and its `[tool.preflight]` data."""

    path: Path
    table: tuple[str, ...]
    """The TOML table holding the keys: `("tool", "preflight")` in pyproject.toml, else `()`."""
    data: dict[str, Any]

    def where(self, loc: Sequence[str | int]) -> str:
        """Name a key as the user wrote it: `pyproject.toml: [tool.preflight.database] url`."""
        keys = [part for part in loc if isinstance(part, str)]
        if not keys:
            return str(self.path)
        if isinstance(loc[1] if len(loc) > 1 else None, int):  # an entry of an array of tables
            table = ".".join((*self.table, keys[0]))
            entry = f"[[{table}]] #{int(loc[1]) + 1}"
            return f"{self.path}: {entry} {'.'.join(keys[1:])}".rstrip()
        table = ".".join((*self.table, *keys[:-1]))
        return f"{self.path}: [{table}] {keys[-1]}" if table else f"{self.path}: {keys[-1]}"


def read_config_file(path: Path) -> ConfigFile:
    """Parse `path`; `pyproject.toml` must hold a `[tool.preflight]` table, other files are flat."""
    document = read_config_document(path)
    if path.name == "pyproject.toml":
        table: tuple[str, ...] = ("tool", "preflight")
        tool = document.get("tool", {})
        data = tool.get("preflight") if isinstance(tool, dict) else None
        if data is None:
            raise ConfigError(f"{path}: no [tool.preflight] table")
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: tool.preflight must be a table")
    else:
        table, data = (), document
    return ConfigFile(path, table, _resolve_paths(data, path.parent))


def read_config_document(path: Path) -> dict[str, Any]:
    """Parse a TOML file; every way it can fail is one `ConfigError` line naming the file."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config file: {error.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make the file's relative paths relative to the file, as ruff and mypy do."""
    for key_path in _FILE_PATH_KEYS:
        holder: Any = data
        for key in key_path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or key_path[-1] not in holder:
            continue
        value = holder[key_path[-1]]
        if isinstance(value, str):
            holder[key_path[-1]] = str(base / value)
        elif isinstance(value, list):
            holder[key_path[-1]] = [
                base / item if isinstance(item, str) else item for item in value
            ]
    return data


def find_config_file(cwd: Path) -> Path | None:
    """The default config file: `pyproject.toml` with `[tool.preflight]`, else `preflight.toml`."""
    pyproject, dedicated = cwd / "pyproject.toml", cwd / "preflight.toml"
    has_table = pyproject.is_file() and _has_preflight_table(pyproject)
    if has_table and dedicated.is_file():
        raise ConfigError(
            f"{cwd}: both pyproject.toml [tool.preflight] and preflight.toml configure preflight;"
            " keep one, or choose with --config",
        )
    if has_table:
        return pyproject
    return dedicated if dedicated.is_file() else None


def _has_preflight_table(pyproject: Path) -> bool:
    tool = read_config_document(pyproject).get("tool", {})
    return isinstance(tool, dict) and "preflight" in tool


class ConfigFileSource(InitSettingsSource):
    """The config file's keys, as one pydantic-settings source."""

    def __init__(self, settings_cls: type[BaseSettings], file: ConfigFile | None) -> None:
        """Serve the parsed table of `file` (nothing when there is no file)."""
        self.file = file
        super().__init__(settings_cls, dict(file.data) if file else {})


def config_sources(
    cli: Mapping[str, Any],
    environ: Mapping[str, str],
    file: ConfigFile | None,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """The precedence, highest first: command line > environment > config file > defaults."""
    return (
        InitSettingsSource(Config, dict(cli)),
        EnvironSource(Config, environ),
        ConfigFileSource(Config, file),
    )


# --- loading ------------------------------------------------------------------------------


def load_config(cli: Mapping[str, Any], environ: Mapping[str, str], cwd: Path) -> Config:
    """Build the configuration; raise `ConfigError` (one line) on any invalid input.

    `cli` holds only the options given on the command line, by field name.
    """
    config_path = _config_path(cli, environ, cwd)
    file = read_config_file(config_path) if config_path is not None else None
    if file is not None and "config" in file.data:
        raise ConfigError(
            f"{file.where(['config'])}: set the config file with --config or PREFLIGHT_CONFIG"
        )
    sources = config_sources(cli, environ, file)
    describers = (_describe_cli, _describe_env(environ), _describe_file(file))
    for source, describe in zip(sources, describers, strict=True):
        try:
            data = source()
        except ValueError as error:  # pydantic-settings' SettingsError on undecodable JSON
            field = re.search(r'field "(\w+)"', str(error))
            where = describe((field[1],) if field else ())
            raise ConfigError(f"{where}: not valid JSON") from None
        _validate_alone(data, describe)
    try:
        config = Config(_build_sources=(sources, {}))
    except (ValidationError, ValueError) as error:
        raise ConfigError(_first_line(str(error))) from None
    roots = tuple(root if root.is_absolute() else cwd / root for root in config.roots)
    return config.model_copy(
        update={"config": file.path if file else None, "roots": roots or (cwd,)},
    )


def _config_path(cli: Mapping[str, Any], environ: Mapping[str, str], cwd: Path) -> Path | None:
    given = cli.get("config") or environ.get(f"{ENV_PREFIX}CONFIG")
    if not given:
        return find_config_file(cwd)
    path = Path(given) if Path(given).is_absolute() else (cwd / given).absolute()
    if not path.is_file():
        where = "--config" if cli.get("config") else f"{ENV_PREFIX}CONFIG"
        raise ConfigError(f"{where}: config file {str(given)!r} does not exist")
    return path


def _validate_alone(data: dict[str, Any], describe: Describe) -> None:
    """Validate one source's values on their own, to name the source of a bad value."""
    try:
        ConfigModel.model_validate(data)
    except ValidationError as error:
        errors = error.errors(include_input=False, include_url=False)
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{describe(first['loc'])}: {_problem(first)}{more}") from None


def _problem(error: ErrorDetails) -> str:
    """One line for a pydantic error, never echoing the input value (it may be a secret)."""
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        return f"unknown key{_did_you_mean(str(loc[-1]), _keys_at(loc[:-1]))}"
    if kind == "value_error":
        message = str(error["msg"])
        return message.removeprefix("Value error, ")
    if kind == "literal_error":
        return str(error["msg"]).replace("Input should be", "expected")
    if kind == "missing":
        return "required key is missing"
    return str(error["msg"]).replace("Input should be", "expected").lower()


def _keys_at(loc: Sequence[str | int]) -> list[str]:
    """The valid key names at `loc` in the model tree (for did-you-mean hints)."""
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        annotation = getattr(info, "annotation", None)
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return []
        model = nested[0]
    return [info.alias or name for name, info in model.model_fields.items()]


def _first_line(text: str) -> str:
    return " ".join(text.split())


def _describe_cli(loc: Sequence[str | int]) -> str:
    if not loc:
        return "command line"
    return "--" + str(loc[0]).replace("_", "-")


def _describe_env(environ: Mapping[str, str]) -> Describe:
    def describe(loc: Sequence[str | int]) -> str:
        if not loc:
            return "environment"
        names = [str(part).upper() for part in loc if isinstance(part, str)]
        name = ENV_PREFIX + NESTED_DELIMITER.join(names)
        for candidate in (name, ENV_PREFIX + names[0]):
            if candidate in environ:
                return candidate
        return name

    return describe


def _describe_file(file: ConfigFile | None) -> Describe:
    def describe(loc: Sequence[str | int]) -> str:
        if file is None:
            return "config file"
        return file.where(loc) if loc else str(file.path)

    return describe
