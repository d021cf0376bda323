"""Packaging: CLI options, default bind, compose/Dockerfile agreeing with the CLI, README truths."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from emulator.__main__ import parse_args
from emulator.config import DEFAULT_PORT, Config
from emulator.docs import operations_table
from tests.server_process import start, stop, wait_gone

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(name: str) -> str:
    with open(os.path.join(REPO, name), encoding="utf-8") as handle:
        return handle.read()


def test_defaults_bind_loopback_on_a_port_clear_of_localstack_and_moto() -> None:
    config = parse_args([])
    assert config.host == "127.0.0.1"
    assert config.port == DEFAULT_PORT and DEFAULT_PORT not in (4566, 5000)


def test_environment_mirrors_options(tmp_path) -> None:
    config = Config.from_env({"EMULATOR_PORT": "4700", "EMULATOR_HOST": "0.0.0.0", "EMULATOR_REGION": "eu-west-1",
                              "EMULATOR_DATA_DIR": str(tmp_path / "d"), "EMULATOR_JOB_GRACE_SECONDS": "2.5",
                              "EMULATOR_DATA_SYNC": "normal"})
    assert (config.port, config.host, config.region, config.job_grace_seconds) == (4700, "0.0.0.0", "eu-west-1", 2.5)
    assert config.data_dir == str(tmp_path / "d") and config.data_sync == "normal"
    assert parse_args(["--data-sync", "NORMAL"]).data_sync == "normal" and parse_args([]).data_sync == "full"


def test_cli_starts_on_loopback_and_creates_the_data_dir(tmp_path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data_dir = tmp_path / "state"
    log_path = tmp_path / "emulator.log"
    with open(log_path, "w") as log:
        process = start(["--port", str(port), "--data-dir", str(data_dir)], stdout=log, stderr=subprocess.STDOUT,
                        text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health", timeout=1) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, f"emulator did not start: {log_path.read_text()}"
                assert process.poll() is None, log_path.read_text()
                time.sleep(0.05)
        assert data_dir.is_dir()
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        if listening.strip():  # local address column only: the peer column is always 0.0.0.0:*
            local = listening.split()[3]
            assert local == f"127.0.0.1:{port}"
    finally:
        assert stop(process, timeout=10) == 0, "the emulator did not stop cleanly within 10 s of SIGTERM"


def test_compose_runs_the_cli_on_its_port_with_a_volume_and_healthcheck() -> None:
    compose = yaml.safe_load(_read("docker-compose.yml"))
    service = compose["services"]["aws-ml-emulator"]
    config = parse_args(service["command"][1:])
    assert service["command"][0] == "aws-ml-emulator"
    assert config.host == "0.0.0.0"
    assert f"{config.port}:{config.port}" in service["ports"][0]
    volume = service["volumes"][0].split(":")
    assert volume[1] == config.data_dir and volume[0] in compose["volumes"]
    health = " ".join(service["healthcheck"]["test"])
    assert f"127.0.0.1:{config.port}/_emulator/health" in health


def test_dockerfile_command_matches_the_cli() -> None:
    dockerfile = _read("Dockerfile")
    command = re.search(r'^CMD (\[.*\])$', dockerfile, re.M).group(1)
    argv = yaml.safe_load(command)
    config = parse_args(argv[1:])
    assert argv[0] == "aws-ml-emulator" and config.host == "0.0.0.0"
    assert f"EXPOSE {config.port}" in dockerfile
    assert f"127.0.0.1:{config.port}/_emulator/health" in dockerfile


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = _read("README.md")
    commands = re.findall(r"^```(?:bash|sh)\n(.+?)\n```", readme, re.M | re.S)[:2]
    assert "aws-ml-emulator" in commands[0] and "pip install" in commands[0]
    assert commands[1].strip() in _read(".ci/run")
    assert shlex.split(commands[1])  # a well-formed shell line


def test_readme_operations_table_is_generated() -> None:
    assert operations_table() in _read("README.md")


def test_clients_prints_shell_exports(tmp_path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "TMPDIR": str(tmp_path / "tmp")}
    os.makedirs(env["TMPDIR"])
    runs = [subprocess.run([sys.executable, "-m", "clients", "http://127.0.0.1:4700"], capture_output=True, text=True,
                           check=True, cwd=REPO, env=env) for _ in range(2)]
    exports = dict(line[len("export "):].split("=", 1) for line in runs[0].stdout.splitlines())
    assert exports["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4700"
    config = exports["SAGEMAKER_USER_CONFIG_OVERRIDE"].strip("'")
    assert config == str(tmp_path / "config" / "aws-ml-emulator" / "sagemaker-config.yaml")  # one per-user place
    assert "TelemetryOptOut: true" in open(config).read()
    assert runs[1].stdout == runs[0].stdout  # idempotent: same file, same exports
    assert os.listdir(tmp_path / "config" / "aws-ml-emulator") == ["sagemaker-config.yaml"]
    assert os.listdir(env["TMPDIR"]) == []  # no temporary directory left behind


def test_background_start_returns_once_the_server_answers(tmp_path) -> None:
    import signal
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    result = subprocess.run([sys.executable, "-m", "emulator", "--port", str(port), "--background"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=150)
    assert result.returncode == 0, result.stdout + result.stderr
    pid = int(re.search(r"PID (\d+)", result.stdout).group(1))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health", timeout=5) as response:
            assert response.status == 200  # already answering when the command returned
        log = tmp_path / "state" / "aws-ml-emulator" / f"server-{port}.log"
        assert str(log) in result.stdout
        assert f"listening on http://127.0.0.1:{port}" in log.read_text()
    finally:  # it is not our child: poll until it has gone, kill its group if it does not
        os.kill(pid, signal.SIGTERM)
        if not wait_gone(pid, timeout=10):
            os.killpg(pid, signal.SIGKILL)
            pytest.fail("the background emulator did not exit within 10 s of SIGTERM")
