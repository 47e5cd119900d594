"""The container image's invariants, read from the Dockerfile and compose.yaml (this machine
has no Docker engine): two stages on slim Python 3.11, a non-root user, the data directory
a volume, the port signoff serves by default exposed, a health check on /healthz where
SIGNOFF_HTTP says (run for real against the operator's HTTP), SIGTERM to stop, a command
that exists, and the docker run examples run as compose.yaml runs it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from bot.cli_args import parser
from bot.config import KNOWN, ConfigError, Settings
from bot.metrics import Metrics
from bot.ops_http import OpsServer

ROOT = Path(__file__).resolve().parents[1]
Instruction = tuple[str, str]


def instructions(path: Path) -> list[Instruction]:
    """(KEYWORD, arguments) per instruction: comments dropped, continuations joined."""
    out: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def stages(found: list[Instruction]) -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for item in found:
        if item[0] == "FROM":
            result.append([])
        result[-1].append(item)
    return result


def env_of(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in stage:
        if keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def only(stage: list[Instruction], keyword: str) -> str:
    (value,) = [rest for k, rest in stage if k == keyword]
    return value


DOCKERFILE = instructions(ROOT / "Dockerfile")
BUILD, FINAL = stages(DOCKERFILE)
DEFAULT_PORT = Settings.model_fields["http"].default.rpartition(":")[2]


def test_two_stages_on_slim_python_311() -> None:
    froms = [rest for keyword, rest in DOCKERFILE if keyword == "FROM"]
    assert froms[0] == "python:3.11-slim AS build"
    assert froms[1] == "python:3.11-slim"
    assert ("COPY", "--from=build /opt/signoff /opt/signoff") in FINAL
    # The final image gets the installed environment only, not the build context.
    assert [rest for k, rest in FINAL if k == "COPY"] == ["--from=build /opt/signoff /opt/signoff"]


def test_runs_as_a_non_root_user() -> None:
    user = only(FINAL, "USER").split(":")[0]
    assert user not in ("root", "0")
    run = " ".join(rest for k, rest in FINAL if k == "RUN")
    assert (
        f"useradd --system --uid 10001 --gid signoff --home-dir /data --no-create-home {user}"
        in run
    )


def test_the_data_directory_is_a_volume_owned_by_that_user() -> None:
    home = env_of(FINAL)["SIGNOFF_HOME"]
    assert json.loads(only(FINAL, "VOLUME")) == [home]
    assert f"chown signoff:signoff {home}" in " ".join(rest for k, rest in FINAL if k == "RUN")


def test_the_exposed_port_is_the_default_and_the_health_check_probes_it() -> None:
    assert only(FINAL, "EXPOSE") == DEFAULT_PORT
    bind = env_of(FINAL)["SIGNOFF_HTTP"]
    assert bind == f"0.0.0.0:{DEFAULT_PORT}"  # reachable from outside the container
    Settings.from_env({"SIGNOFF_HOME": "/data", "SIGNOFF_HTTP": bind})  # a valid setting
    check = only(FINAL, "HEALTHCHECK")
    assert re.search(r"--interval=\d+s", check) and re.search(r"--timeout=\d+s", check)
    assert "/healthz" in check and "SIGNOFF_HTTP" in check
    compile(health_probe(), "<healthcheck>", "exec")  # the probe is valid Python


def health_probe() -> str:
    command = json.loads(only(FINAL, "HEALTHCHECK").partition("CMD ")[2])
    assert command[:2] == ["python", "-c"]
    return str(command[2])


async def probe_exit(setting: str | None) -> int:
    """The image's health check run as docker runs it, SIGNOFF_HTTP as given (None: unset)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.pop("SIGNOFF_HTTP", None)
    if setting is not None:
        env["SIGNOFF_HTTP"] = setting
    probe = await asyncio.create_subprocess_exec(sys.executable, "-c", health_probe(), env=env)
    return await asyncio.wait_for(probe.wait(), 30)


