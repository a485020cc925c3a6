// Shared setup for the browser tests: start the real chat-server on an ephemeral port with a
// fresh database, launch Debian's Chromium through playwright-core, and watch the page for
// anything an injected script could do (dialogs, page errors, console errors).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../../../..');
export const FIXTURES = path.join(REPO, 'fixtures', 'import');
export const SCREENSHOTS = path.join(HERE, 'screenshots');
export const SERVER_BIN = process.env.CHAT_SERVER_BIN
  ? path.resolve(process.env.CHAT_SERVER_BIN)
  : path.join(REPO, 'target', 'debug', 'chat-server');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Starts chat-server with a fresh database; resolves { base, api, stop, tmp, logs }. */
export async function startServer() {
  if (!fs.existsSync(SERVER_BIN)) {
    throw new Error(`chat-server not found at ${SERVER_BIN}: build it (cargo build -p chat-server) or set CHAT_SERVER_BIN`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-ui-test-'));
  fs.mkdirSync(path.join(tmp, 'uploads'));
  const env = { ...process.env, CHAT_LOG: process.env.CHAT_LOG || 'warn' };
  // No token and no model: the loopback server needs no token and chats with the offline provider.
  for (const k of ['CHAT_TOKEN', 'CHAT_DB', 'CHAT_BIND', 'CHAT_LLM_BASE_URL', 'CHAT_LLM_MODEL', 'CHAT_LLM_API_KEY', 'CHAT_CORS_ORIGINS']) delete env[k];
  const child = spawn(SERVER_BIN, [
    '--db', path.join(tmp, 'chat.db'),
    '--bind', '127.0.0.1:0',
    '--upload-dir', path.join(tmp, 'uploads'),
  ], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stderr.on('data', (d) => { logs += d; });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`chat-server did not print its address within 30 s.\nstdout: ${out}\nstderr: ${logs}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`chat-server exited with ${code} before listening.\nstderr: ${logs}`));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  // The UI must be embedded: "/" answers the page.
  const res = await fetch(`${base}/`);
  const body = await res.text();
  if (res.status !== 200 || !/text\/html/.test(res.headers.get('content-type') || '') || !body.includes('js/main.js')) {
    await stop();
    throw new Error(`chat-server at ${base} does not serve the web UI at / (status ${res.status}, content-type ${res.headers.get('content-type')}); embed bins/chat-server/web`);
  }
  return { base, api: (p, init) => apiCall(base, p, init), stop, tmp, logs: () => logs };
}

async function apiCall(base, p, { method = 'GET', body } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(`${base}/api/v1/${p.replace(/^\//, '')}`, init);
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  if (!res.ok) throw new Error(`${method} ${p} -> ${res.status}: ${text}`);
  return json;
}

/** Launches Chromium with a fresh profile. */
export async function launch(viewport = DESKTOP) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-ui-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/**
 * A page plus a record of what would betray a script running: dialogs (alert/confirm/prompt),
 * uncaught errors, and console errors other than the expected WebSocket retry noise.
 */
export async function watchedPage(context, viewport) {
  const page = context.pages()[0] && !context.pages()[0].url().startsWith('http') ? context.pages()[0] : await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const events = { dialogs: [], errors: [], console: [] };
  page.on('dialog', async (d) => {
    events.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => events.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/WebSocket/.test(m.text()) && !/Failed to load resource/.test(m.text())) events.console.push(m.text());
  });
  return { page, events };
}

export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** A ChatGPT-format export whose text and title carry HTML and script payloads. */
export function hostileChatGptExport(dir) {
  const payload = 'Hostile: <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> [click me](javascript:window.__xss=3)';
  const convo = {
    id: 'xss-0001',
    conversation_id: 'xss-0001',
    title: 'XSS <img src=x onerror="window.__xss=4">',
    create_time: 1710000000.0,
    update_time: 1710000020.0,
    current_node: 'xss-n1',
    mapping: {
      'xss-root': { id: 'xss-root', parent: null, children: ['xss-n0'], message: null },
      'xss-n0': {
        id: 'xss-n0', parent: 'xss-root', children: ['xss-n1'],
        message: {
          id: 'xss-n0', author: { role: 'user', name: null, metadata: {} }, create_time: 1710000000.0,
          content: { content_type: 'text', parts: [payload] }, status: 'finished_successfully', weight: 1.0, recipient: 'all', metadata: {},
        },
      },
      'xss-n1': {
        id: 'xss-n1', parent: 'xss-n0', children: [],
        message: {
          id: 'xss-n1', author: { role: 'assistant', name: null, metadata: {} }, create_time: 1710000010.0,
          content: { content_type: 'text', parts: ['Reply with <script>window.__xss=5</script> inside and <b>bold tag</b>.'] },
          status: 'finished_successfully', weight: 1.0, recipient: 'all', metadata: { model_slug: 'gpt-4o' },
        },
      },
    },
  };
  const file = path.join(dir, 'conversations.json');
  fs.writeFileSync(file, JSON.stringify([convo]));
  return { file, payload };
}

/** Asserts-by-return: what on the page shows a script ran or markup was injected. */
export async function injectionTraces(page) {
  return page.evaluate(() => ({
    xss: window.__xss ?? null,
    imgs: document.querySelectorAll('#main img, #sidebar img').length,
    scripts: Array.from(document.querySelectorAll('script')).filter((s) => !s.src.endsWith('/js/main.js')).length,
    jsLinks: Array.from(document.querySelectorAll('a[href]')).filter((a) => /^\s*javascript:/i.test(a.getAttribute('href'))).length,
    onAttrs: Array.from(document.querySelectorAll('*')).filter((el) => Array.from(el.attributes).some((a) => /^on/i.test(a.name))).length,
    boldTags: document.querySelectorAll('#main .msg-body b').length,
  }));
}
