"""What a person typed that looks like an escape stays what they typed.

Slack escapes ``&``, ``<`` and ``>`` in typed text, and ingest undoes that once. A
person who types ``&lt;!here&gt;`` (quoting markup, say) must have exactly that reach a
tool through ``call <tool> key=value``: undoing the escapes a second time turned it into
``<!here>``, markup the person never wrote. End to end through LocalSlack, which escapes
typed text as Slack does, and the real Bolt app on the offline model.
"""

from __future__ import annotations

from typing import Any

from signoff_e2e_kit import approval_id_of, capsule, mention, wait_card

from localslack import LocalSlack

TYPED = "&lt;!here&gt; &amp; &#60;@U0BOB&#62;"


async def test_escapes_a_person_typed_reach_the_tool_as_typed(
    slack: LocalSlack, bot: Any, settings: Any
) -> None:
    thread = await mention(slack, f"call restart_service service='{TYPED}'")
    card = await wait_card(slack, thread)
    asked = capsule(settings.home, approval_id_of(card))
    assert asked["arguments"] == {"service": TYPED}
    # The card shows it as typed: each "&" escaped once, nothing live.
    shown = str(card.get("blocks"))
    assert "&amp;lt;!here&amp;gt;" in shown and "<!here" not in shown
