// A small, careful Markdown renderer for untrusted message text.
//
// Safety model: the renderer never produces an HTML string. It parses the Markdown into blocks
// and inline spans and builds DOM nodes directly; every piece of the source ends up in a text
// node (textContent), which the browser never interprets as markup. That is strictly stronger
// than "escape everything, then apply Markdown": `<script>`, `<img onerror=...>` and any other
// HTML in a message are shown as the literal characters they are. The only attribute that
// carries data is a link's href, and only after `safeHref` accepted it (http, https, mailto).
//
// Supported: fenced code blocks (``` and ~~~, with a copy button), indented code is left as
// text, ATX headings, block quotes, ordered and unordered lists (nested by indentation),
// horizontal rules, paragraphs (single newlines kept as line breaks), inline code, bold,
// italic, strikethrough, [links](https://...), and bare http(s) URLs.

import { h } from './dom.js';

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)?.*$/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$/;
const HR = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const LIST_ITEM = /^( *)([-*+]|\d{1,9}[.)])\s+(.*)$/;

/** Only these schemes may become a link. Anything else renders as text. */
export function safeHref(raw) {
  const url = String(raw || '').trim();
  // Control characters and whitespace inside a URL are a classic way to smuggle schemes.
  if (!url || /[\u0000-\u001f\u007f\s]/.test(url)) return null;
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:' || parsed.protocol === 'mailto:') {
    return parsed.href;
  }
  return null;
}

/** Renders Markdown `text` into a DocumentFragment. */
export function renderMarkdown(text) {
  const frag = document.createDocumentFragment();
  const lines = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
  renderBlocks(lines, frag, 0);
  return frag;
}

function renderBlocks(lines, parent, depth) {
  let i = 0;
  let para = [];
  const flush = () => {
    if (para.length) {
      const p = h('p');
      para.forEach((line, n) => {
        if (n) p.append(h('br'));
        appendInline(p, line.replace(/^\s+/, ''));
      });
      parent.append(p);
      para = [];
    }
  };
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      flush();
      i++;
      continue;
    }
    const fence = line.match(FENCE);
    if (fence) {
      flush();
      const marker = fence[1];
      const lang = (fence[2] || '').slice(0, 40);
      const body = [];
      i++;
      while (i < lines.length && !new RegExp(`^ {0,3}${marker[0]}{${marker.length},}\\s*$`).test(lines[i])) {
        body.push(lines[i]);
        i++;
      }
      i++; // the closing fence (or the end)
      parent.append(codeBlock(body.join('\n'), lang));
      continue;
    }
    const heading = line.match(HEADING);
    if (heading) {
      flush();
      const el = h(`h${Math.min(6, heading[1].length + 2)}`, { class: 'md-h' });
      appendInline(el, heading[2] || '');
      parent.append(el);
      i++;
      continue;
    }
    if (HR.test(line)) {
      flush();
      parent.append(h('hr'));
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      flush();
      const inner = [];
      while (i < lines.length && lines[i].trim() && QUOTE.test(lines[i])) {
        inner.push(lines[i].match(QUOTE)[1]);
        i++;
      }
      const bq = h('blockquote');
      if (depth < 8) renderBlocks(inner, bq, depth + 1);
      else bq.append(inner.join('\n'));
      parent.append(bq);
      continue;
    }
    const item = line.match(LIST_ITEM);
    if (item && (para.length === 0 || item[1].length === 0)) {
      flush();
      i = renderList(lines, i, parent, depth);
      continue;
    }
    para.push(line);
    i++;
  }
  flush();
}

function renderList(lines, start, parent, depth) {
  const first = lines[start].match(LIST_ITEM);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const list = h(ordered ? 'ol' : 'ul');
  if (ordered) {
    const n = parseInt(first[2], 10);
    if (n !== 1 && Number.isFinite(n)) list.setAttribute('start', String(n));
  }
  let i = start;
  while (i < lines.length) {
    const m = lines[i].match(LIST_ITEM);
    if (!m || m[1].length !== indent || /\d/.test(m[2]) !== ordered) break;
    const body = [m[3]];
    i++;
    // Continuation: indented lines (deeper than the marker) and blank lines followed by them.
    while (i < lines.length) {
      const l = lines[i];
      if (!l.trim()) {
        const next = lines[i + 1];
        if (next !== undefined && next.trim() && leadingSpaces(next) > indent) {
          body.push('');
          i++;
          continue;
        }
        break;
      }
      const sub = l.match(LIST_ITEM);
      if (sub && sub[1].length <= indent) break;
      if (!sub && leadingSpaces(l) <= indent && (FENCE.test(l) || HEADING.test(l) || QUOTE.test(l))) break;
      body.push(l);
      i++;
    }
    const li = h('li');
    const minIndent = Math.min(...body.slice(1).filter((l) => l.trim()).map(leadingSpaces), Infinity);
    const dedented = [body[0], ...body.slice(1).map((l) => l.slice(Math.min(minIndent, leadingSpaces(l))))];
    if (depth < 8) renderBlocks(dedented, li, depth + 1);
    else li.append(dedented.join('\n'));
    // A tight item's single paragraph is unwrapped.
    if (li.childNodes.length >= 1 && li.firstChild.nodeName === 'P' && !body.includes('')) {
      const p = li.firstChild;
      p.replaceWith(...p.childNodes);
    }
    list.append(li);
  }
  parent.append(list);
  return i;
}

