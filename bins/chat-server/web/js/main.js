// AI OS Chat web UI: wiring, routing (hash routes, so any server path works), keyboard
// shortcuts, the phone drawer, and page-wide drag-and-drop import.

import { $, $$, debounce } from './dom.js';
import { qs } from './api.js';
import { icon } from './icons.js';
import { Live } from './ws.js';
import { Sidebar, closeDrawer } from './sidebar.js';
import { ConversationView } from './conversation.js';
import { SearchView } from './search.js';
import { ImportView } from './imports.js';
import { StatsView } from './stats.js';
import { parseRoute, go } from './common.js';

const main = $('#main');
const searchInput = $('#search-input');
const live = new Live();
const sidebar = new Sidebar($('#sidebar'));
const conversation = new ConversationView(main, live);
const search = new SearchView(main, searchInput);
const imports = new ImportView(main, live);
const stats = new StatsView(main);

// Icons in the static markup.
$('#menu-btn').append(icon('menu', { size: 20 }));
for (const el of $$('[data-icon]')) el.append(icon(el.dataset.icon, { size: 16 }));

let current = null;

function route() {
  const r = parseRoute();
  if (r.name !== 'import') imports.hide();
  if (['search', 'import', 'stats'].includes(r.name)) conversation.hide();
  document.body.dataset.view = r.name;
  for (const a of $$('.topnav a')) a.removeAttribute('aria-current');
  closeDrawer();
  switch (r.name) {
    case 'conversation':
      if (conversation.ignoreRoute === r.id) {
        // The URL caught up with a chat that just got its id; the view is already showing it.
        conversation.ignoreRoute = null;
        break;
      }
      conversation.open(r.id, r.message);
      break;
    case 'search':
      search.show(r);
      break;
    case 'import':
      $('#nav-import').setAttribute('aria-current', 'page');
      imports.show(r);
      break;
    case 'stats':
      $('#nav-stats').setAttribute('aria-current', 'page');
      stats.show();
      break;
    default:
      $('#nav-new').setAttribute('aria-current', 'page');
      conversation.openNew();
  }
  if (r.name !== 'search' && current === 'search') searchInput.value = '';
  current = r.name;
}

window.addEventListener('hashchange', route);

// A click outside an open menu closes it.
document.addEventListener('click', (e) => {
  for (const menu of $$('details.menu[open]')) if (!menu.contains(e.target)) menu.removeAttribute('open');
});

// ----- search as you type -------------------------------------------------------------------------

const searchSoon = debounce((q) => {
  const r = parseRoute();
  const params = r.name === 'search' ? { q, source: r.source, tag: r.tag } : { q };
  go(`#/search${qs(params)}`, { replace: r.name === 'search' });
}, 250);

searchInput.addEventListener('input', () => {
  const q = searchInput.value;
  if (!q.trim() && parseRoute().name !== 'search') return;
  searchSoon(q);
});
$('#search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  searchSoon.cancel();
  const r = parseRoute();
  go(`#/search${qs({ q: searchInput.value, source: r.source, tag: r.tag })}`, { replace: r.name === 'search' });
});

// ----- keyboard -------------------------------------------------------------------------------------

function typingIn(el) {
  return el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

document.addEventListener('keydown', (e) => {
  if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !typingIn(document.activeElement)) {
    e.preventDefault();
    searchInput.focus();
    searchInput.select();
    return;
  }
  if (e.key === 'Escape') {
    const menu = document.querySelector('details.menu[open]');
    if (menu) {
      menu.removeAttribute('open');
      return;
    }
    if (conversation.escape()) {
      e.preventDefault();
      return;
    }
    if (document.body.classList.contains('drawer-open')) {
      closeDrawer();
      return;
    }
    if (document.activeElement === searchInput && searchInput.value) {
      searchInput.value = '';
    }
  }
});

// ----- phone drawer ----------------------------------------------------------------------------------

$('#menu-btn').addEventListener('click', () => {
  const open = !document.body.classList.contains('drawer-open');
  document.body.classList.toggle('drawer-open', open);
  $('#menu-btn').setAttribute('aria-expanded', String(open));
  $('#scrim').hidden = !open;
  if (open) $('#sidebar').querySelector('button, a, select')?.focus();
});
$('#scrim').addEventListener('click', () => {
  closeDrawer();
  $('#scrim').hidden = true;
});
$('#sidebar').addEventListener('click', (e) => {
  if (e.target.closest('a.card')) {
    closeDrawer();
    $('#scrim').hidden = true;
  }
});

// ----- drag and drop anywhere: import ------------------------------------------------------------------

let dragDepth = 0;
const overlay = $('#drop-overlay');
const hasFiles = (e) => Array.from(e.dataTransfer?.types || []).includes('Files');
window.addEventListener('dragenter', (e) => {
  if (!hasFiles(e)) return;
  dragDepth++;
  overlay.hidden = false;
});
window.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) overlay.hidden = true;
});
window.addEventListener('dragover', (e) => {
  if (hasFiles(e)) e.preventDefault();
});
window.addEventListener('drop', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth = 0;
  overlay.hidden = true;
  const files = Array.from(e.dataTransfer.files || []);
  if (!files.length) return;
  if (parseRoute().name !== 'import') go('#/import');
  imports.upload(files);
});

// ----- live connection indicator -------------------------------------------------------------------------

const dot = $('#live-dot');
live.addEventListener('state', (e) => {
  const label = { open: 'connected', connecting: 'connecting', waiting: 'disconnected, retrying' }[e.detail] || e.detail;
  dot.dataset.state = e.detail;
  dot.setAttribute('aria-label', `Live chat: ${label}`);
  dot.title = `Live chat: ${label}`;
});
window.addEventListener('online', () => live.retryNow());

// ----- start ---------------------------------------------------------------------------------------------

live.connect();
sidebar.refresh();
route();
