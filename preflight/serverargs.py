"""Where the server command will listen, read from its arguments before it starts.

Cloud Run's most common start-up error is a server that does not listen on `0.0.0.0:$PORT`.
`preflight run -- CMD` holds CMD before exec-ing it, so the bind can be known in advance: this
module reads uvicorn, gunicorn, hypercorn and fastapi-cli command lines as each server does
(its defaults, its own environment variables, gunicorn's and hypercorn's config files read
statically with `ast`/`tomllib`, never executed) and says where each value came from.
Wrappers are looked through: `exec`, `env`, `sh -c`, `python -m`, `uv run`, `poetry run`,
`ddtrace-run`, ... Pure: argv, environment and working directory in, `ServerBind` out; a
command that is not a known server gives None.
"""

from __future__ import annotations

import ast
import ipaddress
import re
import shlex
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

#: The servers read here, by the name their console script or `python -m` module has.
SERVERS = ("uvicorn", "gunicorn", "hypercorn", "fastapi")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})


@dataclass(frozen=True, slots=True)
class Bind:
    """One address the server will listen on, and where its host and port came from."""

    address: str
    """As the server will read it: `127.0.0.1:8000`, `unix:/run/app.sock`, `fd://3`."""
    host: str | None
    """The host of a TCP bind; None for a unix socket or an inherited file descriptor."""
    port: int | None
    """The TCP port; None when not TCP, or when the text is not a port number."""
    host_source: str
    """Where the host came from: `--host`, `UVICORN_HOST`, `uvicorn's default`, ..."""
    port_source: str
    """Where the port came from (often the same as `host_source`)."""
    file: str | None = None
    """The config file that set it, if one did."""
    line: int | None = None
    """The line of that setting in `file`."""

    @property
    def is_tcp(self) -> bool:
        """Whether this is a TCP listener (not a unix socket or an inherited descriptor)."""
        return self.host is not None

    @property
    def is_loopback(self) -> bool:
        """Whether only the container itself can connect (127.0.0.0/8, ::1, localhost)."""
        if self.host is None:
            return False
        name = self.host.strip("[]").lower()
        if name in _LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False


@dataclass(frozen=True, slots=True)
class ServerBind:
    """What the server command will listen on."""

    server: str
    """`uvicorn`, `gunicorn`, `hypercorn`, `fastapi run` or `fastapi dev`."""
    binds: tuple[Bind, ...] = ()
    """Every address it will bind; empty when `unknown` says why it cannot be known."""
    unknown: str | None = None
    """Why the bind cannot be read before the server starts (a config module, a computed
    value), or None."""
    shell: bool = False
    """Whether a shell (`sh -c`) runs the command, so `$VAR` in its arguments is expanded;
    in an exec-form CMD nothing expands it and the server gets the text."""


@dataclass(slots=True)
class _Command:
    """A server found inside a command line: its name, its own arguments, its environment."""

    server: str
    args: list[str]
    environ: dict[str, str] = field(default_factory=dict)
    shell: bool = False


def identify_server(command: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """The server `command` runs (`uvicorn`, `gunicorn`, ...), or None if it is none of them."""
    found = _find_server(list(command), dict(environ))
    if found is None or (found.server == "fastapi" and _fastapi(found.args) is None):
        return None
    return found.server


def read_server_bind(
    command: Sequence[str], environ: Mapping[str, str], cwd: Path
) -> ServerBind | None:
    """Where `command` will listen when started in `cwd` with `environ`; None if not a server.

    `environ` is the environment the server will see; `cwd` is where relative config files
    (gunicorn's default `./gunicorn.conf.py`) are found.
    """
    found = _find_server(list(command), dict(environ))
    if found is None:
        return None
    if found.server == "uvicorn":
        bind: ServerBind | None = _uvicorn(found.args, found.environ)
    elif found.server == "gunicorn":
        bind = _gunicorn(found.args, found.environ, cwd)
    elif found.server == "hypercorn":
        bind = _hypercorn(found.args, cwd)
    else:
        bind = _fastapi(found.args)
    return replace(bind, shell=found.shell) if bind is not None else None


# --- looking through wrappers -------------------------------------------------------------

_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})
_RUNNERS = frozenset({"poetry", "pipenv", "pdm", "hatch", "rye"})
_UV_VALUE_OPTIONS = frozenset(
    {
        "--with", "--with-editable", "--with-requirements", "--python", "-p", "--project",
        "--directory", "--env-file", "--extra", "--group", "--only-group", "--no-group",
        "--package", "--index", "--default-index", "--index-url", "--extra-index-url",
        "--find-links", "-f", "--config-file", "--cache-dir", "--color",
    }
)  # fmt: skip
_MAX_DEPTH = 8
#: A wrapper's inner command and the environment it runs in, or None if it runs none.
Unwrapped = tuple[list[str], dict[str, str]] | None


