"""`load_config`: each source alone, their precedence, file discovery, and one-line errors."""

from __future__ import annotations

import json
import os

import pytest
from pydantic import ValidationError

from preflight.codes import CHECK_NAMES
from preflight.config import ConfigError, load_config

FULL_PYPROJECT = """\
[project]
name = "service"

[tool.preflight]
app = "service.main:app"
roots = ["src"]
budget = "20s"
strict = true
log_format = "json"
format = "json"
report = "out/report.json"
only = ["imports", "database"]
skip = ["database"]

[tool.preflight.imports]
lazy = "error"
ignore = ["service.optional_plugin"]

[tool.preflight.settings]
class = "service.config:Settings"

[tool.preflight.middleware]
order = ["CORSMiddleware", "TrustedHostMiddleware", "SessionMiddleware", "AuthMiddleware"]
required = ["CORSMiddleware", "AuthMiddleware"]

[tool.preflight.database]
url_env = "APP_DATABASE_URL"
connect_timeout = "2s"

[[tool.preflight.services]]
name = "auth"
url = "http://auth:8081/health"

[[tool.preflight.services]]
name = "cache"
url = "tcp://redis:6379"

[tool.preflight.distributions]
requirements = ["requirements.txt"]
"""


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- one test per source ------------------------------------------------------------------


def test_defaults_only(tmp_path):
    config = load_config({}, {}, tmp_path)
    got = {
        "budget": config.budget,
        "log_format": config.log_format,
        "strict": config.strict,
        "roots": config.roots,
        "url_env": config.database.url_env,
        "connect_timeout": config.database.connect_timeout,
        "lazy": config.imports.lazy,
        "config": config.config,
        "services": config.services,
    }
    assert got == {
        "budget": 15_000,
        "log_format": "auto",
        "strict": False,
        "roots": (tmp_path,),
        "url_env": "DATABASE_URL",
        "connect_timeout": 5_000,
        "lazy": "warn",
        "config": None,
        "services": (),
    }


def test_command_line_only(tmp_path):
    cli = {
        "app": "service.main:create_app()",
        "roots": ["src", str(tmp_path / "abs")],
        "budget": "2m",
        "only": "imports,app",
        "skip": "app",
        "format": "json",
        "log_format": "console",
        "strict": True,
    }
    config = load_config(cli, {}, tmp_path)
    assert config.app == "service.main:create_app()"
    assert config.roots == (tmp_path / "src", tmp_path / "abs")
    assert config.budget == 120_000
    assert config.only == ("imports", "app")
    assert config.skip == ("app",)
    assert config.format == "json"
    assert config.log_format == "console"
    assert config.strict is True
    assert config.config is None


def test_environment_only(tmp_path):
    services = [{"name": "auth", "url": "https://auth/health"}, {"name": "db", "url": "tcp://db:1"}]
    environ = {
        "PREFLIGHT_APP": "service.main:app",
        "PREFLIGHT_BUDGET": "1.5",
        "PREFLIGHT_LOG_FORMAT": "json",
        "PREFLIGHT_DATABASE__URL_ENV": "PG_DSN",
        "PREFLIGHT_DATABASE__CONNECT_TIMEOUT": "750ms",
        "PREFLIGHT_IMPORTS__LAZY": "ignore",
        "PREFLIGHT_IMPORTS__IGNORE": "a,b",
        "PREFLIGHT_ONLY": "imports,app",
        "PREFLIGHT_SKIP": "app",
        "PREFLIGHT_ROOTS": f"src{os.pathsep}lib,vendor",
        "PREFLIGHT_STRICT": "1",
        "PREFLIGHT_SERVICES": json.dumps(services),
        "DATABASE_URL": "postgresql://u:p@h/db",  # not a PREFLIGHT_ variable: ignored
    }
    config = load_config({}, environ, tmp_path)
    assert config.app == "service.main:app"
    assert config.budget == 1_500
    assert config.log_format == "json"
    assert config.database.url_env == "PG_DSN"
    assert config.database.connect_timeout == 750
    assert config.imports.lazy == "ignore"
    assert config.imports.ignore == ("a", "b")
    assert config.only == ("imports", "app")
    assert config.skip == ("app",)
    assert config.roots == (tmp_path / "src", tmp_path / "lib", tmp_path / "vendor")
    assert config.strict is True
    assert [(s.name, s.url) for s in config.services] == [
        ("auth", "https://auth/health"),
        ("db", "tcp://db:1"),
    ]


