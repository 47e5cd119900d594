// What AI apps add around messages: a streamed reply growing (markdown, its tasks or plan,
// a cursor while it streams), the status line under a thread ("signoff is thinking…") and
// the agent session bar with its stop button.
"use strict";

const TASK_ICONS = { pending: "○", in_progress: "◔", complete: "✓", error: "✕" };

function taskNode(task, ctx) {
  const node = el("div", `task task-${task.status}`);
  node.dataset.taskId = task.id;
  node.appendChild(el("span", "task-icon", TASK_ICONS[task.status] || "•"));
  const main = el("div", "task-main", `<span class="task-title">${esc(task.title)}</span>`);
  if (task.details) main.appendChild(el("div", "task-details dim", esc(task.details)));
  if (task.output) main.appendChild(el("div", "task-output", Markdown.render(task.output, ctx)));
  node.appendChild(main);
  return node;
}

function streamContent(message, ctx) {
  const stream = message.stream;
  const node = el("div", `stream stream-${stream.state}`);
  node.dataset.streamState = stream.state;
  const tasks = stream.tasks || [];
  if (stream.display_mode === "plan" && (tasks.length || stream.plan_title)) {
    const plan = el("div", "plan");
    plan.appendChild(el("div", "plan-title", esc(stream.plan_title || "Plan")));
    for (const task of tasks) plan.appendChild(taskNode(task, ctx));
    node.appendChild(plan);
  } else if (tasks.length) {
    const timeline = el("div", "timeline");
    for (const task of tasks) timeline.appendChild(taskNode(task, ctx));
    node.appendChild(timeline);
  }
  // Updated with chat.update (mrkdwn, like any message's text) after it streamed.
  const shown = stream.edited ? BlockKit.mrkdwn(stream.text, ctx) : Markdown.render(stream.text, ctx);
  const text = el("div", "stream-text", shown);
  if (stream.state === "streaming") text.appendChild(el("span", "stream-cursor", "▍"));
  node.appendChild(text);
  if (stream.stopped_by === "user") node.appendChild(el("div", "dim", "Stopped"));
  return node;
}

let rotation = null;

function statusLine(status) {
  const node = el("div", "thread-status-line");
  node.dataset.threadTs = status.thread_ts;
  node.appendChild(el("span", "status-dots", "<i></i><i></i><i></i>"));
  const text = el("span", "status-text", `<b>${esc(app.boot.bot.name)}</b> ${esc(status.status)}`);
  node.appendChild(text);
  const loading = status.loading_messages || [];
  if (loading.length) {
    const rotating = el("span", "status-loading dim", esc(loading[0]));
    node.appendChild(rotating);
    let i = 0;
    clearInterval(rotation);
    rotation = setInterval(() => { i = (i + 1) % loading.length; rotating.textContent = loading[i]; }, 2000);
  }
  return node;
}

function renderThreadExtras(data) {
  const status = data.thread && data.statuses[app.thread];
  const line = $("#thread-status");
  line.hidden = !status;
  line.replaceChildren(...(status ? [statusLine(status)] : []));
  if (!status) clearInterval(rotation);
  const session = data.thread && data.sessions[app.thread];
  const bar = $("#session-bar");
  bar.hidden = !session;
  bar.replaceChildren();
  if (!session) return;
  bar.appendChild(el("span", "dim", "Agent session"));
  bar.appendChild(el("span", `session-status session-${session.status}`, esc(session.status)));
  if (session.title) bar.appendChild(el("span", "session-title", esc(session.title)));
  if (session.stoppable) {
    const stop = el("button", "session-stop", "■ Stop");
    stop.title = "Stop the agent";
    stop.addEventListener("click", async () => {
      stop.disabled = true;
      try {
        await api("/_ui/api/stop_session", { user: app.user, channel: app.channel, thread_ts: app.thread });
      } catch (error) {
        toast(`Stop failed: ${error.message}`);
      }
    });
    bar.appendChild(stop);
  } else if (session.status === "processing") {
    bar.appendChild(el("span", "dim", "working…"));
  }
}

// The page learns of a status that times out only by asking again.
let statusTimer = null;
function scheduleStatusRefresh(data) {
  clearTimeout(statusTimer);
  if (data.refresh_in !== null && data.refresh_in !== undefined) {
    statusTimer = setTimeout(() => refresh(), (data.refresh_in + 0.2) * 1000);
  }
}
