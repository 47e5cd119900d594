// The LocalSlack page: pick a person, read channels and threads, post, click, react, answer
// modals, open the app's Home and Messages tabs (home.js), watch agents work (agents.js). The server says "something changed" over Server-Sent Events; the page then fetches
// what it shows (/_ui/api/state), so a missed event costs nothing.
"use strict";

// -- location (kept in the URL hash so links can open a thread) ---------------------------

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { c: params.get("c"), t: params.get("t"), u: params.get("u"), tab: params.get("tab") };
}

function writeHash() {
  const params = new URLSearchParams();
  params.set("c", app.channel);
  if (app.thread) params.set("t", app.thread);
  params.set("u", app.user);
  if (isAppPage()) params.set("tab", app.tab);
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
  const im = myIm();
  const tab = readHash().tab;
  if (im && (c === im.id || tab)) {  // the app's page (a link may carry another person's DM)
    app.channel = im.id;
    app.tab = tab === "home" && app.boot.app.home_tab_enabled ? "home" : "messages";
    app.thread = c === im.id && t ? t : null;
    return;
  }
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
  renderGroups();
  const apps = $("#apps");
  apps.replaceChildren();
  const entry = el("a", `channel app-entry${isAppPage() ? " active" : ""}`,
    `<span class="avatar bot mini">${esc(app.boot.bot.name[0].toUpperCase())}</span> ${esc(app.boot.bot.name)}`);
  entry.href = "#";
  entry.dataset.app = app.boot.bot.user_id;
  entry.addEventListener("click", (event) => {
    event.preventDefault();
    openApp(app.boot.app.home_tab_enabled ? "home" : "messages");
  });
  apps.appendChild(entry);
  const links = $("#links");
  links.replaceChildren();
  for (const link of app.boot.ui.links) {
    const node = el("a", "app-link", `↗ ${esc(link.label)}`);
    node.href = link.url;
    node.target = "_blank";
    links.appendChild(node);
  }
  const me = person(app.user);
  $("#whoami").textContent = `You are ${me.real_name} (@${me.name})`;
  $("#thread-composer textarea").placeholder = `Reply as ${me.real_name}…`;
  renderAppTabs();
  const box = $("#composer textarea");
  if (isAppPage()) {
    $("#channel-title").innerHTML = `${esc(app.boot.bot.name)} <span class="badge">APP</span>`;
    $("#channel-members").textContent = "";
    const readOnly = app.boot.app.messages_tab !== "on";
    box.disabled = readOnly;
    box.placeholder = readOnly ? `Sending messages to ${app.boot.bot.name} has been turned off.`
      : `Message ${app.boot.bot.name} as ${me.real_name}`;
    return;
  }
  const chan = channelInfo(app.channel);
  $("#channel-title").textContent = `${chan.is_private ? "🔒 " : "#"}${chan.name}`;
  $("#channel-members").textContent = `${chan.members.length} members`;
  box.disabled = false;
  box.placeholder = `Message #${chan.name} as ${me.real_name} — @${app.boot.bot.name} to ask the bot, /command for slash commands`;
}

// Who is in each user group; the person you act as joins or leaves one (an app subscribed
// to subteam_members_changed hears it, as when someone changes a group in Slack).
function renderGroups() {
  const groups = $("#groups");
  groups.replaceChildren();
  for (const g of app.boot.groups) {
    const member = g.members.includes(app.user);
    const node = el("div", "group", `@${esc(g.handle)} <span class="dim">${g.members.length}</span> `);
    node.dataset.group = g.id;
    node.title = g.members.map((id) => `@${person(id).name}`).join(", ") || "nobody";
    const toggle = el("button", "link-button group-toggle", member ? "leave" : "join");
    toggle.addEventListener("click", async () => {
      // Who joins or leaves, not the list drawn here: it may be stale.
      const change = { group: g.id, user: app.user, join: !member };
      try {
        g.members = (await api("/_ui/api/group_members", change)).members;
      } catch (error) {
        toast(`Could not change @${g.handle}: ${error.message}`);
      }
      renderGroups();
    });
    node.appendChild(toggle);
    groups.appendChild(node);
  }
}

function selectUser(id) {
  const onApp = isAppPage();
  app.user = id;
  localStorage.setItem("localslack.user", id);
  if (onApp) {
    app.channel = myIm().id;  // the app's page, as this person sees it
    app.thread = null;
  } else if (!canSee(channelInfo(app.channel))) {
    app.channel = app.boot.channels.find(canSee).id;
    app.thread = null;
  }
  app.modalKey = null;
  writeHash();
  renderSidebar();
  refresh();
}

function selectChannel(id) {
  app.channel = id;
  app.thread = null;
  app.tab = null;
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
      const onHome = isAppPage() && app.tab === "home";
      $("#home").hidden = !onHome;
      $("#messages").hidden = onHome;
      $("#composer").hidden = onHome;
      if (onHome) {
        await refreshHome();
      } else {
        renderList($("#messages"), data.messages, { inThread: false, empty: "No messages yet. Say hello!", jump: channelChanged || options.jump });
      }
      const pane = $("#thread");
      pane.hidden = !data.thread || onHome;
      if (data.thread) {
        renderList($("#thread-messages"), data.thread, { inThread: true, empty: "", jump: options.jump });
      }
      renderThreadExtras(data);
      scheduleStatusRefresh(data);
      renderModal(data.views);
      document.body.dataset.revision = data.revision;
    } while (app.again);
  } catch (error) {
    toast(`Could not load: ${error.message}`);
  } finally {
    app.refreshing = false;
    // A refresh asked for while the failed one ran (a thread opened) is not dropped.
    if (app.again) scheduleRefresh();
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