def test_pyproject_only(tmp_path):
    pyproject = write(tmp_path / "pyproject.toml", FULL_PYPROJECT)
    config = load_config({}, {}, tmp_path)
    assert config.config == pyproject
    assert config.app == "service.main:app"
    assert config.roots == (tmp_path / "src",)
    assert config.budget == 20_000
    assert config.strict is True
    assert config.log_format == "json"
    assert config.format == "json"
    assert config.report == tmp_path / "out" / "report.json"
    assert config.only == ("imports", "database")
    assert config.skip == ("database",)
    assert config.imports.lazy == "error"
    assert config.imports.ignore == ("service.optional_plugin",)
    assert config.settings.class_ == "service.config:Settings"
    assert config.middleware.order == (
        "CORSMiddleware",
        "TrustedHostMiddleware",
        "SessionMiddleware",
        "AuthMiddleware",
    )
    assert config.middleware.required == ("CORSMiddleware", "AuthMiddleware")
    assert config.database.url_env == "APP_DATABASE_URL"
    assert config.database.url is None
    assert config.database.connect_timeout == 2_000
    assert [(s.name, s.url) for s in config.services] == [
        ("auth", "http://auth:8081/health"),
        ("cache", "tcp://redis:6379"),
    ]
    assert config.distributions.requirements == (tmp_path / "requirements.txt",)


def test_preflight_toml_only(tmp_path):
    dedicated = write(
        tmp_path / "preflight.toml",
        'app = "service.main"\nbudget = 3\nroots = ["src"]\n\n'
        '[database]\nurl = "postgresql://app@db/app"\n\n'
        '[[services]]\nname = "auth"\nurl = "tcp://auth:81"\n',
    )
    config = load_config({}, {}, tmp_path)
    assert config.config == dedicated
    assert config.app == "service.main"
    assert config.budget == 3_000
    assert config.roots == (tmp_path / "src",)
    assert config.database.url == "postgresql://app@db/app"
    assert [s.name for s in config.services] == ["auth"]


# --- precedence ---------------------------------------------------------------------------


def test_command_line_beats_environment_and_file(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.preflight]\nbudget = "4s"\n')
    config = load_config({"budget": "2s"}, {"PREFLIGHT_BUDGET": "3s"}, tmp_path)
    assert config.budget == 2_000


def test_environment_beats_file(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.preflight]\nbudget = "4s"\n')
    config = load_config({}, {"PREFLIGHT_BUDGET": "3s"}, tmp_path)
    assert config.budget == 3_000


def test_file_beats_default(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.preflight]\nbudget = "4s"\n')
    config = load_config({}, {}, tmp_path)
    assert config.budget == 4_000


def test_nested_environment_key_beats_file_and_keeps_file_siblings(tmp_path):
    write(
        tmp_path / "pyproject.toml",
        '[tool.preflight.database]\nurl_env = "FROM_FILE"\nconnect_timeout = "2s"\n',
    )
    config = load_config({}, {"PREFLIGHT_DATABASE__URL_ENV": "FROM_ENV"}, tmp_path)
    assert config.database.url_env == "FROM_ENV"
    assert config.database.connect_timeout == 2_000


# --- paths --------------------------------------------------------------------------------


def test_file_paths_are_relative_to_the_file(tmp_path):
    write(
        tmp_path / "deploy" / "preflight.toml",
        'roots = ["src"]\nreport = "report.json"\n[distributions]\nrequirements = ["req.txt"]\n',
    )
    config = load_config({"config": "deploy/preflight.toml"}, {}, tmp_path)
    assert config.roots == (tmp_path / "deploy" / "src",)
    assert config.report == tmp_path / "deploy" / "report.json"
    assert config.distributions.requirements == (tmp_path / "deploy" / "req.txt",)


@pytest.mark.parametrize(
    ("cli", "environ"),
    [
        pytest.param({"roots": ["src", "lib"]}, {}, id="command-line"),
        pytest.param({}, {"PREFLIGHT_ROOTS": "src,lib"}, id="environment"),
    ],
)
def test_command_line_and_environment_roots_are_relative_to_cwd(tmp_path, cli, environ):
    config = load_config(cli, environ, tmp_path)
    assert config.roots == (tmp_path / "src", tmp_path / "lib")
    assert all(root.is_absolute() for root in config.roots)


# --- discovery ----------------------------------------------------------------------------


