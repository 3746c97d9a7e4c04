"""Reading a server command's bind without running it: each server's own rules and defaults."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from preflight.serverargs import (
    ServerBind,
    UnreadableSettingError,
    expand_variables,
    identify_server,
    parse_address,
    read_python_setting,
    read_server_bind,
)

ANY = "0.0.0.0"  # noqa: S104 - the address under test, not a bind of this process


def binds(
    command: str | list[str], environ: dict[str, str] | None = None, cwd: Path | None = None
) -> list[tuple[str | None, int | None]]:
    """(host, port) of every bind `command` will make; fails the test if it is not a server."""
    server = read(command, environ, cwd)
    assert server.unknown is None, server.unknown
    return [(bind.host, bind.port) for bind in server.binds]


def read(
    command: str | list[str], environ: dict[str, str] | None = None, cwd: Path | None = None
) -> ServerBind:
    argv = shlex.split(command) if isinstance(command, str) else command
    server = read_server_bind(argv, environ or {}, cwd or Path("/nonexistent"))
    assert server is not None, f"not read as a server: {argv}"
    return server


@pytest.mark.parametrize(
    ("command", "environ", "expected"),
    [
        pytest.param("uvicorn app:app", {}, [("127.0.0.1", 8000)], id="default"),
        pytest.param("uvicorn app:app --host 0.0.0.0 --port 9000", {}, [(ANY, 9000)],
                     id="flags"),
        pytest.param("uvicorn --host=:: --port=9000 app:app", {}, [("::", 9000)], id="equals"),
        pytest.param("uvicorn app:app --host a --host b", {}, [("b", 8000)], id="last-wins"),
        pytest.param("uvicorn app:app", {"UVICORN_HOST": ANY, "UVICORN_PORT": "81"},
                     [(ANY, 81)], id="env"),
        pytest.param("uvicorn app:app --port 82", {"UVICORN_PORT": "81"}, [("127.0.0.1", 82)],
                     id="flag-beats-env"),
        pytest.param("uvicorn app:app --port nope", {}, [("127.0.0.1", None)], id="bad-port"),
        pytest.param("uvicorn app:app -- --host 0.0.0.0", {}, [("127.0.0.1", 8000)],
                     id="after-double-dash"),
    ],
)  # fmt: skip
def test_uvicorn(command: str, environ: dict[str, str], expected: list[tuple[str, int]]) -> None:
    assert binds(command, environ) == expected


def test_uvicorn_sources_name_the_flag_the_variable_or_the_default() -> None:
    (bind,) = read("uvicorn app:app --port 9000", {"UVICORN_HOST": "127.0.0.1"}).binds
    assert (bind.host_source, bind.port_source) == ("UVICORN_HOST", "--port")
    (bind,) = read("uvicorn app:app").binds
    assert bind.host_source == bind.port_source == "uvicorn's default"


@pytest.mark.parametrize(
    ("command", "address"),
    [
        ("uvicorn app:app --uds /run/app.sock --host 0.0.0.0", "unix:/run/app.sock"),
        ("uvicorn app:app --fd 3", "fd://3"),
    ],
)
def test_uvicorn_socket_and_descriptor_binds_are_not_tcp(command: str, address: str) -> None:
    (bind,) = read(command).binds
    assert bind.address == address
    assert not bind.is_tcp
    assert not bind.is_loopback


@pytest.mark.parametrize(
    ("command", "environ", "expected"),
    [
        pytest.param("gunicorn app:app", {}, [("127.0.0.1", 8000)], id="default"),
        pytest.param("gunicorn app:app", {"PORT": "8080"}, [(ANY, 8080)],
                     id="default-with-PORT"),
        pytest.param("gunicorn -b 0.0.0.0:9000 app:app", {"PORT": "8080"}, [(ANY, 9000)],
                     id="flag-beats-PORT"),
        pytest.param("gunicorn app:app -b 127.0.0.1 --bind=unix:/run/g.sock -b[::1]:9 --bind :7",
                     {}, [("127.0.0.1", 8000), (None, None), ("::1", 9), (ANY, 7)],
                     id="repeatable"),
        pytest.param("gunicorn app:app", {"GUNICORN_CMD_ARGS": "--bind=localhost:5000 -w 3"},
                     [("localhost", 5000)], id="GUNICORN_CMD_ARGS"),
        pytest.param("gunicorn app:app -b 0.0.0.0:1", {"GUNICORN_CMD_ARGS": "-b localhost:2"},
                     [(ANY, 1)], id="flag-beats-GUNICORN_CMD_ARGS"),
    ],
)  # fmt: skip
def test_gunicorn(command: str, environ: dict[str, str], expected: list[tuple[str, int]]) -> None:
    assert binds(command, environ) == expected


def test_gunicorn_default_port_is_said_when_the_bind_names_none() -> None:
    (bind,) = read("gunicorn app:app -b 0.0.0.0").binds
    assert bind.port == 8000
    assert "no port given" in bind.port_source


def test_gunicorn_reads_its_default_config_file_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "gunicorn.conf.py").write_text(
        "import os\nworkers = 4\nport = os.environ.get('PORT', '8000')\n"
        "bind = f'127.0.0.1:{port}'\n"
    )
    server = read("gunicorn app:app", {"PORT": "8080"}, tmp_path)
    (bind,) = server.binds
    assert (bind.host, bind.port) == ("127.0.0.1", 8080)
    assert (bind.file, bind.line) == ("gunicorn.conf.py", 4)
    # GUNICORN_CMD_ARGS and the command line outrank the file.
    assert binds("gunicorn app:app", {"GUNICORN_CMD_ARGS": "-b :1"}, tmp_path) == [(ANY, 1)]
    assert binds("gunicorn app:app -b :2", {}, tmp_path) == [(ANY, 2)]


def test_gunicorn_config_from_c_and_from_GUNICORN_CMD_ARGS(tmp_path: Path) -> None:  # noqa: N802
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "g.py").write_text("bind = ['0.0.0.0:9000', 'unix:/run/g.sock']\n")
    expected = [(ANY, 9000), (None, None)]
    assert binds("gunicorn -c conf/g.py app:app", {}, tmp_path) == expected
    assert binds("gunicorn --config=file:conf/g.py app:app", {}, tmp_path) == expected
    assert binds("gunicorn app:app", {"GUNICORN_CMD_ARGS": "-c conf/g.py"}, tmp_path) == expected


def test_gunicorn_config_without_bind_falls_back_to_the_default(tmp_path: Path) -> None:
    (tmp_path / "gunicorn.conf.py").write_text("workers = 2\n")
    assert binds("gunicorn app:app", {"PORT": "8081"}, tmp_path) == [(ANY, 8081)]


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        pytest.param("-c python:settings.gunicorn", "config module", id="module"),
        pytest.param("-c missing.py", "cannot be read", id="missing"),
    ],
)
def test_gunicorn_config_that_cannot_be_read_makes_the_bind_unknown(
    tmp_path: Path, config: str, reason: str
) -> None:
    server = read(f"gunicorn {config} app:app", {}, tmp_path)
    assert server.binds == ()
    assert server.unknown is not None
    assert reason in server.unknown


@pytest.mark.parametrize(
    ("source", "environ", "expected"),
    [
        pytest.param("bind = '0.0.0.0:80'", {}, "0.0.0.0:80", id="literal"),
        pytest.param("bind = ['a:1', 'b:2']", {}, ["a:1", "b:2"], id="list"),
        pytest.param("bind = ('a:1',)", {}, ["a:1"], id="tuple"),
        pytest.param("import os\nbind = os.environ.get('B', ':9')", {}, ":9", id="env-default"),
        pytest.param("import os\nbind = os.environ.get('B', ':9')", {"B": ":7"}, ":7", id="env"),
        pytest.param("from os import environ\nbind = environ['B']", {"B": ":7"}, ":7",
                     id="environ-item"),
        pytest.param("import os\nbind = ':' + os.getenv('PORT', '1')", {"PORT": "5"}, ":5",
                     id="concat"),
        pytest.param("P = 8\nbind = '0.0.0.0:%s' % P", {}, "0.0.0.0:8", id="percent"),
        pytest.param("P = 8\nbind = '0.0.0.0:{}'.format(P)", {}, "0.0.0.0:8", id="format"),
        pytest.param("bind: str = f'0.0.0.0:{int(\"9\")}'", {}, "0.0.0.0:9", id="annotated"),
        pytest.param("bind = 'a:1'\nbind = 'b:2'", {}, "b:2", id="last-assignment"),
        pytest.param("workers = 3", {}, None, id="unset"),
    ],
)  # fmt: skip
def test_python_config_values_are_evaluated_without_running_the_file(
    source: str, environ: dict[str, str], expected: object
) -> None:
    found = read_python_setting(source, "bind", environ)
    assert (found[0] if found else None) == expected


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import sys\nbind = sys.argv[1]", id="other-object"),
        pytest.param("if True:\n    bind = ':1'", id="in-a-block"),
        pytest.param("def f():\n    return ':1'\nbind = f()", id="call"),
        pytest.param("from settings import bind", id="import"),
        pytest.param("bind = [':1']\nbind += [':2']", id="augmented"),
        pytest.param("import os\nbind = os.environ['UNSET']", id="unset-variable"),
        pytest.param("bind = (", id="syntax-error"),
        pytest.param(
            "import pathlib\nbind = pathlib.Path('/x').write_text('ran') and ':1'", id="effect"
        ),
    ],
)
def test_python_config_values_that_need_running_are_refused(source: str) -> None:
    with pytest.raises(UnreadableSettingError):
        read_python_setting(source, "bind", {})


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import os\nbind = f\"0.0.0.0:{os.environ['PORT']}\"", id="f-string"),
        pytest.param("import os\nport = os.environ['PORT']\nbind = ['0.0.0.0:' + port]",
                     id="through-a-name"),
    ],
)  # fmt: skip
def test_a_python_config_reading_an_unset_variable_says_so(source: str) -> None:
    # gunicorn raises KeyError loading such a file: "computed" hid the reason.
    with pytest.raises(UnreadableSettingError, match=r"reads \$PORT, which is not set"):
        read_python_setting(source, "bind", {})
    found = read_python_setting(source, "bind", {"PORT": "8080"})
    assert found is not None
    assert found[0] in ("0.0.0.0:8080", ["0.0.0.0:8080"])


def test_a_nul_byte_is_a_syntax_error_without_a_line() -> None:
    with pytest.raises(UnreadableSettingError, match=r"^syntax error in the file$"):
        read_python_setting("bind = ':1'\x00", "bind", {})


@pytest.mark.parametrize(
    ("command", "shell"),
    [
        pytest.param(["uvicorn", "app:app", "--port", "$PORT"], False, id="exec-form"),
        pytest.param(["sh", "-c", "exec uvicorn app:app --port $PORT"], True, id="sh-c"),
        pytest.param(["sh", "-c", "exec uv run uvicorn app:app"], True, id="sh-c-wrapped"),
    ],
)
def test_whether_a_shell_expands_the_arguments(
    tmp_path: Path, command: list[str], shell: bool
) -> None:
    server = read_server_bind(command, {}, tmp_path)
    assert server is not None
    assert server.shell is shell


def test_a_python_config_file_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "gunicorn.conf.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nbind = '0.0.0.0:9000'\n"
    )
    assert binds("gunicorn app:app", {}, tmp_path) == [(ANY, 9000)]
    assert not marker.exists()


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param("hypercorn app:app", [("127.0.0.1", 8000)], id="default"),
        pytest.param("hypercorn -b 0.0.0.0:80 --insecure-bind [::]:81 app:app",
                     [(ANY, 80), ("::", 81)], id="binds"),
        pytest.param("hypercorn --bind=unix:/run/h.sock app:app", [(None, None)], id="unix"),
    ],
)  # fmt: skip
def test_hypercorn(command: str, expected: list[tuple[str, int]]) -> None:
    assert binds(command) == expected


def test_hypercorn_toml_and_python_config_files(tmp_path: Path) -> None:
    (tmp_path / "h.toml").write_text('bind = ["0.0.0.0:9001"]\nworkers = 2\n')
    (tmp_path / "h.py").write_text("bind = '0.0.0.0:9002'\n")
    assert binds("hypercorn -c h.toml app:app", {}, tmp_path) == [(ANY, 9001)]
    assert binds("hypercorn --config file:h.py app:app", {}, tmp_path) == [(ANY, 9002)]
    assert binds("hypercorn -c h.toml -b :1 app:app", {}, tmp_path) == [(ANY, 1)]


@pytest.mark.parametrize(
    ("command", "server", "expected"),
    [
        ("fastapi run src/main.py", "fastapi run", [(ANY, 8000)]),
        ("fastapi dev", "fastapi dev", [("127.0.0.1", 8000)]),
        ("fastapi run --host 127.0.0.1 --port 8080", "fastapi run", [("127.0.0.1", 8080)]),
    ],
)
def test_fastapi_cli(command: str, server: str, expected: list[tuple[str, int]]) -> None:
    assert read(command).server == server
    assert binds(command) == expected


@pytest.mark.parametrize(
    ("command", "environ", "expected"),
    [
        pytest.param("python -m uvicorn app:app --port 1", {}, [("127.0.0.1", 1)], id="python-m"),
        pytest.param("/usr/local/bin/python3.11 -u -X dev -W error -m uvicorn app:app --port 1",
                     {}, [("127.0.0.1", 1)], id="python-options"),
        pytest.param("python -um gunicorn app:app -b :1", {}, [(ANY, 1)], id="python-um"),
        pytest.param("exec uvicorn app:app --port 1", {}, [("127.0.0.1", 1)], id="exec"),
        pytest.param("uv run --frozen --with httpx uvicorn app:app --port 1", {},
                     [("127.0.0.1", 1)], id="uv-run"),
        pytest.param("uv run -m uvicorn app:app --port 1", {}, [("127.0.0.1", 1)], id="uv-run-m"),
        pytest.param("poetry run uvicorn app:app --port 1", {}, [("127.0.0.1", 1)], id="poetry"),
        pytest.param("ddtrace-run gunicorn app:app", {"PORT": "9"}, [(ANY, 9)],
                     id="ddtrace"),
        pytest.param("opentelemetry-instrument --traces_exporter console uvicorn app:app", {},
                     [("127.0.0.1", 8000)], id="otel"),
        pytest.param("env -u PORT GUNICORN_CMD_ARGS=-b:3 gunicorn app:app", {"PORT": "9"},
                     [(ANY, 3)], id="env"),
        pytest.param("env -u PORT gunicorn app:app", {"PORT": "9"}, [("127.0.0.1", 8000)],
                     id="env-unset"),
        pytest.param(["sh", "-c", "exec gunicorn app:app -b 0.0.0.0:$PORT"], {"PORT": "8080"},
                     [(ANY, 8080)], id="sh-c"),
        pytest.param(["/bin/bash", "-o", "pipefail", "-ec",
                      "alembic upgrade head && exec uvicorn app:app --port ${PORT:-8000}"],
                     {}, [("127.0.0.1", 8000)], id="sh-c-chain-default"),
    ],
)  # fmt: skip
def test_wrappers_are_looked_through(
    command: str | list[str], environ: dict[str, str], expected: list[tuple[str, int]]
) -> None:
    assert binds(command, environ) == expected


@pytest.mark.parametrize(
    "command",
    [
        "node server.js",
        "python manage.py runserver 0.0.0.0:8000",
        "python -c 'import uvicorn'",
        "fastapi deploy",
        "sh start.sh",
        "uv sync",
        "poetry install",
        "newrelic-admin generate-config",
        "sh -c 'echo \"unbalanced'",
    ],
)
def test_other_commands_are_not_servers(command: str) -> None:
    argv = shlex.split(command)
    assert identify_server(argv, {}) is None
    assert read_server_bind(argv, {}, Path("/nonexistent")) is None


def test_empty_command_is_not_a_server() -> None:
    assert read_server_bind([], {}, Path("/nonexistent")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$PORT", "8080"),
        ("${PORT}", "8080"),
        ("${PORT:-1}", "8080"),
        ("${UNSET:-1}", "1"),
        ("${EMPTY:-1}", "1"),
        ("${EMPTY-1}", ""),
        ("$UNSET", "$UNSET"),
        ("0.0.0.0:$PORT/x", "0.0.0.0:8080/x"),
    ],
)
def test_shell_variable_expansion(text: str, expected: str) -> None:
    assert expand_variables(text, {"PORT": "8080", "EMPTY": ""}) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("0.0.0.0:8080", (ANY, 8080)),
        ("[::1]:81", ("::1", 81)),
        ("[::]", ("::", 8000)),
        ("localhost", ("localhost", 8000)),
        (":82", (ANY, 82)),
        ("", (ANY, 8000)),
        ("tcp://127.0.0.1:83", ("127.0.0.1", 83)),
        ("unix:/run/app.sock", (None, None)),
        ("fd://3", (None, None)),
        ("host:99999", ("host", None)),
        ("host:http", ("host", None)),
    ],
)
def test_parse_address(address: str, expected: tuple[str | None, int | None]) -> None:
    assert parse_address(address) == expected


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("::1", True),
        (ANY, False),
        ("::", False),
        ("10.0.0.5", False),
        ("api.internal", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    (bind,) = read(["uvicorn", "app:app", "--host", host]).binds
    assert bind.is_loopback is loopback
