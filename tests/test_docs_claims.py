"""What README.md and docs/ tell a new user or operator, checked against the code: every
``SIGNOFF_*`` variable, every ``signoff`` command and option, the documented defaults,
and the TOML examples (fed to the real loaders and start-up checks)."""

from __future__ import annotations

import argparse
import ast
import asyncio
import re
import tomllib
from pathlib import Path

import pytest

import approvals
from agent_core.engine import Engine
from agent_core.providers import load_price_table
from approvals import load_policy
from bot.cli_args import COMMANDS, parser
from bot.config import KNOWN, Settings
from bot.config_file import SignoffConfig
from bot.tooling import build_registry

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Not settings of signoff's: what a command tool's process is given (docs/tools.md), and
# the chaos test's knobs, which start-up takes for typos (README says so).
NOT_SETTINGS = {"SIGNOFF_SESSION_ID", "SIGNOFF_APPROVAL_ID", "SIGNOFF_CHAOS_SEED"}


def _text(path: Path) -> str:
    return path.read_text()


def _code(path: Path) -> list[str]:
    """Shell lines of ```sh blocks, and inline code spans elsewhere."""
    text = _text(path)
    fence = re.compile(r"^```([a-z]*)\n(.*?)^```", flags=re.S | re.M)
    lines = [
        line
        for lang, body in fence.findall(text)
        if lang in ("sh", "bash", "console")
        for line in body.splitlines()
    ]
    return lines + re.findall(r"`([^`\n]+)`", fence.sub("", text))


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _options(p: argparse.ArgumentParser) -> set[str]:
    return {s for a in p._actions for s in a.option_strings}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_signoff_variable_named_is_one_signoff_reads(doc: Path) -> None:
    named = set(re.findall(r"\bSIGNOFF_[A-Z0-9_]*[A-Z0-9]\b", _text(doc)))
    assert named - set(KNOWN) - NOT_SETTINGS == set()


def test_the_readme_names_every_setting() -> None:
    readme = _text(ROOT / "README.md")
    assert [name for name in KNOWN if f"`{name}`" not in readme] == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_and_option_shown_exists(doc: Path) -> None:
    commands = _subparsers()
    # "signoff CMD …" up to a comment, a pipe or the next "signoff"; not "@signoff" (a
    # mention) nor "exec signoff" (a compose service).
    shown = re.compile(r"(?<![@\w/.-])(?<!exec )signoff ([a-z][a-z-]*)([^#|]*?)(?=#|\||signoff |$)")
    for code in _code(doc):
        for match in shown.finditer(code):
            word, rest = match.groups()
            flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest))
            if word not in commands:
                assert not flags, f"{doc.name}: `{match.group(0)}`: no command {word}"
                continue
            unknown = flags - _options(commands[word])
            assert not unknown, f"{doc.name}: `{match.group(0)}`: signoff {word} has no {unknown}"
        for flag in re.findall(r"(?<![@\w/.-])signoff (--[a-z-]+)", code):
            assert flag in _options(parser()), f"{doc.name}: signoff {flag}"


def test_every_command_is_in_the_readme_and_has_its_line() -> None:
    readme = _text(ROOT / "README.md")
    assert set(_subparsers()) == set(COMMANDS)
    assert [c for c in COMMANDS if f"signoff {c}" not in readme] == []


def test_the_defaults_the_readme_states() -> None:
    readme = _text(ROOT / "README.md")
    fields = Settings.model_fields
    assert f"default `{fields['http'].default}`" in readme
    assert f"(default {fields['drain_s'].default:g})" in readme
    assert f"tokens: default {fields['budget_tokens'].default:,}" in readme
    calls = fields["max_calls_per_reply"]
    assert f"reply may make (default {calls.default}; 1 to 1,000)" in readme
    assert f"after the first {calls.default} of a reply" in readme
    assert "`SIGNOFF_HOME` | the data directory (default `./.signoff`)" in readme
    assert "`offline` (default)" in _text(ROOT / "docs" / "providers.md")
    bare = Settings.from_env({})
    assert bare.home == (Path.cwd() / ".signoff").resolve() and bare.model == "offline"


def _toml_blocks(path: Path) -> list[str]:
    return re.findall(r"^```toml\n(.*?)^```", _text(path), flags=re.S | re.M)


