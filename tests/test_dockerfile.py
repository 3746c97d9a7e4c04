"""Dockerfile.example, parsed (no Docker engine runs here): the instructions the README promises."""

from __future__ import annotations

import io
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EXAMPLE, REPO
from dockerfile_parse import DockerfileParser

from preflight.checks.bind import findings_of
from preflight.serverargs import read_server_bind

DOCKERFILE = REPO / "Dockerfile.example"


@dataclass(frozen=True)
class Instruction:
    stage: int
    """Index of the FROM this instruction belongs to (0 for the first stage)."""
    name: str
    value: str


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    parser = DockerfileParser(fileobj=io.BytesIO(DOCKERFILE.read_bytes()))
    found: list[Instruction] = []
    stage = -1
    for item in parser.structure:
        name = item["instruction"]
        if name == "COMMENT":
            continue
        if name == "FROM":
            stage += 1
        found.append(Instruction(stage, name, item["value"]))
    return found


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def only(instructions: list[Instruction], name: str) -> Instruction:
    matching = [i for i in instructions if i.name == name]
    assert len(matching) == 1, f"{name}: {matching}"
    return matching[0]


def test_multi_stage_build_on_one_python(instructions: list[Instruction]) -> None:
    stages = [i.value for i in instructions if i.name == "FROM"]
    assert len(stages) == 2
    assert stages[0].endswith(" AS build")
    assert stages[1].endswith(" AS runtime")
    # The same base for both: the parse cache is per interpreter, and the venv is copied.
    assert stages[0].split()[0] == stages[1].split()[0]
    copies = [i.value for i in final_stage(instructions) if i.name == "COPY"]
    assert any(c.startswith("--from=build") and "/opt/venv" in c for c in copies)


def test_build_stage_fails_early_on_imports_and_distributions(
    instructions: list[Instruction],
) -> None:
    runs = [i for i in instructions if i.name == "RUN" and "-m preflight" in i.value]
    (check,) = runs
    assert check.stage == 0
    assert shlex.split(check.value) == [
        "python", "-m", "preflight", "check", "--only", "imports,distributions",
    ]  # fmt: skip
    build = [i for i in instructions if i.stage == 0]
    position = build.index(check)
    copied = " ".join(i.value for i in build[:position] if i.name == "COPY")
    for needed in ("pyproject.toml", "requirements.txt", "src"):
        assert needed in copied, f"{needed} is not in the image when the check runs"
    installs = " ".join(i.value for i in build[:position] if i.name == "RUN")
    assert "preflight-boot" in installs  # the distribution's name on the package index


def test_runtime_runs_as_a_non_root_user(instructions: list[Instruction]) -> None:
    user = only(final_stage(instructions), "USER").value
    assert user.split(":")[0] not in {"root", "0"}
    runtime = final_stage(instructions)
    assert runtime.index(only(runtime, "USER")) < runtime.index(only(runtime, "ENTRYPOINT"))


def test_entrypoint_is_the_script_in_exec_form(instructions: list[Instruction]) -> None:
    entry = json.loads(only(final_stage(instructions), "ENTRYPOINT").value)
    assert entry == ["/app/entrypoint.sh"]
    copied = " ".join(i.value for i in instructions if i.name == "COPY")
    assert "entrypoint.sh" in copied


def test_cmd_runs_gunicorn_with_uvicorn_workers_on_all_interfaces_at_port(
    instructions: list[Instruction],
) -> None:
    cmd = json.loads(only(final_stage(instructions), "CMD").value)
    env = {"PORT": "8080"}  # what Cloud Run sets
    server = read_server_bind(cmd, env, EXAMPLE)
    assert server is not None
    assert server.server == "gunicorn"
    assert [b.address for b in server.binds] == ["0.0.0.0:8080"]
    assert findings_of(server, env) == []  # the bind check passes on the image's own CMD
    assert "uvicorn_worker.UvicornWorker" in cmd[-1]
    assert cmd[-1].startswith("exec ")  # the shell hands its PID to gunicorn


def test_healthcheck_uses_preflight_probe(instructions: list[Instruction]) -> None:
    healthcheck = only(final_stage(instructions), "HEALTHCHECK").value
    options, _, command = healthcheck.partition("CMD")
    assert json.loads(command) == ["python", "-m", "preflight", "probe"]
    assert "--timeout=" in options
    assert "--start-period=" in options


def test_port_defaults_for_plain_docker_run(instructions: list[Instruction]) -> None:
    env = " ".join(i.value for i in final_stage(instructions) if i.name == "ENV")
    assert "PORT=8080" in env
    assert only(final_stage(instructions), "EXPOSE").value == "8080"


def test_files_the_build_copies_exist_in_the_example_layout() -> None:
    """The example plus entrypoint.sh is a complete build context (as the README shows)."""
    parser = DockerfileParser(fileobj=io.BytesIO(DOCKERFILE.read_bytes()))
    for item in parser.structure:
        if item["instruction"] != "COPY" or item["value"].startswith("--from="):
            continue
        *sources, _ = shlex.split(item["value"])
        for source in sources:
            where = REPO if source == "entrypoint.sh" else EXAMPLE
            assert (where / source).exists(), source
    assert Path(REPO / "entrypoint.sh").stat().st_mode & 0o111
