// Slack's mrkdwn and Block Kit, rendered to HTML. Everything that comes from a message is
// escaped; links open only for http(s) and mailto; nothing is fetched from the network
// (images show their alt text).
"use strict";

const BlockKit = (() => {
  const EMOJI = {
    eyes: "👀", white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", "+1": "👍",
    thumbsup: "👍", "-1": "👎", tada: "🎉", rocket: "🚀", warning: "⚠️", no_entry: "⛔",
    hourglass: "⌛", hourglass_flowing_sand: "⏳", fire: "🔥", wave: "👋", raised_hand: "✋",
    robot_face: "🤖", memo: "📝", lock: "🔒", bulb: "💡", pray: "🙏", ok_hand: "👌",
  };

  function esc(text) {
    return String(text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  // Slack escapes only these three in message text.
  function unent(text) {
    return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  // Its own names only: `:constructor:` is no emoji, whatever an object inherits.
  function known(name) {
    return Object.hasOwn(EMOJI, name) ? EMOJI[name] : undefined;
  }

  // The name is whoever's who added the reaction or posted the blocks: text, not HTML.
  function emoji(name) {
    return known(name) || `:${esc(name)}:`;
  }

  function emojify(html) {
    return html.replace(/:([a-z0-9_+-]+):/g, (all, name) => known(name) || all);
  }

  function entity(body, ctx) {
    const [target, label] = splitOnce(body, "|");
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return `<span class="mention" data-user="${esc(id)}">@${esc(label || ctx.userName(id))}</span>`;
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      return `<span class="mention channel-ref">#${esc(label || ctx.channelName(id))}</span>`;
    }
    if (target.startsWith("!date^")) {
      return slackDate(target, label);
    }
    if (target.startsWith("!subteam^")) {
      const id = target.slice(9);
      const name = label || "@" + (ctx.groupName ? ctx.groupName(id) : id);
      return `<span class="mention group" data-group="${esc(id)}">${esc(name)}</span>`;
    }
    if (target.startsWith("!")) {
      return `<span class="mention">@${esc(target.slice(1))}</span>`;
    }
    if (/^(https?:|mailto:)/i.test(target)) {
      const text = label ? unent(label) : target;
      return `<a href="${esc(unent(target))}" target="_blank" rel="noopener noreferrer">${esc(text)}</a>`;
    }
    return esc(`<${unent(body)}>`);
  }

  // <!date^1794214800^{date_short_pretty} at {time}|fallback>: shown in the reader's own
  // time zone, as Slack does; a token it does not know shows the fallback instead.
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

  function ordinal(n) {
    const tail = n % 100 >= 11 && n % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th");
    return `${n}${tail}`;
  }

  function relativeDay(when) {
    const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    const diff = Math.round((day(when) - day(new Date())) / 86400000);
    return { "-1": "yesterday", 0: "today", 1: "tomorrow" }[diff] || "";
  }

  function ago(when) {
    const seconds = (when.getTime() - Date.now()) / 1000;
    const span = Math.abs(seconds);
    if (span < 60) return seconds >= 0 ? "in less than a minute" : "just now";
    const [size, unit] = [[86400, "day"], [3600, "hour"], [60, "minute"]].find(([s]) => span >= s);
    const n = Math.round(span / size);
    const words = `${n} ${unit}${n === 1 ? "" : "s"}`;
    return seconds >= 0 ? `in ${words}` : `${words} ago`;
  }

  function dateToken(token, when) {
    const y = when.getFullYear(), m = when.getMonth(), d = when.getDate();
    const pad = (n) => String(n).padStart(2, "0");
    const date = `${MONTHS[m]} ${ordinal(d)}, ${y}`;
    const short = `${MONTHS[m].slice(0, 3)} ${d}, ${y}`;
    const long = `${DAYS[when.getDay()]}, ${date}`;
    const time = (secs) => when.toLocaleTimeString([], {
      hour: "numeric", minute: "2-digit", ...(secs ? { second: "2-digit" } : {}),
    });
    const table = {
      date_num: `${y}-${pad(m + 1)}-${pad(d)}`,
      date_slash: `${pad(d)}/${pad(m + 1)}/${y}`,
      date, date_short: short, date_long: long,
      date_pretty: relativeDay(when) || date,
      date_short_pretty: relativeDay(when) || short,
      date_long_pretty: relativeDay(when) || long,
      time: time(false), time_secs: time(true), ago: ago(when),
    };
    return table[token];
  }

  function slackDate(target, fallback) {
    const [, stamp, tokens = "", link = ""] = target.split("^");
    const when = new Date(Number(stamp) * 1000);
    let unknown = Number.isNaN(when.getTime());
    let text = unknown ? "" : tokens.replace(/\{([a-z_]+)\}/g, (all, token) => {
      const value = dateToken(token, when);
      if (value === undefined) unknown = true;
      return value || "";
    });
    if (unknown) text = unent(fallback || "");
    text = text.charAt(0).toUpperCase() + text.slice(1);
    const title = esc(unent(fallback || ""));
    const body = `<span class="slack-date" title="${title}">${esc(text)}</span>`;
    return /^https?:/i.test(link)
      ? `<a href="${esc(unent(link))}" target="_blank" rel="noopener noreferrer">${body}</a>` : body;
  }

  function splitOnce(text, sep) {
    const at = text.indexOf(sep);
    return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
  }

  function format(html) {
    return html
      .replace(/(^|[^\w*])\*(?!\s)([^*\n]+?)\*(?!\w)/g, "$1<b>$2</b>")
      .replace(/(^|[^\w_])_(?!\s)([^_\n]+?)_(?!\w)/g, "$1<i>$2</i>")
      .replace(/(^|[^\w~])~(?!\s)([^~\n]+?)~(?!\w)/g, "$1<s>$2</s>");
  }

  function inline(text, ctx) {
    const tokens = [];
    const put = (html) => `\uE000${tokens.push(html) - 1}\uE001`;
    let out = text
      .replace(/`([^`\n]+)`/g, (all, code) => put(`<code>${esc(unent(code))}</code>`))
      .replace(/<([^<>\n]+)>/g, (all, body) => put(entity(body, ctx)));
    out = emojify(format(esc(unent(out))));
    return out.replace(/\uE000(\d+)\uE001/g, (all, i) => tokens[Number(i)]);
  }

  function lines(text, ctx) {
    const out = [];
    let plain = [];
    const flush = () => {
      if (plain.length) out.push(plain.map((l) => inline(l, ctx)).join("<br>"));
      plain = [];
    };
    for (const line of text.split("\n")) {
      const quote = /^(>|&gt;)\s?/.exec(line);
      if (quote) {
        flush();
        out.push(`<blockquote>${inline(line.slice(quote[0].length), ctx)}</blockquote>`);
      } else {
        plain.push(line);
      }
    }
    flush();
    return out.join("");
  }

  function mrkdwn(text, ctx) {
    const parts = String(text || "").split("```");
    if (parts.length % 2 === 0) {
      // An unclosed fence is plain text.
      const last = parts.pop();
      parts[parts.length - 1] += "```" + last;
    }
    return parts
      .map((part, i) => {
        if (i % 2) return `<pre class="code-block">${esc(unent(part.replace(/^\n/, "")))}</pre>`;
        const trimmed = i > 0 ? part.replace(/^\n/, "") : part;
        return trimmed ? `<span class="mrkdwn-part">${lines(trimmed, ctx)}</span>` : "";
      })
      .join("");
  }

  function textObject(obj, ctx) {
    if (!obj) return "";
    if (obj.type === "mrkdwn") return mrkdwn(obj.text, ctx);
    return emojify(esc(obj.text || "")).replace(/\n/g, "<br>");
  }

  function el(tag, cls, html) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (html !== undefined) node.innerHTML = html;
    return node;
  }

  function button(element, block, ctx) {
    const node = el("button", `bk-button ${element.style || ""}`.trim(), textObject(element.text, ctx));
    node.dataset.actionId = element.action_id || "";
    node.dataset.blockId = block.block_id || "";
    if (element.value !== undefined) node.dataset.value = element.value;
    if (element.url) {
      node.title = element.url;
    }
    node.addEventListener("click", () => ctx.onButton(block, element, node));
    return node;
  }

  function accessory(element, block, ctx) {
    if (element.type === "button") return button(element, block, ctx);
    if (element.type === "image") return el("span", "bk-image", `🖼 ${esc(element.alt_text || "image")}`);
    return el("span", "bk-unsupported", esc(`[${element.type}]`));
  }

  function richText(block, ctx) {
    const render = (item) => {
      switch (item.type) {
        case "text": {
          let html = esc(item.text || "").replace(/\n/g, "<br>");
          const style = item.style || {};
          if (style.code) html = `<code>${html}</code>`;
          if (style.bold) html = `<b>${html}</b>`;
          if (style.italic) html = `<i>${html}</i>`;
          if (style.strike) html = `<s>${html}</s>`;
          return html;
        }
        case "link":
          return /^(https?:|mailto:)/i.test(item.url || "")
            ? `<a href="${esc(item.url)}" target="_blank" rel="noopener noreferrer">${esc(item.text || item.url)}</a>`
            : esc(item.text || item.url || "");
        case "user": return entity(`@${item.user_id}`, ctx);
        case "channel": return entity(`#${item.channel_id}`, ctx);
        case "usergroup": return entity(`!subteam^${item.usergroup_id}`, ctx);
        case "broadcast": return entity(`!${item.range}`, ctx);
        case "emoji": return item.unicode ? esc(item.unicode) : emoji(item.name);
        case "rich_text_section": return (item.elements || []).map(render).join("");
        case "rich_text_preformatted":
          return `<pre class="code-block">${(item.elements || []).map(render).join("")}</pre>`;
        case "rich_text_quote":
          return `<blockquote>${(item.elements || []).map(render).join("")}</blockquote>`;
        case "rich_text_list":
          return `<ul>${(item.elements || []).map((e) => `<li>${render(e)}</li>`).join("")}</ul>`;
        default: return "";
      }
    };
    return el("div", "bk-rich", (block.elements || []).map(render).join(""));
  }

  function input(block, ctx) {
    const node = el("label", "bk-input");
    node.appendChild(el("span", "bk-input-label", textObject(block.label, ctx) +
      (block.optional ? ' <span class="optional">(optional)</span>' : "")));
    const element = block.element || {};
    let field;
    if (element.type === "plain_text_input") {
      field = document.createElement(element.multiline ? "textarea" : "input");
      if (element.max_length) field.maxLength = element.max_length;
      if (element.placeholder) field.placeholder = element.placeholder.text || "";
      if (element.initial_value) field.value = element.initial_value;
    } else if (element.type === "static_select") {
      field = document.createElement("select");
      field.appendChild(new Option("—", ""));
      for (const option of element.options || []) {
        field.appendChild(new Option(option.text.text, option.value));
      }
    } else {
      field = el("span", "bk-unsupported", esc(`[${element.type}]`));
    }
    field.classList.add("bk-field");
    field.dataset.blockId = block.block_id || "";
    field.dataset.actionId = element.action_id || "";
    node.appendChild(field);
    if (ctx.errors && ctx.errors[block.block_id]) {
      node.appendChild(el("span", "bk-error", esc(ctx.errors[block.block_id])));
    }
    return node;
  }

  function block(b, ctx) {
    switch (b.type) {
      case "header":
        return el("div", "bk-header", textObject(b.text, ctx));
      case "section": {
        const node = el("div", "bk-section");
        const main = el("div", "bk-section-main");
        if (b.text) main.appendChild(el("div", "bk-text", textObject(b.text, ctx)));
        if (b.fields) {
          const grid = el("div", "bk-fields");
          for (const field of b.fields) grid.appendChild(el("div", "bk-field-cell", textObject(field, ctx)));
          main.appendChild(grid);
        }
        node.appendChild(main);
        if (b.accessory) node.appendChild(accessory(b.accessory, b, ctx));
        return node;
      }
      case "context": {
        const node = el("div", "bk-context");
        for (const item of b.elements || []) {
          node.appendChild(item.type === "image"
            ? el("span", "bk-image", `🖼 ${esc(item.alt_text || "")}`)
            : el("span", "bk-context-item", textObject(item, ctx)));
        }
        return node;
      }
      case "divider":
        return el("hr", "bk-divider");
      case "actions": {
        const node = el("div", "bk-actions");
        for (const item of b.elements || []) node.appendChild(accessory(item, b, ctx));
        return node;
      }
      case "image":
        return el("div", "bk-image", `🖼 ${esc(b.alt_text || "image")}` +
          (b.title ? ` — ${textObject(b.title, ctx)}` : ""));
      case "input":
        return input(b, ctx);
      case "rich_text":
        return richText(b, ctx);
      case "markdown":
        return el("div", "bk-markdown", Markdown.render(b.text || "", ctx));
      default:
        return el("div", "bk-unsupported", esc(`[${b.type} block]`));
    }
  }

  function blocks(list, ctx) {
    const node = el("div", "bk-blocks");
    for (const b of list || []) {
      if (b && typeof b === "object") {
        const rendered = block(b, ctx);
        rendered.dataset.blockType = b.type;
        node.appendChild(rendered);
      }
    }
    return node;
  }

  return { blocks, mrkdwn, textObject, esc, emoji, el, entity, unent };
})();
