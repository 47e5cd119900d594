"""The frame every page of ``signoff dev``'s signoff pages is drawn in: its style, its
navigation, and a policy under which it runs no script and loads nothing."""

from __future__ import annotations

from html import escape

from aiohttp import web

__all__ = ["page"]

_STYLE = """
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#1d1c1d}
nav{background:#3f0e40;color:#fff;padding:10px 20px;display:flex;gap:18px}nav a{color:#fff}
main{padding:16px 24px;max-width:1100px}h1{font-size:20px}h2{font-size:16px;margin-top:26px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e4e4e4;padding:5px 8px;
text-align:left;vertical-align:top}th{font-size:12px;color:#616061}code{font:12px Menlo,monospace}
.state{border-radius:10px;padding:1px 8px;font-size:12px;background:#eee}
.state.completed,.state.approved{background:#d9f2e6}.state.failed,.state.denied{background:#fbe0e7}
.state.awaiting_approval,.state.pending{background:#fff1cc}
.session{border:1px solid #ddd;border-radius:8px;margin:14px 0;padding:10px 14px}
.session.marked{border-color:#1264a3;box-shadow:0 0 0 2px #cfe3f5}
.tl{list-style:none;margin:8px 0 0;padding:0 0 0 14px;border-left:2px solid #ddd}
.tl li{margin:0 0 8px;position:relative}.tl li:before{content:"";position:absolute;left:-20px;
top:6px;width:10px;height:10px;border-radius:50%;background:#bbb}
.tl .t{color:#616061;font:12px Menlo,monospace;margin-right:8px}.tl .d{color:#444;margin-left:22px}
.approval{background:#fffbea;border:1px solid #f0dc9a;border-radius:6px;padding:6px 10px}
.approval.hl{outline:3px solid #1264a3}details pre{white-space:pre-wrap;background:#f8f8f8;
padding:8px;border-radius:4px;font:12px/1.5 Menlo,monospace}.dim{color:#616061}
"""


# These pages run no script and load nothing (their style is inline): what a trace holds
# is escaped, and should an escape ever slip, it stays text, not a click on Approve through
# the chat's API beside them. Nor are they framed by another site.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def page(title: str, body: str, *, refresh: int | None = None) -> web.Response:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    html = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>{meta}'
        f"<style>{_STYLE}</style></head><body><nav><b>signoff</b>"
        '<a href="/ui/">← chat</a><a href="/signoff/">sessions &amp; approvals</a></nav>'
        f"<main>{body}</main></body></html>"
    )
    return web.Response(
        text=html, content_type="text/html", headers={"Content-Security-Policy": _POLICY}
    )