function leadingSpaces(line) {
  const m = line.match(/^ */);
  return m ? m[0].length : 0;
}

/** A code block with a language label and a copy button. */
export function codeBlock(code, lang = '') {
  const codeEl = h('code', lang ? { 'data-lang': lang } : {}, code);
  const button = h('button', {
    type: 'button',
    class: 'copy-btn',
    title: 'Copy code',
    'aria-label': 'Copy code',
    onclick: async () => {
      const ok = await copyText(code);
      button.textContent = ok ? 'Copied' : 'Copy failed';
      setTimeout(() => { button.textContent = 'Copy'; }, 1500);
    },
  }, 'Copy');
  return h('div', { class: 'codeblock' },
    h('div', { class: 'codeblock-head' }, h('span', { class: 'codeblock-lang' }, lang || 'text'), button),
    h('pre', {}, codeEl));
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', { class: 'offscreen', 'aria-hidden': 'true' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

// ----- inline -----------------------------------------------------------------------------------

// Leftmost match wins; alternatives in order of precedence at the same position.
const INLINE = new RegExp([
  '(`+)([\\s\\S]*?[^`])\\1(?!`)', // 1,2 code span
  '\\[([^\\[\\]\\n]{0,500})\\]\\(\\s*<?([^()<>\\s]{1,2000})>?(?:\\s+"[^"\\n]*")?\\s*\\)', // 3,4 link
  '\\*\\*(?=\\S)([\\s\\S]*?\\S)\\*\\*', // 5 bold
  '__(?=\\S)([\\s\\S]*?\\S)__(?![A-Za-z0-9])', // 6 bold
  '~~(?=\\S)([\\s\\S]*?\\S)~~', // 7 strike
  '\\*(?=[^\\s*])([^*\\n]*?[^\\s*])\\*', // 8 italic
  '(?<![A-Za-z0-9_])_(?=[^\\s_])([^_\\n]*?[^\\s_])_(?![A-Za-z0-9_])', // 9 italic
  '\\b(https?:\\/\\/[^\\s<>"\'`]*[^\\s<>"\'`.,;:!?)\\]])', // 10 bare URL
].join('|'));

function appendInline(parent, text, depth = 0, allowLinks = true) {
  let rest = text;
  while (rest) {
    const m = depth < 6 ? INLINE.exec(rest) : null;
    if (!m) {
      parent.append(rest);
      return;
    }
    if (m.index > 0) parent.append(rest.slice(0, m.index));
    const whole = m[0];
    if (m[1] !== undefined) {
      parent.append(h('code', { class: 'md-code' }, m[2].replace(/^ (.*) $/, '$1')));
    } else if (m[3] !== undefined) {
      const href = allowLinks ? safeHref(m[4]) : null;
      if (href) {
        const a = h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' });
        appendInline(a, m[3], depth + 1, false);
        parent.append(a);
      } else {
        // Not an allowed link: the source stays visible as text, nothing is clickable.
        parent.append(whole);
      }
    } else if (m[5] !== undefined || m[6] !== undefined) {
      const el = h('strong');
      appendInline(el, m[5] ?? m[6], depth + 1, allowLinks);
      parent.append(el);
    } else if (m[7] !== undefined) {
      const el = h('del');
      appendInline(el, m[7], depth + 1, allowLinks);
      parent.append(el);
    } else if (m[8] !== undefined || m[9] !== undefined) {
      const el = h('em');
      appendInline(el, m[8] ?? m[9], depth + 1, allowLinks);
      parent.append(el);
    } else if (m[10] !== undefined) {
      const href = allowLinks ? safeHref(m[10]) : null;
      parent.append(href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' }, m[10]) : m[10]);
    } else {
      parent.append(whole);
    }
    rest = rest.slice(m.index + whole.length);
  }
}
