"""Reading declared requirements: pip's files, pyproject [project], installed Requires-Dist."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from preflight.config import load_config
from preflight.requirements import (
    Declaration,
    RequirementsReader,
    declared_requirements,
    logical_lines,
    read_distribution,
    read_pyproject,
    split_options,
)

if TYPE_CHECKING:
    from pathlib import Path


def read(tmp_path: Path, files: dict[str, str], first: str = "requirements.txt") -> Declaration:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    declaration = Declaration()
    RequirementsReader(declaration, tmp_path).read(tmp_path / first)
    return declaration


def names(declaration: Declaration) -> list[tuple[str, str, int | None]]:
    return [(d.name, str(d.requirement.specifier), d.line) for d in declaration.requirements]


def test_comments_continuations_and_hashes(tmp_path) -> None:
    text = (
        "# a comment\n"
        "fastapi>=0.110  # trailing comment\n"
        "\n"
        "uvicorn[standard] \\\n"
        "    >=0.29 \\\n"
        "    --hash=sha256:abc --hash=sha256:def\n"
        "--index-url https://pypi.example/simple\n"
        "pkg==1.0 ; python_version < '3.8'\n"
        "name-with-url @ https://example.com/name-1.0.tar.gz#sha256=00\n"
    )
    declaration = read(tmp_path, {"requirements.txt": text})
    assert names(declaration) == [
        ("fastapi", ">=0.110", 2),
        ("uvicorn", ">=0.29", 4),
        ("pkg", "==1.0", 8),
        ("name-with-url", "", 9),
    ]
    assert declaration.requirements[1].requirement.extras == {"standard"}
    assert declaration.problems == []
    assert declaration.sources == ["requirements.txt"]


def test_includes_and_constraints_relative_to_the_including_file(tmp_path) -> None:
    declaration = read(
        tmp_path,
        {
            "requirements.txt": "-r sub/base.txt\n-c constraints.txt\nlocal==2\n",
            "sub/base.txt": "--requirement=more.txt\nbase>=1\n",
            "sub/more.txt": "-rbase.txt\nmore\n",  # a loop back: read once
            "constraints.txt": "base==1.4\n",
        },
    )
    assert names(declaration) == [("more", "", 2), ("base", ">=1", 2), ("local", "==2", 3)]
    assert [(d.name, d.file, d.line) for d in declaration.constraints] == [
        ("base", "constraints.txt", 1)
    ]
    assert declaration.requirements[0].file == "sub/more.txt"


def test_missing_include_and_bad_line_are_pf904_with_where(tmp_path) -> None:
    declaration = read(tmp_path, {"requirements.txt": "ok\n-r nothere.txt\nbad===\n"})
    problems = [(p.code, p.file, p.line) for p in declaration.problems]
    assert problems == [("PF904", "requirements.txt", 2), ("PF904", "requirements.txt", 3)]
    assert "nothere.txt does not exist" in declaration.problems[0].message
    assert "not a valid requirement" in declaration.problems[1].message
    assert names(declaration) == [("ok", "", 1)]


def test_unreadable_file_is_pf904(tmp_path) -> None:
    (tmp_path / "requirements.txt").write_bytes(b"\xff\xfe\x00bad")
    declaration = Declaration()
    RequirementsReader(declaration, tmp_path).read(tmp_path / "requirements.txt")
    assert [p.code for p in declaration.problems] == ["PF904"]
    assert "UTF-8" in declaration.problems[0].message


def test_urls_and_paths_named_when_they_say_else_skipped(tmp_path) -> None:
    project = tmp_path / "libs" / "shared"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "shared-lib"\nversion = "1"\n')
    text = (
        "git+https://github.com/org/repo.git@v1#egg=repo-pkg\n"
        "https://files.example/wheels/Some_Pkg-2.1-py3-none-any.whl\n"
        "./libs/shared\n"
        "-e ./libs/shared\n"
        "https://files.example/archive/master.zip\n"
        "https://token:s3cret@files.example/x\n"
    )
    declaration = read(tmp_path, {"requirements.txt": text})
    assert names(declaration) == [
        ("repo-pkg", "", 1),
        ("some-pkg", "==2.1", 2),
        ("shared-lib", "", 3),
        ("shared-lib", "", 4),
    ]
    assert len(declaration.skipped) == 2
    assert all("s3cret" not in entry for entry in declaration.skipped)


def test_a_local_path_in_a_nested_file_is_relative_to_the_project_as_pip_reads_it(
    tmp_path,
) -> None:
    # pip resolves `-r` relative to the including file but a local path relative to the folder
    # it runs in (pypa/pip#8765): `-e .` in requirements/prod.txt is the project itself.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "the-app"\nversion = "1"\n')
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "base.txt").write_text("click\n")
    (tmp_path / "requirements" / "prod.txt").write_text("-r base.txt\n-e .\n")
    declaration = Declaration()
    RequirementsReader(declaration, tmp_path).read(tmp_path / "requirements" / "prod.txt")
    assert [(d.name, d.file, d.line) for d in declaration.requirements] == [
        ("click", "requirements/base.txt", 1),
        ("the-app", "requirements/prod.txt", 2),
    ]
    assert declaration.skipped == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("name>=1 --hash=sha256:x", ("name>=1", {"--hash": "sha256:x"})),
        ("-r other.txt", ("", {"-r": "other.txt"})),
        ("-cconstraints.txt", ("", {"-c": "constraints.txt"})),
        ("-e git+https://x/y#egg=z", ("", {"-e": "git+https://x/y#egg=z"})),
        ("--pre", ("", {"--pre": ""})),
    ],
)
def test_split_options(line: str, expected: tuple[str, dict[str, str]]) -> None:
    assert split_options(line) == expected


def test_logical_lines_keep_url_fragments_and_comment_continuations() -> None:
    text = "a#egg=b\nc \\\n  d\n# not continued \\\nlast \\"
    assert [(line.number, line.text) for line in logical_lines(text)] == [
        (1, "a#egg=b"),
        (2, "c   d"),
        (5, "last"),
    ]


def test_pyproject_dependencies_extras_and_self_reference(tmp_path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[project]\n"
        'name = "My_App"\n'
        "dependencies = [\n"
        '    "fastapi>=0.110",\n'
        "]\n"
        "[project.optional-dependencies]\n"
        'db = ["asyncpg>=0.29"]\n'
        'all = ["my-app[db]", "redis"]\n'
        'test = ["pytest"]\n'
    )
    declaration = Declaration()
    read_pyproject(declaration, pyproject, ["all", "nope"], tmp_path)
    assert names(declaration) == [
        ("fastapi", ">=0.110", 4),
        ("redis", "", 8),
        ("asyncpg", ">=0.29", 7),
    ]
    assert [(p.code, p.file) for p in declaration.problems] == [("PF905", "pyproject.toml")]
    assert declaration.project == "My_App"


def test_pyproject_dynamic_dependencies_are_reported(tmp_path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndynamic = ["dependencies"]\n')
    declaration = Declaration()
    read_pyproject(declaration, pyproject, [], tmp_path)
    assert [p.code for p in declaration.problems] == ["PF904"]
    assert "dynamic" in declaration.problems[0].message


def test_installed_distribution_requires_dist() -> None:
    declaration = Declaration()
    read_distribution(declaration, "pydantic-settings", [])
    assert "pydantic" in {d.name for d in declaration.requirements}
    assert declaration.sources[0].startswith("Requires-Dist of pydantic-settings ")
    missing = Declaration()
    read_distribution(missing, "nosuchdist-preflight", [])
    assert [d.name for d in missing.requirements] == ["nosuchdist-preflight"]


def test_config_order_files_and_distribution_else_pyproject(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = ["click"]\n[tool.preflight]\napp = "main"\n'
    )
    (tmp_path / "requirements.txt").write_text("structlog\n")
    fallback = declared_requirements(load_config({}, {}, tmp_path))
    assert [d.name for d in fallback.requirements] == ["click"]
    assert fallback.requirements[0].where == "pyproject.toml:3"
    explicit = declared_requirements(
        load_config(
            {"distributions": {"requirements": [str(tmp_path / "requirements.txt")]}}, {}, tmp_path
        )
    )
    assert [d.name for d in explicit.requirements] == ["structlog"]
