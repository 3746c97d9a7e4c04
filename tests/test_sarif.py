"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning.

The official schema (OASIS, sarif-schema-2.1.0.json) is not vendored: its OASIS terms allow
copies only unmodified and with OASIS's notice, which does not sit with this MIT-licensed
sdist (tests/ ship in it). `SARIF_SUBSET` below restates, from the standard, the definitions of
every object preflight emits - property names and types, required properties, the `level`
and `columnKind` enums, `startLine >= 1` - with `additionalProperties: false` as the official
schema has, so a misspelt or invented property fails. Then the fields GitHub's upload requires.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import run_preflight

from preflight.codes import CATALOGUE, Severity
from preflight.render.sarif import sarif_log
from preflight.report import CheckResult, Finding, Report

_MESSAGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
}
_PROPERTY_BAG = {
    "type": "object",
    "properties": {"tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True}},
}
_ARTIFACT_LOCATION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "uri": {"type": "string", "format": "uri-reference"},
        "uriBaseId": {"type": "string"},
    },
}
SARIF_SUBSET: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"enum": ["2.1.0"]},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "version": {"type": "string"},
                                    "semanticVersion": {"type": "string"},
                                    "informationUri": {"type": "string", "format": "uri"},
                                    "rules": {
                                        "type": "array",
                                        "uniqueItems": True,
                                        "items": {
                                            "type": "object",
                                            "additionalProperties": False,
                                            "required": ["id"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": _MESSAGE,
                                                "fullDescription": _MESSAGE,
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "additionalProperties": False,
                                                    "properties": {
                                                        "level": {
                                                            "enum": [
                                                                "none",
                                                                "note",
                                                                "warning",
                                                                "error",
                                                            ]
                                                        }
                                                    },
                                                },
                                                "properties": _PROPERTY_BAG,
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "originalUriBaseIds": {
                        "type": "object",
                        "additionalProperties": _ARTIFACT_LOCATION,
                    },
                    "invocations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["executionSuccessful"],
                            "properties": {
                                "executionSuccessful": {"type": "boolean"},
                                "exitCode": {"type": "integer"},
                            },
                        },
                    },
                    "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": _MESSAGE,
                                "properties": {"type": "object"},
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "additionalProperties": False,
                                                "properties": {
                                                    "artifactLocation": _ARTIFACT_LOCATION,
                                                    "region": {
                                                        "type": "object",
                                                        "additionalProperties": False,
                                                        "properties": {
                                                            "startLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            }
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


#: The projects the CLI tests check: one entry, a requirements file, no parse cache.
PROJECT_CONFIG = (
    '[tool.preflight]\napp = "app.main"\nroots = ["src"]\n'
    '[tool.preflight.distributions]\nrequirements = ["requirements.txt"]\n'
    "[tool.preflight.imports]\ncache = false\n"
)


def validate(log: dict[str, Any]) -> None:
    jsonschema.Draft4Validator.check_schema(SARIF_SUBSET)
    jsonschema.Draft4Validator(
        SARIF_SUBSET, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    ).validate(log)


def github_required(log: dict[str, Any]) -> None:
    """What GitHub code scanning reads from an uploaded file (its "SARIF support" page)."""
    assert log["version"] == "2.1.0"
    assert log["$schema"]
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"]
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
    for result in run["results"]:
        assert result["ruleId"] == rule_ids[result["ruleIndex"]]
        assert result["message"]["text"]
        for location in result.get("locations", []):
            physical = location["physicalLocation"]
            uri = physical["artifactLocation"]["uri"]
            assert uri
            assert not uri.startswith("/")
            assert physical.get("region", {"startLine": 1})["startLine"] >= 1


def report_of(*findings: Finding) -> Report:
    checks = tuple(
        CheckResult.from_findings(name, [f for f in findings if f.check == name])
        for name in dict.fromkeys(f.check for f in findings)
    )
    return Report(checks, "main", 15000, 12)


def test_every_code_is_a_rule_and_levels_follow_severity(tmp_path) -> None:
    (tmp_path / "src" / "svc").mkdir(parents=True)
    (tmp_path / "src" / "svc" / "main.py").write_text("import jwt\n")
    report = report_of(
        Finding(
            "PF304",
            "imports",
            Severity.ERROR,
            "No module named 'jwt'",
            module="jwt",
            file="svc/main.py",
            line=1,
            chain=("svc.main",),
            hint="pip install 'PyJWT'",
        ),
        Finding("PF903", "distributions", Severity.WARNING, "a broken requirement"),
        Finding("PF305", "imports", Severity.INFO, "import cycle: a -> b -> a", file="a.py"),
    )
    log = sarif_log(report, roots=(tmp_path / "src",), srcroot=tmp_path)
    validate(log)
    github_required(log)
    (run,) = log["runs"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [e.code for e in CATALOGUE]
    levels = [(r["ruleId"], r["level"]) for r in run["results"]]
    assert levels == [("PF304", "error"), ("PF305", "note"), ("PF903", "warning")]
    first = run["results"][0]
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "src/svc/main.py", "uriBaseId": "SRCROOT"},
        "region": {"startLine": 1},
    }
    assert first["message"]["text"].endswith("chain: svc.main\nhint: pip install 'PyJWT'")
    assert "locations" not in run["results"][2]  # no file, no location
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_file_outside_srcroot_is_an_absolute_uri(tmp_path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "requirements.txt").write_text("x\n")
    (tmp_path / "repo").mkdir()
    report = report_of(
        Finding(
            "PF901",
            "distributions",
            Severity.ERROR,
            "x is not installed",
            file="requirements.txt",
            line=1,
        ),
    )
    log = sarif_log(report, roots=(outside,), srcroot=tmp_path / "repo")
    validate(log)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": (outside / "requirements.txt").as_uri()}


@pytest.mark.parametrize("broken", [True, False])
def test_cli_sarif_on_a_project(tmp_path, broken: bool) -> None:
    src = tmp_path / "src"
    (src / "app").mkdir(parents=True)
    (src / "app" / "__init__.py").write_text("")
    body = "import json\nimport nosuchmod_preflight_sarif\n" if broken else "import json\n"
    (src / "app" / "main.py").write_text(body)
    (tmp_path / "requirements.txt").write_text("click\nnosuchdist-preflight-sarif>=1 \n")
    (tmp_path / "pyproject.toml").write_text(PROJECT_CONFIG)
    done = run_preflight(
        "check", "--only", "imports,distributions", "--format", "sarif", cwd=tmp_path
    )
    assert done.returncode == (3 if broken else 9)
    log = json.loads(done.stdout)
    validate(log)
    github_required(log)
    results = log["runs"][0]["results"]
    uris = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in results
    }
    expected = {("PF901", "requirements.txt")}
    if broken:
        expected.add(("PF301", "src/app/main.py"))
    assert uris == expected
    assert log["runs"][0]["invocations"] == [
        {"executionSuccessful": True, "exitCode": 3 if broken else 9}
    ]


def test_paths_are_relative_to_the_repository_root_from_a_subfolder(tmp_path) -> None:
    # GitHub resolves a relative URI against the repository's root: a monorepo job that runs
    # preflight in services/api must still name services/api/src/app/main.py.
    (tmp_path / ".git").mkdir()
    project = tmp_path / "services" / "api"
    (project / "src" / "app").mkdir(parents=True)
    (project / "src" / "app" / "__init__.py").write_text("")
    (project / "src" / "app" / "main.py").write_text("import nosuchmod_preflight_sarif\n")
    (project / "requirements.txt").write_text("nosuchdist-preflight-sarif>=1\n")
    (project / "pyproject.toml").write_text(PROJECT_CONFIG)
    done = run_preflight(
        "check", "--only", "imports,distributions", "--format", "sarif", cwd=project
    )
    assert done.returncode == 3, done.stderr
    log = json.loads(done.stdout)
    validate(log)
    github_required(log)
    (run,) = log["runs"]
    locations = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["artifactLocation"]
        for r in run["results"]
    }
    assert locations == {
        "PF301": {"uri": "services/api/src/app/main.py", "uriBaseId": "SRCROOT"},
        "PF901": {"uri": "services/api/requirements.txt", "uriBaseId": "SRCROOT"},
    }
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_sample_upload_shape_matches_the_readme_workflow() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "github/codeql-action/upload-sarif" in readme
    assert "--format sarif" in readme
