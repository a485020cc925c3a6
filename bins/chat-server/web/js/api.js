// The HTTP API client: JSON in and out, the bearer token, and errors as exceptions.

import { h } from './dom.js';

const TOKEN_KEY = 'aioschat.token';
// Relative to the page, so the UI works wherever the server mounts it.
export const API = new URL('api/v1/', document.baseURI).pathname;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export function getToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch { /* private mode: the token lives for this page only */ }
  memoryToken = token;
}

let memoryToken = getToken();
let pendingPrompt = null;

/** Asks for the token once, however many requests got a 401 at the same time. */
function askForToken(wasWrong) {
  if (!pendingPrompt) {
    pendingPrompt = new Promise((resolve) => {
      const input = h('input', {
        type: 'password', name: 'token', autocomplete: 'current-password', required: true,
        'aria-label': 'API token', placeholder: 'token',
      });
      const dialog = h('dialog', { class: 'token-dialog', 'aria-labelledby': 'token-title' },
        h('form', { method: 'dialog' },
          h('h2', { id: 'token-title' }, 'This server needs a token'),
          h('p', {}, wasWrong
            ? 'The stored token was not accepted. Enter the token chat-server was started with (--token or CHAT_TOKEN).'
            : 'Enter the token chat-server was started with (--token or CHAT_TOKEN). It is kept in this browser.'),
          input,
          h('div', { class: 'dialog-actions' },
            h('button', { type: 'submit', class: 'primary', value: 'ok' }, 'Save token'))));
      dialog.addEventListener('close', () => {
        const token = input.value.trim();
        dialog.remove();
        pendingPrompt = null;
        setToken(token);
        resolve(token);
      });
      document.body.append(dialog);
      dialog.showModal();
      input.focus();
    });
  }
  return pendingPrompt;
}

export function authHeaders(extra = {}) {
  const headers = { ...extra };
  if (memoryToken) headers.Authorization = `Bearer ${memoryToken}`;
  return headers;
}

/**
 * Calls the API. `path` is relative to /api/v1/. `body` objects are sent as JSON; FormData,
 * Blob and File go as they are. Returns parsed JSON, the text, or null for 204. With
 * `raw: true` returns the Response (for streaming).
 */
export async function api(path, { method = 'GET', body, headers = {}, raw = false, signal } = {}) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const init = { method, headers: authHeaders(headers), signal };
    if (body !== undefined) {
      if (body instanceof FormData || body instanceof Blob) init.body = body;
      else {
        init.body = JSON.stringify(body);
        init.headers['Content-Type'] = 'application/json';
      }
    }
    let res;
    try {
      res = await fetch(API + path.replace(/^\//, ''), init);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', 'The server cannot be reached. Is chat-server running?');
    }
    if (res.status === 401) {
      const token = await askForToken(Boolean(memoryToken));
      if (!token) throw new ApiError(401, 'unauthorized', 'A token is needed to use this server.');
      continue;
    }
    if (raw && res.ok) return res;
    if (!res.ok) {
      let code = '';
      let message = '';
      try {
        const err = await res.json();
        code = err.error || '';
        message = err.message || '';
      } catch { /* not JSON */ }
      throw new ApiError(res.status, code, message || `The server answered ${res.status}.`);
    }
    if (res.status === 204) return null;
    const type = res.headers.get('content-type') || '';
    return type.includes('json') ? res.json() : res.text();
  }
  throw new ApiError(401, 'unauthorized', 'The token was not accepted.');
}

export const enc = encodeURIComponent;

/** Builds a query string from an object, skipping empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The absolute URL of an API path (for links and the WebSocket). */
export function apiUrl(path) {
  return new URL(API + path.replace(/^\//, ''), location.href);
}

/**
 * Downloads an API resource. Without a token a plain link works; with one, the file is fetched
 * with the Authorization header and handed to the browser as a blob.
 */
export async function download(path, fallbackName) {
  const res = await api(path, { raw: true });
  const blob = await res.blob();
  const cd = res.headers.get('content-disposition') || '';
  const m = cd.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  const name = m ? decodeURIComponent(m[1]) : fallbackName;
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
