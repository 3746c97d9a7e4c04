"""The settings check: payloads to findings, static discovery, and the real CLI end to end.

End-to-end tests run `python -m preflight` on the fixture settings under tests/apps_mw: the
child really imports and instantiates the class with the environment given here.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import EXAMPLE, child_env, run_preflight

from preflight.checks.settings import discovery_result, result_of, settings_findings
from preflight.checks.settings_classes import Discovery, discover
from preflight.codes import Severity
from preflight.config import load_config
from preflight.report import Status

if TYPE_CHECKING:
    from conftest import Completed

APPS = Path(__file__).parent / "apps_mw"
SPEC = "mwapps.settings_bad:Settings"
SECRET = "tok-7f3a9c-planted-secret"  # noqa: S105 - planted: shorter than min_length 32
BAD_PORT = "4242424"  # an int the validator rejects, quoting it in its message
BAD_POOL = "pool-size-garbage-91b2"


# --- payloads --------------------------------------------------------------------------------


def test_missing_and_invalid_become_pf501_and_pf502() -> None:
    payload = {
        "class": SPEC,
        "ok": False,
        "errors": [
            {
                "field": "database.url",
                "env": ["MWAPPS_DATABASE__URL"],
                "type": "missing",
                "msg": "x",
            },
            {"field": "port", "env": ["MWAPPS_PORT"], "type": "value_error", "msg": None},
            {"field": "url", "env": ["DATABASE_URL", "APP_URL"], "type": "missing", "msg": None},
        ],
        "load_error": None,
        "file": "mwapps/settings_bad.py",
        "line": 12,
        "fields": 4,
    }
    result = result_of(SPEC, payload)
    assert result.status is Status.FAIL
    assert [f.code for f in result.findings] == ["PF501", "PF502", "PF501"]
    missing, invalid, either = result.findings
    assert missing.message.endswith("set MWAPPS_DATABASE__URL")
    assert missing.name == "database.url"
    assert missing.module == "mwapps.settings_bad"
    assert (missing.file, missing.line) == ("mwapps/settings_bad.py", 12)
    assert "(MWAPPS_PORT) is invalid: value_error" in invalid.message
    assert "not shown" in (invalid.hint or "")
    assert either.message.endswith("set DATABASE_URL (or APP_URL)")
    assert result.summary == f"{SPEC}: 2 missing and 1 invalid settings"
    assert result.metrics["errors"] == 3


def test_ok_payload_passes() -> None:
    payload = {"class": SPEC, "ok": True, "errors": [], "load_error": None, "fields": 4}
    result = result_of(SPEC, payload)
    assert result.status is Status.PASS
    assert result.summary == f"{SPEC} validates (4 fields)"


@pytest.mark.parametrize(
    ("load_error", "extra", "says"),
    [
        ({"kind": "attribute", "candidates": ["AppSettings"]}, {}, "did you mean 'AppSettings'?"),
        (
            {"kind": "not_settings", "candidates": ["Real"]},
            {"type": "functools._lru_cache_wrapper"},
            "mwapps.settings_bad has Real",
        ),
        (
            {
                "kind": "raised",
                "error": {
                    "type": "KeyError",
                    "message": "'X'",
                    "frame": {"module": "m", "file": "m.py", "line": 3},
                    "chain": ["m"],
                },
            },
            {},
            "fix the error",
        ),
        (
            {"kind": "import", "error": {"type": "ModuleNotFoundError", "message": "No module"}},
            {},
            "--root",
        ),
    ],
)
def test_load_errors_are_pf503(
    load_error: dict[str, Any], extra: dict[str, Any], says: str
) -> None:
    payload = {"class": SPEC, "ok": False, "errors": [], "load_error": load_error, **extra}
    result = result_of(SPEC, payload)
    assert [f.code for f in result.findings] == ["PF503"]
    assert says in (result.findings[0].hint or "")
    if load_error["kind"] == "raised":
        assert (result.findings[0].file, result.findings[0].line) == ("m.py", 3)
        assert "KeyError" in result.findings[0].message


def test_settings_findings_serve_the_app_check() -> None:
    errors = [{"field": "region", "env": ["CLOUD_REGION"], "type": "missing", "msg": None}]
    findings = settings_findings(errors, SPEC, check="app")
    assert [(f.code, f.check) for f in findings] == [("PF501", "app")]


def test_discovery_result_lists_classes_or_skips() -> None:
    empty = discovery_result(Discovery((), 12), "svc.main:app")
    assert empty.status is Status.SKIP
    assert "svc.main" in empty.summary


# --- static discovery ------------------------------------------------------------------------

TREE = {
    "pkg/__init__.py": "",
    "pkg/main.py": """
        from pkg.config import Settings
        from pkg import other, uses_reexport
        app = object()
        """,
    "pkg/config.py": """
        from pydantic import BaseModel
        from pydantic_settings import BaseSettings as BS
        class Settings(BS):
            pass
        class Derived(Settings):
            pass
        class Plain(BaseModel):
            pass
        """,
    "pkg/other.py": """
        import pydantic_settings
        class Other(pydantic_settings.BaseSettings):
            pass
        """,
    "pkg/base.py": "from pydantic_settings import BaseSettings\n",
    "pkg/uses_reexport.py": """
        from pkg.base import BaseSettings
        class ViaReexport(BaseSettings):
            pass
        """,
    "pkg/unreachable.py": """
        from pydantic_settings import BaseSettings
        class Hidden(BaseSettings):
            pass
        """,
}


def test_static_discovery_follows_bases_aliases_and_reexports(tmp_path: Path) -> None:
    for name, source in TREE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    config = load_config({"app": "pkg.main:app", "roots": [str(tmp_path)]}, {}, tmp_path)
    found = discover(config)
    assert sorted(c.spec for c in found.classes) == [
        "pkg.config:Derived",
        "pkg.config:Settings",
        "pkg.other:Other",
        "pkg.uses_reexport:ViaReexport",
    ]
    settings = next(c for c in found.classes if c.name == "Settings")
    assert settings.file == "pkg/config.py"
    assert settings.chain == ("pkg.main", "pkg.config")
    result = discovery_result(found, "pkg.main:app")
    assert [(f.code, f.severity) for f in result.findings] == [("PF504", Severity.INFO)]
    assert "pkg.other:Other" in result.findings[0].message
    assert not (tmp_path / "__pycache__" / "preflight").exists()


# --- the real CLI ----------------------------------------------------------------------------


def write_config(tmp_path: Path, settings_class: str | None, app: str = "mwapps.good:app") -> Path:
    lines = [f'app = "{app}"', f"roots = [{json.dumps(str(APPS))}]"]
    if settings_class:
        lines += ["[settings]", f'class = "{settings_class}"']
    path = tmp_path / "preflight.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(config: Path, *args: str, **env: str) -> Completed:
    return run_preflight("check", "--config", str(config), *args, env=child_env(**env))


def findings_of(done: Completed) -> list[dict[str, Any]]:
    return json.loads(done.stdout)["findings"]


def test_cli_missing_env_var_exits_5_naming_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, SPEC)
    done = run(config, "--only", "settings", "--format", "json")
    assert done.returncode == 5, done.stderr
    by_code: dict[str, list[str]] = {}
    for finding in findings_of(done):
        by_code.setdefault(finding["code"], []).append(finding["message"])
    missing = " ".join(by_code["PF501"])
    assert "set MWAPPS_DATABASE__URL" in missing
    assert "set MWAPPS_API_TOKEN" in missing
    assert "set CLOUD_REGION" in missing
    assert "PF502" not in by_code


def test_cli_valid_settings_pass(tmp_path: Path) -> None:
    done = run(write_config(tmp_path, "mwapps.settings_ok:Settings"), "--only", "settings")
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    check = next(c for c in report["checks"] if c["name"] == "settings")
    assert check["status"] == "pass"
    assert check["summary"] == "mwapps.settings_ok:Settings validates (2 fields)"


def test_cli_settings_module_missing_is_pf503(tmp_path: Path) -> None:
    done = run(write_config(tmp_path, "mwapps.no_such_settings:Settings"), "--only", "settings")
    assert done.returncode == 5
    assert [f["code"] for f in findings_of(done)] == ["PF503"]


def test_cli_settings_failing_at_import_are_reported_as_settings(tmp_path: Path) -> None:
    config = write_config(tmp_path, "mwapps.settings_at_import:Settings")
    done = run(config, "--only", "settings", MWAPPS_DATABASE__URL="postgresql://db/app")
    assert done.returncode == 5
    found = findings_of(done)
    assert {f["code"] for f in found} == {"PF501"}
    assert any("set CLOUD_REGION" in f["message"] for f in found)
    assert all("mwapps.settings_bad:Settings" in f["message"] for f in found)


def test_cli_without_a_class_lists_reachable_classes(tmp_path: Path) -> None:
    config = tmp_path / "preflight.toml"
    config.write_text(
        f'app = "service.main:app"\nroots = [{json.dumps(str(EXAMPLE / "src"))}]\n',
        encoding="utf-8",
    )
    done = run(config, "--only", "settings")
    assert done.returncode == 0, done.stdout
    found = findings_of(done)
    assert [(f["code"], f["severity"]) for f in found] == [("PF504", "info")]
    assert "service.config:Settings" in found[0]["message"]


@pytest.mark.parametrize("output", ["console", "json"])
def test_cli_never_shows_secret_or_invalid_values(tmp_path: Path, output: str) -> None:
    config = write_config(tmp_path, SPEC)
    report = tmp_path / "report.json"
    done = run(
        config,
        "--only",
        "settings",
        "--format",
        output,
        "--log-format",
        output,
        "--report",
        str(report),
        MWAPPS_DATABASE__URL="postgresql://db/app",
        MWAPPS_DATABASE__POOL_SIZE=BAD_POOL,
        MWAPPS_API_TOKEN=SECRET,
        MWAPPS_PORT=BAD_PORT,
    )
    assert done.returncode == 5, done.stderr
    written = report.read_text(encoding="utf-8")
    codes = sorted(f["code"] for f in json.loads(written)["findings"])
    assert codes == ["PF501", "PF502", "PF502", "PF502"]  # region; pool, token, port
    for text in (done.stdout, done.stderr, written):
        for value in (SECRET, BAD_PORT, BAD_POOL):
            assert value not in text
    for name in ("MWAPPS_API_TOKEN", "MWAPPS_PORT", "MWAPPS_DATABASE__POOL_SIZE", "CLOUD_REGION"):
        assert name in done.stdout
        assert name in written


def test_run_does_not_search_for_classes(tmp_path: Path) -> None:
    from preflight.checks.base import CheckContext  # noqa: PLC0415
    from preflight.checks.settings import SettingsCheck  # noqa: PLC0415
    from preflight.clock import Deadline, SystemClock  # noqa: PLC0415

    config = load_config({"app": "pkg.main:app", "roots": [str(tmp_path)]}, {}, tmp_path)
    deadline = Deadline.start(SystemClock(), 5000)
    check = SettingsCheck()
    searching = CheckContext(config=config, deadline=deadline, environ={})
    assert check.skip_reason(searching) is None
    starting = CheckContext(config=config, deadline=deadline, environ={}, command=("uvicorn",))
    assert "preflight check --only settings" in (check.skip_reason(starting) or "")
    configured = config.model_copy(
        update={"settings": config.settings.model_copy(update={"class_": SPEC})}
    )
    with_class = CheckContext(config=configured, deadline=deadline, environ={}, command=("x",))
    assert check.skip_reason(with_class) is None


def hostile_settings(tmp_path: Path, body: str) -> Path:
    (tmp_path / "hostile_settings.py").write_text(textwrap.dedent(body), encoding="utf-8")
    config = tmp_path / "preflight.toml"
    roots = json.dumps([str(tmp_path), str(APPS)])
    config.write_text(
        f'app = "mwapps.good:app"\nroots = {roots}\n[settings]\nclass = "hostile_settings:S"\n',
        encoding="utf-8",
    )
    return config


@pytest.mark.realtime
def test_settings_import_that_hangs_is_cut_at_the_deadline(tmp_path: Path) -> None:
    import time  # noqa: PLC0415

    config = hostile_settings(tmp_path, "import time\ntime.sleep(60)\n")
    started = time.monotonic()
    done = run(config, "--only", "settings", "--budget", "2s")
    elapsed = time.monotonic() - started
    assert done.returncode == 5
    report = json.loads(done.stdout)
    check = next(c for c in report["checks"] if c["name"] == "settings")
    assert check["status"] == "timeout"
    assert [f["code"] for f in report["findings"]] == ["PF500"]
    assert elapsed < 2 + 1.5 + 1.0  # the budget, a loaded machine's slack, interpreter start


def test_settings_import_that_kills_the_process_is_pf503(tmp_path: Path) -> None:
    config = hostile_settings(
        tmp_path, "import os, sys\nprint('settings going down', flush=True)\nos._exit(9)\n"
    )
    done = run(config, "--only", "settings")
    assert done.returncode == 5
    found = findings_of(done)
    assert [f["code"] for f in found] == ["PF503"]
    assert "exited with code 9" in found[0]["message"]
    assert "settings going down" in (found[0]["output"] or "")
