// Shared state and helpers of the LocalSlack page (classic scripts share their top-level
// names: core.js, then messages.js, then app.js).
"use strict";

const { esc, el } = BlockKit;
const $ = (sel) => document.querySelector(sel);
const app = {
  boot: null, user: null, channel: null, thread: null, data: null, tab: null,
  modalKey: null, refreshing: false, again: false,
};
const REACTIONS = ["white_check_mark", "eyes", "+1", "tada", "x"];

// -- helpers ------------------------------------------------------------------------------

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
  if (!data.ok) throw new Error(data.detail ? `${data.error}: ${data.detail}` : data.error);
  return data;
}

function toast(text) {
  const node = $("#toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { node.hidden = true; }, 5000);
}

function person(id) {
  if (app.boot && id === app.boot.bot.user_id) return { id, name: app.boot.bot.name, real_name: app.boot.bot.name, bot: true };
  return (app.boot && app.boot.users.find((u) => u.id === id)) || { id, name: id, real_name: id };
}

function channelInfo(id) {
  return app.boot.channels.find((c) => c.id === id) || { id, name: id, members: [] };
}

const ctxBase = {
  userName: (id) => person(id).name,
  channelName: (id) => channelInfo(id).name,
  groupName: (id) => ((app.boot.groups || []).find((g) => g.id === id) || { handle: id }).handle,
};

function tsDate(ts) { return new Date(parseFloat(ts) * 1000); }
function clock(ts) { return tsDate(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }
function day(ts) {
  return tsDate(ts).toLocaleDateString([], { weekday: "long", month: "long", day: "numeric", year: "numeric" });
}

function hue(id) {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}

function avatar(id) {
  const who = person(id);
  const node = el("span", who.bot ? "avatar bot" : "avatar", esc((who.real_name || who.name)[0].toUpperCase()));
  if (!who.bot) node.style.background = `hsl(${hue(id)} 45% 45%)`;
  return node;
}
