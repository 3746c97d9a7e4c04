"""The secrets sweep: planted secrets must not appear in any output of any command.

One small project under tmp_path: a FastAPI app under `src` whose pydantic-settings class has
a valid SecretStr, an invalid SecretStr and an invalid plain field (its validator quotes the
input); a variant whose import raises quoting an unrelated variable; a DSN, an HTTP service
and a Redis service with passwords, all failing. Each secret is random per run and holds the
characters a URL must percent-encode. Then a table of rows, each a real command (or the probe
endpoint under a real uvicorn) whose every output (stdout, stderr, report, termination
message, HTTP body, server log) is searched for every planted secret in every form a leak can
take: as planted, percent-encoded, its random core alone, and as HTTP Basic credentials.

Each row also names what its outputs must mention (the failing field, the masked URL, the
finding codes), so a row that never reaches the failing things cannot pass vacuously.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import socket
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

import httpx
import pytest
from conftest import child_env, run_preflight
from test_asgi_probe import Server
from test_probe import closed_port

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from conftest import FigureRecorder

pytestmark = [pytest.mark.reliability]

BUDGET = "3s"
PROBE_BUDGET = "1s"
DB_USER = "sweep"
SERVICE_USER = "svcuser"


def _core() -> str:
    """A random core: found in an output only if the secret (or part of it) leaked."""
    return secrets.token_hex(8)


@dataclass(frozen=True)
class Secret:
    """One planted secret: where it is planted, its value, and its random core."""

    where: str
    value: str
    core: str
    basic_user: str | None = None
    """For an HTTP URL password: the user, so the Basic credentials are searched too."""

    def forms(self) -> dict[str, str]:
        """Every form in which this secret would be a leak."""
        found = {
            "as planted": self.value,
            "percent-encoded": quote(self.value, safe=""),
            "form-encoded": quote_plus(self.value),
            "random core": self.core,
        }
        if self.basic_user is not None:
            pair = f"{self.basic_user}:{self.value}".encode()
            found["HTTP Basic credentials"] = base64.b64encode(pair).decode()
        return found


def plant() -> dict[str, Secret]:
    """This run's secrets. URL passwords start with their core, then hold '/', '#', '?', '@',
    '+' that must be percent-encoded: a URL parser that stops there quotes the core."""
    cores = {name: _core() for name in ("db", "svc", "redis", "api", "sign", "cb", "stripe", "ses")}
    return {
        "db": Secret("the DSN password", f"{cores['db']}/Pg+Zq==", cores["db"]),
        "svc": Secret(
            "the HTTP service password", f"{cores['svc']}#Sv@1", cores["svc"], SERVICE_USER
        ),
        "redis": Secret("the Redis password", f"{cores['redis']}?Rd/x", cores["redis"]),
        "api": Secret("SWEEP_API_TOKEN (SecretStr, valid)", f"tok_{cores['api']}", cores["api"]),
        "sign": Secret(
            "SWEEP_SIGNING_KEY (SecretStr, invalid)", f"sk_{cores['sign']}", cores["sign"]
        ),
        "cb": Secret(
            "SWEEP_CALLBACK_URL (str, invalid; the validator quotes it)",
            f"http://hooks.invalid/cb/{cores['cb']}",
            cores["cb"],
        ),
        "stripe": Secret(
            "STRIPE_KEY (quoted by the app)", f"sk_live_{cores['stripe']}", cores["stripe"]
        ),
        "session": Secret(
            "SWEEP_SESSION_SECRET (a middleware argument)", f"ses_{cores['ses']}", cores["ses"]
        ),
    }


# --- the project ---------------------------------------------------------------------------

CONFIG_PY = """\
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWEEP_")

    api_token: SecretStr
    signing_key: SecretStr = Field(min_length=64)
    callback_url: str

    @field_validator("callback_url")
    @classmethod
    def _https_only(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError(f"callback_url {value!r} must use https")  # quotes its input
        return value
"""

MAIN_PY = """\
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.middleware.sessions import SessionMiddleware

from sweep.config import Settings

print("connecting to", os.environ["DATABASE_URL"], flush=True)


@asynccontextmanager
async def lifespan(app):
    try:
        Settings()
    except ValidationError as error:
        print(error, flush=True)  # pydantic's text quotes every input value
    key, token = os.environ["STRIPE_KEY"], os.environ["SWEEP_API_TOKEN"]
    print("charging with", key, flush=True)
    raise RuntimeError(f"payment provider refused key {key} for token {token}")
    yield


app = FastAPI(lifespan=lifespan)
app.add_middleware(SessionMiddleware, secret_key=os.environ["SWEEP_SESSION_SECRET"])
"""

BROKEN_PY = """\
import os

print("stripe key:", os.environ["STRIPE_KEY"], flush=True)
raise ValueError(f"Stripe rejected the key {os.environ['STRIPE_KEY']!r}")
"""

PROBE_SERVER_PY = """\
import os

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from preflight.asgi import probe_app


async def ping(request):
    return PlainTextResponse("pong")


app = Starlette(
    routes=[
        Route("/ping", ping),
        Mount("/after-pass", probe_app(report=os.environ["PASSED_REPORT"], budget="{budget}")),
        Mount("/after-fail", probe_app(report=os.environ["FAILED_REPORT"], budget="{budget}")),
    ]
)
"""


def redis_is_up() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 6379), 0.5):
        return True
    return False


@dataclass
class Project:
    """The app tree, its config, the planted secrets, and the files rows leave behind."""

    root: Path
    planted: dict[str, Secret]
    db_port: int = field(default_factory=closed_port)
    svc_port: int = field(default_factory=closed_port)

    def path(self, name: str) -> Path:
        return self.root / name

    def dsn(self, *, encoded: bool = True) -> str:
        password = self.planted["db"].value
        password = quote(password, safe="") if encoded else password
        return f"postgresql://{DB_USER}:{password}@127.0.0.1:{self.db_port}/app"

    def redis_url(self, *, encoded: bool = True) -> str:
        password = self.planted["redis"].value
        password = quote(password, safe="") if encoded else password
        return f"redis://:{password}@127.0.0.1:6379/0"

    def service_url(self) -> str:
        password = quote(self.planted["svc"].value, safe="")
        return f"http://{SERVICE_USER}:{password}@127.0.0.1:{self.svc_port}/health"

    def write(self) -> None:
        files = {
            "src/sweep/__init__.py": "",
            "src/sweep/config.py": CONFIG_PY,
            "src/sweep/main.py": MAIN_PY,
            "src/sweep/broken.py": BROKEN_PY,
            "probe_server.py": PROBE_SERVER_PY.replace("{budget}", PROBE_BUDGET),
            "preflight.toml": textwrap.dedent(f"""\
                app = "sweep.main:app"
                roots = ["src"]
                budget = "{BUDGET}"
                [settings]
                class = "sweep.config:Settings"
                [middleware]
                required = ["SessionMiddleware", "AuthMiddleware"]
                [database]
                url = "{self.dsn()}"
                [[services]]
                name = "auth"
                url = "{self.service_url()}"
                [[services]]
                name = "cache"
                url = "{self.redis_url()}"
                """),
        }
        for name, text in files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    def env(self, **extra: str) -> dict[str, str]:
        """The app's environment: every env-planted secret, plus `extra`."""
        return child_env(
            DATABASE_URL=self.dsn(),
            STRIPE_KEY=self.planted["stripe"].value,
            SWEEP_API_TOKEN=self.planted["api"].value,
            SWEEP_SIGNING_KEY=self.planted["sign"].value,
            SWEEP_CALLBACK_URL=self.planted["cb"].value,
            SWEEP_SESSION_SECRET=self.planted["session"].value,
            **extra,
        )


# --- driving -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Driven:
    """What one row produced: exit code (or HTTP status) and every output, by name."""

    code: int
    outputs: dict[str, str]


def preflight(
    project: Project, *args: str, files: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> Driven:
    """A real `python -m preflight ARGS` in the project; `files` it writes are outputs too."""
    done = run_preflight(*args, cwd=project.root, env=project.env(**(env or {})))
    outputs = {"stdout": done.stdout, "stderr": done.stderr}
    for name in files:
        path = project.path(name)
        outputs[name] = path.read_text(encoding="utf-8") if path.exists() else ""
    return Driven(done.returncode, outputs)


def pytest_plugin(project: Project) -> Driven:
    """`pytest --preflight-dynamic` in the project: the findings as failed test items."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--preflight-dynamic", "-p", "no:cacheprovider", "-rA"],
        cwd=project.root,
        env=project.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Driven(done.returncode, {"stdout": done.stdout, "stderr": done.stderr})


def probe_endpoint(project: Project) -> Driven:
    """`preflight run -- uvicorn` serving `probe_app()` twice: after the pass, after the fail."""
    log = project.path("termination-endpoint.log")
    server = Server(
        [sys.executable, "-m", "preflight", "run", "--only", "imports",
         "--report", str(project.path("endpoint-report.json")), "--",
         sys.executable, "-m", "uvicorn", "probe_server:app", "--host", "127.0.0.1",
         "--port", "{port}"],
        cwd=project.root,
        env=project.env(
            PASSED_REPORT=str(project.path("passed-report.json")),
            FAILED_REPORT=str(project.path("failed-report.json")),
            PREFLIGHT_TERMINATION_LOG=str(log),
        ),
    )  # fmt: skip
    try:
        server.wait_ready("/ping")
        outputs: dict[str, str] = {}
        statuses = []
        for mount in ("after-pass", "after-fail"):
            answer = httpx.get(f"{server.url}/{mount}/", timeout=10)
            statuses.append(answer.status_code)
            outputs[f"GET /{mount}/ ({answer.status_code})"] = answer.text
            outputs[f"GET /{mount}/ headers"] = json.dumps(dict(answer.headers))
    finally:
        server.stop()
    outputs["server log (run's events, then uvicorn's)"] = server.output()
    outputs["termination message (none on pass)"] = log.read_text() if log.exists() else ""
    return Driven(max(statuses), outputs)


@dataclass(frozen=True)
class Row:
    """One way to drive preflight, the code it must end with, and what its outputs must say."""

    name: str
    drive: Callable[[Project], Driven]
    code: int
    expect: dict[str, tuple[str, ...]]
    """Output name -> substrings it must hold (`*`: the outputs together; `a|b`: either)."""


def rows(project: Project) -> list[Row]:
    """The table. Rows run in order: the probes read the reports earlier rows wrote."""
    db = f"postgresql://{DB_USER}:***@127.0.0.1:{project.db_port}/app"
    http = f"http://{SERVICE_USER}:***@127.0.0.1:{project.svc_port}/health"
    redis = "redis://:***@127.0.0.1:6379/0"
    redis_code = "PF806" if redis_is_up() else "PF801"
    # The closed ports refuse (PF701, PF801); on a machine that stalls past the per-attempt
    # timeout the same attempt ends as "no answer" (PF702, PF802). Either way the masked URL
    # must be shown, which is what this sweep is about.
    live = ("PF701|PF702", db, "PF801|PF802", http, redis_code, redis)
    settings = ("PF502", "SWEEP_SIGNING_KEY", "SWEEP_CALLBACK_URL")
    everything = (*settings, "PF601", *live)
    run_files = ("failed-report.json", "termination.log")

    def check(*args: str, **env: str) -> Callable[[Project], Driven]:
        return lambda p: preflight(p, "check", *args, env=env)

    return [
        Row(
            "check, console report, console log",
            check("--format", "console", "--log-format", "console"),
            5,
            {"stdout": (*everything, "PREFLIGHT FAILED"), "stderr": (*everything, "[error")},
        ),
        Row(
            "check, JSON report, JSON log",
            check("--format", "json", "--log-format", "json"),
            5,
            {"stdout": everything, "stderr": everything},
        ),
        Row(
            "check, SARIF",
            check("--format", "sarif"),
            5,
            {"stdout": (*everything, '"ruleId"'), "stderr": everything},
        ),
        Row(
            "check --only app (the import raises quoting STRIPE_KEY)",
            check("--only", "app", "--app", "sweep.broken:app", "--format", "json"),
            4,
            {"stdout": ("PF401", "Stripe rejected the key '***'", "stripe key: ***")},
        ),
        Row(
            "check --only settings",
            check("--only", "settings", "--format", "console", "--log-format", "json"),
            5,
            {"stdout": settings, "stderr": settings},
        ),
        Row(
            "check --only lifespan (startup prints and raises secrets)",
            check("--only", "lifespan", "--format", "json", "--log-format", "console"),
            4,
            {
                "stdout": (
                    "PF410",
                    "payment provider refused key *** for token ***",
                    "callback_url",
                    "charging with ***",
                ),
                "stderr": ("PF410", "payment provider refused key"),
            },
        ),
        Row(
            "check with the passwords not percent-encoded in the DSN and Redis URL",
            check(
                "--only",
                "database,services",
                "--format",
                "json",
                PREFLIGHT_DATABASE__URL=project.dsn(encoded=False),
                PREFLIGHT_SERVICES=json.dumps(
                    [{"name": "cache", "url": project.redis_url(encoded=False)}]
                ),
            ),
            7,
            {"stdout": ("PF705", "PF801", "redis://:***@127.0.0.1:6379/0", "percent-encoded")},
        ),
        Row(
            "config error quoting a service URL",
            check(
                PREFLIGHT_SERVICES=json.dumps(
                    [{"name": "x", "url": project.service_url().replace("http:", "ftp:")}]
                )
            ),
            2,
            {"stderr": ("Error: PREFLIGHT_SERVICES",)},
        ),
        Row(
            "run -- CMD, failing: report file, termination message",
            lambda p: preflight(
                p,
                "run",
                "--report",
                str(p.path("failed-report.json")),
                "--",
                "touch",
                str(p.path("server-started")),
                files=run_files,
                env={"PREFLIGHT_TERMINATION_LOG": str(p.path("termination.log"))},
            ),
            5,
            {
                "stdout": (*settings, *live),
                "stderr": (*settings, *live, "preflight.finished: settings failed (exit 5)"),
                "failed-report.json": (*settings, *live),
                "termination.log": ("preflight: settings failed (exit 5)", "PF502", "PF701|PF702"),
            },
        ),
        Row(
            "probe, console, after the failing run",
            lambda p: preflight(
                p,
                "probe",
                "--report",
                str(p.path("failed-report.json")),
                "--format",
                "console",
                "--log-format",
                "console",
            ),
            5,
            {"stdout": ("the last run failed: settings failed (exit 5)",)},
        ),
        Row(
            "probe, JSON, after the failing run",
            lambda p: preflight(p, "probe", "--report", str(p.path("failed-report.json"))),
            5,
            {"stdout": ("the last run failed: settings failed (exit 5)",)},
        ),
        Row(
            "run -- CMD, passing (imports only): the report",
            lambda p: preflight(
                p,
                "run",
                "--only",
                "imports",
                "--report",
                str(p.path("passed-report.json")),
                "--",
                "true",
                files=("passed-report.json",),
            ),
            0,
            {"passed-report.json": ('"status": "pass"',)},
        ),
        Row(
            "probe, console, after the passing run, live checks failing",
            lambda p: preflight(
                p,
                "probe",
                "--report",
                str(p.path("passed-report.json")),
                "--budget",
                PROBE_BUDGET,
                "--format",
                "console",
                "--log-format",
                "console",
            ),
            7,
            {"*": live},
        ),
        Row(
            "probe, JSON, after the passing run, live checks failing",
            lambda p: preflight(
                p, "probe", "--report", str(p.path("passed-report.json")), "--budget", PROBE_BUDGET
            ),
            7,
            {"stdout": live, "stderr": live},
        ),
        Row(
            "graph",
            lambda p: preflight(p, "graph", "--format", "json"),
            0,
            {"stdout": ("sweep.main", "sweep.config")},
        ),
        Row(
            "pytest --preflight-dynamic",
            pytest_plugin,
            1,
            {"stdout": (*settings, "PF601", "FAILED preflight::settings")},
        ),
        Row(
            "probe endpoint under uvicorn (detail on)",
            probe_endpoint,
            503,
            {
                "GET /after-pass/ (503)": live,
                "GET /after-fail/ (503)": ("settings failed (exit 5)", *settings, *live),
            },
        ),
    ]


def leaks(text: str, planted: dict[str, Secret]) -> list[str]:
    """Each planted secret form found in `text`, with a little context."""
    found = []
    for secret in planted.values():
        for form, value in secret.forms().items():
            at = text.find(value)
            if at >= 0:
                context = text[max(0, at - 60) : at + len(value) + 20].replace("\n", "\\n")
                found.append(f"{secret.where} ({form}): ...{context}...")
    return found


@pytest.mark.realtime
def test_no_planted_secret_reaches_any_output(
    tmp_path: Path, record_figure: FigureRecorder
) -> None:
    project = Project(tmp_path, plant())
    project.write()
    # The search itself: it finds every secret where it was planted (config file, environment).
    planted_in = project.path("preflight.toml").read_text() + json.dumps(project.env())
    for key, secret in project.planted.items():
        assert leaks(planted_in, {key: secret}), secret.where
    problems: list[str] = []
    outputs_checked = bytes_searched = 0
    table = rows(project)
    for row in table:
        driven = row.drive(project)
        if driven.code != row.code:
            tail = "\n".join(f"{k}: {v[-1500:]}" for k, v in driven.outputs.items())
            problems.append(f"[{row.name}] ended with {driven.code}, expected {row.code}\n{tail}")
        for name, text in driven.outputs.items():
            outputs_checked += 1
            bytes_searched += len(text.encode())
            problems += [
                f"[{row.name}] LEAK in {name}: {leak}" for leak in leaks(text, project.planted)
            ]
        combined = "\n".join(driven.outputs.values())
        for name, wanted in row.expect.items():
            text = combined if name == "*" else driven.outputs.get(name, "")
            missing = [w for w in wanted if not any(a in text for a in w.split("|"))]
            if missing:
                problems.append(f"[{row.name}] {name} lacks {missing}: {text[-1500:]}")
    assert not project.path("server-started").exists(), "the failing run started its command"
    record_figure("secrets sweep rows", len(table))
    record_figure("secrets sweep outputs searched", outputs_checked)
    record_figure("secrets sweep secrets planted", len(project.planted))
    record_figure("secrets sweep output searched", bytes_searched, "bytes")
    assert not problems, "\n\n".join(problems)
