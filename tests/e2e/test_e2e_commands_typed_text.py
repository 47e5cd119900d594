"""``/signoff`` quotes back what the person typed, not Slack's escaping of it: Slack sends a
slash command's text with each ``&``, ``<`` and ``>`` escaped (as a message's), so quoting
that text escaped again showed ``&amp;`` where they had typed ``&``."""

from __future__ import annotations

from signoff_e2e_kit import OPS, until

from bot.app import SignoffBot
from localslack import LocalSlack


async def test_an_unknown_command_is_quoted_as_typed_and_pings_nobody(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    typed = "frob a&b <co> <!here> <@U0ALICE>"
    sent = await slack.slash_command(command="/signoff", user="U0CAROL", channel=OPS, text=typed)
    # As Slack sends it: typed characters escaped, a composer's mention markup kept.
    assert sent.payload["text"] == "frob a&amp;b &lt;co&gt; <!here> <@U0ALICE>"
    answers = await until(lambda: slack.ephemeral_messages(user="U0CAROL"), what="the answer")
    text = str(answers[0]["text"])
    # Shown by Slack as "frob a&b <co> <!here> <@U0ALICE>": the characters typed, inert.
    assert text.startswith(
        "I don't know `frob a&amp;b &lt;co&gt; &lt;!here&gt; &lt;@U0ALICE&gt;`"
    ), text
    assert "&amp;amp;" not in text and "&amp;lt;" not in text, text
    assert "<!here>" not in text and "<@U0ALICE>" not in text


async def test_a_bad_session_id_is_quoted_as_typed(slack: LocalSlack, bot: SignoffBot) -> None:
    await slack.slash_command(command="/signoff", user="U0CAROL", channel=OPS, text="trace a<b")
    answers = await until(lambda: slack.ephemeral_messages(user="U0CAROL"), what="the answer")
    text = str(answers[0]["text"])
    assert "a&lt;b" in text and "&amp;lt;" not in text, text


async def test_a_command_within_slacks_limit_as_typed_is_answered(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    # 12,000 characters typed; as sent, each "<" is four: past the limit on what was typed.
    typed = "x " + "<" * 12_000
    await slack.slash_command(command="/signoff", user="U0CAROL", channel=OPS, text=typed)
    answers = await until(lambda: slack.ephemeral_messages(user="U0CAROL"), what="the answer")
    assert str(answers[0]["text"]).startswith("I don't know `x " + "&lt;" * 58 + "`")
