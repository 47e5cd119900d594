"""What a card says, read at a glance: mentions from held ids only, the request quoted and
escaped, dates in each reader's zone with a relative phrase, quorum progress by name, the
tool's description and hints, and the arguments as fields (JSON below when they do not
fit) — always within Block Kit's limits."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_cards_and_splitting import THREAD, _check_limits

from agent_core.surface import CardView
from approvals import Capsule, Decision, ExecutionResult, PolicyRule, build_capsule
from approvals.records import Edit, Escalation, Stale
from bot.cards import card_blocks, fallback_text
from bot.slack_text import ABSOLUTE, quote, relative, slack_date

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOSTILE = (
    "<@U0SIGNOFF> restart api <!channel> <!here> <@U0BOB|bob> <https://evil.example|ok> & *x* ```"
)


def make(
    arguments: dict[str, object] | None = None,
    *,
    request_text: str = "<@U0SIGNOFF> restart api please",
    reason: str = "",
    policy: PolicyRule | None = None,
    description: str = "Restart a service.\n\nIt is briefly unavailable.",
    annotations: dict[str, Any] | None = None,
    card_channel: str = "",
    requesters: tuple[str, ...] = (),
) -> Capsule:
    return build_capsule(
        session_id="sess_0123456789ab",
        thread=THREAD,
        call_id="c1",
        tool="restart_service",
        tool_version="v1",
        arguments={"service": "api"} if arguments is None else arguments,
        requester="U0ALICE",
        requesters=requesters,
        reason=reason,
        policy=policy or PolicyRule(approver_users=("U0BOB",), approver_groups=("S0OPS",)),
        now=NOW,
        tool_description=description,
        request_text=request_text,
        tool_annotations=annotations,
        card_channel=card_channel,
    )


def texts(blocks: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out.extend(f["text"] for f in block.get("fields", []))
        out.extend(e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn")
    return "\n".join(out)


def test_people_are_mentions_and_the_request_is_quoted() -> None:
    card = CardView(make(requesters=("U0ALICE", "U0CAROL")))
    shown = texts(card_blocks(card, bot_user="U0SIGNOFF"))
    assert "<@U0ALICE>, <@U0CAROL> asked:\n>restart api please" in shown
    assert "*Requested by*\n<@U0ALICE>, <@U0CAROL>" in shown
    assert "*Approvers*\n<@U0BOB>, <!subteam^S0OPS>, not the requester" in shown
    assert "U0BOB" not in shown.replace("<@U0BOB>", "")  # never a raw id
    assert "🛠 Restart a service." in shown
    assert "briefly unavailable" not in shown  # the first paragraph only


def test_hostile_request_text_pings_nobody() -> None:
    blocks = card_blocks(CardView(make(request_text=HOSTILE)), bot_user="U0SIGNOFF")
    _check_limits(blocks)
    shown = texts(blocks)
    quoted = next(line for line in shown.splitlines() if line.startswith(">"))
    assert quoted == (
        ">restart api &lt;!channel&gt; &lt;!here&gt; @bob "
        "&lt;https://evil.example|ok&gt; &amp; *x* ˋˋˋ".replace("ˋˋˋ", "```")
    )
    for live in ("<!channel>", "<!here>", "<https://evil", "<@U0SIGNOFF>"):
        assert live not in shown
    # The only live entities are the ones the capsule holds ids for, and the date.
    entities = set(re.findall(r"<([@!#][^>|^]*)", shown))
    assert entities == {"@U0ALICE", "@U0BOB", "!subteam", "!date"}


def test_quote_drops_the_address_and_defuses_mentions() -> None:
    me = "U0SIGNOFF"
    assert quote("<@U0SIGNOFF>: deploy <@U0BOB>", bot_user=me) == ">deploy @U0BOB"
    # Only signoff's own address goes: the others it begins with were addressed too.
    assert quote("<@U0SIGNOFF> <@U0BOB|bob> deploy", bot_user=me) == ">@bob deploy"
    assert quote("<@U0BOB>: deploy", bot_user=me) == ">@U0BOB: deploy"
    assert quote("line one\n<!here> two", bot_user=me) == ">line one\n>&lt;!here&gt; two"
    assert quote("x" * 1000, bot_user=me, limit=50).endswith("…")


def test_expiry_in_each_readers_zone_and_relative_to_the_request() -> None:
    """A card stays in the thread for days between updates: "in 7 days" would still say so
    on the sixth. Slack renders the date ("tomorrow") as each reader looks; the span is
    anchored to the request, so it stays true (a card has no clock of its own)."""
    c = make(policy=PolicyRule(expires_after_seconds=7 * 86400))
    expires = int((NOW + timedelta(days=7)).timestamp())
    shown = texts(card_blocks(CardView(c)))
    date = f"<!date^{expires}^{{date_short_pretty}} at {{time}}|2026-11-09 09:00 UTC>"
    assert f"*Expires*\n{date} (7 days after the request)" in shown
    assert not re.search(r"\bin \d+ (day|hour|minute)|\bago\b", shown)
    assert (
        slack_date(NOW) == "<!date^1793610000^{date_short_pretty} at {time}|2026-11-02 09:00 UTC>"
    )


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (timedelta(days=7), "in 7 days"),
        (timedelta(days=1, hours=2), "in 1 day"),
        (timedelta(hours=5, minutes=59), "in 6 hours"),
        (timedelta(days=6, hours=23, minutes=59), "in 7 days"),
        (timedelta(minutes=1), "in 1 minute"),
        (timedelta(seconds=20), "in less than a minute"),
        (timedelta(seconds=-20), "just now"),
        (timedelta(hours=-3), "3 hours ago"),
    ],
)
def test_relative_times(delta: timedelta, said: str) -> None:
    assert relative(NOW + delta, NOW) == said


def test_quorum_progress_names_who_approved() -> None:
    c = make(policy=PolicyRule(quorum=2, approver_groups=("S0OPS",)))
    assert "0 of 2 approvals" in texts(card_blocks(CardView(c)))
    one = texts(card_blocks(CardView(c, voters=("U0BOB",))))
    assert "1 of 2 approvals: <@U0BOB>" in one
    assert "(2 needed)" in one
    single = texts(card_blocks(CardView(make())))
    assert "approvals" not in single.replace("Approvers", "")


def test_short_arguments_are_fields_and_long_ones_add_the_json() -> None:
    short = card_blocks(CardView(make({"service": "api", "replicas": 3, "dry": False})))
    fields = next(b for b in short if b["block_id"].startswith("args-"))["fields"]
    assert [f["text"] for f in fields] == ["*service*\n`api`", "*replicas*\n`3`", "*dry*\n`false`"]
    assert not any(b["block_id"].startswith("json-") for b in short)

    long = card_blocks(CardView(make({"service": "api", "note": "y" * 400})))
    _check_limits(long)
    args = next(b for b in long if b["block_id"].startswith("args-"))["fields"]
    assert args[1]["text"].endswith("…`")
    below = next(b for b in long if b["block_id"].startswith("json-"))["text"]["text"]
    assert below.startswith("```") and "y" * 400 in below

    many = card_blocks(CardView(make({f"k{i}": i for i in range(14)})))
    _check_limits(many)
    args = next(b for b in many if b["block_id"].startswith("args-"))["fields"]
    assert len(args) == 10 and args[-1]["text"] == "*…*\n5 more (all below)"
    assert any(b["block_id"].startswith("json-") for b in many)

    hostile = texts(card_blocks(CardView(make({"<!here>": "`<@U0BOB>`\nx"}))))
    assert "*&lt;!here&gt;*\n`ˋ&lt;@U0BOB&gt;ˋ x`" in hostile


def test_hints_stay_and_a_decided_card_says_how_it_ran() -> None:
    c = make(annotations={"destructiveHint": True, "readOnlyHint": False})
    decision = Decision(
        approval_id=c.id,
        verdict="approved",
        deciders=("U0BOB",),
        at="2026-11-02T10:00:00.000Z",
        args_sha256=c.args_sha256,
    )
    result = ExecutionResult(
        approval_id=c.id, session_id=c.session_id, at="2026-11-02T10:00:01.000Z", ok=True, output=""
    )
    blocks = card_blocks(CardView(c, decision, result=result))
    _check_limits(blocks)
    shown = texts(blocks)
    assert "Tool says (unverified): destructive, not read-only" in shown
    assert "✅ Approved by <@U0BOB> · <!date^" in shown
    assert "_ran: ok · <!date^" in shown
    assert all(b["type"] != "actions" for b in blocks)
    assert "*Expires*" not in shown  # decided: it waits for nobody, and expires never
    assert fallback_text(CardView(c, decision)) == "restart_service: approved"


def test_the_agents_words_show_only_when_they_add_something() -> None:
    said = texts(card_blocks(CardView(make(reason="api is stuck; a restart clears it"))))
    assert "Why (the agent): api is stuck; a restart clears it" in said
    echo = texts(card_blocks(CardView(make(reason="asked: restart api please"))))
    assert "Why" not in echo
    # A capsule from before request_text: its "asked: …" reason is the quote.
    old = make(request_text="", reason="asked: restart web")
    assert "<@U0ALICE> asked:\n>restart web" in texts(card_blocks(CardView(old)))


def test_a_card_away_from_its_thread_links_back() -> None:
    c = make(card_channel="C0APPROVALS")
    link = "https://example.slack.com/archives/D0ALICE/p1700000000000100"
    shown = texts(card_blocks(CardView(c), asked_in=link))
    assert f"<@U0ALICE> in <{link}|a direct message> with signoff asked:" in shown
    without = texts(card_blocks(CardView(c)))
    assert "<@U0ALICE> in a direct message with signoff asked:" in without


def test_the_largest_card_fits() -> None:
    c = make(
        {f"arg{i}" * 20: "z" * 5000 for i in range(40)},
        request_text="r" * 4000,
        reason="w" * 4000,
        description="d" * 4000,
        annotations={k: True for k in ("readOnlyHint", "destructiveHint", "openWorldHint")},
        policy=PolicyRule(quorum=3, approver_users=tuple(f"U0P{i:03d}" for i in range(200))),
        requesters=tuple(f"U0R{i:03d}" for i in range(50)),
    )
    voters = tuple(f"U0V{i:03d}" for i in range(2))
    blocks = card_blocks(CardView(c, voters=voters), asked_in="https://x.example/a")
    _check_limits(blocks)
    for block in blocks:
        assert len(block.get("fields", [])) <= 10
    shown = texts(blocks)
    # Long lists of people end in a count, never in half a mention.
    assert re.search(r"<@U0P\d{3}>, and \d+ more", shown)
    assert not re.search(r"<@[A-Z0-9]*…", shown)


def test_a_posted_card_changes_with_votes_an_escalation_or_a_decision() -> None:
    """Both surfaces (the thread's card and one routed to the approvals channel) update a
    posted card exactly when this says so."""
    capsule = make()
    assert not CardView(capsule).changed
    assert CardView(capsule, voters=("U0BOB",)).changed
    escalation = Escalation(
        approval_id=capsule.id, due_at="2026-11-02T08:00:00Z", at="2026-11-02T08:00:01Z",
        added_users=("U0DAVE",), added_groups=(),
    )  # fmt: skip
    assert CardView(capsule, escalation=escalation).changed
    decision = Decision(
        approval_id=capsule.id, verdict="denied", deciders=("U0BOB",),
        at="2026-11-02T08:00:00Z", args_sha256=capsule.args_sha256,
    )  # fmt: skip
    assert CardView(capsule, decision=decision).changed


def test_every_time_on_a_card_is_in_each_readers_zone() -> None:
    """The second clock, an edit, an escalation and staleness say when with Slack's date
    formatting, never a raw ISO timestamp."""
    capsule = make()
    decision = Decision(
        approval_id=capsule.id, verdict="approved", deciders=("U0BOB",),
        at="2026-11-02T09:00:00Z", args_sha256=capsule.args_sha256,
        valid_until="2026-11-02T11:00:00Z",
    )  # fmt: skip
    edit = Edit(
        approval_id=capsule.id, n=1, user="U0BOB", at="2026-11-02T08:30:00Z",
        base_sha256=capsule.args_sha256, tool_version="v1", arguments={"service": "web"},
        args_sha256="0" * 64, changed=("service",),
    )  # fmt: skip
    escalation = Escalation(
        approval_id=capsule.id, due_at="2026-11-02T08:00:00Z", at="2026-11-02T08:00:01Z",
        added_users=("U0DAVE",), added_groups=(),
    )  # fmt: skip
    stale = Stale(
        approval_id=capsule.id, session_id="sess_0123456789ab", at="2026-11-02T11:00:01.000Z",
        valid_until="2026-11-02T11:00:00Z",
    )  # fmt: skip
    view = CardView(capsule, decision, edits=(edit,), escalation=escalation, stale=stale)
    shown = texts(card_blocks(view))
    until = slack_date(datetime(2026, 11, 2, 11, 0, tzinfo=UTC))
    assert f"*Must start by*\n{until} (2 hours after the approval)" in shown
    stale_until = slack_date(datetime(2026, 11, 2, 11, 0, tzinfo=UTC), tokens=ABSOLUTE)
    assert f"could not start before {stale_until} and did not run" in shown
    assert slack_date(datetime(2026, 11, 2, 8, 30, tzinfo=UTC)) in shown
    assert slack_date(datetime(2026, 11, 2, 8, 0, 1, tzinfo=UTC)) in shown
    assert not re.search(r"\d{4}-\d\d-\d\dT", shown)


@pytest.mark.parametrize("unit", ["&", "<b>", "x&"])
def test_a_long_why_full_of_markup_is_cut_where_slack_reads_it_whole(unit: str) -> None:
    # Escaped, each "&" is five characters: cut after escaping (what Slack counts), and
    # never inside an entity, which would show as written ("&am…").
    blocks = card_blocks(CardView(make(reason=unit * 3000)))
    _check_limits(blocks)
    why = next(line for line in texts(blocks).splitlines() if line.startswith("Why (the agent)"))
    body = why.removeprefix("Why (the agent): ")
    assert body.endswith("…") and len(body) <= 600
    assert html.unescape(body[:-1]) == (unit * 3000)[: len(html.unescape(body[:-1]))]
    assert re.search(r"&(?!amp;|lt;|gt;)", body) is None  # every & starts a whole entity
