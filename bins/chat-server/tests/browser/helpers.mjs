// Shared setup for the browser tests: start the real chat-server on an ephemeral port with a
// fresh database, launch Debian's Chromium through playwright-core, and watch the page for
// anything an injected script could do (dialogs, page errors, console errors).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { REPO, spawnServer } from '../support/server.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export { REPO };
export const FIXTURES = path.join(REPO, 'fixtures', 'import');
export const SCREENSHOTS = path.join(HERE, 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * Starts chat-server with a fresh database (plus `extraArgs`, e.g. `['--token', t]`); resolves
 * { base, api, stop, tmp, logs }.
 */
export async function startServer(extraArgs = []) {
  // No token and no model by default: the loopback server needs no token and chats with the
  // offline provider. Its deltas come 60 ms apart (default 15 ms), so a reply streams for a
  // couple of seconds and a test can stop it midway even on a loaded machine.
  const uploads = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-ui-uploads-'));
  const server = await spawnServer(['--upload-dir', uploads, '--offline-delay-ms', '60', ...extraArgs], { tmpPrefix: 'chat-ui-test-' });
  const { base, tmp, logs } = server;
  const stop = async () => {
    await server.stop();
    fs.rmSync(uploads, { recursive: true, force: true });
  };
  // The UI must be embedded: "/" answers the page.
  const res = await fetch(`${base}/`);
  const body = await res.text();
  if (res.status !== 200 || !/text\/html/.test(res.headers.get('content-type') || '') || !body.includes('js/main.js')) {
    await stop();
    throw new Error(`chat-server at ${base} does not serve the web UI at / (status ${res.status}, content-type ${res.headers.get('content-type')}); embed bins/chat-server/web`);
  }
  return { base, api: (p, init) => apiCall(base, p, init), stop, tmp, logs };
}

async function apiCall(base, p, { method = 'GET', body, token } = {}) {
  const init = { method, headers: token ? { Authorization: `Bearer ${token}` } : {} };
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
