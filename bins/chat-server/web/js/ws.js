// The live connection: /api/v1/ws with JSON text frames. Reconnects by itself with exponential
// backoff (0.5 s doubling to 15 s, with jitter) and tells listeners when it is (re)connected so
// they can resynchronise with a GET. The token (if any) goes in `?token=`, since a browser
// cannot set an Authorization header on a WebSocket.

import { apiUrl, getToken } from './api.js';

const MIN_DELAY = 500;
const MAX_DELAY = 15_000;
const PING_EVERY = 25_000;

export class Live extends EventTarget {
  constructor() {
    super();
    this.ws = null;
    this.state = 'idle'; // idle | connecting | open | waiting
    this.delay = MIN_DELAY;
    this.timer = null;
    this.pingTimer = null;
    this.everOpened = false;
    this.failures = 0;
    this.retryAt = 0;
  }

  url() {
    const u = apiUrl('ws');
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    const token = getToken();
    if (token) u.searchParams.set('token', token);
    return u.href;
  }

  connect() {
    clearTimeout(this.timer);
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)) return;
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.delay = MIN_DELAY;
      this.failures = 0;
      this.setState('open');
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ type: 'ping' }), PING_EVERY);
      this.dispatchEvent(new CustomEvent('open', { detail: { reconnected } }));
    });
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (!msg || typeof msg.type !== 'string') return;
      this.dispatchEvent(new CustomEvent('message', { detail: msg }));
      this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      clearInterval(this.pingTimer);
      this.ws = null;
      this.dispatchEvent(new CustomEvent('close'));
      this.scheduleReconnect();
    });
    // 'error' is always followed by 'close'.
  }

  scheduleReconnect() {
    this.failures++;
    const wait = Math.min(MAX_DELAY, this.delay) * (0.75 + Math.random() * 0.5);
    this.delay = Math.min(MAX_DELAY, this.delay * 2);
    this.retryAt = Date.now() + wait;
    this.setState('waiting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  /** Reconnects now (e.g. the user clicked "retry" or the tab came back online). */
  retryNow() {
    this.delay = MIN_DELAY;
    if (this.state === 'waiting') this.connect();
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a frame; returns false when not connected. */
  send(obj) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }
}

export function requestId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return `r-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