def _find_server(argv: list[str], environ: dict[str, str], depth: int = 0) -> _Command | None:
    """Peel wrappers off `argv` until a known server (or something else) is at its head."""
    if not argv or depth > _MAX_DEPTH:
        return None
    head, rest = Path(argv[0]).name, argv[1:]
    if _PYTHON.match(head):
        head, rest = _python_module(rest) or ("", [])
    if head in SERVERS:
        return _Command(head, rest, environ)
    if head in _SHELLS:
        return _from_shell(rest, environ, depth)
    unwrap = _WRAPPERS.get(head)
    unwrapped = unwrap(rest, environ) if unwrap is not None else None
    return _find_server(*unwrapped, depth + 1) if unwrapped is not None else None


def _python_module(args: list[str]) -> tuple[str, list[str]] | None:
    """`python [-u -X dev ...] -m MODULE ARGS` -> (MODULE, ARGS); None for a script or `-c`."""
    value_flags = {"W", "X"}
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("-") or arg in {"-", "--"}:
            return None  # a script (or stdin): not a server we can name
        for position, flag in enumerate(arg[1:], start=1):
            tail = arg[position + 1 :]
            if flag == "m":
                if tail:
                    return tail, args[index + 1 :]
                return (args[index + 1], args[index + 2 :]) if index + 1 < len(args) else None
            if flag == "c":
                return None
            if flag in value_flags:
                index += 0 if tail else 1
                break
        index += 1
    return None


