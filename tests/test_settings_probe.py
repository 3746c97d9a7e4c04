"""The settings probe on real pydantic-settings classes: env var names, errors, no values.

Each test writes a real module under tmp_path, puts it on sys.path and lets the probe import
and instantiate it with a real environment (monkeypatched), as the child does.
"""

from __future__ import annotations

import itertools
import json
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

from preflight.appload.settings_probe import (
    describe_settings,
    env_names,
    minimal_exc_info,
    settings_errors,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

_counter = itertools.count()
SECRET = "s3cr3t-token-value-that-must-not-leak"  # noqa: S105 - the planted secret
BAD_VALUE = "not-a-port-0xDEAD"


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], str]]:
    """Write `source` as a fresh module on sys.path; return its name."""
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(source: str) -> str:
        name = f"probe_settings_{next(_counter)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        created.append(name)
        return name

    yield make
    for name in created:
        sys.modules.pop(name, None)


@pytest.fixture(autouse=True)
def _no_app_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_DATABASE_URL", "APP_DB__URL", "APP_DB", "DATABASE_URL", "APP_PORT"):
        monkeypatch.delenv(name, raising=False)


def errors_by_field(payload: dict[str, object]) -> dict[str, dict[str, object]]:
    errors = payload["errors"]
    assert isinstance(errors, list)
    return {str(e["field"]): e for e in errors}


def test_prefix_and_missing(module: Callable[[str], str]) -> None:
    name = module(
        """
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_")
            database_url: str
            debug: bool = False
        """
    )
    payload = describe_settings(f"{name}:Settings")
    assert payload["ok"] is False
    assert payload["load_error"] is None
    assert payload["errors"] == [
        {
            "field": "database_url",
            "env": ["APP_DATABASE_URL"],
            "type": "missing",
            "msg": "Field required",
        }
    ]
    assert payload["file"] == f"{name}.py"
    assert payload["line"] == 3
    assert payload["fields"] == 2


