// Search: as-you-type (debounced) over GET /search, filters by source and tag, hits with
// highlighted snippets; a hit opens its conversation scrolled to the message.

import { api, qs } from './api.js';
import { h, mount, unescapeEntities, fullTime } from './dom.js';
import { conversationHref, IMPORT_SOURCES, sourceLabel, errorText, go } from './common.js';

/**
 * The server sends snippets HTML-escaped with matches in `<mark>`…`</mark>`. Only those exact
 * markers become elements; everything else is decoded and inserted as text, so even a snippet
 * that somehow held other tags could not create them.
 */
export function snippetNodes(snippet) {
  const out = [];
  let rest = String(snippet || '');
  let inMark = false;
  while (rest.length) {
    const marker = inMark ? '</mark>' : '<mark>';
    const at = rest.indexOf(marker);
    const piece = at === -1 ? rest : rest.slice(0, at);
    if (piece) {
      const text = unescapeEntities(piece);
      out.push(inMark ? h('mark', {}, text) : document.createTextNode(text));
    }
    if (at === -1) break;
    rest = rest.slice(at + marker.length);
    inMark = !inMark;
  }
  return out;
}

export class SearchView {
  constructor(root, input) {
    this.root = root;
    this.input = input;
    this.seq = 0;
    this.tags = [];
  }

  async show(route) {
    if (document.activeElement !== this.input && this.input.value !== route.q) this.input.value = route.q;
    this.route = route;
    const source = h('select', { id: 'search-source', 'aria-label': 'Source', onchange: (e) => this.update({ source: e.target.value }) },
      h('option', { value: '' }, 'All sources'),
      ['native', ...IMPORT_SOURCES].map((s) => h('option', { value: s }, sourceLabel(s))));
    source.value = route.source;
    const tag = h('select', { id: 'search-tag', 'aria-label': 'Tag', onchange: (e) => this.update({ tag: e.target.value }) },
      h('option', { value: '' }, 'All tags'));
    this.results = h('div', { class: 'search-results', id: 'search-results', 'aria-live': 'polite' });
    mount(this.root, h('section', { class: 'search-view' },
      h('div', { class: 'search-head' },
        h('h1', {}, 'Search'),
        h('div', { class: 'search-filters' }, source, tag)),
      this.results));
    api('tags').then((tags) => {
      tag.append(...tags.map((t) => h('option', { value: t.name }, t.name)));
      tag.value = route.tag;
    }).catch(() => {});
    await this.run();
  }

  update(change) {
    const r = { ...this.route, ...change };
    go(`#/search${qs({ q: r.q, source: r.source, tag: r.tag })}`, { replace: true });
  }

  async run() {
    const { q, source, tag } = this.route;
    const seq = ++this.seq;
    if (!q.trim()) {
      mount(this.results, h('p', { class: 'empty-hint' }, 'Type to search every conversation: words, "a phrase", or prefix*.'));
      return;
    }
    this.results.setAttribute('aria-busy', 'true');
    try {
      const res = await api(`search${qs({ q, source, tag, limit: 50 })}`);
      if (seq !== this.seq) return;
      const hits = res.hits || [];
      mount(this.results,
        h('p', { class: 'result-count' }, hits.length ? `${hits.length}${hits.length === 50 ? '+' : ''} ${hits.length === 1 ? 'hit' : 'hits'}` : 'No hits.'),
        h('ol', { class: 'hits' }, hits.map((hit) => h('li', {},
          h('a', { class: 'hit', href: conversationHref(hit.conversation_id, hit.message_id || ''), 'data-conversation': hit.conversation_id, 'data-message': hit.message_id || '' },
            h('div', { class: 'hit-top' },
              h('span', { class: 'hit-title' }, hit.title || 'Untitled'),
              hit.role ? h('span', { class: 'hit-role' }, hit.role) : null,
              hit.created_at ? h('time', { datetime: hit.created_at }, fullTime(hit.created_at)) : null),
            h('p', { class: 'snippet' }, snippetNodes(hit.snippet)))))));
    } catch (e) {
      if (seq !== this.seq) return;
      mount(this.results, h('p', { class: 'view-error', role: 'alert' }, `Search failed: ${errorText(e)}`));
    } finally {
      if (seq === this.seq) this.results.removeAttribute('aria-busy');
    }
  }
}
