// The app's own page: the Home tab (the view the app published for this person, with working
// buttons) and the Messages tab (the person's DM with the app). Opening either tells the app
// (app_home_opened), as Slack does.
"use strict";

function myIm() {
  return app.boot.ims.find((im) => im.user === app.user);
}

function isAppPage() {
  const im = myIm();
  return Boolean(im && app.channel === im.id);
}

async function announceTab(tab) {
  try {
    await api("/_ui/api/home_opened", { user: app.user, tab });
  } catch (error) {
    toast(`Could not open the app: ${error.message}`);
  }
}

function openApp(tab) {
  const im = myIm();
  const homeOk = app.boot.app.home_tab_enabled;
  const wanted = tab === "home" && homeOk ? "home" : "messages";
  if (wanted === "messages" && app.boot.app.messages_tab === "off") {
    toast("This app has no Home tab and no Messages tab");
    return;
  }
  app.channel = im.id;
  app.thread = null;
  app.tab = wanted;
  writeHash();
  renderSidebar();
  announceTab(wanted);
  refresh({ jump: true });
}

function renderAppTabs() {
  const tabs = $("#app-tabs");
  const onApp = isAppPage();
  tabs.hidden = !onApp;
  if (!onApp) return;
  for (const button of tabs.querySelectorAll(".app-tab")) {
    const tab = button.dataset.tab;
    const available = tab === "home" ? app.boot.app.home_tab_enabled : app.boot.app.messages_tab !== "off";
    button.hidden = !available;
    button.classList.toggle("active", tab === app.tab);
    button.onclick = () => { if (tab !== app.tab) openApp(tab); };
  }
}

// Also used for buttons in modals (messages.js): any button in a view.
function onHomeButton(view) {
  return async (block, element, node) => {
    const click = async () => {
      node.disabled = true;
      try {
        await api("/_ui/api/click_view", {
          user: app.user, view_id: view.id,
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

async function refreshHome() {
  const data = await api(`/_ui/api/home?${new URLSearchParams({ user: app.user })}`);
  const pane = $("#home");
  if (!data.view) {
    pane.replaceChildren(el("div", "empty",
      `${esc(app.boot.bot.name)} has not published a Home tab for you yet.`));
    return;
  }
  const key = `${data.view.id}:${data.view.hash}`;
  if (pane.dataset.key === key) return;
  pane.dataset.key = key;
  const ctx = { ...ctxBase, onButton: onHomeButton(data.view) };
  pane.replaceChildren(BlockKit.blocks(data.view.blocks, ctx));
}