def test_the_readme_policy_example_is_a_valid_policy(tmp_path: Path) -> None:
    (example,) = _toml_blocks(ROOT / "README.md")
    path = tmp_path / "policy.toml"
    path.write_text(example)
    rule = load_policy(path).rule_for("deploy_service")
    assert rule.quorum == 2 and rule.approver_groups == ("S0RELEASE",)
    assert rule.valid_for_seconds == 3600 and rule.escalate_groups == ("S0ONCALL",)


def test_the_price_table_example_loads(tmp_path: Path) -> None:
    (example,) = _toml_blocks(ROOT / "docs" / "providers.md")
    path = tmp_path / "prices.toml"
    path.write_text(example)
    price = load_price_table(path).lookup("gpt-4o")
    assert price is not None and (price.input_per_mtok, price.output_per_mtok) == (2.5, 10.0)
    claude = load_price_table(path).lookup("claude-sonnet-4-6")
    assert claude is not None and (claude.cache_write_per_mtok, claude.cache_read_per_mtok) == (
        3.75,
        0.30,
    )


def test_the_tools_config_example_starts(tmp_path: Path) -> None:
    """docs/tools.md's config, with its commented alternatives, passes the start-up checks
    of ``signoff run``: the file, the policy, and every tool built (its MCP server down)."""
    (example,) = _toml_blocks(ROOT / "docs" / "tools.md")
    assert tomllib.loads(example)
    # The stdio server is the example's; /bin/false stands in for it (down at start-up).
    stdio = example.replace('["python", "-m", "ops_mcp"]', '["/bin/false"]')
    http = re.sub(r"^command = .*\n", "", example, flags=re.M)
    http = http.replace('# url = "http://127.0.0.1:9000/mcp"', 'url = "http://127.0.0.1:9/mcp"')
    http = http.replace("# headers =", "headers =").replace("env = { KUBECONFIG", "# env = {")
    env = {"KUBECONFIG": "/etc/kube", "OPS_TOKEN": "t0ken"}
    for i, text in enumerate((stdio, http, stdio.replace("# env =", "env ="))):
        path = tmp_path / f"signoff-{i}.toml"
        path.write_text(text.replace('timeout = "30s"', 'timeout = "2s"'))
        settings = Settings.from_env({"SIGNOFF_HOME": str(tmp_path), "SIGNOFF_CONFIG": str(path)})
        config = settings.config(env)
        assert settings.policy(config).rule_for("ops__restart_deployment").quorum == 2
        assert "rollout_restart" in asyncio.run(_tool_names(settings, config))


async def _tool_names(settings: Settings, config: SignoffConfig) -> list[str]:
    registry = await build_registry(settings, config)
    try:
        return list(registry.names())
    finally:
        await registry.aclose()


REPO_DIRS = ("agent_core", "approvals", "bench", "bot", "docs", "localslack", "sessions", "tests")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_file_of_the_repository_named_exists(doc: Path) -> None:
    dirs = "|".join(REPO_DIRS)
    paths = re.findall(rf"`((?:{dirs})/[A-Za-z0-9_./*-]+)`", _text(doc))
    missing = [p for p in paths if not list(ROOT.glob(p))]
    assert missing == []


def _anchors(path: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", _text(path), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_link_leads_somewhere(doc: Path) -> None:
    for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)", _text(doc)):
        if target.startswith(("http://", "https://")):
            continue
        path = (doc.parent / target).resolve() if target else doc
        assert path.exists(), f"{doc.name}: ({target})"
        if anchor:
            assert anchor in _anchors(path), f"{doc.name}: ({target}#{anchor})"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_engine_method_named_exists(doc: Path) -> None:
    for name in re.findall(r"`Engine\.([a-z_]+)`", _text(doc)):
        assert hasattr(Engine, name), f"{doc.name}: Engine.{name}"
    for name in re.findall(r"`approvals\.([a-z_]+)`", _text(doc)):
        assert hasattr(approvals, name), f"{doc.name}: approvals.{name}"


def test_the_bench_names_the_readme_lists_are_the_benches() -> None:
    from bench.__main__ import BENCHES

    listed = re.search(
        r"`python -m bench [^`]*`, names:\s+([a-z, \n]+)\)", _text(ROOT / "README.md")
    )
    assert listed is not None
    assert [n.strip() for n in listed.group(1).split(",")] == list(BENCHES)


