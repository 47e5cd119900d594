"""The signoff pages of ``signoff dev``: sessions, pending approvals, and a thread's trace as a
timeline — the data ``/signoff trace`` gives, read from the same files.

Plain server-rendered HTML (aiohttp routes that LocalSlack serves next to its chat UI);
the chat links here from every thread message and card through
``/signoff/thread?channel=…&thread_ts=…&ts=…``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator, Mapping
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from pydantic import ValidationError

from agent_core.engine import Engine
from agent_core.history import SessionHistory, thread_history
from sessions import (
    Home,
    NotFoundError,
    SessionsError,
    ThreadKey,
    TraceEvent,
    check_session_id,
)

from .cards import ANYONE
from .dev_page import page as _page
from .drawn_text import visible
from .trace_view import delivery_line, render_history, retry_line, turn_tokens, what_became

__all__ = ["DevPages"]

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")


def _short(value: object, limit: int = 300) -> str:
    """On one line, as it runs (``visible``: a browser draws ``\\u202eipa`` as "api"), and
    with its spaces: a call's "a  b" is not "a b"."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = visible(text).replace("\n", " ")
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def _chat_link(thread: ThreadKey, label: str) -> str:
    query = urlencode({"c": thread.channel, "t": thread.thread_ts})
    return f'<a href="/ui/#{query}">{escape(label)}</a>'