@pytest.mark.parametrize(("host", "setting"), [
    ("127.0.0.1", "0.0.0.0:{port}"),
    ("127.0.0.1", "127.0.0.1:{port}"),
    ("::1", "[::]:{port}"),
    ("::1", "[::1]:{port}"),
])  # fmt: skip
async def test_the_health_check_probes_the_port_signoff_http_names(host: str, setting: str) -> None:
    # It probed 9464 whatever SIGNOFF_HTTP said: an image run with another port was
    # unhealthy however well it ran, and one with 9464 taken by another was "healthy".
    server = OpsServer(host=host, port=0, metrics=Metrics(), checks={})
    try:
        await server.start()
    except ConfigError:
        pytest.skip(f"no {host} here")
    try:
        assert await probe_exit(setting.format(port=server.port)) == 0
    finally:
        await server.stop()
    assert await probe_exit(setting.format(port=server.port)) != 0  # nothing serves it now


@pytest.mark.parametrize("setting", ["", "  "])
async def test_an_empty_signoff_http_is_probed_where_signoff_listens_by_default(
    setting: str,
) -> None:
    # signoff reads an empty or blank SIGNOFF_HTTP as unset (its default, 127.0.0.1:9464),
    # as compose's `SIGNOFF_HTTP: ${SIGNOFF_HTTP:-}` passes it; the probe asked "http://:/".
    bind = Settings.from_env({"SIGNOFF_HOME": "/data", "SIGNOFF_HTTP": setting}).http_bind
    assert bind == ("127.0.0.1", int(DEFAULT_PORT))
    server = OpsServer(host=bind[0], port=bind[1], metrics=Metrics(), checks={})
    try:
        await server.start()
    except ConfigError:
        pytest.skip(f"port {DEFAULT_PORT} is taken here")
    try:
        assert await probe_exit(setting) == 0
    finally:
        await server.stop()


def test_the_health_check_passes_with_the_operators_http_off() -> None:
    # Nothing to probe, and nothing wrong: the bot runs without it.
    assert asyncio.run(probe_exit("off")) == 0
    assert asyncio.run(probe_exit(" OFF ")) == 0  # as parse_bind reads it


def test_stops_with_sigterm_and_runs_signoff_run() -> None:
    assert only(FINAL, "STOPSIGNAL") == "SIGTERM"
    command = json.loads(only(FINAL, "CMD"))
    assert command == ["signoff", "run"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[command[0]] == "bot.cli:main"
    assert parser().parse_args(command[1:]).command == "run"
    assert "/opt/signoff/bin" in env_of(FINAL)["PATH"]


def test_the_build_stage_copies_what_exists_and_installs_the_project() -> None:
    for keyword, rest in BUILD:
        if keyword == "COPY":
            *sources, _ = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    copied = {rest.split()[0] for k, rest in BUILD if k == "COPY"}
    assert {p.rstrip("*") for p in packages} <= copied
    assert "pip install ." in " ".join(rest for k, rest in BUILD if k == "RUN")


def test_dockerignore_keeps_the_venv_and_the_data_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".signoff"} <= set(ignored)


def test_compose_example_matches_the_image() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    service = compose["services"]["signoff"]
    assert service["build"] == "."
    env = service["environment"]
    for name in env:
        assert name in KNOWN or name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"), name
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"} <= set(env)
    assert any(v.endswith(":" + env_of(FINAL)["SIGNOFF_HOME"]) for v in service["volumes"])
    assert service["ports"] == [f"127.0.0.1:{DEFAULT_PORT}:{DEFAULT_PORT}"]
    grace = int(service["stop_grace_period"].rstrip("s"))
    assert grace > float(env["SIGNOFF_DRAIN_S"])
    # signoff is PID 1 in the container: an init reaps what command tools' children leave.
    assert service["init"] is True


def test_every_docker_run_example_is_run_as_compose_runs_it() -> None:
    # compose.yaml sets init: true (signoff is PID 1; an init reaps what a command tool's
    # children leave) and a stop grace longer than the drain; the docker run examples
    # in the docs lacked --init.
    drain = Settings.model_fields["drain_s"].default
    examples = 0
    for path in (ROOT / "Dockerfile", ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        text = re.sub(r"\\\n\s*#?\s*", " ", path.read_text())  # continuations joined
        for command in re.findall(r"docker run [^\n]*", text):
            examples += 1
            words = command.split()
            assert "--init" in words, f"{path.name}: {command}"
            assert float(words[words.index("--stop-timeout") + 1]) > drain, command
    assert examples >= 2
