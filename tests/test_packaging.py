"""The container image's invariants, read from the Dockerfile and compose.yaml (this machine
has no Docker engine): two stages on slim Python 3.11, a non-root user, the data directory
a volume, a health check on /healthz at the port signoff serves by default, SIGTERM to
stop, and a command that exists."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import yaml

from bot.cli_args import parser
from bot.config import KNOWN, Settings

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
    assert f"http://127.0.0.1:{DEFAULT_PORT}/healthz" in check
    command = json.loads(check.partition("CMD ")[2])
    assert command[:2] == ["python", "-c"]
    compile(command[2], "<healthcheck>", "exec")  # the probe is valid Python


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
