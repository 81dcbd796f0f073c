"""The container image and compose files, validated as far as a machine without a Docker
daemon allows: the image's own install and start commands run in a clean virtual environment,
the compose files parse (``docker compose config``, or ``docker-compose config`` where the v2
plugin is missing) and hold
the settings replicas must share."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.dockerfile import Stage, read_stages
from tests.support.servers import wait_until_up
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.long(57)]

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SINGLE = DEPLOY / "compose.yaml"
REPLICAS = DEPLOY / "compose.replicas.yaml"
SHARED_SETTINGS = (
    "LUMAGATE_DATABASE_URL",
    "LUMAGATE_SECRET_KEY",
    "LUMAGATE_ADMIN_KEY",
    "LUMAGATE_PUBLIC_URL",
    "LUMAGATE_MEDIA_URL",
    "LUMAGATE_S3_ENDPOINT_URL",
)
REQUIRED_VARIABLE = re.compile(r"\$\{(\w+):\?")


def _runtime() -> Stage:
    stages = read_stages(ROOT / "Dockerfile")
    assert len(stages) >= 2, "the image is built in more than one stage"
    return stages[-1]


def _compose(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _replica_env(service: dict[str, Any]) -> dict[str, str]:
    env = service["environment"]
    assert isinstance(env, dict)
    return {str(k): str(v) for k, v in env.items()}


def test_image_runs_as_a_user_with_a_data_volume_and_a_healthcheck() -> None:
    runtime = _runtime()
    assert runtime.last("USER") not in ("root", "0")
    assert "/data" in runtime.last("VOLUME")
    assert runtime.env()["LUMAGATE_DATA_DIR"] == "/data"
    assert "/healthz" in runtime.healthcheck_command()
    assert any("--from=build" in copy for copy in runtime.all("COPY"))


def test_compose_files_hold_what_replicas_share() -> None:
    single = _compose(SINGLE)["services"]["lumagate"]
    assert any(str(v).endswith(":/data") for v in single["volumes"])
    replicas = _compose(REPLICAS)
    services = replicas["services"]
    names = ("lumagate-1", "lumagate-2", "lumagate-3")  # docs/replicas.md runs three
    assert {"postgres", "minio", "proxy", "migrate", *names} <= set(services)
    first, *others = (_replica_env(services[n]) for n in names)
    for other in others:
        for name in SHARED_SETTINGS:
            assert first[name] == other[name], f"{name} differs between the replicas"
    assert first["LUMAGATE_DATABASE_URL"].startswith("postgresql+asyncpg://")
    # Media in the S3 store (MinIO), each replica with a data dir of its own.
    assert first["LUMAGATE_MEDIA_URL"].startswith("s3://")
    assert first["LUMAGATE_S3_ENDPOINT_URL"] == "http://minio:9000"
    volumes = [tuple(services[n]["volumes"]) for n in names]
    assert len(set(volumes)) == len(names) and all(v[0].endswith(":/data") for v in volumes)
    assert "bucket" in services
    assert len({env["LUMAGATE_SERVER_ID"] for env in (first, *others)}) == len(names)
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert all(f"{name}:8000" in caddyfile for name in names)
    assert "health_uri /readyz" in caddyfile
    example = (DEPLOY / "replicas.env.example").read_text()
    for variable in set(REQUIRED_VARIABLE.findall(REPLICAS.read_text())):
        assert re.search(rf"^{variable}=", example, re.M), f"{variable} not in the example env"


PROJECT_NAME = re.compile(r"^name:\s*(\S+)\s*$", re.M)


def _compose_cli() -> list[str] | str:
    """``docker compose`` (v2) where the plugin exists, else ``docker-compose`` (v1, the
    Debian package .ci/run installs); the reason to skip when neither is there."""
    if shutil.which("docker") is not None:
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose") is not None:
        return ["docker-compose"]
    return "neither docker compose (v2) nor docker-compose (v1) is installed"


def _compose_config(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``config --quiet`` of ``path``. Compose v1 predates the top-level ``name`` (the project
    name) of the Compose Specification: for it the name is passed as ``--project-name`` and a
    copy without that one line is validated, relative paths resolved from the original's folder.
    """
    cli = _compose_cli()
    if isinstance(cli, str):
        pytest.skip(cli)
    env = {**os.environ}
    for variable in REQUIRED_VARIABLE.findall(path.read_text()):
        env.setdefault(variable, f"test-{variable.lower()}")
    args = [*cli, "-f", str(path)]
    if cli == ["docker-compose"]:
        text = path.read_text()
        named = PROJECT_NAME.search(text)
        copy = tmp_path / path.name
        copy.write_text(PROJECT_NAME.sub("", text))
        args = [*cli, "--project-directory", str(path.parent), "-f", str(copy)]
        if named:
            args[1:1] = ["--project-name", named[1]]
    return subprocess.run(
        [*args, "config", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("path", [SINGLE, REPLICAS], ids=lambda p: p.name)
def test_docker_compose_config_parses(path: Path, tmp_path: Path) -> None:
    result = _compose_config(path, tmp_path)
    assert result.returncode == 0, result.stderr


def test_docker_compose_config_refuses_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken" / SINGLE.name
    broken.parent.mkdir()
    broken.write_text(SINGLE.read_text().replace("    restart:", "    restart_policy:", 1))
    assert broken.read_text() != SINGLE.read_text()
    result = _compose_config(broken, tmp_path)
    assert result.returncode != 0
    assert "restart_policy" in result.stderr


def _tracked_copy(target: Path) -> Path:
    """The files git tracks in this checkout, copied to ``target``: the image's build context.

    A wheel built from the checkout itself would reuse setuptools' ``build/`` folder of earlier
    builds, which keeps files since renamed or deleted (a migration under its old name)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    )
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _venv_install(tmp_path: Path) -> Path:
    """A wheel of this checkout installed into a fresh venv, like the image's runtime stage.

    ``--no-compile``: pip's byte-compiling of every installed module was half the install's
    CPU (~9 of ~18 s here); the server started below compiles only what it imports (as source,
    like any checkout), and ``make test`` byte-compiles ``src`` itself."""
    wheels = tmp_path / "wheels"
    context = _tracked_copy(tmp_path / "context")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(wheels),
            str(context),
        ],
        check=True,
        timeout=600,
    )
    venv = tmp_path / "venv"
    # No pip of its own (ensurepip cost ~8 s of CPU here): this process's pip installs into it,
    # run by the venv's interpreter (``--python``), as the image's pip installs into its own.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--quiet",
            "--no-compile",
            "--find-links",
            str(wheels),
            "lumagate",
        ],
        check=True,
        timeout=900,
    )
    return venv


def test_image_install_and_start_commands_in_a_clean_venv(tmp_path: Path) -> None:
    runtime = _runtime()
    venv = _venv_install(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LUMAGATE_", "VIRTUAL_ENV"))}
    env.update(runtime.env())
    # What the container gives by its own means: the volume path and the published port. Here
    # the port is any free one (0), reported through LUMAGATE_PORT_FILE, so nothing can race
    # for it; the healthcheck then reads the bound port from LUMAGATE_PORT as in the image.
    port_file = tmp_path / "port"
    env.update(
        PATH=f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
        LUMAGATE_DATA_DIR=str(tmp_path / "data"),
        LUMAGATE_HOST="127.0.0.1",
        LUMAGATE_PORT="0",
        LUMAGATE_PORT_FILE=str(port_file),
    )
    (tmp_path / "data").mkdir()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(runtime.cmd(), env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: port_file.is_file() or process.poll() is not None, "the bound port")
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        port = int(port_file.read_text())
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process, timeout=90)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok"
        health = subprocess.run(
            ["sh", "-c", runtime.healthcheck_command()],
            env={**env, "LUMAGATE_PORT": str(port)},
            timeout=30,
            check=False,
        )
        assert health.returncode == 0
        served = subprocess.run(
            ["sh", "-c", "command -v lumagate"], env=env, capture_output=True, text=True
        )
        assert served.stdout.strip() == str(venv / "bin" / "lumagate")
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, (tmp_path / "serve.log").read_text()
