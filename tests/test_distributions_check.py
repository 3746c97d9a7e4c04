"""The distributions check against real installed distributions in a temp venv (exit 9).

`tests/venvs.py` installs tiny wheels with pip into a venv; preflight runs there as a real
process, so importlib-metadata sees exactly what pip installed: pfx-alpha 1.0 (requires
pfx-beta>=2, extras fast -> pfx-gamma and slow -> pfx-absent-dep), pfx-beta 1.5, pfx-gamma 1.0,
Pfx.Zeta 2.0rc1, pfx-app 0.3 (extras db, all = app[db]).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from venvs import TestVenv, build_venv

from preflight.checks.distributions import inspect
from preflight.requirements import Declaration, RequirementsReader

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> TestVenv:
    return build_venv(tmp_path_factory)


def check(venv: TestVenv, project: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = venv.run(
        "-m", "preflight", "check", "--only", "distributions", "--format", "json",
        "--config", str(project / "preflight.toml"), *extra,
    )  # fmt: skip
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def project(tmp_path: Path, requirements: str, config: str = "") -> Path:
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "preflight.toml").write_text(
        f'[distributions]\nrequirements = ["requirements.txt"]\n{config}'
    )
    return tmp_path


def found(report: dict[str, Any]) -> list[tuple[str, str, str | None, int | None]]:
    return [(f["code"], f["severity"], f["file"], f["line"]) for f in report["findings"]]


def test_satisfied_with_markers_normalization_and_prereleases(venv, tmp_path) -> None:
    text = (
        "PFX_Alpha[fast]\n"  # PEP 503: the same distribution as pfx-alpha
        "pfx.gamma>=1.0\n"
        "pfx-zeta>=2.0.dev0\n"  # 2.0rc1 is inside: pre-releases count, as in pip check
        'pfx-not-here ; python_version < "3.0"\n'  # marker false here: not required
    )
    code, report = check(venv, project(tmp_path, text))
    # pfx-alpha's own requirement pfx-beta>=2 is broken (1.5): a pip-check warning only
    assert found(report) == [("PF903", "warning", None, None)]
    assert (
        "pfx-beta 1.5 is installed, but pfx-alpha 1.0 requires pfx-beta>=2"
        in (report["findings"][0]["message"])
    )
    assert code == 0
    (result,) = [c for c in report["checks"] if c["name"] == "distributions"]
    assert result["status"] == "warn"
    assert result["metrics"]["declared"] == 3
    assert result["metrics"]["marker_excluded"] == 1


def test_missing_and_wrong_version_fail_with_exit_9(venv, tmp_path) -> None:
    code, report = check(venv, project(tmp_path, "pfx-beta>=2\n\npfx-not-here>=1.0\n"))
    assert code == 9
    assert found(report) == [
        ("PF902", "error", "requirements.txt", 1),
        ("PF901", "error", "requirements.txt", 3),
    ]
    wrong, missing = report["findings"]
    assert (
        wrong["message"] == "pfx-beta 1.5 is installed, but requirements.txt:1 requires pfx-beta>=2"
    )
    assert missing["message"] == "pfx-not-here is not installed (declared in requirements.txt:3)"
    assert missing["hint"] == "pip install 'pfx-not-here>=1.0'"


def test_extras_followed_and_unknown_extra_warned(venv, tmp_path) -> None:
    code, report = check(venv, project(tmp_path, "pfx-alpha[slow,nope]\npfx-beta\n"))
    assert code == 9
    codes = {(f["code"], f["severity"]) for f in report["findings"]}
    assert codes == {("PF901", "error"), ("PF905", "warning"), ("PF903", "warning")}
    missing = next(f for f in report["findings"] if f["code"] == "PF901")
    assert "pfx-absent-dep is not installed: pfx-alpha[nope,slow] requires" in missing["message"]
    assert (missing["file"], missing["line"]) == ("requirements.txt", 1)


def test_constraints_bind_installed_versions(venv, tmp_path) -> None:
    (tmp_path / "constraints.txt").write_text("pfx-gamma==2.0\npfx-not-installed==1\n")
    code, report = check(venv, project(tmp_path, "-c constraints.txt\npfx-beta\n"))
    assert code == 9
    assert found(report) == [("PF902", "error", "constraints.txt", 1)]
    assert "outside the constraint pfx-gamma==2.0" in report["findings"][0]["message"]


def test_app_distribution_requires_dist_with_self_extras(venv, tmp_path) -> None:
    (tmp_path / "preflight.toml").write_text(
        '[distributions]\ndistribution = "pfx-app"\nextras = ["all"]\n'
    )
    code, report = check(venv, tmp_path)
    assert code == 9  # all -> app[db] -> pfx-gamma>=5, and 1.0 is installed
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [f["code"] for f in errors] == ["PF902"]
    assert "Requires-Dist of pfx-app 0.3 requires pfx-gamma>=5" in errors[0]["message"]


def test_pyproject_project_dependencies_by_default(venv, tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "svc"\ndependencies = [\n  "pfx-gamma",\n  "pfx-missing-dep",\n]\n'
        '[tool.preflight]\napp = "svc.main:app"\n'
    )
    done = venv.run(
        "-m", "preflight", "check", "--only", "distributions", "--format", "json",
        "--config", str(tmp_path / "pyproject.toml"),
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert done.returncode == 9
    assert found(report) == [("PF901", "error", "pyproject.toml", 5)]


def test_unreadable_requirements_are_pf904_and_no_secret_leaks(venv, tmp_path) -> None:
    text = "pfx-gamma\nhttps://deploy:t0ps3cret@private.example/pkg\nbad===\n-r missing.txt\n"
    code, report = check(venv, project(tmp_path, text))
    assert code == 9
    assert [f["code"] for f in report["findings"]] == ["PF904", "PF904"]
    (result,) = [c for c in report["checks"] if c["name"] == "distributions"]
    assert len(result["metrics"]["skipped"]) == 1
    assert "t0ps3cret" not in json.dumps(report)


def test_skipped_when_nothing_is_declared(venv, tmp_path) -> None:
    (tmp_path / "preflight.toml").write_text('app = "main"\n')
    code, report = check(venv, tmp_path)
    assert code == 0
    (result,) = [c for c in report["checks"] if c["name"] == "distributions"]
    assert result["status"] == "skip"
    assert "no requirements declared" in result["summary"]


# --- in-process, against this repo's own environment -----------------------------------------


def inspect_text(tmp_path: Path, text: str):
    (tmp_path / "requirements.txt").write_text(text)
    declaration = Declaration()
    RequirementsReader(declaration, tmp_path).read(tmp_path / "requirements.txt")
    return inspect(declaration)


def test_in_process_against_the_running_interpreter(tmp_path) -> None:
    passed = inspect_text(tmp_path, "click>=8\npackaging\nstructlog>=1.0 ; sys_platform != 'x'\n")
    assert passed.status.value == "pass", passed.findings
    failed = inspect_text(tmp_path, "click<1\n")
    assert [f.code for f in failed.findings] == ["PF902"]
