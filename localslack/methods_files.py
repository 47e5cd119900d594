"""The external upload flow: getUploadURLExternal, POST bytes, completeUploadExternal."""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from localslack.errors import SlackError
from localslack.methods_common import require_member
from localslack.records import JSON, StoredFile
from localslack.runtime import Runtime
from localslack.webapi import ApiRequest, Method

__all__ = ["MAX_FILE_BYTES", "METHODS", "download", "upload"]

MAX_FILE_BYTES = 1024**3  # Slack's limit on one file


async def get_upload_url(rt: Runtime, req: ApiRequest) -> JSON:
    filename = req.args.text("filename")
    length = req.args.integer("length", default=-1)
    if not filename or length < 0:
        raise SlackError("invalid_arguments")
    stored = StoredFile(
        id=rt.ids.file_id(),
        name=filename,
        length=length,
        created=int(rt.clock()),
        user=rt.config.bot.user_id,
        alt_txt=req.args.text("alt_txt"),
        snippet_type=req.args.text("snippet_type"),
    )
    rt.workspace.files[stored.id] = stored
    return {"upload_url": f"{rt.base_url}/upload/{stored.id}", "file_id": stored.id}


async def upload(rt: Runtime, request: web.Request) -> web.Response:
    """Step 2: the SDK posts raw bytes (other clients send multipart) and needs HTTP 200."""
    stored = rt.workspace.files.get(request.match_info["file_id"])
    if stored is None or stored.completed:
        return web.Response(status=404, text="file_not_found")
    # Not request.read(): it stops at aiohttp's 1 MB default, where Slack takes files up
    # to 1 GB, so a long trace failed here and nowhere else.
    body = bytearray()
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name in ("file", "filename", None):
                while chunk := await part.read_chunk(1 << 20):
                    body += chunk
                    if len(body) > MAX_FILE_BYTES:
                        return web.Response(status=413, text="file_too_large")
                break
    else:
        while chunk := await request.content.read(1 << 20):
            body += chunk
            if len(body) > MAX_FILE_BYTES:
                return web.Response(status=413, text="file_too_large")
    data = bytes(body)
    stored.content = data
    return web.Response(text=f"OK - {len(data)}")


def _share_targets(rt: Runtime, req: ApiRequest) -> list[str]:
    targets = [c for c in (req.args.text("channels") or "").split(",") if c]
    channel_id = req.args.text("channel_id")
    if channel_id:
        targets.insert(0, channel_id)
    return list(dict.fromkeys(targets))


async def complete_upload(rt: Runtime, req: ApiRequest) -> JSON:
    items = req.args.get("files")
    if not isinstance(items, list) or not items:
        raise SlackError("invalid_arguments")
    files: list[StoredFile] = []
    for item in items:
        stored = rt.workspace.files.get(str(item.get("id"))) if isinstance(item, dict) else None
        if stored is None or stored.content is None:
            raise SlackError("file_not_found")
        stored.title = str(item.get("title") or stored.name)
        files.append(stored)
    channels = []
    for ref in _share_targets(rt, req):
        channel = rt.workspace.channel(ref)
        if channel is None:
            raise SlackError("channel_not_found")
        require_member(rt, channel)
        channels.append(channel)
    thread_ts = req.args.text("thread_ts")
    for channel in channels:
        rt.messages.resolve_thread(channel, thread_ts)
    for stored in files:
        stored.completed = True
    for channel in channels:
        file_objects = [f.to_api(base_url=rt.base_url, team_id=rt.config.team_id) for f in files]
        message = await rt.messages.post_bot(
            channel,
            text=req.args.text("initial_comment"),
            blocks=req.args.get("blocks") if isinstance(req.args.get("blocks"), list) else None,
            thread_ts=thread_ts,
            extra={"files": file_objects, "upload": True, "display_as_bot": False},
        )
        for stored in files:
            stored.shares.append((channel.id, message["ts"]))
    return {"files": [{"id": f.id, "title": f.title} for f in files]}


async def file_info(rt: Runtime, req: ApiRequest) -> JSON:
    stored = rt.workspace.files.get(req.args.text("file") or "")
    if stored is None or not stored.completed:
        raise SlackError("file_not_found")
    return {"file": stored.to_api(base_url=rt.base_url, team_id=rt.config.team_id)}


async def download(rt: Runtime, request: web.Request) -> web.Response:
    """url_private: like Slack, it needs the bot token in the Authorization header."""
    if request.headers.get("Authorization") != f"Bearer {rt.config.bot_token}":
        return web.Response(status=403, text="forbidden")
    file_id = request.match_info["key"].rsplit("-", 1)[-1]
    stored = rt.workspace.files.get(file_id)
    if stored is None or stored.content is None:
        return web.Response(status=404, text="file_not_found")
    return web.Response(body=stored.content, content_type=stored.mimetype)


METHODS: dict[str, Method] = {
    "files.getUploadURLExternal": Method(get_upload_url, scopes=("files:write",)),
    "files.completeUploadExternal": Method(complete_upload, scopes=("files:write",)),
    "files.info": Method(file_info, scopes=("files:read",)),
}