def _from_shell(args: list[str], environ: dict[str, str], depth: int) -> _Command | None:
    """`sh -c 'migrate && exec gunicorn ... -b 0.0.0.0:$PORT'`: the server command in it."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            if index + 1 >= len(args):
                return None
            return _from_script(args[index + 1], environ, depth)
        if not arg.startswith(("-", "+")):
            return None  # `sh script.sh`: a script file is not read
        index += 2 if arg in {"-o", "+o"} else 1
    return None


def _from_script(script: str, environ: dict[str, str], depth: int) -> _Command | None:
    """The last simple command of a shell script that runs a known server."""
    lexer = shlex.shlex(expand_variables(script, environ), posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: the shell would fail too
        return None
    commands: list[list[str]] = [[]]
    for arg in tokens:
        if arg and set(arg) <= set(";&|"):
            commands.append([])
        else:
            commands[-1].append(arg)
    for command in reversed(commands):
        found = _find_server(command, dict(environ), depth + 1)
        if found is not None:
            found.shell = True
            return found
    return None


_VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-=])(?P<default>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))"
)


def variable_reference(text: str) -> str | None:
    """The first `$VAR` / `${VAR...}` written in `text` (left unexpanded), or None."""
    match = _VARIABLE.search(text)
    return match[0] if match else None


def expand_variables(text: str, environ: Mapping[str, str]) -> str:
    """Expand `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR-default}` as a POSIX shell would.

    A reference to an unset variable without a default is kept as written, so it never
    reads as a port number.
    """

    def replace(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        value = environ.get(name)
        op = match["op"]
        if op is not None and (value is None or (op.startswith(":") and not value)):
            return match["default"]
        return value if value is not None else match[0]

    return _VARIABLE.sub(replace, text)


def _env(args: list[str], environ: dict[str, str]) -> Unwrapped:
    """`env [-i] [-u NAME] [NAME=VALUE ...] CMD`: the command, in the environment it gets."""
    environ = dict(environ)
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in {"-i", "--ignore-environment", "-"}:
            environ = {}
        elif arg in {"-u", "--unset"} and index + 1 < len(args):
            environ.pop(args[index + 1], None)
            index += 1
        elif arg.startswith("--unset="):
            environ.pop(arg.split("=", 1)[1], None)
        elif arg == "--":
            pass
        elif arg.startswith("-"):
            return None  # an option not read here (-S, -C DIR, ...)
        elif "=" in arg:
            name, value = arg.split("=", 1)
            environ[name] = value
        else:
            return args[index:], environ
        index += 1
    return None


def _uv_run(args: list[str], environ: dict[str, str]) -> Unwrapped:
    """`uv run [OPTIONS] [--module] CMD`."""
    if args[:1] != ["run"]:
        return None
    index, module = 1, False
    while index < len(args) and args[index].startswith("-"):
        arg = args[index]
        if arg == "--":
            index += 1
            break
        module = module or arg in {"-m", "--module"}
        index += 2 if arg in _UV_VALUE_OPTIONS else 1
    command = args[index:]
    return (["python", "-m", *command] if module else command), environ


def _runner(args: list[str], environ: dict[str, str]) -> Unwrapped:
    """`poetry run CMD`, `pipenv run CMD`, `pdm run CMD`, `hatch run CMD`."""
    if args[:1] != ["run"]:
        return None
    command = args[1:]
    while command and command[0].startswith("-"):
        command = command[1:]
    return command, environ


def _opentelemetry(args: list[str], environ: dict[str, str]) -> Unwrapped:
    """`opentelemetry-instrument [--key value ...] CMD`: every option takes a value."""
    index = 0
    while index < len(args) and args[index].startswith("--"):
        index += 1 if "=" in args[index] else 2
    return args[index:], environ


def _passthrough(args: list[str], environ: dict[str, str]) -> Unwrapped:
    """`exec CMD`, `ddtrace-run CMD`."""
    return args, environ


def _newrelic(args: list[str], environ: dict[str, str]) -> Unwrapped:
    """`newrelic-admin run-program CMD`."""
    return (args[1:], environ) if args[:1] == ["run-program"] else None


_WRAPPERS: dict[str, Callable[[list[str], dict[str, str]], Unwrapped]] = {
    "exec": _passthrough,
    "env": _env,
    "uv": _uv_run,
    "ddtrace-run": _passthrough,
    "newrelic-admin": _newrelic,
    "opentelemetry-instrument": _opentelemetry,
    **dict.fromkeys(_RUNNERS, _runner),
}
"""Commands that run another command: each returns that command and its environment."""


# --- option scanning ----------------------------------------------------------------------


def _option_values(args: list[str], names: Sequence[str], *, short: bool = False) -> list[str]:
    """Every value of the options `names` in order: `--opt V`, `--opt=V` and (short) `-oV`."""
    values: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            break
        for name in names:
            if arg == name and index + 1 < len(args):
                values.append(args[index + 1])
                index += 1
                break
            if name.startswith("--") and arg.startswith(name + "="):
                values.append(arg[len(name) + 1 :])
                break
            if short and len(name) == 2 and arg.startswith(name) and len(arg) > 2:  # noqa: PLR2004 - `-b`
                values.append(arg[2:])
                break
        index += 1
    return values


def _last(args: list[str], name: str) -> str | None:
    values = _option_values(args, [name])
    return values[-1] if values else None


def _port(text: str) -> int | None:
    text = text.strip()
    if not text.isdigit() or int(text) > 65535:  # noqa: PLR2004 - the largest TCP port
        return None
    return int(text)


def parse_address(text: str, default_port: int = 8000) -> tuple[str | None, int | None]:
    """Read an address as gunicorn and hypercorn do: (host, port).

    `host:port`, `[::1]:port`, `host` (the default port), `:port` (all interfaces); host is
    None for `unix:PATH` and `fd://N`, port None when it is not a port number.
    """
    text = text.strip()
    if text.startswith(("unix:", "fd://")):
        return None, None
    text = text.removeprefix("tcp://")
    if text.startswith("[") and "]" in text:
        host, _, after = text[1:].partition("]")
        port = after.removeprefix(":")
        return host, _port(port) if port else default_port
    if ":" in text:
        host, _, port = text.rpartition(":")
        return host or "0.0.0.0", _port(port)  # noqa: S104 - gunicorn reads ":8000" so
    return text or "0.0.0.0", default_port  # noqa: S104 - and "" so


def _address_bind(
    address: str,
    source: str,
    default_port: int = 8000,
    file: str | None = None,
    line: int | None = None,
) -> Bind:
    """A bind written as one address (gunicorn, hypercorn): host and port share its source."""
    host, port = parse_address(address, default_port)
    names_port = host is None or ":" in address.rsplit("]", maxsplit=1)[-1]
    port_source = source if names_port else f"{source} (no port given: the default {default_port})"
    return Bind(address, host, port, source, port_source, file, line)


# --- the servers ----------------------------------------------------------------------------


def _uvicorn(args: list[str], environ: Mapping[str, str]) -> ServerBind:
    """Read uvicorn: `--uds`, else `--fd`, else `--host`/`--port` (127.0.0.1:8000 by default).

    Each option may also come from `UVICORN_*` (click's `auto_envvar_prefix="UVICORN"`).
    """
    uds = _last(args, "--uds") or environ.get("UVICORN_UDS")
    if uds:
        return ServerBind("uvicorn", (Bind(f"unix:{uds}", None, None, "--uds", "--uds"),))
    fd = _last(args, "--fd") or environ.get("UVICORN_FD")
    if fd:
        return ServerBind("uvicorn", (Bind(f"fd://{fd}", None, None, "--fd", "--fd"),))
    host, host_source = _valued(
        args,
        "--host",
        environ=environ,
        variable="UVICORN_HOST",
        default="127.0.0.1",
        server="uvicorn",
    )
    port, port_source = _valued(
        args, "--port", environ=environ, variable="UVICORN_PORT", default="8000", server="uvicorn"
    )
    bind = Bind(_join(host, port), host, _port(port), host_source, port_source)
    return ServerBind("uvicorn", (bind,))


def _valued(
    args: list[str],
    option: str,
    *,
    default: str,
    server: str,
    environ: Mapping[str, str] | None = None,
    variable: str | None = None,
) -> tuple[str, str]:
    """An option's value and its source: the command line, the server's variable, its default."""
    given = _last(args, option)
    if given is not None:
        return given, option
    if environ is not None and variable is not None and environ.get(variable):
        return environ[variable], variable
    return default, f"{server}'s default"


def _join(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _fastapi(args: list[str]) -> ServerBind | None:
    """`fastapi run` (0.0.0.0:8000 by default) and `fastapi dev` (127.0.0.1:8000)."""
    subcommand = next((a for a in args if not a.startswith("-")), None)
    if subcommand not in {"run", "dev"}:
        return None
    server = f"fastapi {subcommand}"
    default_host = "0.0.0.0" if subcommand == "run" else "127.0.0.1"  # noqa: S104 - its default
    host, host_source = _valued(args, "--host", default=default_host, server=server)
    port, port_source = _valued(args, "--port", default="8000", server=server)
    bind = Bind(_join(host, port), host, _port(port), host_source, port_source)
    return ServerBind(server, (bind,))


def _gunicorn(args: list[str], environ: Mapping[str, str], cwd: Path) -> ServerBind:
    """Read gunicorn: command line > `GUNICORN_CMD_ARGS` > config file > its default.

    The default is `0.0.0.0:$PORT` when PORT is set, else 127.0.0.1:8000; the config file is
    `-c`'s, else `./gunicorn.conf.py` when it exists.
    """
    try:
        env_args = shlex.split(environ.get("GUNICORN_CMD_ARGS", ""))
    except ValueError:
        return ServerBind(
            "gunicorn", unknown="GUNICORN_CMD_ARGS does not parse (unbalanced quotes)"
        )
    for where, given in (("-b/--bind", args), ("GUNICORN_CMD_ARGS", env_args)):
        addresses = _option_values(given, ["-b", "--bind"], short=True)
        if addresses:
            return ServerBind("gunicorn", tuple(_address_bind(a, where) for a in addresses))
    configs = _option_values(args, ["-c", "--config"], short=True)
    configs = configs or _option_values(env_args, ["-c", "--config"], short=True)
    config = configs[-1] if configs else None
    if config is None and (cwd / "gunicorn.conf.py").is_file():
        config = "gunicorn.conf.py"
    if config is not None:
        if config.startswith("python:"):
            return ServerBind("gunicorn", unknown=f"the config module {config!r} is not read")
        found = _config_binds(
            cwd / config.removeprefix("file:"), config.removeprefix("file:"), environ
        )
        if found is not None:
            return (
                ServerBind("gunicorn", found)
                if isinstance(found, tuple)
                else ServerBind("gunicorn", unknown=found)
            )
    if "PORT" in environ:
        default = f"0.0.0.0:{environ['PORT']}"
        return ServerBind(
            "gunicorn", (_address_bind(default, "gunicorn's default with $PORT set"),)
        )
    return ServerBind("gunicorn", (_address_bind("127.0.0.1:8000", "gunicorn's default"),))


def _hypercorn(args: list[str], cwd: Path) -> ServerBind:
    """Read hypercorn: `-b`/`--bind`, `--insecure-bind` > `-c` config file > 127.0.0.1:8000.

    A config file is TOML, or Python when written `file:NAME.py`.
    """
    addresses = _option_values(args, ["-b", "--bind"], short=True)
    addresses += _option_values(args, ["--insecure-bind"])
    if addresses:
        return ServerBind("hypercorn", tuple(_address_bind(a, "-b/--bind") for a in addresses))
    configs = _option_values(args, ["-c", "--config"], short=True)
    if configs:
        config = configs[-1]
        if config.startswith("python:"):
            return ServerBind("hypercorn", unknown=f"the config module {config!r} is not read")
        name = config.removeprefix("file:")
        found = _config_binds(cwd / name, name, {}, toml=not config.startswith("file:"))
        if isinstance(found, str):
            return ServerBind("hypercorn", unknown=found)
        if found:
            return ServerBind("hypercorn", found)
    return ServerBind("hypercorn", (_address_bind("127.0.0.1:8000", "hypercorn's default"),))


# --- config files, read without running them ------------------------------------------------


def _config_binds(
    path: Path, name: str, environ: Mapping[str, str], *, toml: bool = False
) -> tuple[Bind, ...] | str | None:
    """The binds a config file sets; None if it sets none; a reason string if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return f"the config file {name!r} cannot be read"
    try:
        value, line = (
            _toml_setting(text, "bind") if toml else _python_setting(text, "bind", environ)
        )
    except UnreadableSettingError as error:
        return f"{name}: {error}"
    if value is None:
        return None
    addresses = [value] if isinstance(value, str) else value
    if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
        return f"{name}: bind is neither a string nor a list of strings"
    return tuple(_address_bind(str(a), f"{name}: bind", file=name, line=line) for a in addresses)


class UnreadableSettingError(Exception):
    """A config file sets the value in a way that cannot be read without running it."""


class UnsetVariableError(UnreadableSettingError):
    """The value reads `os.environ[NAME]` and NAME is not set: the file raises KeyError."""

    def __init__(self, variable: str) -> None:
        """`variable`: the environment variable's name."""
        super().__init__(f"${variable} is not set")
        self.variable = variable


def _toml_setting(text: str, name: str) -> tuple[object, None]:
    try:
        return tomllib.loads(text).get(name), None
    except tomllib.TOMLDecodeError:
        raise UnreadableSettingError("not valid TOML") from None


def _python_setting(text: str, name: str, environ: Mapping[str, str]) -> tuple[object, int | None]:
    found = read_python_setting(text, name, environ)
    return found if found is not None else (None, None)


_MISSING = object()


def read_python_setting(
    source: str, name: str, environ: Mapping[str, str]
) -> tuple[object, int] | None:
    """The value a Python config file gives `name` at module level, and its line; None if unset.

    The file is parsed, never run. Literals, names bound earlier, f-strings, `+`, `%`,
    `str()`/`int()`, `"...".format()`, `os.environ[...]`, `os.environ.get(...)` and
    `os.getenv(...)` (read from `environ`) are evaluated; a value set any other way (in a
    block, by an import, by another call) raises `UnreadableSettingError`.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as error:  # a NUL byte is one too, without a line
        where = f"on line {error.lineno}" if error.lineno else "in the file"
        raise UnreadableSettingError(f"syntax error {where}") from None
    _refuse_nested(tree, name)
    scope: dict[str, object] = {}
    found: tuple[object, int] | None = None
    for statement in tree.body:
        assignment = _simple_assignment(statement)
        if assignment is None:
            if _assigns(statement, name):
                raise UnreadableSettingError(f"{name} is set on line {statement.lineno}: not read")
            continue
        targets, value_node = assignment
        try:
            value = _Evaluator(scope, environ).eval(value_node)
        except UnsetVariableError as error:
            value = error
        except UnreadableSettingError:
            value = _MISSING
        scope.update(dict.fromkeys(targets, value))
        if name in targets:
            if isinstance(value, UnsetVariableError):
                raise UnreadableSettingError(
                    f"{name} on line {statement.lineno} reads ${value.variable}, which is not"
                    " set: the server will fail to load this file"
                )
            if value is _MISSING:
                raise UnreadableSettingError(f"{name} on line {statement.lineno} is computed")
            found = (value, statement.lineno)
    return found


def _refuse_nested(tree: ast.Module, name: str) -> None:
    """A setting bound inside a block (`if`, `try`, a function) depends on running the file."""
    top_level = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and id(node) not in top_level and _assigns(node, name):
            raise UnreadableSettingError(f"{name} is set inside a block (line {node.lineno})")


def _simple_assignment(statement: ast.stmt) -> tuple[list[str], ast.expr] | None:
    """The names and value of a plain `a = b = value` or `a: T = value`, else None."""
    if isinstance(statement, ast.Assign) and all(
        isinstance(t, ast.Name) for t in statement.targets
    ):
        return [t.id for t in statement.targets if isinstance(t, ast.Name)], statement.value
    if (
        isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and statement.value is not None
    ):
        return [statement.target.id], statement.value
    return None


def _assigns(statement: ast.stmt, name: str) -> bool:
    """Whether `statement` itself (not a statement nested in it) binds `name`."""
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor):
        targets = [statement.target]
    elif isinstance(statement, ast.With | ast.AsyncWith):
        targets = [item.optional_vars for item in statement.items if item.optional_vars]
    elif isinstance(statement, ast.Import | ast.ImportFrom):
        return any((alias.asname or alias.name) == name for alias in statement.names)
    return any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t))


class _Evaluator:
    """Evaluates the small, side-effect-free part of Python that config files use for binds."""

    def __init__(self, scope: Mapping[str, object], environ: Mapping[str, str]) -> None:
        self.scope = scope
        self.environ = environ

    def eval(self, node: ast.expr) -> object:  # noqa: PLR0911 - one case per node kind
        if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | None):
            return node.value
        if isinstance(node, ast.List | ast.Tuple):
            return [self.eval(item) for item in node.elts]  # a tuple reads as a list
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.JoinedStr):
            return "".join(self._part(value) for value in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            return self._binop(node)
        if isinstance(node, ast.Subscript) and self._is_environ(node.value):
            return self._environ_item(node.slice)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise UnreadableSettingError(type(node).__name__)

    def _name(self, name: str) -> object:
        """A name bound earlier in the file (an unset variable it read raises again)."""
        value = self.scope.get(name, _MISSING)
        if isinstance(value, UnsetVariableError):
            raise value
        if value is _MISSING:
            raise UnreadableSettingError(name)
        return value

    def _environ_item(self, node: ast.expr) -> str:
        """`os.environ[KEY]`: raises KeyError in the file when KEY is not set."""
        key = self.eval(node)
        if not isinstance(key, str):
            raise UnreadableSettingError("a computed key")
        if key not in self.environ:
            raise UnsetVariableError(key)
        return self.environ[key]

    def _part(self, node: ast.expr) -> str:
        if isinstance(node, ast.FormattedValue):
            if node.format_spec is not None:
                raise UnreadableSettingError("a format spec")
            return str(self.eval(node.value))
        return str(self.eval(node))

    def _binop(self, node: ast.BinOp) -> object:
        left, right = self.eval(node.left), self.eval(node.right)
        try:
            if isinstance(node.op, ast.Add):
                return left + right  # type: ignore[operator]
            if isinstance(left, str):
                return left % (tuple(right) if isinstance(right, list) else right)
        except (TypeError, ValueError):
            pass
        raise UnreadableSettingError("an operation")

    def _call(self, node: ast.Call) -> object:
        if node.keywords:
            raise UnreadableSettingError("keyword arguments")
        args = [self.eval(arg) for arg in node.args]
        func = node.func
        if isinstance(func, ast.Name) and func.id in {"str", "int"} and len(args) == 1:
            try:
                return str(args[0]) if func.id == "str" else int(str(args[0]))
            except ValueError:
                raise UnreadableSettingError("int()") from None
        is_get = (
            isinstance(func, ast.Attribute) and func.attr == "get" and self._is_environ(func.value)
        )
        is_getenv = (isinstance(func, ast.Attribute) and func.attr == "getenv") or (
            isinstance(func, ast.Name) and func.id == "getenv"
        )
        if (is_get or is_getenv) and 1 <= len(args) <= 2 and isinstance(args[0], str):  # noqa: PLR2004
            return self.environ.get(args[0], args[1] if len(args) == 2 else None)  # noqa: PLR2004
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "format"
            and isinstance(func.value, ast.Constant)
            and isinstance(func.value.value, str)
        ):
            return func.value.value.format(*args)
        raise UnreadableSettingError("a call")

    @staticmethod
    def _is_environ(node: ast.expr) -> bool:
        """`os.environ` or a bare `environ` (from `from os import environ`)."""
        if isinstance(node, ast.Attribute):
            return node.attr == "environ" and isinstance(node.value, ast.Name)
        return isinstance(node, ast.Name) and node.id == "environ"
