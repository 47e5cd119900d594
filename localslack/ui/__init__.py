"""A browser UI for LocalSlack: plain HTML, CSS and JavaScript served by the same aiohttp app,
with live updates over Server-Sent Events. No build step and nothing fetched from the
network: open ``http://127.0.0.1:<port>/`` (or ``/ui/``).

Besides channels, threads, cards and modals it shows what AI apps add: the status line under
a thread ("signoff is thinking…"), the agent session with its stop button, streamed replies
growing with their tasks or plan, and the app's own page (its Home tab, and the Messages tab
where a person DMs the app)."""

from localslack.ui.options import UiOptions, compose_text
from localslack.ui.routes import ui_routes

__all__ = ["UiOptions", "compose_text", "ui_routes"]
