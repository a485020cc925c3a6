// Things every view shares: sources and their badges, routes, toasts, confirmation, prefs.

import { h, $ } from './dom.js';

export const SOURCES = {
  native: { label: 'AI OS', short: 'AI OS' },
  chatgpt: { label: 'ChatGPT', short: 'ChatGPT' },
  claude: { label: 'Claude', short: 'Claude' },
  gemini: { label: 'Gemini', short: 'Gemini' },
  copilot: { label: 'Copilot', short: 'Copilot' },
};
export const IMPORT_SOURCES = ['chatgpt', 'claude', 'gemini', 'copilot'];

export function sourceLabel(source) {
  return (SOURCES[source] || { label: source || 'unknown' }).label;
}

/** A badge whose colour and text both say where a conversation came from. */
export function badge(source) {
  const known = Object.hasOwn(SOURCES, source) ? source : 'other';
  return h('span', { class: `badge badge-${known}`, 'data-source': source || '' }, sourceLabel(source));
}

// ----- routes: #/ , #/c/<id>?m=<message>, #/search?q=, #/import, #/stats --------------------------

export function parseRoute(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'c' && parts[1]) return { name: 'conversation', id: parts[1], message: params.get('m') || '' };
  if (parts[0] === 'search') return { name: 'search', q: params.get('q') || '', source: params.get('source') || '', tag: params.get('tag') || '' };
  if (parts[0] === 'import') return { name: 'import', id: params.get('id') || '' };
  if (parts[0] === 'stats') return { name: 'stats' };
  return { name: 'home' };
}

export function conversationHref(id, messageId) {
  return `#/c/${encodeURIComponent(id)}${messageId ? `?m=${encodeURIComponent(messageId)}` : ''}`;
}

export function go(hash, { replace = false } = {}) {
  if (location.hash === hash) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    return;
  }
  if (replace) {
    history.replaceState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = hash;
  }
}

// ----- app-wide events ------------------------------------------------------------------------------

export const bus = new EventTarget();
export function emit(type, detail) {
  bus.dispatchEvent(new CustomEvent(type, { detail }));
}
export function on(type, fn) {
  const handler = (e) => fn(e.detail);
  bus.addEventListener(type, handler);
  return () => bus.removeEventListener(type, handler);
}

// ----- toasts and dialogs -----------------------------------------------------------------------------

export function toast(message, { kind = 'info', timeout = 4000 } = {}) {
  const region = $('#toasts');
  if (!region) return;
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  region.append(el);
  setTimeout(() => el.remove(), timeout);
}

export function errorText(e) {
  return e && e.message ? e.message : String(e);
}

/** A modal confirmation; resolves true when confirmed. */
export function confirmDialog({ title, body, confirm = 'OK', danger = false }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm-dialog', 'aria-labelledby': 'confirm-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'confirm-title' }, title),
        body ? h('p', {}, body) : null,
        h('div', { class: 'dialog-actions' },
          h('button', { value: 'cancel', type: 'submit' }, 'Cancel'),
          h('button', { value: 'ok', type: 'submit', class: danger ? 'danger' : 'primary' }, confirm))));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A modal text prompt; resolves the text or null. */
export function promptDialog({ title, label, value = '', confirm = 'Save' }) {
  return new Promise((resolve) => {
    const input = h('input', { type: 'text', value, 'aria-label': label, maxlength: 500 });
    const dialog = h('dialog', { class: 'prompt-dialog', 'aria-labelledby': 'prompt-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'prompt-title' }, title),
        h('label', {}, label, input),
        h('div', { class: 'dialog-actions' },
          h('button', { value: 'cancel', type: 'submit', formnovalidate: true }, 'Cancel'),
          h('button', { value: 'ok', type: 'submit', class: 'primary' }, confirm))));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok' ? input.value : null);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    input.select();
  });
}

// ----- preferences in localStorage ----------------------------------------------------------------------

const PREFS_KEY = 'aioschat.prefs';

export function pref(key, fallback) {
  try {
    const all = JSON.parse(localStorage.getItem(PREFS_KEY) || '{}');
    return Object.hasOwn(all, key) ? all[key] : fallback;
  } catch {
    return fallback;
  }
}

export function setPref(key, value) {
  try {
    const all = JSON.parse(localStorage.getItem(PREFS_KEY) || '{}');
    all[key] = value;
    localStorage.setItem(PREFS_KEY, JSON.stringify(all));
  } catch { /* storage unavailable: the preference lasts for this page */ }
}
