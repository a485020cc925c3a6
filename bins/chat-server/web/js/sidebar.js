// The sidebar: native conversations, "Imported" with one collapsible folder per source (with
// counts from GET /folders), the archived section, and the tag filter. Collapse state and the
// tag filter are remembered in localStorage.

import { api, qs, ApiError } from './api.js';
import { h, mount, relativeTime, plural, debounce, $ } from './dom.js';
import { icon } from './icons.js';
import {
  badge, conversationHref, IMPORT_SOURCES, sourceLabel, pref, setPref, on, toast, errorText,
} from './common.js';

const PAGE = 50;

/** Group keys: 'native', 'imported', 'src:<source>', 'archived'. */
const DEFAULT_COLLAPSED = { native: false, imported: false, archived: true };

function isCollapsed(key) {
  const all = pref('collapsed', {});
  if (Object.hasOwn(all, key)) return Boolean(all[key]);
  return Object.hasOwn(DEFAULT_COLLAPSED, key) ? DEFAULT_COLLAPSED[key] : false;
}

function setCollapsed(key, value) {
  const all = pref('collapsed', {});
  all[key] = value;
  setPref('collapsed', all);
}

export class Sidebar {
  constructor(root) {
    this.root = root;
    this.folders = [];
    this.tags = [];
    this.tag = pref('tag', '');
    this.activeId = '';
    this.lists = new Map(); // group key -> { items, cursor, el }
    this.refreshSoon = debounce(() => this.refresh(), 250);
    on('library-changed', () => this.refreshSoon());
    on('conversation-open', (id) => this.setActive(id));
  }

  setActive(id) {
    this.activeId = id || '';
    for (const el of this.root.querySelectorAll('.card')) {
      el.classList.toggle('active', el.dataset.id === this.activeId);
      if (el.dataset.id === this.activeId) el.setAttribute('aria-current', 'page');
      else el.removeAttribute('aria-current');
    }
  }