class DevPages:
    def __init__(self, home: Home, *, team: str, people: Mapping[str, str]) -> None:
        self.home = home
        self.team = team
        self.people = dict(people)
        self.engine: Engine | None = None

    def who(self, user: str) -> str:
        return escape("@" + self.people[user] if user in self.people else user)

    def names(self, users: tuple[str, ...]) -> str:
        """People as ``@name`` in plain text (escaped by whoever puts it in a page)."""
        return ", ".join("@" + self.people[u] if u in self.people else u for u in users)

    def text(self, value: object, limit: int = 300) -> str:
        """Escaped and shortened, with Slack's `<@U…>` shown as `@name`."""
        plain = _MENTION.sub(lambda m: "@" + self.people.get(m.group(1), m.group(1)), str(value))
        return _short(plain, limit)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/signoff/", self.overview),
            web.get("/signoff/trace/{session_id}", self.trace),
            web.get("/signoff/thread", self.thread),
        ]

    # -- overview ------------------------------------------------------------------------

    async def overview(self, request: web.Request) -> web.Response:
        if self.engine is None:
            return _page("signoff", "<p>signoff is starting…</p>", refresh=1)
        pending = await self.engine.waiting(limit=200)
        sessions = await self.engine.sessions(limit=100)
        rows = []
        for item in pending:
            a = item.capsule
            # Who may decide under both rules, as the card says (a click is judged so).
            rule = a.policy
            named = (
                item.view.deciders if item.view else (*rule.approver_users, *rule.approver_groups)
            )
            approvers = " ".join(named) or (
                "nobody both rules allow" if item.view and item.view.approvers == () else ""
            )
            rows.append(
                f"<tr><td><code>{escape(a.id)}</code></td><td><b>{escape(a.tool)}</b> "
                f"<code>{_short(item.arguments)}</code></td><td>{self.who(a.requester)}</td>"
                f"<td>{escape(approvers or f'{ANYONE} but the requester')}</td>"
                # The card's own thread: a request asked in a direct message has its
                # card in the approvals channel, not in the DM it was asked in.
                f"<td>{escape(a.expires_at)}</td><td>{_chat_link(self.engine.card_thread(a), 'card')} · "
                f'<a href="/signoff/trace/{quote(a.session_id)}?approval={quote(a.id)}#{quote(a.id)}">'
                "trace</a></td></tr>"
            )
        body = [f"<h1>Pending approvals ({len(pending)})</h1>"]
        if rows:
            body.append(
                "<table class='pending'><tr><th>id</th><th>call</th><th>requested by</th>"
                "<th>approvers</th><th>expires</th><th></th></tr>" + "".join(rows) + "</table>"
            )
        else:
            body.append("<p class='dim'>Nothing is waiting for a decision.</p>")
        body.append(f"<h2>Recent sessions ({len(sessions)})</h2>")
        body.append(
            "<table class='sessions'><tr><th>session</th><th>state</th><th>thread</th>"
            "<th>updated</th><th>reason</th></tr>"
        )
        for s in sessions:
            body.append(
                f'<tr><td><a href="/signoff/trace/{quote(s.id)}"><code>{escape(s.id)}</code></a>'
                f"</td><td><span class='state {escape(s.state)}'>{escape(s.state)}</span></td>"
                f"<td>{_chat_link(s.thread, s.thread.label())}</td><td>{escape(s.updated_at)}</td>"
                f"<td>{_short(s.reason, 90)}</td></tr>"
            )
        body.append("</table>")
        return _page("signoff: sessions and approvals", "".join(body), refresh=10)

    # -- thread -> trace -----------------------------------------------------------------

    async def thread(self, request: web.Request) -> web.Response:
        q = request.query
        if self.engine is None:
            return _page("signoff", "<p>signoff is starting…</p>", refresh=1)
        if not q.get("channel") or not q.get("thread_ts"):
            raise web.HTTPBadRequest(text="channel and thread_ts are required")
        try:
            key = ThreadKey(team=self.team, channel=q["channel"], thread_ts=q["thread_ts"])
            head = self.engine.thread_head(key)
        except ValidationError as exc:  # a link of another version, or typed by hand
            first = exc.errors()[0]
            why = str(first["msg"]).removeprefix("Value error, ")
            raise web.HTTPBadRequest(text=f"{first['loc'][0]}: {why}") from None
        except (ValueError, SessionsError) as exc:
            raise web.HTTPBadRequest(text=" ".join(str(exc).split())) from None
        # A card links to its request wherever it was posted (a request from a direct
        # message has its card in the approvals channel, outside the asking thread).
        card = q.get("ts") or ""
        asked = await self.engine.approval_with_card(channel=key.channel, ts=card)
        if asked is not None:
            a = quote(asked.id)
            raise web.HTTPFound(f"/signoff/trace/{quote(asked.session_id)}?approval={a}#{a}")
        if head is None:
            return _page("signoff: no session", "<p>signoff has no session in this thread.</p>")
        raise web.HTTPFound(f"/signoff/trace/{quote(head)}")

    # -- trace ---------------------------------------------------------------------------

    async def trace(self, request: web.Request) -> web.Response:
        try:
            session_id = check_session_id(request.match_info["session_id"])
            body = await asyncio.to_thread(
                self._trace_body, session_id, request.query.get("approval", "")
            )
        except NotFoundError:
            raise web.HTTPNotFound(text="no such session") from None
        except SessionsError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return _page(f"signoff trace {session_id}", body)

    def _trace_body(self, session_id: str, highlight: str) -> str:
        history = thread_history(self.home, session_id)
        thread = history.thread
        out = [
            f"<h1>Thread {_chat_link(thread, thread.label())}: "
            f"{len(history.sessions)} session(s)</h1>"
        ]
        for item in history.sessions:
            marked = item.record.id == session_id
            out.append("".join(self._session(item, marked=marked, hl=highlight)))
        text = escape(render_history(history))
        out.append(
            f"<details><summary>As text (what /signoff trace shows)</summary><pre>{text}</pre></details>"
        )
        return "".join(out)

    def _session(self, session: SessionHistory, *, marked: bool, hl: str) -> Iterator[str]:
        record, events = session.record, session.events
        ended = record.transitions[-1].at if record.terminal else "…"
        yield f"<section class='session{' marked' if marked else ''}' id='{escape(record.id)}'>"
        became = what_became(session, who=self.names).removeprefix(record.state.value)
        if session.continued_in:
            child = escape(session.continued_in)
            became_html = escape(became).replace(child, f"<a href='#{child}'>{child}</a>")
        else:
            became_html = escape(became)
        yield (
            f"<b><code>{escape(record.id)}</code></b> "
            f"<span class='state {record.state.value}'>{record.state.value}</span>"
            f"<span class='became'>{became_html}</span> "
            f"<span class='dim'>cause={escape(record.cause)} · {escape(record.created_at)} → "
            f"{escape(ended)}</span>"
        )
        if record.shown_reason:
            yield f"<div class='dim'>reason: {_short(record.shown_reason)}</div>"
        yield "<ul class='tl'>"
        for event in events:
            yield from self._event(event)
        yield from self._approvals(session, hl)
        for write in session.writes:  # what reached Slack, as the text trace ends with it
            yield (
                f"<li class='write {escape(write.outcome)}'><span class='t'>"
                f"{escape(write.at[11:23])}</span>{escape(delivery_line(write))}</li>"
            )
        yield "</ul></section>"

    def _event(self, event: TraceEvent) -> Iterator[str]:
        kind = event.kind
        data: dict[str, Any] = event.detail
        at = escape(event.at[11:23])
        if kind in ("session_started", "session_ended", "reply_queued"):
            return
        if kind == "message":
            head = f"💬 {self.who(str(data.get('user', '?')))} {self.text(data.get('text', ''))}"
            detail = ""
        elif kind == "model_turn":
            head = (
                f"🧠 {escape(str(data.get('model')))} ({escape(turn_tokens(data, unit='tokens'))}"
                f", {escape(str(data.get('stop_reason')))})"
            )
            calls = [
                f"↳ <code>{escape(str(c.get('name')))}({_short(c.get('arguments', c.get('raw_arguments')), 160)})</code>"
                for c in data.get("tool_calls") or []
            ]
            detail = "<br>".join(([self.text(data["text"])] if data.get("text") else []) + calls)
        elif kind == "model_error" and retry_line(data):
            head, detail = escape(retry_line(data)), ""
        elif kind == "tool_started":
            head = f"▶ <code>{escape(str(data.get('tool')))}</code> {_short(data.get('arguments'), 160)}"
            detail = ""
        elif kind == "tool_finished":
            head = f"◀ {escape(str(data.get('status')))}"
            detail = _short(data.get("content", ""), 400)
        elif kind == "approval_requested":
            head = f"✋ approval requested: <code>{escape(str(data.get('tool')))}</code>"
            detail = f"{_short(data.get('arguments'), 200)} · expires {escape(str(data.get('expires_at')))}"
        else:
            head, detail = f"· {escape(kind)}", _short(data, 200)
        dump = event.model_dump(mode="json", exclude_none=True)
        # The record as JSON, what draws nothing written as JSON escapes it (still JSON).
        raw = escape(visible(json.dumps(dump, indent=1, ensure_ascii=False, default=str))[:4000])
        yield (
            f"<li class='ev ev-{escape(kind)}'><span class='t'>{at}</span>{head}"
            + (f"<div class='d'>{detail}</div>" if detail else "")
            + f"<details class='d'><summary class='dim'>raw</summary><pre>{raw}</pre></details></li>"
        )

    def _approvals(self, session: SessionHistory, hl: str) -> Iterator[str]:
        for state in session.approvals:
            capsule, decision, approval_id = state.capsule, state.decision, state.capsule.id
            if decision is None:
                outcome = f"⏳ pending, expires {escape(capsule.expires_at)}"
            else:
                who = ", ".join(self.who(d) for d in decision.deciders)
                why = f": {self.text(decision.reason)}" if decision.reason else ""
                outcome = f"⚖ <b>{decision.verdict}</b> by {who} at {escape(decision.at)}{why}"
                outcome += " · ⌛ went stale: not run" if state.stale is not None else ""
            yield (
                f"<li id='{escape(approval_id)}' class='approval{' hl' if approval_id == hl else ''}'>"
                f"<code>{escape(approval_id)}</code> <code>{escape(capsule.tool)}"
                f"({_short(capsule.arguments, 200)})</code> requested by {self.who(capsule.requester)}"
                f" · hash <code>{escape(capsule.short_hash)}</code><br>{outcome}</li>"
            )
