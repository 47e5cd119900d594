// Rendering messages, threads, cards, files, reactions, the confirm dialog and modals.
"use strict";

// -- messages -----------------------------------------------------------------------------

function messageLink(message) {
  const link = app.boot.ui.message_link;
  if (!link || message.is_ephemeral) return null;
  if (!message.thread_ts && !message.bot_id) return null;
  const url = link.url
    .replace("{channel}", encodeURIComponent(app.channel))
    .replace("{ts}", encodeURIComponent(message.ts))
    .replace("{thread_ts}", encodeURIComponent(message.thread_ts || message.ts));
  const node = el("a", "trace-link", `${esc(link.label)} ↗`);
  node.href = url;
  node.target = "_blank";
  return node;
}

function onButton(message) {
  return async (block, element, node) => {
    const click = async () => {
      node.disabled = true;
      try {
        await api("/_ui/api/click", {
          user: app.user, channel: app.channel, ts: message.ts,
          action_id: element.action_id, value: element.value, block_id: block.block_id,
        });
      } catch (error) {
        toast(`Click failed: ${error.message}`);
      } finally {
        setTimeout(() => { node.disabled = false; }, 600);
      }
    };
    if (element.confirm) confirmDialog(element.confirm, click);
    else click();
  };
}

function confirmDialog(confirm, then) {
  const ctx = { ...ctxBase, onButton: () => {} };
  const box = $("#confirm");
  box.querySelector(".confirm-title").innerHTML = BlockKit.textObject(confirm.title || { type: "plain_text", text: "Are you sure?" }, ctx);
  box.querySelector(".confirm-text").innerHTML = BlockKit.textObject(confirm.text, ctx);
  const yes = box.querySelector(".confirm-yes");
  const no = box.querySelector(".confirm-no");
  yes.textContent = (confirm.confirm && confirm.confirm.text) || "Yes";
  no.textContent = (confirm.deny && confirm.deny.text) || "Cancel";
  box.hidden = false;
  const close = () => { box.hidden = true; yes.onclick = null; no.onclick = null; };
  yes.onclick = () => { close(); then(); };
  no.onclick = close;
}

function fileCard(file) {
  const node = el("div", "file");
  node.dataset.fileId = file.id;
  const size = file.size > 1024 ? `${(file.size / 1024).toFixed(1)} KB` : `${file.size} B`;
  const head = el("div", "file-head", `📄 <b>${esc(file.title || file.name)}</b> <span class="dim">${esc(file.name)} · ${size}</span> `);
  const open = el("a", "file-open", "open");
  open.href = `/_ui/files/${encodeURIComponent(file.id)}`;
  open.target = "_blank";
  head.appendChild(open);
  node.appendChild(head);
  if ((file.mimetype || "").startsWith("text/")) {
    const details = el("details", "file-preview");
    details.appendChild(el("summary", "", "preview"));
    const pre = el("pre", "code-block");
    details.appendChild(pre);
    details.addEventListener("toggle", async () => {
      if (details.open && !pre.textContent) {
        pre.textContent = await (await fetch(open.href)).text();
      }
    }, { once: false });
    node.appendChild(details);
  }
  return node;
}

function reactionsRow(message) {
  const row = el("div", "reactions");
  for (const r of message.reactions || []) {
    const mine = r.users.includes(app.user);
    const node = el("button", `reaction${mine ? " mine" : ""}`, `${BlockKit.emoji(r.name)} <span>${r.count}</span>`);
    node.dataset.name = r.name;
    node.title = r.users.map((u) => person(u).name).join(", ") + ` reacted with :${r.name}:`;
    node.addEventListener("click", () => react(message, r.name));
    row.appendChild(node);
  }
  return row;
}

async function react(message, name) {
  try {
    await api("/_ui/api/react", { user: app.user, channel: app.channel, ts: message.ts, name });
  } catch (error) {
    toast(`Reaction failed: ${error.message}`);
  }
}