def test_valid_settings_are_ok(
    module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = module(
        """
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_")
            database_url: str
        """
    )
    monkeypatch.setenv("APP_DATABASE_URL", "postgresql://x@db/app")
    payload = describe_settings(f"{name}:Settings")
    assert payload["ok"] is True
    assert payload["errors"] == []


def test_case_sensitive_names_are_kept_as_written(module: Callable[[str], str]) -> None:
    name = module(
        """
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="app_", case_sensitive=True)
            databaseUrl: str
        """
    )
    payload = describe_settings(f"{name}:Settings")
    assert errors_by_field(payload)["databaseUrl"]["env"] == ["app_databaseUrl"]


def test_aliases(module: Callable[[str], str]) -> None:
    name = module(
        """
        from pydantic import AliasChoices, AliasPath, Field
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_")
            plain: str = Field(alias="PLAIN_ALIAS")
            validation: str = Field(validation_alias="db_url")
            choices: str = Field(validation_alias=AliasChoices("REDIS_URL", "cache_url"))
            path: str = Field(validation_alias=AliasPath("service", "token"))
        """
    )
    errors = errors_by_field(describe_settings(f"{name}:Settings"))
    # The prefix does not apply to aliases (env_prefix_target defaults to "variable").
    assert errors["plain"]["env"] == ["PLAIN_ALIAS"]
    assert errors["validation"]["env"] == ["DB_URL"]
    assert errors["choices"]["env"] == ["REDIS_URL", "CACHE_URL"]
    assert errors["path"]["env"] == ["SERVICE"]  # a JSON object holding "token"
    assert set(errors) == {"plain", "validation", "choices", "path"}


def test_populate_by_name_offers_both(module: Callable[[str], str]) -> None:
    name = module(
        """
        from pydantic import Field
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_", populate_by_name=True)
            url: str = Field(validation_alias="DATABASE_URL")
        """
    )
    errors = errors_by_field(describe_settings(f"{name}:Settings"))
    assert errors["url"]["env"] == ["DATABASE_URL", "APP_URL"]


def test_prefix_target_all_prefixes_aliases(module: Callable[[str], str]) -> None:
    name = module(
        """
        from pydantic import Field
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_", env_prefix_target="all")
            url: str = Field(validation_alias="DATABASE_URL")
        """
    )
    errors = errors_by_field(describe_settings(f"{name}:Settings"))
    assert errors["url"]["env"] == ["APP_DATABASE_URL"]


def test_nested_models_with_and_without_delimiter(
    module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = """
        from pydantic import BaseModel
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Db(BaseModel):
            url: str
            pool: int = 5
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_"{delimiter})
            db: Db
        """
    nested = module(source.replace("{delimiter}", ', env_nested_delimiter="__"'))
    monkeypatch.setenv("APP_DB__POOL", BAD_VALUE)
    errors = errors_by_field(describe_settings(f"{nested}:Settings"))
    assert errors["db.url"]["env"] == ["APP_DB__URL"]
    assert errors["db.url"]["type"] == "missing"
    assert errors["db.pool"]["env"] == ["APP_DB__POOL"]
    assert errors["db.pool"]["type"] == "int_parsing"

    whole = module(source.replace("{delimiter}", ""))
    monkeypatch.delenv("APP_DB__POOL")
    errors = errors_by_field(describe_settings(f"{whole}:Settings"))
    assert errors["db"]["env"] == ["APP_DB"]  # a nested model is set whole, as JSON


def test_values_never_leave_the_probe(
    module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = module(
        """
        from pydantic import Field, SecretStr, field_validator
        from pydantic_core import PydanticCustomError
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_")
            token: SecretStr = Field(max_length=8)
            port: int = 8000
            region: str = "eu"
            @field_validator("port", mode="before")
            @classmethod
            def _port(cls, value):
                raise ValueError(f"bad port {value}")
            @field_validator("region")
            @classmethod
            def _region(cls, value):
                template = "unknown region {value}"
                raise PydanticCustomError("region_unknown", template, {"value": value})
        """
    )
    monkeypatch.setenv("APP_TOKEN", SECRET)
    monkeypatch.setenv("APP_PORT", BAD_VALUE)
    monkeypatch.setenv("APP_REGION", BAD_VALUE + "-region")
    payload = describe_settings(f"{name}:Settings")
    errors = errors_by_field(payload)
    assert errors["token"]["type"] == "too_long"
    assert errors["token"]["msg"] is None  # its length is not told either
    assert errors["port"] == {
        "field": "port",
        "env": ["APP_PORT"],
        "type": "value_error",
        "msg": None,
    }
    assert errors["region"]["type"] == "region_unknown"
    assert errors["region"]["msg"] is None  # a custom template can quote the value
    text = json.dumps(payload)
    assert SECRET not in text
    assert BAD_VALUE not in text


def test_complex_field_that_is_not_json(
    module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = module(
        """
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_")
            hosts: list[str] = []
        """
    )
    monkeypatch.setenv("APP_HOSTS", BAD_VALUE)
    payload = describe_settings(f"{name}:Settings")
    assert payload["errors"] == [
        {
            "field": "hosts",
            "env": ["APP_HOSTS"],
            "type": "json_invalid",
            "msg": "value is not valid JSON",
        }
    ]
    assert BAD_VALUE not in json.dumps(payload)


def test_missing_module() -> None:
    payload = describe_settings("no_such_settings_module_xyz:Settings")
    load_error = payload["load_error"]
    assert isinstance(load_error, dict)
    assert load_error["kind"] == "import"
    assert load_error["error"]["type"] == "ModuleNotFoundError"


def test_module_that_raises(module: Callable[[str], str]) -> None:
    name = module("import os\nTOKEN = os.environ['NO_SUCH_VARIABLE_FOR_PREFLIGHT']\n")
    load_error = describe_settings(f"{name}:Settings")["load_error"]
    assert load_error["kind"] == "raised"
    assert load_error["error"]["type"] == "KeyError"


def test_module_whose_own_import_is_missing_is_raised_not_import(
    module: Callable[[str], str],
) -> None:
    name = module("import no_such_dependency_for_preflight\n")
    load_error = describe_settings(f"{name}:Settings")["load_error"]
    assert load_error["kind"] == "raised"
    assert load_error["error"]["import_error"]["name"] == "no_such_dependency_for_preflight"


def test_module_exiting_is_described(module: Callable[[str], str]) -> None:
    name = module("import sys\nsys.exit(3)\n")
    load_error = describe_settings(f"{name}:Settings")["load_error"]
    assert load_error["error"]["exit_code"] == 3


def test_missing_class_suggests_close_names(module: Callable[[str], str]) -> None:
    name = module(
        """
        from pydantic_settings import BaseSettings
        class AppSettings(BaseSettings):
            debug: bool = False
        """
    )
    load_error = describe_settings(f"{name}:Settings")["load_error"]
    assert load_error["kind"] == "attribute"
    assert "AppSettings" in load_error["candidates"]
    assert "BaseSettings" not in load_error["candidates"]


def test_not_a_settings_class(module: Callable[[str], str]) -> None:
    name = module(
        """
        from functools import lru_cache
        from pydantic import BaseModel
        from pydantic_settings import BaseSettings
        class Real(BaseSettings):
            debug: bool = False
        class Plain(BaseModel):
            x: int = 1
        @lru_cache
        def get_settings():
            return Real()
        """
    )
    for attr in ("Plain", "get_settings"):
        payload = describe_settings(f"{name}:{attr}")
        assert payload["load_error"]["kind"] == "not_settings"
        assert payload["load_error"]["candidates"] == ["Real"]


def test_settings_built_at_import_time_are_errors_not_load_errors(
    module: Callable[[str], str],
) -> None:
    settings = module(
        """
        from pydantic_settings import BaseSettings
        class Settings(BaseSettings):
            required_value_for_preflight: str
        settings = Settings()
        """
    )
    payload = describe_settings(f"{settings}:Settings")
    assert payload["load_error"] is None
    assert payload["errors_class"] == f"{settings}:Settings"
    assert errors_by_field(payload)["required_value_for_preflight"]["env"] == [
        "REQUIRED_VALUE_FOR_PREFLIGHT"
    ]


def test_settings_errors_finds_the_class_through_wrapping(module: Callable[[str], str]) -> None:
    name = module(
        """
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_")
            database_url: str
        def load():
            try:
                return Settings()
            except Exception as error:
                raise RuntimeError("configuration failed") from error
        def validate():
            return Settings.model_validate({})
        """
    )
    loaded = sys.modules.get(name) or __import__(name)
    for call in (loaded.load, loaded.validate):
        with pytest.raises(Exception) as caught:  # noqa: PT011 - any exception shape
            call()
        found = settings_errors(caught.value)
        assert found is not None
        assert found[0] == f"{name}:Settings"
        assert found[1][0]["field"] == "database_url"


def test_settings_errors_ignores_other_errors(module: Callable[[str], str]) -> None:
    name = module(
        """
        from pydantic import BaseModel
        class Payload(BaseModel):
            x: int
        """
    )
    loaded = __import__(name)
    with pytest.raises(Exception) as caught:  # noqa: PT011
        loaded.Payload()
    assert settings_errors(caught.value) is None
    assert settings_errors(KeyError("x")) is None


def test_env_names_for_a_model_level_error() -> None:
    from pydantic_settings import BaseSettings  # noqa: PLC0415

    class Settings(BaseSettings):
        pass

    assert env_names(Settings, ()) == ("", [])


def test_minimal_exc_info_shape() -> None:
    error = RuntimeError("wrapped")
    error.__cause__ = ImportError("cannot import name 'x'", name="pkg")
    info = minimal_exc_info(error)
    assert info["type"] == "RuntimeError"
    assert info["import_error"]["name"] == "pkg"
    assert info["exit_code"] is None


def test_a_whole_missing_nested_model_names_its_required_variables() -> None:
    from pydantic import BaseModel  # noqa: PLC0415
    from pydantic_settings import BaseSettings, SettingsConfigDict  # noqa: PLC0415

    class Db(BaseModel):
        url: str
        pool: int = 5

    class Settings(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="APP_", env_nested_delimiter="__")
        db: Db

    assert env_names(Settings, ("db",)) == ("db", ["APP_DB__URL", "APP_DB"])
    assert env_names(Settings, ("db", "url")) == ("db.url", ["APP_DB__URL"])


def test_settings_errors_with_a_custom_title() -> None:
    from pydantic_settings import BaseSettings, SettingsConfigDict  # noqa: PLC0415

    class Titled(BaseSettings):
        model_config = SettingsConfigDict(title="Service settings")
        required_value_for_preflight_title: str

    with pytest.raises(Exception) as caught:  # noqa: PT011
        Titled()
    found = settings_errors(caught.value)
    assert found is not None
    assert found[0].endswith(":test_settings_errors_with_a_custom_title.<locals>.Titled")
    assert found[1][0]["env"] == ["REQUIRED_VALUE_FOR_PREFLIGHT_TITLE"]