def test_pyproject_without_table_is_no_config_file(tmp_path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "service"\n')
    config = load_config({}, {}, tmp_path)
    assert config.config is None
    assert config.database.url_env == "DATABASE_URL"


def test_pyproject_table_and_preflight_toml_conflict(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.preflight]\nbudget = "4s"\n')
    write(tmp_path / "preflight.toml", 'budget = "5s"\n')
    with pytest.raises(ConfigError) as caught:
        load_config({}, {}, tmp_path)
    message = str(caught.value)
    assert "pyproject.toml" in message
    assert "preflight.toml" in message
    assert "\n" not in message


def test_config_key_inside_the_file_is_an_error(tmp_path):
    write(tmp_path / "preflight.toml", 'config = "other.toml"\n')
    with pytest.raises(ConfigError, match=r"preflight\.toml: config: .*--config"):
        load_config({}, {}, tmp_path)


def test_missing_config_option_file(tmp_path):
    with pytest.raises(ConfigError, match=r"^--config: .*missing\.toml.*does not exist"):
        load_config({"config": "missing.toml"}, {}, tmp_path)


def test_preflight_config_variable_picks_the_file(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.preflight]\nbudget = "4s"\n')
    chosen = write(tmp_path / "ci" / "preflight.toml", 'budget = "9s"\n')
    config = load_config({}, {"PREFLIGHT_CONFIG": str(chosen)}, tmp_path)
    assert config.config == chosen
    assert config.budget == 9_000


def test_config_option_pyproject_without_table_is_an_error(tmp_path):
    write(tmp_path / "tools" / "pyproject.toml", '[project]\nname = "service"\n')
    with pytest.raises(ConfigError, match=r"pyproject\.toml: no \[tool\.preflight\] table"):
        load_config({"config": "tools/pyproject.toml"}, {}, tmp_path)


# --- errors -------------------------------------------------------------------------------

PY = "pyproject.toml"
DEDICATED = "preflight.toml"

ERROR_CASES = [
    pytest.param(
        {}, {}, {PY: "[tool.preflight]\nbudget = = 1\n"}, (PY, "invalid TOML"), id="bad-toml"
    ),
    pytest.param(
        {}, {}, {PY: b'[tool.preflight]\napp = "\xff\xfe"\n'}, (PY, "not UTF-8"), id="not-utf8"
    ),
    pytest.param(
        {},
        {},
        {PY: '[tool.preflight]\nbugdet = "1s"\n'},
        ("pyproject.toml: [tool.preflight] bugdet", "unknown key (did you mean 'budget'?)"),
        id="file-unknown-key",
    ),
    pytest.param(
        {},
        {},
        {PY: '[tool.preflight.database]\nurl_envv = "X"\n'},
        (
            "pyproject.toml: [tool.preflight.database] url_envv",
            "unknown key (did you mean 'url_env'?)",
        ),
        id="file-unknown-nested-key",
    ),
    pytest.param(
        {},
        {"PREFLIGHT_BUGDET": "1s"},
        {},
        ("PREFLIGHT_BUGDET", "unknown key (did you mean 'budget'?)"),
        id="env-unknown-variable",
    ),
    pytest.param(
        {},
        {"PREFLIGHT_DATABASE__X": "1"},
        {},
        ("PREFLIGHT_DATABASE__X", "unknown key"),
        id="env-unknown-nested-variable",
    ),
    pytest.param(
        {"only": "imports,bogus"}, {}, {}, ("--only", "unknown check 'bogus'"), id="cli-only-check"
    ),
    pytest.param(
        {},
        {"PREFLIGHT_SKIP": "databse"},
        {},
        ("PREFLIGHT_SKIP", "unknown check 'databse' (did you mean 'database'?)"),
        id="env-skip-check",
    ),
    pytest.param(
        {},
        {},
        {DEDICATED: 'only = ["imprts"]\n'},
        ("preflight.toml: only", "unknown check 'imprts' (did you mean 'imports'?)"),
        id="file-only-check",
    ),
    pytest.param({"budget": "abc"}, {}, {}, ("--budget", "is not a duration"), id="cli-duration"),
    pytest.param(
        {},
        {"PREFLIGHT_BUDGET": "1h"},
        {},
        ("PREFLIGHT_BUDGET", "is not a duration"),
        id="env-duration",
    ),
    pytest.param(
        {},
        {"PREFLIGHT_DATABASE__CONNECT_TIMEOUT": "5x"},
        {},
        ("PREFLIGHT_DATABASE__CONNECT_TIMEOUT", "is not a duration"),
        id="env-nested-duration",
    ),
    pytest.param(
        {},
        {},
        {PY: '[tool.preflight.database]\nconnect_timeout = "5x"\n'},
        ("pyproject.toml: [tool.preflight.database] connect_timeout", "is not a duration"),
        id="file-nested-duration",
    ),
    pytest.param(
        {},
        {},
        {PY: '[tool.preflight]\nstrict = "maybe"\n'},
        ("pyproject.toml: [tool.preflight] strict", "valid boolean"),
        id="file-strict-not-bool",
    ),
    pytest.param(
        {},
        {},
        {PY: "[tool.preflight]\nroots = 3\n"},
        ("pyproject.toml: [tool.preflight] roots", "expected a valid"),
        id="file-roots-not-list",
    ),
    pytest.param(
        {},
        {},
        {PY: "[tool.preflight]\nbudget = true\n"},
        ("pyproject.toml: [tool.preflight] budget", "is not a duration"),
        id="file-budget-bool",
    ),
    pytest.param(
        {"app": "service.main:app:extra"},
        {},
        {},
        ("--app", "is not of the form package.module[:attr]"),
        id="cli-bad-app",
    ),
    pytest.param(
        {},
        {},
        {PY: '[tool.preflight.settings]\nclass = "service.config.Settings"\n'},
        (
            "pyproject.toml: [tool.preflight.settings] class",
            "is not of the form package.module:ClassName",
        ),
        id="file-settings-class-no-colon",
    ),
    pytest.param(
        {},
        {},
        {PY: '[[tool.preflight.services]]\nname = "files"\nurl = "ftp://files/x"\n'},
        (
            "pyproject.toml: [[tool.preflight.services]] #1 url",
            "expected a URL starting with http://, https://, tcp://, redis:// or rediss://",
        ),
        id="file-service-ftp",
    ),
    pytest.param(
        {},
        {},
        {PY: '[[tool.preflight.services]]\nname = "auth"\n'},
        ("pyproject.toml: [[tool.preflight.services]] #1 url", "required key is missing"),
        id="file-service-missing-url",
    ),
    pytest.param(
        {},
        {},
        {
            PY: '[[tool.preflight.services]]\nname = "a"\nurl = "tcp://a:1"\n'
            '[[tool.preflight.services]]\nname = "b"\n'
        },
        ("pyproject.toml: [[tool.preflight.services]] #2 url", "required key is missing"),
        id="file-second-service-missing-url",
    ),
    pytest.param(
        {},
        {"PREFLIGHT_SERVICES": '[{"name": "auth",'},
        {},
        ("PREFLIGHT_SERVICES", "not valid JSON"),
        id="env-services-bad-json",
    ),
    pytest.param(
        {},
        {},
        {PY: '[tool.preflight.imports]\nlazy = "sometimes"\n'},
        ("pyproject.toml: [tool.preflight.imports] lazy", "expected 'warn', 'error' or 'ignore'"),
        id="file-lazy-literal",
    ),
]


@pytest.mark.parametrize(("cli", "environ", "files", "expected"), ERROR_CASES)
def test_config_error_names_source_and_problem(tmp_path, cli, environ, files, expected):
    source, problem = expected
    for name, content in files.items():
        write(tmp_path / name, content)
    with pytest.raises(ConfigError) as caught:
        load_config(cli, environ, tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert source in message
    assert problem in message


# --- secrets ------------------------------------------------------------------------------

DSN = "postgresql://u:hunter2@h/db"


@pytest.mark.parametrize(
    ("cli", "environ", "files"),
    [
        pytest.param(
            {}, {"PREFLIGHT_DATABASE__CONNECT_TIMEOUT": DSN}, {}, id="env-dsn-as-duration"
        ),
        pytest.param({"budget": DSN}, {}, {}, id="cli-dsn-as-duration"),
        pytest.param(
            {},
            {},
            {PY: f'[tool.preflight.database]\nurl = 5\nurl_env = "{DSN}"\n'},
            id="file-wrong-type-beside-secret",
        ),
        pytest.param(
            {},
            {"PREFLIGHT_DATABASE": json.dumps({"url": 5, "url_env": DSN})},
            {},
            id="env-json-wrong-type-beside-secret",
        ),
    ],
)
def test_config_error_does_not_echo_a_password(tmp_path, cli, environ, files):
    for name, content in files.items():
        write(tmp_path / name, content)
    with pytest.raises(ConfigError) as caught:
        load_config(cli, environ, tmp_path)
    assert "hunter2" not in str(caught.value)


# --- selected checks and immutability -----------------------------------------------------


def test_default_selection_excludes_opt_in_lifespan(tmp_path):
    selected = load_config({}, {}, tmp_path).selected_checks()
    assert selected == tuple(name for name in CHECK_NAMES if name != "lifespan")
    assert "lifespan" not in selected


def test_only_selects_opt_in_lifespan(tmp_path):
    assert load_config({"only": "lifespan"}, {}, tmp_path).selected_checks() == ("lifespan",)


def test_skip_removes_checks(tmp_path):
    selected = load_config({"skip": "database,services"}, {}, tmp_path).selected_checks()
    assert selected == ("imports", "app", "settings", "middleware", "bind", "distributions")


def test_selection_follows_boot_order_not_given_order(tmp_path):
    config = load_config({"only": "services,lifespan,imports,app"}, {}, tmp_path)
    assert config.selected_checks() == ("imports", "app", "lifespan", "services")


def test_only_and_skip_combine(tmp_path):
    config = load_config({"only": "imports,app,database", "skip": "app"}, {}, tmp_path)
    assert config.selected_checks() == ("imports", "database")


def test_config_is_frozen(tmp_path):
    config = load_config({}, {}, tmp_path)
    with pytest.raises(ValidationError):
        config.budget = 1
    with pytest.raises(ValidationError):
        config.database.url_env = "OTHER"
