"""docker-compose.yml: valid by the Compose Specification, and each service's
command runs on this machine against a local Redis (no Docker engine here)."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import redis
import yaml

from tests.waiting import wait_until
from tests.wirewatch_process import free_port
from worker.service.embedded_redis import _redis_server_binary

PROJECT = Path(__file__).resolve().parents[1]
SCHEMA = PROJECT.parent / "shared" / "schemas" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
    return data


def test_compose_file_is_valid_by_the_compose_specification(compose: dict[str, Any]) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"needs the Compose Specification schema at {SCHEMA}")
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(compose)


def test_services_are_built_for_a_long_run(compose: dict[str, Any]) -> None:
    services = compose["services"]
    always = {name for name, service in services.items() if "profiles" not in service}
    assert always == {"redis", "worker", "beat"}
    assert services["flower"]["profiles"] == ["flower"]
    assert services["metrics"]["profiles"] == ["monitoring"]
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        assert "healthcheck" in service, name
    redis_args = services["redis"]["command"]
    for option, value in (("--appendonly", "yes"), ("--appendfsync", "everysec"),
                          ("--maxmemory-policy", "noeviction")):  # fmt: skip
        assert redis_args[redis_args.index(option) + 1] == value
    assert any(v.startswith("redis-data:") for v in services["redis"]["volumes"])
    for name in ("worker", "beat"):
        service = services[name]
        assert service["build"] == "." and service["image"] == "wirewatch:latest"
        assert "./config:/config:ro" in service["volumes"]
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    # Longer than the longest task (three requests at fetch.timeout) and the soft shutdown.
    assert _seconds(services["worker"]["stop_grace_period"]) > 3 * 20
    for name, service in services.items():
        assert service["deploy"]["resources"]["limits"]["memory"], name
    # Redis must stop writing (noeviction) before the container limit kills it.
    maxmemory = redis_args[redis_args.index("--maxmemory") + 1]
    assert _bytes(maxmemory) < _bytes(services["redis"]["deploy"]["resources"]["limits"]["memory"])


def test_every_environment_variable_is_commented() -> None:
    lines = (PROJECT / "docker-compose.yml").read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith("environment:")]
    assert starts
    for start in starts:
        indent = len(lines[start + 1]) - len(lines[start + 1].lstrip())
        block = []
        for line in lines[start + 1 :]:
            if line.strip() and len(line) - len(line.lstrip()) < indent:
                break
            block.append(line.strip())
        variables = [i for i, line in enumerate(block) if line and not line.startswith("#")]
        assert variables
        for i in variables:
            assert block[i - 1].startswith("#"), f"no comment above {block[i]}"


def _seconds(text: str) -> int:
    return int(text.rstrip("s"))


def _local(command: list[str]) -> list[str]:
    """A container command as it runs here: the venv's celery and wirewatch."""
    tools = {
        "celery": [sys.executable, "-m", "celery"],
        "wirewatch": [sys.executable, "-m", "worker"],
    }
    return [*tools.get(command[0], [command[0]]), *command[1:]]


@pytest.fixture
def service_env(
    compose: dict[str, Any], redis_server_url: str, tmp_path: Path
) -> Iterator[dict[str, str]]:
    config = tmp_path / "config"
    config.mkdir()
    (config / "sources.yaml").write_text("sources: []\n")
    (config / "rules.yaml").write_text("rules: []\n")
    (config / "settings.yaml").write_text("tick: 1s\n")
    environment = compose["x-wirewatch"]["environment"]
    env = dict(os.environ)
    env.update({k: str(v) for k, v in environment.items() if "${" not in str(v)})
    env.update(
        REDIS_URL=redis_server_url,
        WIREWATCH_CONFIG=str(config),
        WIREWATCH_DATA=str(tmp_path),
        HOSTNAME=socket.gethostname(),
    )
    yield env


def _start(command: list[str], env: dict[str, str], data: Path) -> subprocess.Popen[bytes]:
    command = [arg.replace("/data/", f"{data}/") for arg in command]
    return subprocess.Popen(
        _local(command), env=env, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _healthy(service: dict[str, Any], env: dict[str, str]) -> bool:
    kind, *test = service["healthcheck"]["test"]
    if kind == "CMD-SHELL":
        line = test[0].replace("$$", "$")
        head, _, rest = line.partition(" ")
        command = ["sh", "-c", shlex.join(_local([head])) + " " + rest]
    else:
        command = _local(test)
    return (
        subprocess.run(command, env=env, cwd=PROJECT, capture_output=True, timeout=60).returncode
        == 0
    )


@pytest.mark.slow
def test_worker_and_beat_commands_run_and_pass_their_healthchecks(
    compose: dict[str, Any], service_env: dict[str, str], tmp_path: Path
) -> None:
    services = compose["services"]
    worker = _start(services["worker"]["command"], service_env, tmp_path)
    beat = _start(services["beat"]["command"], service_env, tmp_path)
    try:
        wait_until(lambda: _healthy(services["worker"], service_env), 90, "the worker healthcheck")
        wait_until(lambda: _healthy(services["beat"], service_env), 90, "the beat healthcheck")
    finally:
        for process in (beat, worker):
            process.terminate()
        for process in (beat, worker):
            assert process.wait(60) == 0


def test_metrics_command_serves_prometheus_metrics(
    compose: dict[str, Any], service_env: dict[str, str], tmp_path: Path
) -> None:
    port = str(free_port())
    command = [port if arg == "9108" else arg for arg in compose["services"]["metrics"]["command"]]
    server = _start(command, service_env, tmp_path)
    try:
        body = wait_until(lambda: _get(f"http://127.0.0.1:{port}/metrics"), 60, "/metrics")
        assert "wirewatch_polls_total" in body and "wirewatch_outbox" in body
    finally:
        server.terminate()
        server.wait(30)


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
    except OSError:
        return None


def test_redis_command_runs_with_the_persistence_it_promises(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    args = compose["services"]["redis"]["command"]
    port = free_port()
    binary = _redis_server_binary()
    process = subprocess.Popen(
        [binary, *args[1:], "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, decode_responses=True)
    try:
        wait_until(lambda: _pings(client), 20, "redis-server with the compose arguments")
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
        assert client.config_get("maxmemory") == {"maxmemory": str(_bytes("1gb"))}
    finally:
        client.close()
        process.terminate()
        process.wait(20)


def _bytes(size: str) -> int:
    """A size as Redis ("1gb") or compose ("1536M") writes it."""
    parsed = re.fullmatch(r"(\d+)\s*([kmg]?)b?", size.lower())
    assert parsed, size
    number, unit = parsed.groups()
    scale: int = 1024 ** "_kmg".index(unit or "_")
    return int(number) * scale


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_dockerfile_builds_the_package_and_drops_root() -> None:
    lines = [line.strip() for line in (PROJECT / "Dockerfile").read_text().splitlines()]
    assert "RUN pip install ." in lines
    assert any(line.startswith("USER ") and line != "USER root" for line in lines)
    assert 'CMD ["wirewatch", "run"]' in lines
