"""Import name <-> distribution, in a real venv (see tests/venvs.py), and in the imports check.

The venv holds pfx-gamma (module gamma_impl), Pfx.Zeta (zeta_mod), an editable install by a
`.pth` folder (pfx-editable -> edpkg), one by a setuptools-style `__editable__` finder
(pfx-finder -> fpkg), and pfx-broken, whose top_level.txt names a module that is not there.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from venvs import TestVenv, build_venv

from preflight.distmap import DistributionMap, import_names_of, normalize

if TYPE_CHECKING:
    from pathlib import Path

QUESTIONS = """
import json, sys
from preflight.distmap import DistributionMap
from preflight.requirements import Declaration, RequirementsReader
from pathlib import Path

declaration = Declaration()
RequirementsReader(declaration, Path(sys.argv[1])).read(Path(sys.argv[1]) / "requirements.txt")
dmap = DistributionMap(lambda: declaration.requirements)
answers = {}
for module, top_missing in json.loads(sys.argv[2]):
    owner = dmap.owner(module, top_missing=top_missing)
    answers[module] = None if owner is None else [owner.distribution, owner.installed,
                                                  owner.declared_at]
answers["providers"] = {m: dmap.providers(m) for m in ("edpkg", "fpkg", "gamma_impl", "zeta_mod")}
print(json.dumps(answers))
"""


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> TestVenv:
    return build_venv(tmp_path_factory)


def ask(venv: TestVenv, folder: Path, requirements: str, modules: list[tuple[str, bool]]):
    (folder / "requirements.txt").write_text(requirements)
    done = venv.run("-c", QUESTIONS, str(folder), json.dumps(modules))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_installed_providers_editable_installs_included(venv, tmp_path) -> None:
    answers = ask(venv, tmp_path, "", [])
    assert answers["providers"] == {
        "edpkg": ["pfx-editable"],  # a .pth folder: RECORD lists only the .pth
        "fpkg": ["pfx-finder"],  # an __editable__ finder's MAPPING
        "gamma_impl": ["pfx-gamma"],  # RECORD, via packages_distributions()
        "zeta_mod": ["Pfx.Zeta"],
    }


def test_owner_of_missing_modules(venv, tmp_path) -> None:
    requirements = "PyJWT>=2.8\ngoogle-cloud-storage==2.1\npython-dateutil\nPyYAML\n"
    modules = [
        ("jwt", True),
        ("google", True),
        ("google.cloud.storage", False),
        ("dateutil", True),
        ("yaml", True),
        ("brokenmod", True),
        ("unrelated_xyz", True),
        ("pyj", True),
    ]
    answers = ask(venv, tmp_path, requirements, modules)
    assert answers["jwt"] == ["PyJWT", False, "requirements.txt:1"]
    assert answers["google"] == ["google-cloud-storage", False, "requirements.txt:2"]
    assert answers["google.cloud.storage"] == ["google-cloud-storage", False, "requirements.txt:2"]
    assert answers["dateutil"] == ["python-dateutil", False, "requirements.txt:3"]
    assert answers["yaml"] == ["PyYAML", False, "requirements.txt:4"]
    assert answers["brokenmod"] == ["pfx-broken", True, None]  # listed, but not there
    assert answers["unrelated_xyz"] is None
    assert answers["pyj"] is None  # a prefix of a name is not a match


def test_imports_check_names_the_distribution(venv, tmp_path) -> None:
    (tmp_path / "main.py").write_text(
        "import gamma_impl\nimport edpkg\nimport fpkg\nimport jwt\nimport brokenmod\n"
    )
    (tmp_path / "requirements.txt").write_text("pfx-gamma\nPyJWT>=2.8  # tokens\n")
    (tmp_path / "preflight.toml").write_text(
        'app = "main"\n[distributions]\nrequirements = ["requirements.txt"]\n'
        "[imports]\ncache = false\n"
    )
    done = venv.run(
        "-m", "preflight", "check", "--only", "imports", "--format", "json", cwd=tmp_path
    )
    report = json.loads(done.stdout)
    assert done.returncode == 3
    findings = {f["module"]: f for f in report["findings"]}
    assert set(findings) == {"jwt", "brokenmod"}  # the editable installs resolve
    jwt = findings["jwt"]
    assert jwt["code"] == "PF304"
    assert jwt["message"] == (
        "No module named 'jwt': distribution PyJWT (declared in requirements.txt:2)"
        " is not installed"
    )
    assert jwt["hint"] == "pip install 'PyJWT>=2.8'"
    assert (jwt["file"], jwt["line"]) == ("main.py", 4)
    broken = findings["brokenmod"]
    assert broken["code"] == "PF301"
    assert "distribution pfx-broken is installed and lists it" in broken["message"]
    assert "--force-reinstall pfx-broken" in broken["hint"]


@pytest.mark.parametrize(
    ("distribution", "module"),
    [
        ("PyJWT", "jwt"),
        ("PyYAML", "yaml"),
        ("python-dateutil", "dateutil"),
        ("beautifulsoup4", "beautifulsoup4"),
        ("msgpack-python", "msgpack"),
        ("Django", "django"),
    ],
)
def test_import_names_of(distribution: str, module: str) -> None:
    assert normalize(module) in import_names_of(distribution)


def test_nothing_is_read_until_asked() -> None:
    calls: list[int] = []

    def declared():
        calls.append(1)
        return []

    dmap = DistributionMap(declared)
    assert calls == []
    assert dmap.owner("nosuchmod_preflight_xyz") is None
    assert dmap.owner("nosuchmod_preflight_xyz") is None
    assert calls == [1]
