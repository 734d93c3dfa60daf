"""What `deploy/` ships is valid for the tools that run it: systemd, a container engine, pip."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _unit_for_analysis(tmp_path: Path) -> Path:
    # systemd-analyze checks that ExecStart exists; the installed path is not on a build machine.
    text = (DEPLOY / "topcontact-mail.service").read_text(encoding="utf-8")
    unit = tmp_path / "topcontact-mail.service"
    unit.write_text(
        text.replace("/opt/topcontact-mail/.venv/bin/topcontact-mail", "/bin/true"), "utf-8"
    )
    return unit


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed on this machine"
)


@needs_systemd
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(SYSTEMD_ANALYZE), "verify", str(_unit_for_analysis(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


@needs_systemd
def test_the_unit_is_hardened_to_an_ok_exposure(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(SYSTEMD_ANALYZE), "security", "--offline=true", str(_unit_for_analysis(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found, result.stdout[-500:]
    assert float(found.group(1)) < 2.0


def test_the_unit_is_notify_with_a_watchdog_and_private_state() -> None:
    text = (DEPLOY / "topcontact-mail.service").read_text(encoding="utf-8")
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "UMask=0077",
        "StateDirectoryMode=0700",
        "User=topcontact",
        "ProtectSystem=strict",
        "ExecReload=/bin/kill -HUP $MAINPID",  # SIGHUP: the configuration read again
    ):
        assert line in text


def test_the_container_definition_passes_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run(
        [str(hadolint), str(DEPLOY / "Containerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_container_runs_as_nobody_in_particular_with_a_health_check() -> None:
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    assert re.search(r"^USER 10001", text, re.M)
    assert "HEALTHCHECK" in text
    assert "/health" in text
    assert "exchange_sandbox" not in text  # the test double stays out of the image


def test_compose_runs_it_read_only_unprivileged_and_healthy() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["topcontact-mail"]

    assert service["read_only"] is True
    assert service["user"].split(":")[0] not in ("0", "root")
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert any("/health" in part for part in service["healthcheck"]["test"])
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])
    mounts = {v.split(":")[1] for v in service["volumes"]}
    assert {"/etc/topcontact-mail", "/var/lib/topcontact-mail"} <= mounts
    assert set(service["secrets"]) <= set(compose["secrets"])


@pytest.mark.integration
def test_the_wheel_installs_the_product_without_the_test_double(tmp_path: Path) -> None:
    # Built from a copy: setuptools leaves a build/ folder behind in the tree it builds.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "topcontact_mail",
        source / "topcontact_mail",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("topcontact_mail-*.whl")
    names = zipfile.ZipFile(wheel).namelist()

    assert not [n for n in names if n.startswith("exchange_sandbox")]
    assert not [n for n in names if n.startswith("tests/")]
    assert "topcontact_mail/templates/acknowledgement.nl.txt.j2" in names
    assert "topcontact_mail/py.typed" in names