def test_no_bounded_wait_uses_wait_for() -> None:
    """docs/design-notes.md: a bounded wait is ``asyncio.timeout`` or ``asyncio.wait``, never
    ``asyncio.wait_for`` (on 3.11 it can swallow a cancel aimed at the one waiting)."""
    packages = ("agent_core", "approvals", "bot", "localslack", "sessions")
    used = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bwait_for\(", line) and not line.lstrip().startswith("#")
    ]
    assert used == []


def test_slack_setup_names_every_event_and_scope_of_the_manifest() -> None:
    """docs/slack.md's first step lists what manifest.yml declares: every bot event and
    "exactly the scopes signoff uses"."""
    import yaml

    manifest = yaml.safe_load(_text(ROOT / "manifest.yml"))
    step = _text(ROOT / "docs" / "slack.md").split("\n2. ", 1)[0]
    named = set(re.findall(r"`([a-z_.:]+)`", step))
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert events - named == set() and scopes - named == set()


def test_tools_doc_names_every_key_a_tool_config_takes() -> None:
    """docs/tools.md shows or names every key of ``[mcp.servers.NAME]``, ``[commands.NAME]``
    and a command's ``params``: a key the loader takes and the doc never mentions is one
    nobody can find."""
    from agent_core.tools.mcp_spec import McpServerSpec
    from agent_core.tools.specs import CommandSpec, ParamSpec

    doc = _text(ROOT / "docs" / "tools.md")
    named = set(re.findall(r"`([a-z_]+)`", doc)) | set(re.findall(r"^#? ?([a-z_]+) = ", doc, re.M))
    named |= set(re.findall(r"params\.\w+ = \{ ([a-z_]+) =", doc))
    keys = {*ParamSpec.model_fields, *CommandSpec.model_fields, *McpServerSpec.model_fields}
    assert keys - named == set()


def test_the_readme_policy_example_shows_every_policy_key() -> None:
    from approvals.policy import _RuleInput

    (example,) = _toml_blocks(ROOT / "README.md")
    shown = set(re.findall(r"^([a-z_]+) = ", example, flags=re.M))
    assert set(_RuleInput.model_fields) - shown == set()


def test_the_metrics_table_lists_exactly_the_metrics_served() -> None:
    from bot.metrics import Metrics

    async def counts() -> dict[str, object]:
        return {"sessions": {}, "approvals_pending": 0}

    text = asyncio.run(Metrics(counts=counts, link_up=lambda: True).render()).decode()
    # prometheus_client's own *_created series (when a counter started) are not ours.
    types = re.findall(r"^# TYPE (\S+) ", text, flags=re.M)
    served = {name for name in types if not name.endswith("_created")}
    ops = _text(ROOT / "docs" / "operations.md")
    documented = set(re.findall(r"^\| `(signoff_[a-z_]+)` \|", ops, flags=re.M))
    assert documented == served


def _event_names(node: ast.expr) -> set[str]:
    """The event names a ``log_event`` call's second argument can be."""
    from bot.event_log import _MESSAGE_LEVEL

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _event_names(node.body) | _event_names(node.orelse)
    if isinstance(node, ast.JoinedStr) and ast.unparse(node) == "f'message_{event.outcome}'":
        return {f"message_{outcome}" for outcome in _MESSAGE_LEVEL}
    raise AssertionError(f"an event name test_docs_claims cannot read: {ast.unparse(node)}")


def test_operations_names_every_log_event() -> None:
    """docs/operations.md, *Logs*: every ``event`` a structured log line can carry."""
    emitted: set[str] = set()
    for package in ("agent_core", "approvals", "bot", "sessions"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                func = node.func if isinstance(node, ast.Call) else None
                name = getattr(func, "id", getattr(func, "attr", None))
                if isinstance(node, ast.Call) and name == "log_event" and len(node.args) > 1:
                    emitted |= _event_names(node.args[1])
    logs = _text(ROOT / "docs" / "operations.md").split("## Logs", 1)[1].split("\n## ", 1)[0]
    assert sorted(e for e in emitted if f"`{e}`" not in logs) == []