  async refresh() {
    try {
      const [folders, tags] = await Promise.all([api('folders'), api('tags')]);
      this.folders = folders;
      this.tags = tags;
      if (this.tag && !tags.some((t) => t.name === this.tag)) this.setTag('');
      this.render();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) {
        mount(this.body(), h('p', { class: 'sidebar-error', role: 'alert' }, `Could not load the library: ${errorText(e)}`),
          h('button', { type: 'button', onclick: () => this.refresh() }, 'Try again'));
      }
    }
  }

  body() {
    return this.root.querySelector('.sidebar-body');
  }

  setTag(tag) {
    this.tag = tag;
    setPref('tag', tag);
  }

  counts() {
    const bySource = {};
    let archived = 0;
    for (const f of this.folders) {
      const src = f.source || 'native';
      bySource[src] = (bySource[src] || 0) + Number(f.count || 0);
      archived += Number(f.archived_count || 0);
    }
    return { bySource, archived };
  }

  render() {
    const { bySource, archived } = this.counts();
    const body = this.body();
    const scroll = body.scrollTop;
    const tagSelect = h('select', {
      id: 'tag-filter',
      'aria-label': 'Filter by tag',
      onchange: (e) => {
        this.setTag(e.target.value);
        this.render();
      },
    },
    h('option', { value: '' }, 'All tags'),
    this.tags.map((t) => h('option', { value: t.name, selected: t.name === this.tag ? 'selected' : null }, `${t.name} (${t.count})`)));
    tagSelect.value = this.tag;

    const importedSources = IMPORT_SOURCES.filter((s) => bySource[s]);
    // Sources the API knows but this page does not (a future provider) still get a folder.
    for (const s of Object.keys(bySource)) {
      if (s !== 'native' && !importedSources.includes(s)) importedSources.push(s);
    }
    const importedTotal = importedSources.reduce((n, s) => n + bySource[s], 0);

    mount(body,
      h('div', { class: 'tag-filter' }, icon('tag', { size: 14 }), tagSelect,
        this.tag ? h('button', {
          type: 'button', class: 'link-btn', 'aria-label': 'Clear the tag filter',
          onclick: () => { this.setTag(''); this.render(); },
        }, 'clear') : null),
      this.group('native', 'Conversations', bySource.native || 0, { source: 'native' }, 'chat'),
      h('section', { class: 'group group-imported', 'data-group': 'imported' },
        this.groupHeader('imported', 'Imported', importedTotal, 'folder'),
        h('div', { class: 'group-content', hidden: isCollapsed('imported') },
          importedSources.length
            ? importedSources.map((s) => this.group(`src:${s}`, sourceLabel(s), bySource[s], { source: s }, null, s))
            : h('p', { class: 'empty-hint' }, 'Nothing imported yet. ', h('a', { href: '#/import' }, 'Import an export'), '.'))),
      this.group('archived', 'Archived', archived, { archived: 'true' }, 'archive'));
    body.scrollTop = scroll;
    this.setActive(this.activeId);
  }

  groupHeader(key, label, count, iconName, source) {
    const collapsed = isCollapsed(key);
    const btn = h('button', {
      type: 'button',
      class: 'group-toggle',
      'aria-expanded': String(!collapsed),
      'data-key': key,
      onclick: () => {
        const now = btn.getAttribute('aria-expanded') === 'true';
        setCollapsed(key, now);
        btn.setAttribute('aria-expanded', String(!now));
        const content = btn.closest('.group').querySelector(':scope > .group-content');
        content.hidden = now;
        if (!now) this.loadGroup(key, content);
      },
    },
    h('span', { class: 'chevron' }, icon('chevron', { size: 14 })),
    source ? badge(source) : (iconName ? icon(iconName, { size: 15 }) : null),
    source ? null : h('span', { class: 'group-label' }, label),
    h('span', { class: 'count', title: plural(count, 'conversation') }, String(count)));
    if (source) btn.setAttribute('aria-label', `${label} folder, ${plural(count, 'conversation')}`);
    return btn;
  }

  group(key, label, count, filter, iconName, source) {
    const collapsed = isCollapsed(key);
    const content = h('div', { class: 'group-content', hidden: collapsed });
    content.filter = filter;
    const section = h('section', {
      class: `group${source ? ' folder' : ''}`,
      'data-group': key,
      'data-source': source || null,
    }, this.groupHeader(key, label, count, iconName, source), content);
    if (!collapsed) this.loadGroup(key, content);
    return section;
  }

  async loadGroup(key, content, cursor = '') {
    const filter = content.filter || {};
    const params = { limit: PAGE, tag: this.tag, archived: 'false', ...filter, cursor };
    if (!cursor) content.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
    try {
      const page = await api(`conversations${qs(params)}`);
      if (!cursor) content.replaceChildren();
      else content.querySelector('.more')?.remove();
      const list = content.querySelector('ul.cards') || content.appendChild(h('ul', { class: 'cards' }));
      for (const c of page.items) list.append(h('li', {}, card(c)));
      if (!list.children.length) {
        content.replaceChildren(h('p', { class: 'empty-hint' }, this.tag ? `No conversations tagged “${this.tag}”.` : emptyText(key)));
      }
      if (page.next_cursor) {
        content.append(h('button', {
          type: 'button', class: 'more link-btn',
          onclick: () => this.loadGroup(key, content, page.next_cursor),
        }, 'Load more'));
      }
      this.setActive(this.activeId);
    } catch (e) {
      content.replaceChildren(h('p', { class: 'sidebar-error' }, errorText(e)));
    }
  }
}

function emptyText(key) {
  if (key === 'native') return 'No conversations yet. Start one with “New chat”.';
  if (key === 'archived') return 'Nothing archived.';
  return 'Empty.';
}

/** A conversation card: title, badge, updated time, message count, tags, summary. */
export function card(c) {
  return h('a', {
    class: 'card',
    href: conversationHref(c.id),
    'data-id': c.id,
    'data-source': c.source,
  },
  h('div', { class: 'card-top' },
    h('span', { class: 'card-title' }, c.title || 'Untitled'),
    badge(c.source)),
  h('div', { class: 'card-meta' },
    h('time', { datetime: c.updated_at, title: `Updated ${new Date(c.updated_at).toLocaleString()}` }, relativeTime(c.updated_at)),
    h('span', { class: 'dot', 'aria-hidden': 'true' }, '·'),
    h('span', { class: 'msg-count' }, plural(Number(c.message_count || 0), 'message')),
    c.archived ? [h('span', { class: 'dot', 'aria-hidden': 'true' }, '·'), h('span', {}, 'archived')] : null),
  c.tags && c.tags.length ? h('div', { class: 'card-tags' }, c.tags.map((t) => h('span', { class: 'tag-chip' }, t))) : null,
  c.summary ? h('div', { class: 'card-summary' }, c.summary) : null);
}

export function closeDrawer() {
  document.body.classList.remove('drawer-open');
  $('#menu-btn')?.setAttribute('aria-expanded', 'false');
  const scrim = $('#scrim');
  if (scrim) scrim.hidden = true;
}

export function toastError(e) {
  toast(errorText(e), { kind: 'error' });
}