function messageNode(message, { inThread }) {
  const node = el("div", "msg");
  node.dataset.ts = message.ts;
  if (message.bot_id) node.classList.add("from-bot");
  if (message.is_ephemeral) node.classList.add("ephemeral");
  const author = message.user || (message.bot_profile && message.bot_profile.id) || "?";
  node.appendChild(avatar(message.bot_id ? app.boot.bot.user_id : author));
  const body = el("div", "msg-main");
  const who = person(message.bot_id ? app.boot.bot.user_id : author);
  const head = el("div", "msg-head",
    `<span class="msg-author">${esc(who.bot ? who.name : who.real_name)}</span>` +
    (who.bot ? '<span class="badge">APP</span>' : "") +
    `<span class="msg-time" title="${esc(day(message.ts))} ${esc(tsDate(message.ts).toLocaleTimeString())}">${esc(clock(message.ts))}</span>` +
    (message.edited ? '<span class="dim">(edited)</span>' : ""));
  body.appendChild(head);
  if (message.is_ephemeral) {
    const note = el("div", "ephemeral-note", "👁 Only visible to you ");
    const dismiss = el("button", "link-button dismiss", "Dismiss");
    dismiss.addEventListener("click", () => api("/_ui/api/dismiss", { user: app.user, ts: message.ts }).catch((e) => toast(e.message)));
    note.appendChild(dismiss);
    body.appendChild(note);
  }
  const ctx = { ...ctxBase, onButton: onButton(message) };
  const blocks = (message.blocks || []).filter((b) => b.type !== "rich_text");
  const content = el("div", "msg-body");
  if (message.subtype === "tombstone") {
    content.innerHTML = '<span class="dim">This message was deleted.</span>';
  } else if (message.stream) {
    content.appendChild(streamContent(message, ctx));
    if (blocks.length) content.appendChild(BlockKit.blocks(message.blocks, ctx));
  } else if (blocks.length) {
    content.appendChild(BlockKit.blocks(message.blocks, ctx));
  } else if (message.text) {
    content.innerHTML = BlockKit.mrkdwn(message.text, ctx);
  }
  body.appendChild(content);
  for (const file of message.files || []) body.appendChild(fileCard(file));
  if ((message.reactions || []).length) body.appendChild(reactionsRow(message));
  const status = !inThread && app.data && app.data.statuses && app.data.statuses[message.ts];
  if (status) body.appendChild(statusLine(status));
  if (!inThread && message.reply_count) {
    const summary = el("button", "thread-summary",
      `💬 ${message.reply_count} ${message.reply_count === 1 ? "reply" : "replies"} <span class="dim">last reply ${esc(clock(message.latest_reply))}</span>`);
    summary.addEventListener("click", () => openThread(message.ts));
    body.appendChild(summary);
  }
  if (!message.is_ephemeral) body.appendChild(hoverActions(message, inThread));
  node.appendChild(body);
  return node;
}

function hoverActions(message, inThread) {
  const bar = el("div", "msg-actions");
  for (const name of REACTIONS) {
    const b = el("button", "quick-react", BlockKit.emoji(name));
    b.title = `react with :${name}:`;
    b.dataset.name = name;
    b.addEventListener("click", () => react(message, name));
    bar.appendChild(b);
  }
  if (!inThread) {
    const reply = el("button", "reply-button", "Reply in thread");
    reply.addEventListener("click", () => openThread(message.ts));
    bar.appendChild(reply);
  }
  const link = messageLink(message);
  if (link) bar.appendChild(link);
  return bar;
}

function renderList(container, messages, options) {
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  const keep = container.scrollTop;
  container.replaceChildren();
  let lastDay = null;
  for (const message of messages) {
    const d = day(message.ts);
    // Threads show a day only when it changes (an answer days after the question).
    if (d !== lastDay && (!options.inThread || lastDay !== null)) {
      container.appendChild(el("div", "day-divider", `<span>${esc(d)}</span>`));
    }
    lastDay = d;
    container.appendChild(messageNode(message, options));
  }
  if (!messages.length) container.appendChild(el("div", "empty", options.empty));
  container.scrollTop = nearBottom || options.jump ? container.scrollHeight : keep;
}

// -- modal --------------------------------------------------------------------------------

function renderModal(views) {
  const modal = $("#modal");
  const view = views[views.length - 1];
  if (!view) { modal.hidden = true; app.modalKey = null; return; }
  const key = `${view.id}:${view.hash}:${JSON.stringify(view.errors || {})}`;
  if (key === app.modalKey) return;  // keep what the person is typing
  app.modalKey = key;
  // Buttons in a modal send block_actions from the view, like those in a Home tab.
  const ctx = { ...ctxBase, errors: view.errors || {}, onButton: onHomeButton(view) };
  modal.querySelector(".modal-title").innerHTML = BlockKit.textObject(view.title, ctx);
  const body = modal.querySelector(".modal-body");
  body.replaceChildren(BlockKit.blocks(view.blocks, ctx));
  const submit = modal.querySelector(".modal-submit");
  const cancel = modal.querySelector(".modal-cancel");
  submit.hidden = !view.submit;
  if (view.submit) submit.textContent = view.submit.text;
  cancel.textContent = (view.close && view.close.text) || "Cancel";
  submit.onclick = async () => {
    const values = {};
    for (const field of body.querySelectorAll(".bk-field")) {
      if (!("value" in field) || field.value === "") continue;
      (values[field.dataset.blockId] ||= {})[field.dataset.actionId] = field.value;
    }
    submit.disabled = true;
    try {
      await api("/_ui/api/submit", { user: app.user, view_id: view.id, values });
      modal.hidden = true;
    } catch (error) {
      toast(`Submit failed: ${error.message}`);
    } finally {
      submit.disabled = false;
    }
  };
  cancel.onclick = async () => {
    modal.hidden = true;
    await api("/_ui/api/close_view", { user: app.user, view_id: view.id }).catch((e) => toast(e.message));
  };
  modal.hidden = false;
  const first = body.querySelector("textarea, input");
  if (first) first.focus();
}
