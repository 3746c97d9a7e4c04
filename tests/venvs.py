"""A real virtual environment with tiny distributions, for the distributions and distmap tests.

The wheels are written here (a wheel is a zip with a dist-info folder) and installed by pip
into a venv made with `python -m venv`, offline: importlib-metadata then reads what pip
installed, RECORD and all. A `.pth` file appends this repo's environment *after* the venv's
own site-packages, so `python -m preflight` runs in the venv and sees its distributions first.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from conftest import REPO, child_env

if TYPE_CHECKING:
    import pytest

PIP = Path(sys.executable).with_name("pip")
#: What setuptools' strict editable mode installs, cut down: a MAPPING and a meta path finder.
FINDER = """\
import importlib.util
import sys

MAPPING: dict[str, str] = {{'fpkg': {target!r}}}


class _EditableFinder:
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname not in MAPPING:
            return None
        init = MAPPING[fullname] + "/__init__.py"
        return importlib.util.spec_from_file_location(
            fullname, init, submodule_search_locations=[MAPPING[fullname]]
        )


def install():
    sys.meta_path.append(_EditableFinder)
"""


@dataclass(frozen=True)
class TestVenv:
    """The venv: its interpreter, its site-packages, and the editable sources."""

    __test__ = False
    python: Path
    site_packages: Path
    editable_src: Path

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run the venv's interpreter (no PREFLIGHT_* variables from the test's environment)."""
        return subprocess.run(
            [str(self.python), *args],
            cwd=cwd or REPO,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def wheel(
    folder: Path,
    name: str,
    version: str,
    *,
    files: dict[str, str] | None = None,
    requires: tuple[str, ...] = (),
    extras: tuple[str, ...] = (),
) -> Path:
    """Write a minimal, valid wheel (METADATA 2.1, WHEEL, RECORD) and return its path."""
    stem = f"{name.replace('-', '_')}-{version}"
    info = f"{stem}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    metadata += [f"Provides-Extra: {extra}" for extra in extras]
    metadata += [f"Requires-Dist: {requirement}" for requirement in requires]
    contents = dict(files or {})
    contents[f"{info}/METADATA"] = "\n".join(metadata) + "\n"
    contents[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: preflight-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = []
    for path, text in contents.items():
        digest = hashlib.sha256(text.encode()).digest()
        encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{path},sha256={encoded},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    contents[f"{info}/RECORD"] = "\n".join(record) + "\n"
    target = folder / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
    return target


_BUILT: dict[int, TestVenv] = {}


def build_venv(factory: pytest.TempPathFactory) -> TestVenv:
    """The session's venv, built once (about two seconds: venv without pip, one pip install)."""
    key = id(factory)
    if key in _BUILT:
        return _BUILT[key]
    base = factory.mktemp("venv")
    home = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    python = home / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    src = base / "editable-src"
    (src / "edpkg").mkdir(parents=True)
    (src / "edpkg" / "__init__.py").write_text("VALUE = 1\n")
    finder_target = base / "finder-src" / "fpkg"
    finder_target.mkdir(parents=True)
    (finder_target / "__init__.py").write_text("")
    wheels = base / "wheels"
    wheels.mkdir()
    finder = "__editable___pfx_finder_1_0_finder"
    built = [
        wheel(
            wheels,
            "pfx-alpha",
            "1.0",
            files={"pfx_alpha/__init__.py": ""},
            requires=(
                "pfx-beta>=2",
                'pfx-gamma ; extra == "fast"',
                'pfx-absent-dep>=1 ; extra == "slow"',
                'pfx-never ; python_version < "3.0"',
            ),
            extras=("fast", "slow"),
        ),
        wheel(wheels, "pfx-beta", "1.5", files={"pfx_beta.py": ""}),
        wheel(wheels, "pfx-gamma", "1.0", files={"gamma_impl/__init__.py": ""}),
        wheel(wheels, "Pfx.Zeta", "2.0rc1", files={"zeta_mod/__init__.py": ""}),
        wheel(
            wheels,
            "pfx-app",
            "0.3",
            requires=(
                "pfx-alpha",
                'pfx-gamma>=5 ; extra == "db"',
                'pfx-app[db] ; extra == "all"',
            ),
            extras=("db", "all"),
        ),
        wheel(
            wheels,
            "pfx-editable",
            "1.0",
            files={"_pfx_editable.pth": f"{src}\n"},
        ),
        wheel(
            wheels,
            "pfx-finder",
            "1.0",
            files={
                "__editable__.pfx_finder-1.0.pth": f"import {finder}; {finder}.install()\n",
                f"{finder}.py": FINDER.format(target=str(finder_target)),
            },
        ),
        wheel(wheels, "pfx-broken", "1.0", files={}),  # RECORD lists no module at all
    ]
    subprocess.run(
        [str(PIP), "--python", str(python), "install", "--quiet", "--no-index", "--no-deps",
         "--disable-pip-version-check", *map(str, built)],
        check=True,
        env=child_env(PIP_NO_INPUT="1"),
    )  # fmt: skip
    # pfx-broken's top-level name: a package listed in top_level.txt that is not there
    info = next(site_packages.glob("pfx_broken-1.0.dist-info"))
    (info / "top_level.txt").write_text("brokenmod\n")
    outer = sysconfig.get_path("purelib")
    (site_packages / "zz_preflight_tests.pth").write_text(f"{outer}\n{REPO}\n")
    _BUILT[key] = TestVenv(python, site_packages, src)
    return _BUILT[key]
