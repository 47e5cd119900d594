// Standard markdown (what streamed replies and `markdown` blocks carry), rendered to HTML:
// headings, **bold**, *italic*, ~~strike~~, `code`, fenced code, [links](https://…), lists
// and quotes, plus Slack's <@U…> mentions. Everything is escaped first; links open only for
// http(s) and mailto.
"use strict";

const Markdown = (() => {
  const { esc, entity, unent, emoji } = BlockKit;

  function inline(text, ctx) {
    const tokens = [];
    const put = (html) => `\uE000${tokens.push(html) - 1}\uE001`;
    let out = text
      .replace(/`([^`\n]+)`/g, (all, code) => put(`<code>${esc(unent(code))}</code>`))
      .replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, (all, label, url) => (/^(https?:|mailto:)/i.test(url)
        ? put(`<a href="${esc(url)}" target="_blank" rel="noopener noreferrer">${esc(label)}</a>`)
        : all))
      .replace(/<([@#!][^<>\n]+)>/g, (all, body) => put(entity(unent(body), ctx)));
    out = esc(unent(out))
      .replace(/:([a-z0-9_+-]+):/g, (all, name) => (emoji(name).startsWith(":") ? all : emoji(name)))
      .replace(/\*\*(?!\s)([^*\n]+?)\*\*/g, "<b>$1</b>")
      .replace(/__(?!\s)([^_\n]+?)__/g, "<b>$1</b>")
      .replace(/(^|[^\w*])\*(?!\s)([^*\n]+?)\*(?!\w)/g, "$1<i>$2</i>")
      .replace(/(^|[^\w_])_(?!\s)([^_\n]+?)_(?!\w)/g, "$1<i>$2</i>")
      .replace(/~~(?!\s)([^~\n]+?)~~/g, "<s>$1</s>");
    return out.replace(/\uE000(\d+)\uE001/g, (all, i) => tokens[Number(i)]);
  }

  function block(lines, ctx) {
    const out = [];
    let list = null;  // {tag, items}
    let para = [];
    const flushPara = () => {
      if (para.length) out.push(`<p>${para.map((l) => inline(l, ctx)).join("<br>")}</p>`);
      para = [];
    };
    const flushList = () => {
      if (list) out.push(`<${list.tag}>${list.items.map((i) => `<li>${i}</li>`).join("")}</${list.tag}>`);
      list = null;
    };
    for (const line of lines) {
      let m;
      if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
        flushPara(); flushList();
        out.push(`<div class="md-h md-h${m[1].length}">${inline(m[2], ctx)}</div>`);
      } else if ((m = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line))) {
        flushPara();
        const tag = /\d/.test(m[1]) ? "ol" : "ul";
        if (!list || list.tag !== tag) { flushList(); list = { tag, items: [] }; }
        list.items.push(inline(m[2], ctx));
      } else if ((m = /^>\s?(.*)$/.exec(line))) {
        flushPara(); flushList();
        out.push(`<blockquote>${inline(m[1], ctx)}</blockquote>`);
      } else if (!line.trim()) {
        flushPara(); flushList();
      } else {
        flushList();
        para.push(line);
      }
    }
    flushPara(); flushList();
    return out.join("");
  }

  function render(text, ctx) {
    const parts = String(text || "").split("```");
    // An unclosed fence (common mid-stream) still shows as code.
    return parts.map((part, i) => (i % 2
      ? `<pre class="code-block">${esc(part.replace(/^[\w-]*\n/, ""))}</pre>`
      : block(part.split("\n"), ctx))).join("");
  }

  return { render };
})();
