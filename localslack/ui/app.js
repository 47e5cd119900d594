// The LocalSlack page: pick a person, read channels and threads, post, click, react, answer
// modals. The server says "something changed" over Server-Sent Events; the page then fetches
// what it shows (/_ui/api/state), so a missed event costs nothing.
"use strict";

// -- location (kept in the URL hash so links can open a thread) ---------------------------

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { c: params.get("c"), t: params.get("t"), u: params.get("u") };
}

function writeHash() {
  const params = new URLSearchParams();
  params.set("c", app.channel);
  if (app.thread) params.set("t", app.thread);
  params.set("u", app.user);
  history.replaceState(null, "", `#${params.toString()}`);
}

function canSee(channel) {
  return !channel.is_private || channel.members.includes(app.user);
}

function applyLocation() {
  const { c, t, u } = readHash();
  const users = app.boot.users.map((x) => x.id);
  app.user = users.includes(u) ? u : (users.includes(localStorage.getItem("localslack.user"))
    ? localStorage.getItem("localslack.user") : app.boot.ui.default_user);
  const visible = app.boot.channels.filter(canSee);
  const wanted = visible.find((x) => x.id === c || x.name === c);
  const fallback = visible.find((x) => x.id === app.boot.ui.default_channel)
    || visible.find((x) => x.members.includes(app.user)) || visible[0];
  app.channel = (wanted || fallback).id;
  app.thread = wanted && t ? t : null;
}

// -- sidebar ------------------------------------------------------------------------------

function renderSidebar() {
  document.title = `${app.boot.ui.title} — ${app.boot.team.name}`;
  $("#team-name").textContent = app.boot.team.name;
  const people = $("#people");
  people.replaceChildren();
  for (const u of app.boot.users) {
    const node = el("button", `person${u.id === app.user ? " active" : ""}`);
    node.dataset.user = u.id;
    node.append(avatar(u.id), el("span", "person-name", esc(u.real_name)));
    node.addEventListener("click", () => selectUser(u.id));
    people.appendChild(node);
  }
  const channels = $("#channels");
  channels.replaceChildren();
  for (const c of app.boot.channels.filter(canSee)) {
    const member = c.members.includes(app.user);
    const node = el("a", `channel${c.id === app.channel ? " active" : ""}${member ? "" : " not-member"}`,
      `${c.is_private ? "🔒" : "#"} ${esc(c.name)}`);
    node.href = "#";
    node.dataset.channel = c.id;
    if (!member) node.title = "you are not a member of this channel";
    node.addEventListener("click", (event) => { event.preventDefault(); selectChannel(c.id); });
    channels.appendChild(node);
  }
  const links = $("#links");
  links.replaceChildren();
  for (const link of app.boot.ui.links) {
    const node = el("a", "app-link", `↗ ${esc(link.label)}`);
    node.href = link.url;
    node.target = "_blank";
    links.appendChild(node);
  }
  const chan = channelInfo(app.channel);
  const me = person(app.user);
  $("#channel-title").textContent = `${chan.is_private ? "🔒 " : "#"}${chan.name}`;
  $("#channel-members").textContent = `${chan.members.length} members`;
  $("#whoami").textContent = `You are ${me.real_name} (@${me.name})`;
  $("#composer textarea").placeholder = `Message #${chan.name} as ${me.real_name} — @${app.boot.bot.name} to ask the bot, /command for slash commands`;
  $("#thread-composer textarea").placeholder = `Reply as ${me.real_name}…`;
}

function selectUser(id) {
  app.user = id;
  localStorage.setItem("localslack.user", id);
  const chan = channelInfo(app.channel);
  if (!canSee(chan)) { app.channel = app.boot.channels.find(canSee).id; app.thread = null; }
  app.modalKey = null;
  writeHash();
  renderSidebar();
  refresh();
}

function selectChannel(id) {
  app.channel = id;
  app.thread = null;
  writeHash();
  renderSidebar();
  refresh();
}

function openThread(ts) {
  app.thread = ts;
  writeHash();
  refresh();
}

// -- state --------------------------------------------------------------------------------

async function refresh(options = {}) {
  if (app.refreshing) { app.again = true; return; }
  app.refreshing = true;
  try {
    do {
      app.again = false;
      const query = new URLSearchParams({ user: app.user, channel: app.channel });
      if (app.thread) query.set("thread", app.thread);
      const data = await api(`/_ui/api/state?${query}`);
      const channelChanged = !app.data || app.data.channel !== data.channel;
      app.data = data;
      renderList($("#messages"), data.messages, { inThread: false, empty: "No messages yet. Say hello!", jump: channelChanged || options.jump });
      const pane = $("#thread");
      pane.hidden = !data.thread;
      if (data.thread) {
        renderList($("#thread-messages"), data.thread, { inThread: true, empty: "", jump: options.jump });
      }
      renderModal(data.views);
      document.body.dataset.revision = data.revision;
    } while (app.again);
  } catch (error) {
    toast(`Could not load: ${error.message}`);
  } finally {
    app.refreshing = false;
  }
}

let pending = null;
function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; refresh(); }, 30);
}

function connect() {
  const status = $("#conn");
  const source = new EventSource("/_ui/events");
  source.addEventListener("hello", async () => {
    status.textContent = "● live";
    status.className = "live";
    app.boot = await api("/_ui/api/bootstrap");  // the server may have restarted
    renderSidebar();
    refresh();
  });
  source.onmessage = scheduleRefresh;
  source.onerror = () => {
    status.textContent = "○ reconnecting…";
    status.className = "down";
  };
}

// -- composing ----------------------------------------------------------------------------

async function send(textarea, threadTs) {
  const text = textarea.value.trim();
  if (!text) return;
  textarea.disabled = true;
  try {
    if (text.startsWith("/") && !threadTs) {
      await api("/_ui/api/command", { user: app.user, channel: app.channel, text });
    } else {
      await api("/_ui/api/message", { user: app.user, channel: app.channel, text, thread_ts: threadTs || undefined });
    }
    textarea.value = "";
    refresh({ jump: true });
  } catch (error) {
    toast(`Not sent: ${error.message}`);
  } finally {
    textarea.disabled = false;
    textarea.focus();
  }
}

function wireComposer(form, threadTs) {
  const textarea = form.querySelector("textarea");
  form.addEventListener("submit", (event) => { event.preventDefault(); send(textarea, threadTs()); });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send(textarea, threadTs()); }
  });
}

async function start() {
  app.boot = await api("/_ui/api/bootstrap");
  applyLocation();
  writeHash();
  renderSidebar();
  wireComposer($("#composer"), () => null);
  wireComposer($("#thread-composer"), () => app.thread);
  $("#thread-close").addEventListener("click", () => { app.thread = null; writeHash(); refresh(); });
  window.addEventListener("hashchange", () => { applyLocation(); renderSidebar(); refresh({ jump: true }); });
  await refresh({ jump: true });
  connect();
}

start().catch((error) => toast(`LocalSlack UI failed to start: ${error.message}`));
