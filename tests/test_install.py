"""An installed `monitor` works anywhere (issue 14): the wheel is built from a copy of the tree, installed into
a fresh virtual environment, and run from an empty folder whose HOME and XDG folders are temporary, as a new
user would after `pip install` or `pipx install`.

Only loopback traffic: the wheel is built without build isolation (setuptools comes with the test extras)
and installed without its dependencies, which the fresh environment borrows from the one running the tests
through a path file. A plain path line adds the folder to sys.path without running its own path files, so
the development checkout's editable install stays out: the fresh environment imports the wheel's copy, which
each test checks. CI could `pip install` the wheel with its dependencies from the registry: measured on this
machine, a fresh environment with pip and the wheel installed that way took 14.5 s, against 2.3 s here, and
would prove only that the dependency ranges resolve. The whole file takes about 12 s (build 3 s).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What a build reads: the package, its metadata and the files the metadata names, and the config folder the
# packaged starter config links to.
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "config", "src")


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy so that the build's own folders never land in the working tree."""
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        elif (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        cwd=source,
        timeout=300,
    )
    (built,) = out.glob("monitor-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel; returns its `monitor` script."""
    home = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        cwd=home,
        timeout=300,
    )
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=home).strip())
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    return home / "bin" / "monitor"


@pytest.fixture()
def user(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty folder to run in, and an environment whose home and XDG folders are temporary."""
    folder = tmp_path / "empty"
    folder.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MONITOR_", "XDG_", "PYTHON", "VIRTUAL_ENV"))
    }
    env |= {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / "config"),
        "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
        "PATH": os.defpath,
    }
    return folder, env


def test_the_wheel_holds_the_starter_config_and_the_licence(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    starter = zipfile.ZipFile(wheel).read("monitor/starter/feeds.toml").decode()
    # A link in the tree; its content in the wheel.
    assert "[themes." in starter and "[[feeds]]" in starter, starter[:200]
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), names


def test_the_packaged_starter_config_is_the_repositorys(wheel: Path) -> None:
    """In the tree src/monitor/starter/feeds.toml is a link to config/feeds.toml (reading it there compares
    the file with itself); what ships is the wheel's entry: a regular file, byte for byte the repository's."""
    entry = zipfile.ZipFile(wheel).getinfo("monitor/starter/feeds.toml")
    assert not stat.S_ISLNK(entry.external_attr >> 16), "the wheel holds a link, not the starter config"
    assert zipfile.ZipFile(wheel).read(entry) == (ROOT / "config" / "feeds.toml").read_bytes()


def test_installed_monitor_inits_checks_and_demos_from_an_empty_folder(
    installed: Path, user: tuple[Path, dict[str, str]]
) -> None:
    folder, env = user
    python = installed.parent / "python"
    where = run([str(python), "-c", "import monitor; print(monitor.__file__)"], cwd=folder, env=env)
    assert str(installed.parent.parent) in where, f"the fresh environment imported another monitor: {where}"
    starter = Path(where.strip()).parent / "starter" / "feeds.toml"
    assert starter.is_file() and not starter.is_symlink(), f"{starter}: not a file of the installed package"
    assert starter.read_bytes() == (ROOT / "config" / "feeds.toml").read_bytes()

    out = run([str(installed), "init"], cwd=folder, env=env)
    assert (folder / "config" / "feeds.toml").is_file() and (folder / "digests").is_dir(), out
    out = run([str(installed), "check"], cwd=folder, env=env)
    assert "config/feeds.toml: OK" in out and "./config/feeds.toml in this folder" in out, out
    out = run([str(installed), "--version"], cwd=folder, env=env)
    assert "version" in out and "0.0.0" not in out, out
    out = run([str(installed), "demo", "--dir", str(folder / "demo")], cwd=folder, env=env, timeout=180)
    assert "Digest of" in out, out
    assert list((folder / "digests").glob("*.html")), f"no digest in the folder init made: {out}"
