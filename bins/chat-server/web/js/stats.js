// Statistics: conversations and messages per month by source, as stacked bar charts drawn
// with inline SVG. Data from GET /stats; if a server lacks it, computed from the paged list.

import { api, qs, ApiError } from './api.js';
import { h, s, mount } from './dom.js';
import { sourceLabel, errorText } from './common.js';

const ORDER = ['native', 'chatgpt', 'claude', 'gemini', 'copilot'];

export class StatsView {
  constructor(root) {
    this.root = root;
  }

  async show() {
    mount(this.root, h('section', { class: 'stats-view' }, h('h1', {}, 'Statistics'), h('p', { class: 'loading' }, 'Loading…')));
    let stats;
    try {
      stats = await api('stats');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        try { stats = await computeStats(); } catch (e2) { return this.error(e2); }
      } else return this.error(e);
    }
    const months = (stats.months || []).filter((m) => /^\d{4}-\d{2}$/.test(m.month));
    const sources = ORDER.filter((src) => months.some((m) => m.source === src))
      .concat([...new Set(months.map((m) => m.source))].filter((src) => !ORDER.includes(src)));
    mount(this.root, h('section', { class: 'stats-view' },
      h('h1', {}, 'Statistics'),
      h('div', { class: 'stat-totals' },
        h('div', { class: 'stat' }, h('span', { class: 'stat-n', id: 'stat-conversations' }, fmt(stats.conversations)), h('span', {}, 'conversations')),
        h('div', { class: 'stat' }, h('span', { class: 'stat-n', id: 'stat-messages' }, fmt(stats.messages)), h('span', {}, 'messages'))),
      months.length ? [
        legend(sources),
        h('h2', {}, 'Conversations per month'),
        chart(months, sources, 'conversations'),
        h('h2', {}, 'Messages per month'),
        chart(months, sources, 'messages'),
        table(months, sources),
      ] : h('p', { class: 'empty-hint' }, 'No data yet: import an export or start a chat.')));
  }

  error(e) {
    mount(this.root, h('section', { class: 'stats-view' }, h('h1', {}, 'Statistics'), h('p', { class: 'view-error', role: 'alert' }, errorText(e))));
  }
}

/** Fallback: counts from the conversation list (messages counted in the month the conversation began). */
async function computeStats() {
  const acc = new Map();
  let cursor = '';
  let conversations = 0;
  let messages = 0;
  for (let page = 0; page < 1000; page++) {
    const res = await api(`conversations${qs({ archived: 'all', limit: 1000, cursor })}`);
    for (const c of res.items) {
      const month = (c.created_at || '').slice(0, 7);
      const key = `${month}|${c.source}`;
      const row = acc.get(key) || { month, source: c.source, conversations: 0, messages: 0 };
      row.conversations++;
      row.messages += Number(c.message_count || 0);
      acc.set(key, row);
      conversations++;
      messages += Number(c.message_count || 0);
    }
    if (!res.next_cursor) break;
    cursor = res.next_cursor;
  }
  return { conversations, messages, months: [...acc.values()].sort((a, b) => a.month.localeCompare(b.month)) };
}

function fmt(n) {
  return Number(n || 0).toLocaleString();
}

/** Every month from the first to the last, so gaps show as gaps. */
function monthRange(months) {
  const sorted = [...new Set(months.map((m) => m.month))].sort();
  if (!sorted.length) return [];
  const out = [];
  let [y, mo] = sorted[0].split('-').map(Number);
  const [ey, em] = sorted[sorted.length - 1].split('-').map(Number);
  while ((y < ey || (y === ey && mo <= em)) && out.length < 600) {
    out.push(`${y}-${String(mo).padStart(2, '0')}`);
    mo++;
    if (mo > 12) { mo = 1; y++; }
  }
  return out;
}

/** A maximum of four equal, whole, round steps (1, 2, 2.5 or 5 times a power of ten). */
function niceMax(v) {
  const raw = Math.max(1, Math.ceil(v / 4));
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const step = m * p;
    if (step >= raw && Number.isInteger(step)) return step * 4;
  }
  return 40 * p;
}

function legend(sources) {
  return h('ul', { class: 'legend' }, sources.map((src) => h('li', {},
    h('span', { class: `swatch fill-${src}`, 'aria-hidden': 'true' }), sourceLabel(src))));
}

function chart(rows, sources, field) {
  const months = monthRange(rows);
  const byMonth = new Map(months.map((m) => [m, {}]));
  for (const r of rows) {
    const slot = byMonth.get(r.month);
    if (slot) slot[r.source] = (slot[r.source] || 0) + Number(r[field] || 0);
  }
  const totals = months.map((m) => Object.values(byMonth.get(m)).reduce((a, b) => a + b, 0));
  const max = niceMax(Math.max(1, ...totals));
  const W = Math.max(320, months.length * 28 + 60);
  const H = 220;
  const left = 48;
  const bottom = 28;
  const top = 10;
  const plotH = H - bottom - top;
  const plotW = W - left - 10;
  const step = plotW / months.length;
  const barW = Math.max(3, Math.min(32, step * 0.7));
  const svg = s('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'data-field': field,
    'aria-label': `${field === 'messages' ? 'Messages' : 'Conversations'} per month by source`,
    preserveAspectRatio: 'xMinYMin meet',
  });
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = top + plotH - (plotH * i) / 4;
    svg.append(s('line', { x1: left, x2: W - 10, y1: y, y2: y, class: 'grid' }),
      s('text', { x: left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, fmt(v)));
  }
  const labelEvery = Math.ceil(months.length / Math.max(1, Math.floor(plotW / 56)));
  months.forEach((m, i) => {
    const x = left + i * step + (step - barW) / 2;
    let y = top + plotH;
    for (const src of sources) {
      const v = byMonth.get(m)[src] || 0;
      if (!v) continue;
      const bh = (plotH * v) / max;
      y -= bh;
      svg.append(s('rect', { x, y, width: barW, height: Math.max(bh, 0.5), class: `bar fill-${src}`, 'data-month': m, 'data-source': src },
        s('title', {}, `${m} · ${sourceLabel(src)}: ${fmt(v)} ${field}`)));
    }
    if (i % labelEvery === 0) {
      svg.append(s('text', { x: left + i * step + step / 2, y: H - 8, class: 'axis', 'text-anchor': 'middle' }, m));
    }
  });
  return h('div', { class: 'chart-wrap' }, svg);
}

function table(rows, sources) {
  const months = [...new Set(rows.map((r) => r.month))].sort();
  const cell = (m, src, f) => {
    const r = rows.find((x) => x.month === m && x.source === src);
    return r ? fmt(r[f]) : '';
  };
  return h('details', { class: 'stats-table' },
    h('summary', {}, 'Table'),
    h('div', { class: 'table-scroll' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Month'), sources.map((src) => h('th', { scope: 'col' }, `${sourceLabel(src)} (conv. / msgs)`)))),
      h('tbody', {}, months.map((m) => h('tr', {}, h('th', { scope: 'row' }, m),
        sources.map((src) => h('td', {}, cell(m, src, 'conversations') ? `${cell(m, src, 'conversations')} / ${cell(m, src, 'messages')}` : ''))))))));
}
