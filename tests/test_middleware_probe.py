"""The middleware probe on real FastAPI, Starlette and Django objects, in-process.

The fixture apps under tests/apps_mw are imported as the child would import them; the probe
must report `user_middleware` outermost first, mounts separately, session readers by their
source, and never a middleware's arguments.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount

from preflight.appload.middleware_probe import (
    describe_middleware,
    entry_for_spec,
    reads_session,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from starlette.types import ASGIApp, Receive, Scope, Send

APPS = Path(__file__).parent / "apps_mw"


@pytest.fixture(autouse=True)
def _fixture_apps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(APPS))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.split(".")[0] in {"mwapps", "djsite", "probe_mw"}:
            del sys.modules[name]


def names(payload: dict[str, Any]) -> list[str]:
    return [entry["name"] for entry in payload["stack"]]


def test_add_middleware_last_call_is_outermost() -> None:
    from mwapps.good import app  # noqa: PLC0415 - the fixture path is set per test

    payload = describe_middleware(app)
    assert payload["framework"] == "starlette"
    assert payload["reason"] is None
    assert names(payload) == [
        "CORSMiddleware",
        "TrustedHostMiddleware",
        "UvicornCompatibleSessionMiddleware",
        "AuthContextMiddleware",
    ]
    session = payload["stack"][2]
    assert "starlette.middleware.sessions.SessionMiddleware" in session["mro"]
    assert session["path"] == "mwapps.common.UvicornCompatibleSessionMiddleware"
    assert session["reads_session"] is False
    auth = payload["stack"][3]
    assert auth["reads_session"] is True
    assert auth["file"] == "mwapps/common.py"
    assert isinstance(auth["line"], int)
    assert "fixture-session-key" not in json.dumps(payload)


def test_middleware_list_keeps_its_order_and_names_dispatch() -> None:
    from mwapps.listed import app  # noqa: PLC0415

    payload = describe_middleware(app)
    assert names(payload) == ["GZipMiddleware", "SessionMiddleware", "BaseHTTPMiddleware"]
    dispatch = payload["stack"][2]
    assert dispatch["dispatch"] == "auth_dispatch"
    assert dispatch["dispatch_path"] == "mwapps.listed.auth_dispatch"
    assert dispatch["reads_session"] is True
    assert dispatch["file"] == "mwapps/listed.py"


def test_decorator_middleware_is_base_http_with_dispatch() -> None:
    app = FastAPI()

    @app.middleware("http")
    async def stamp(request: Any, call_next: Any) -> Any:
        return await call_next(request)

    payload = describe_middleware(app)
    assert names(payload) == ["BaseHTTPMiddleware"]
    assert payload["stack"][0]["dispatch"] == "stamp"
    assert payload["stack"][0]["reads_session"] is False


def test_session_reads_are_found_in_code_not_in_comments() -> None:
    from mwapps.common import (  # noqa: PLC0415
        AuthContextMiddleware,
        TimingMiddleware,
        UvicornCompatibleSessionMiddleware,
    )

    assert reads_session(AuthContextMiddleware) is True
    assert reads_session(TimingMiddleware) is False  # self.session, a comment, a docstring
    assert reads_session(UvicornCompatibleSessionMiddleware) is False
    assert reads_session(SessionMiddleware) is False


def test_reads_session_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = """
        class ViaRequest:
            async def dispatch(self, request, call_next):
                return request.session.get("user")
        class ViaGet:
            async def __call__(self, scope, receive, send):
                return scope.get("session")
        class ViaIn:
            async def __call__(self, scope, receive, send):
                if "session" not in scope:
                    raise RuntimeError
        class ViaRequestScope:
            async def dispatch(self, request, call_next):
                return request.scope["session"]
        class WritesOnly:
            async def __call__(self, scope, receive, send):
                scope["session"] = {}
        class CookieNamedSession:
            async def dispatch(self, request, call_next):
                return request.cookies.get("session")
        class Inherits(ViaRequest):
            pass
    """
    (tmp_path / "probe_mw_forms.py").write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import probe_mw_forms as forms  # noqa: PLC0415

    readers = {
        name: reads_session(getattr(forms, name))
        for name in (
            "ViaRequest",
            "ViaGet",
            "ViaIn",
            "ViaRequestScope",
            "WritesOnly",
            "CookieNamedSession",
            "Inherits",
        )
    }
    assert readers == {
        "ViaRequest": True,
        "ViaGet": True,
        "ViaIn": True,
        "ViaRequestScope": True,
        "WritesOnly": False,
        "CookieNamedSession": False,
        "Inherits": True,
    }


def test_mounted_sub_apps_are_reported_separately() -> None:
    from mwapps.mounted import app  # noqa: PLC0415

    payload = describe_middleware(app)
    assert names(payload) == ["CORSMiddleware"]
    assert payload["mounts"] == [
        {"path": "/admin", "stack": payload["mounts"][0]["stack"]},
    ]
    mounted = [entry["name"] for entry in payload["mounts"][0]["stack"]]
    assert mounted == ["GZipMiddleware", "AuthContextMiddleware"]


def test_mount_middleware_and_nested_mounts() -> None:
    inner = Starlette(middleware=[Middleware(GZipMiddleware)])
    outer_sub = Starlette(routes=[Mount("/v1", app=inner)])
    app = Starlette(
        routes=[Mount("/api", app=outer_sub, middleware=[Middleware(CORSMiddleware)])],
    )
    payload = describe_middleware(app)
    assert names(payload) == []
    mounts = {m["path"]: [e["name"] for e in m["stack"]] for m in payload["mounts"]}
    assert mounts == {"/api": ["CORSMiddleware"], "/api/v1": ["GZipMiddleware"]}


def test_app_wrapped_in_a_middleware_object() -> None:
    class Telemetry:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, send)

    inner = FastAPI()
    inner.add_middleware(GZipMiddleware)
    payload = describe_middleware(Telemetry(inner))
    assert names(payload) == ["Telemetry", "GZipMiddleware"]
    assert payload["stack"][0]["layer"] == "wrapper"


def test_import_string_middleware_is_resolved_or_shown_as_written() -> None:
    resolved = entry_for_spec(Middleware("starlette.middleware.gzip.GZipMiddleware"))  # type: ignore[arg-type]
    assert resolved["path"] == "starlette.middleware.gzip.GZipMiddleware"
    assert resolved["name"] == "GZipMiddleware"
    unresolved = entry_for_spec(Middleware("no_such_pkg.mw:Thing"))  # type: ignore[arg-type]
    assert unresolved["name"] == "Thing"
    assert unresolved["resolved"] is False


def test_middleware_arguments_never_appear() -> None:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key="never-show-this-session-key")  # noqa: S106
    app.add_middleware(BaseHTTPMiddleware, dispatch=None)
    assert "never-show-this-session-key" not in json.dumps(describe_middleware(app))


def test_not_an_app_gives_a_reason() -> None:
    payload = describe_middleware({"not": "an app"})
    assert payload["stack"] == []
    assert "builtins.dict" in payload["reason"]


def test_a_failing_app_object_never_raises() -> None:
    class Hostile(Starlette):
        @property
        def user_middleware(self) -> list[Middleware]:
            raise RuntimeError("boom")

        @user_middleware.setter
        def user_middleware(self, value: list[Middleware]) -> None:
            pass

    payload = describe_middleware(Hostile())
    assert payload["stack"] == []
    assert "RuntimeError" in payload["reason"]


def test_django_settings_module_is_read_without_setup() -> None:
    payload = describe_middleware(object(), django_settings="djsite.settings_good")
    assert payload["framework"] == "django"
    assert payload["reason"] is None
    paths = [entry["path"] for entry in payload["stack"]]
    assert paths[0] == "django.middleware.security.SecurityMiddleware"
    assert paths[-1] == "django.middleware.clickjacking.XFrameOptionsMiddleware"
    assert len(paths) == 6
    assert all(entry["mro"][0] == entry["path"] for entry in payload["stack"])


def test_django_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import django  # noqa: PLC0415, F401 - an app that uses Django has it loaded

    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "djsite.settings_bad")
    payload = describe_middleware(object())
    assert payload["framework"] == "django"
    assert payload["stack"][0]["name"] == "CommonMiddleware"


def test_django_settings_that_do_not_import() -> None:
    payload = describe_middleware(object(), django_settings="djsite.no_such_settings")
    assert payload["framework"] == "django"
    assert "cannot be imported" in payload["reason"]


def test_django_entries_point_at_their_line_in_middleware() -> None:
    # A Django ordering is fixed in the settings list: findings point there, not at
    # django/middleware/security.py.
    payload = describe_middleware(object(), django_settings="djsite.settings_bad")
    source = (APPS / "djsite" / "settings_bad.py").read_text().splitlines()
    for item in payload["stack"]:
        assert item["file"] == "djsite/settings_bad.py"
        assert f'"{item["path"]}"' in source[item["line"] - 1]
