"""The middleware check: payloads to results, and real apps through the real CLI.

End-to-end tests run `python -m preflight check --only middleware` on the fixture apps under
tests/apps_mw (FastAPI with add_middleware, Starlette with middleware=[...], a mounted
sub-app, a Django project): the child really imports each app and reads its stack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import EXAMPLE, child_env, run_preflight

from preflight.checks.middleware import result_of
from preflight.config import MiddlewareConfig
from preflight.middleware_policy import Policy
from preflight.report import Status

if TYPE_CHECKING:
    from conftest import Completed

APPS = Path(__file__).parent / "apps_mw"
ORDER = ["CORSMiddleware", "TrustedHostMiddleware", "SessionMiddleware", "AuthContextMiddleware"]


# --- payloads --------------------------------------------------------------------------------


def entry(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "path": f"m.{name}", "mro": [f"m.{name}"], **extra}


def test_stack_in_summary_and_metrics() -> None:
    payload = {
        "framework": "starlette",
        "stack": [entry("CORSMiddleware"), entry("GZipMiddleware")],
        "mounts": [{"path": "/api", "stack": [entry("TrustedHostMiddleware")]}],
        "reason": None,
    }
    result = result_of(payload, Policy())
    assert result.status is Status.PASS
    assert result.summary == (
        "2 middleware, outermost first: CORSMiddleware -> GZipMiddleware; 1 mounted sub-app"
    )
    assert result.metrics["stack"] == ["CORSMiddleware", "GZipMiddleware"]
    assert result.metrics["mounts"] == {"/api": ["TrustedHostMiddleware"]}


def test_unreadable_stack_skips_without_policy_and_fails_with_one() -> None:
    payload = {"framework": None, "stack": [], "mounts": [], "reason": "not a Starlette app"}
    skipped = result_of(payload, Policy())
    assert skipped.status is Status.SKIP
    assert "not a Starlette app" in skipped.summary
    policy = Policy.from_config(MiddlewareConfig(required=("CORSMiddleware",)))
    failed = result_of(payload, policy)
    assert [f.code for f in failed.findings] == ["PF607"]
    assert "not a Starlette app" in failed.findings[0].message


# --- the real CLI ----------------------------------------------------------------------------


def write_config(tmp_path: Path, app: str, **policy: object) -> Path:
    lines = [f'app = "{app}"', f"roots = [{json.dumps(str(APPS))}]", "[middleware]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in policy.items()]
    path = tmp_path / "preflight.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check(config: Path, *args: str) -> tuple[Completed, dict[str, Any]]:
    done = run_preflight(
        "check", "--config", str(config), "--only", "middleware", *args, env=child_env()
    )
    report = json.loads(done.stdout)
    return done, report


def middleware_result(report: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["name"] == "middleware")


def codes(report: dict[str, Any]) -> list[str]:
    return [f["code"] for f in report["findings"]]


def test_right_order_passes_and_reports_the_stack(tmp_path: Path) -> None:
    config = write_config(tmp_path, "mwapps.good:app", order=ORDER, required=ORDER)
    done, report = check(config)
    assert done.returncode == 0, done.stdout
    result = middleware_result(report)
    assert result["status"] == "pass"
    assert result["metrics"]["stack"] == [
        "CORSMiddleware",
        "TrustedHostMiddleware",
        "UvicornCompatibleSessionMiddleware",
        "AuthContextMiddleware",
    ]


def test_wrong_order_exits_6_showing_actual_and_expected(tmp_path: Path) -> None:
    config = write_config(tmp_path, "mwapps.wrong_order:app", order=ORDER)
    done, report = check(config)
    assert done.returncode == 6
    assert codes(report) == ["PF602", "PF605"]
    order = report["findings"][0]
    actual = "CORSMiddleware -> AuthContextMiddleware -> UvicornCompatibleSessionMiddleware"
    assert actual in order["message"]
    assert " -> ".join(ORDER) in order["message"]
    assert "SessionMiddleware must be outside AuthContextMiddleware" in order["message"]


def test_the_incident_without_a_policy_is_a_warning(tmp_path: Path) -> None:
    config = write_config(tmp_path, "mwapps.wrong_order:app")
    done, report = check(config)
    assert done.returncode == 0
    assert middleware_result(report)["status"] == "warn"
    assert codes(report) == ["PF605"]
    assert report["findings"][0]["file"] == "mwapps/common.py"
    strict, _ = check(config, "--strict")
    assert strict.returncode == 6


def test_missing_required_exits_6(tmp_path: Path) -> None:
    config = write_config(tmp_path, "mwapps.good:app", required=["GZipMiddleware"])
    done, report = check(config)
    assert done.returncode == 6
    assert codes(report) == ["PF601"]
    assert report["findings"][0]["name"] == "GZipMiddleware"


def test_duplicates_exit_6_unless_allowed(tmp_path: Path) -> None:
    config = write_config(tmp_path, "mwapps.duplicated:app", required=["CORSMiddleware"])
    done, report = check(config)
    assert done.returncode == 6
    assert codes(report) == ["PF603"]
    assert "CORSMiddleware is registered 2 times" in report["findings"][0]["message"]
    allowed = write_config(tmp_path, "mwapps.duplicated:app", allow_duplicates=True)
    done, report = check(allowed)
    assert done.returncode == 0
    assert codes(report) == []


def test_starlette_middleware_list_and_dispatch_names(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, "mwapps.listed:app", order=["SessionMiddleware", "auth_dispatch"]
    )
    done, report = check(config)
    assert done.returncode == 0, done.stdout
    assert middleware_result(report)["metrics"]["stack"] == [
        "GZipMiddleware",
        "SessionMiddleware",
        "BaseHTTPMiddleware(dispatch=auth_dispatch)",
    ]
    reversed_policy = write_config(
        tmp_path, "mwapps.listed:app", order=["auth_dispatch", "SessionMiddleware"]
    )
    done, report = check(reversed_policy)
    assert done.returncode == 6
    assert codes(report) == ["PF602"]


def test_mounted_sub_app_is_reported_separately(tmp_path: Path) -> None:
    config = write_config(tmp_path, "mwapps.mounted:app")
    done, report = check(config)
    assert done.returncode == 0
    metrics = middleware_result(report)["metrics"]
    assert metrics["stack"] == ["CORSMiddleware"]
    assert metrics["mounts"] == {"/admin": ["GZipMiddleware", "AuthContextMiddleware"]}
    assert codes(report) == ["PF605"]
    assert report["findings"][0]["message"].startswith("mount /admin: AuthContextMiddleware")


def test_django_middleware_from_the_settings_module(tmp_path: Path) -> None:
    good = write_config(
        tmp_path,
        "djsite.asgi:application",
        django_settings="djsite.settings_good",
        required=["SessionMiddleware"],
    )
    done, report = check(good)
    assert done.returncode == 0, done.stdout + done.stderr
    assert middleware_result(report)["metrics"]["framework"] == "django"
    assert codes(report) == []

    bad = write_config(tmp_path, "djsite.asgi:application", django_settings="djsite.settings_bad")
    done, report = check(bad)
    assert done.returncode == 0
    assert set(codes(report)) == {"PF606"}
    messages = " | ".join(f["message"] for f in report["findings"])
    assert "SessionMiddleware must come before AuthenticationMiddleware" in messages
    assert "SecurityMiddleware should be first" in messages

    policy = write_config(
        tmp_path,
        "djsite.asgi:application",
        django_settings="djsite.settings_bad",
        order=["SessionMiddleware", "AuthenticationMiddleware"],
    )
    done, report = check(policy)
    assert done.returncode == 6
    assert "PF602" in codes(report)


def test_alone_an_app_that_does_not_load_fails_with_the_apps_own_finding(
    tmp_path: Path,
) -> None:
    # `--only middleware` on an app that cannot boot is no pass: the import's own failure is
    # reported (exit 4), and PF607 too when a policy needed the stack.
    with_policy = write_config(tmp_path, "mwapps.broken:app", required=["CORSMiddleware"])
    done, report = check(with_policy)
    assert done.returncode == 4
    assert codes(report) == ["PF401", "PF607"]
    assert "MWAPPS_TITLE_THAT_IS_NOT_SET" in report["findings"][0]["message"]
    assert report["findings"][0]["file"] == "mwapps/broken.py"
    without = write_config(tmp_path, "mwapps.broken:app")
    done, report = check(without)
    assert done.returncode == 4
    assert codes(report) == ["PF401"]
    assert middleware_result(report)["status"] == "fail"
    assert middleware_result(report)["summary"] == "the app did not load: PF401"


def test_the_example_passes_settings_and_middleware() -> None:
    done = run_preflight(
        "check",
        "--config",
        str(EXAMPLE / "pyproject.toml"),
        "--only",
        "settings,middleware",
        env=child_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["settings"] == "pass"
    assert statuses["middleware"] == "pass"


def test_with_the_app_check_selected_a_broken_app_is_reported_once(tmp_path: Path) -> None:
    with_policy = write_config(tmp_path, "mwapps.broken:app", required=["CORSMiddleware"])
    done = run_preflight(
        "check", "--config", str(with_policy), "--only", "app,middleware", env=child_env()
    )
    report = json.loads(done.stdout)
    assert done.returncode == 4
    assert all(f["check"] == "app" for f in report["findings"])
    assert middleware_result(report)["status"] == "skip"
    assert "app check" in middleware_result(report)["summary"]


@pytest.mark.realtime
def test_an_import_cut_off_at_the_deadline_is_the_apps_pf404_not_the_stacks(
    tmp_path: Path,
) -> None:
    (tmp_path / "slowapp.py").write_text("import time\ntime.sleep(60)\n", encoding="utf-8")
    args = ("--app", "slowapp:app", "--root", str(tmp_path), "--budget", "2s")
    done = run_preflight("check", "--only", "middleware", *args, env=child_env())
    report = json.loads(done.stdout)
    assert done.returncode == 4
    assert codes(report) == ["PF404"]  # what hung, not "reading the middleware stack"
    assert "importing slowapp did not finish" in report["findings"][0]["message"]
    done = run_preflight("check", "--only", "app,middleware", *args, env=child_env())
    report = json.loads(done.stdout)
    assert done.returncode == 4
    assert codes(report) == ["PF404"]
    assert report["findings"][0]["check"] == "app"
    assert middleware_result(report)["status"] == "skip"
