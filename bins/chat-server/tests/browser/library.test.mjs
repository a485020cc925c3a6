// The library through the page: import, folders, conversations, search, tags, ratings, forks,
// archive, export, rename, delete, statistics, and untrusted content rendering inert.
// Needs only the HTTP API (issue 5) and the embedded UI.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, launch, watchedPage, screenshot, hostileChatGptExport, injectionTraces,
  FIXTURES, DESKTOP, PHONE,
} from './helpers.mjs';

const FIXTURE = path.join(FIXTURES, 'chatgpt-single', 'conversations.json');
const FIXTURE_CONVERSATIONS = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')).length; // 3

let server;
let browser;
let page;
let events;

before(async () => {
  server = await startServer();
  browser = await launch(DESKTOP);
  ({ page, events } = await watchedPage(browser.context));
  page.setDefaultTimeout(15_000);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const folder = (source) => page.locator(`.group[data-group="src:${source}"]`);
const folderCount = async (source) => (await folder(source).locator(':scope > .group-toggle .count').textContent()).trim();
const groupCount = async (key) => (await page.locator(`.group[data-group="${key}"] > .group-toggle .count`).textContent()).trim();

async function openCard(title) {
  await page.locator('#sidebar .card', { hasText: title }).first().click();
  await page.locator('.conv-title', { hasText: title }).waitFor();
  await page.locator('article.msg').first().waitFor();
}

async function waitForCount(fn, expected, what) {
  const deadline = Date.now() + 10_000;
  let last;
  while (Date.now() < deadline) {
    last = await fn().catch(() => undefined);
    if (last === expected) return;
    await page.waitForTimeout(100);
  }
  assert.equal(last, expected, what);
}

test('importing a ChatGPT export through the file picker adds its folder under Imported', async () => {
  await page.goto(`${server.base}/#/import`);
  await screenshot(page, 'desktop-import-empty');
  await page.locator('#import-file').setInputFiles(FIXTURE);
  const job = page.locator('.import-job[data-status="done"], .import-job[data-status="failed"]');
  await job.waitFor({ timeout: 30_000 });
  assert.equal(await job.getAttribute('data-status'), 'done', `import failed: ${await job.textContent()}`);
  assert.equal((await job.locator('td[data-counter="imported"]').textContent()).trim(), String(FIXTURE_CONVERSATIONS));
  await screenshot(page, 'desktop-import-report');

  const imported = page.locator('.group[data-group="imported"]');
  await imported.waitFor();
  await folder('chatgpt').waitFor();
  await waitForCount(() => folderCount('chatgpt'), String(FIXTURE_CONVERSATIONS), 'ChatGPT folder count');
  const folderBadge = folder('chatgpt').locator(':scope > .group-toggle .badge');
  assert.equal((await folderBadge.textContent()).trim(), 'ChatGPT');
  assert.match(await folderBadge.getAttribute('class'), /badge-chatgpt/);
  // The folder is inside "Imported", and each card carries the source badge.
  assert.equal(await imported.locator('.group[data-group="src:chatgpt"]').count(), 1);
  await waitForCount(() => folder('chatgpt').locator('.card').count(), FIXTURE_CONVERSATIONS, 'cards in the folder');
  assert.equal(await folder('chatgpt').locator('.card .badge-chatgpt').count(), FIXTURE_CONVERSATIONS);
  // Badges differ per source: the ChatGPT colour is not the native one.
  const colours = await page.evaluate(() => {
    const probe = (cls) => {
      const el = document.createElement('span');
      el.className = `badge ${cls}`;
      document.body.append(el);
      const c = getComputedStyle(el).backgroundColor;
      el.remove();
      return c;
    };
    return ['badge-native', 'badge-chatgpt', 'badge-claude', 'badge-gemini', 'badge-copilot'].map(probe);
  });
  assert.equal(new Set(colours).size, 5, `badge colours must be distinct: ${colours}`);
});

test('a folder collapses and expands, and remembers it across a reload', async () => {
  const toggle = folder('chatgpt').locator(':scope > .group-toggle');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(await folder('chatgpt').locator('.card').first().isVisible(), false);
  await page.reload();
  await folder('chatgpt').waitFor();
  assert.equal(await folder('chatgpt').locator(':scope > .group-toggle').getAttribute('aria-expanded'), 'false', 'collapse state remembered');
  assert.equal(await folder('chatgpt').locator('.card').count(), 0);
  await folder('chatgpt').locator(':scope > .group-toggle').click();
  await folder('chatgpt').locator('.card').first().waitFor();
  assert.equal(await folder('chatgpt').locator('.card').count(), FIXTURE_CONVERSATIONS);
});

test('opening a conversation shows roles, the model and timestamps', async () => {
  await openCard('Sourdough starter');
  const user = page.locator('article.msg-user').first();
  const assistant = page.locator('article.msg-assistant').first();
  assert.match(await user.locator('.msg-body').textContent(), /How do I feed a sourdough starter\?/);
  assert.equal((await assistant.locator('.msg-model').textContent()).trim(), 'gpt-4o');
  // create_time 1700000000 is 2023-11-14T22:13:20Z.
  const stamp = await user.locator('.msg-head time').getAttribute('datetime');
  assert.equal(new Date(stamp).toISOString(), '2023-11-14T22:13:20.000Z');
  const shown = (await user.locator('.msg-head time').textContent()).trim();
  assert.match(shown, /2023/);
  assert.match(shown, /\d{1,2}:\d{2}/);
  assert.ok(await page.locator('#sidebar .card.active').count() === 1, 'the open card is marked');
  await screenshot(page, 'desktop-conversation');
});

test('search as you type, with highlighted snippets; a hit opens the conversation at the message', async () => {
  await page.locator('body').click({ position: { x: 700, y: 400 } });
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search-input', '/ focuses search');
  await page.keyboard.type('sourdough', { delay: 30 });
  const hit = page.locator('a.hit').first();
  await hit.waitFor();
  assert.match(page.url(), /#\/search\?q=sourdough/);
  assert.equal((await hit.locator('mark').first().textContent()).toLowerCase(), 'sourdough');
  await screenshot(page, 'desktop-search');
  const withMessage = page.locator('a.hit:not([data-message=""])').first();
  const messageId = await withMessage.getAttribute('data-message');
  await withMessage.click();
  const target = page.locator(`article.msg[data-id="${messageId}"]`);
  await target.waitFor();
  assert.match(await target.getAttribute('class'), /\bhit\b/);
  assert.ok(await target.isVisible());
  const inView = await target.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight;
  });
  assert.ok(inView, 'the hit is scrolled into view');
});

test('search filters by source', async () => {
  await page.goto(`${server.base}/#/search?q=sourdough`);
  await page.locator('a.hit').first().waitFor();
  await page.locator('#search-source').selectOption('claude');
  await page.locator('.result-count', { hasText: 'No hits' }).waitFor();
  await page.locator('#search-source').selectOption('chatgpt');
  await page.locator('a.hit').first().waitFor();
});

test('tags can be added, filtered on, and removed', async () => {
  await page.goto(`${server.base}/#/`);
  await openCard('Sourdough starter');
  await page.locator('.tag-input').fill('baking');
  await page.locator('.tag-input').press('Enter');
  await page.locator('.conv-tags .tag-chip[data-tag="baking"]').waitFor();
  await page.locator('#sidebar .card', { hasText: 'Sourdough starter' }).locator('.tag-chip', { hasText: 'baking' }).waitFor();
  await page.locator('#tag-filter option[value="baking"]').waitFor({ state: 'attached' });
  await page.locator('#tag-filter').selectOption('baking');
  await waitForCount(() => page.locator('#sidebar .card').count(), 1, 'one card carries the tag');
  await page.locator('#tag-filter').selectOption('');
  await waitForCount(() => page.locator('#sidebar .group[data-group="src:chatgpt"] .card').count(), FIXTURE_CONVERSATIONS, 'filter cleared');
  await page.locator('.conv-tags .tag-chip[data-tag="baking"] .chip-x').click();
  await page.locator('.conv-tags .tag-chip[data-tag="baking"]').waitFor({ state: 'detached' });
  const id = page.url().match(/#\/c\/([^?]+)/)[1];
  const c = await server.api(`conversations/${decodeURIComponent(id)}`);
  assert.deepEqual(c.tags, []);
});

test('rating a message up and removing the rating', async () => {
  await openCard('Sourdough starter');
  const assistant = page.locator('article.msg-assistant').first();
  const id = await assistant.getAttribute('data-id');
  await assistant.locator('.rate-up').click();
  await page.locator(`article[data-id="${id}"] .rate-up[aria-pressed="true"]`).waitFor();
  assert.equal((await server.api(`messages/${id}`)).rating.value, 'up');
  await page.reload();
  await page.locator(`article[data-id="${id}"] .rate-up[aria-pressed="true"]`).waitFor();
  await page.locator(`article[data-id="${id}"] .rate-down`).click();
  await page.locator(`article[data-id="${id}"] .rate-down[aria-pressed="true"]`).waitFor();
  assert.equal((await server.api(`messages/${id}`)).rating.value, 'down');
  await page.locator(`article[data-id="${id}"] .rate-down`).click();
  await page.locator(`article[data-id="${id}"] .rate-down[aria-pressed="false"]`).waitFor();
  assert.equal((await server.api(`messages/${id}`)).rating, null);
});

test('export downloads Markdown and JSON', async () => {
  await openCard('Sourdough starter');
  for (const format of ['md', 'json']) {
    await page.locator('.export-menu > summary').click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(`.export-menu a[data-format="${format}"]`).click(),
    ]);
    assert.match(download.suggestedFilename(), new RegExp(`\\.${format}$`));
    const file = await download.path();
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /sourdough starter/i);
    if (format === 'json') JSON.parse(text);
    await page.keyboard.press('Escape');
  }
});

test('archive and restore move the conversation between sections', async () => {
  await openCard('Sourdough starter');
  assert.equal(await groupCount('archived'), '0');
  await page.locator('[data-action="archive"]').click();
  await page.locator('.archived-flag').waitFor();
  await waitForCount(() => groupCount('archived'), '1', 'archived count');
  await waitForCount(() => folderCount('chatgpt'), String(FIXTURE_CONVERSATIONS - 1), 'folder count after archiving');
  const archived = page.locator('.group[data-group="archived"]');
  if ((await archived.locator(':scope > .group-toggle').getAttribute('aria-expanded')) === 'false') {
    await archived.locator(':scope > .group-toggle').click();
  }
  await archived.locator('.card', { hasText: 'Sourdough starter' }).waitFor();
  await page.locator('[data-action="restore"]').click();
  await page.locator('.archived-flag').waitFor({ state: 'detached' });
  await waitForCount(() => groupCount('archived'), '0', 'archived count after restore');
  await waitForCount(() => folderCount('chatgpt'), String(FIXTURE_CONVERSATIONS), 'folder count after restore');
});

test('forking from a message opens a new native conversation', async () => {
  await openCard('Sourdough starter');
  const originalUrl = page.url();
  const before = Number(await groupCount('native'));
  const first = page.locator('article.msg-user').first();
  const forkedAt = await first.getAttribute('data-id');
  await first.locator('.fork').click();
  await page.waitForURL((u) => u.href !== originalUrl && /#\/c\//.test(u.href));
  await page.locator('.conv-meta a', { hasText: 'forked from' }).waitFor();
  await waitForCount(() => groupCount('native'), String(before + 1), 'native count after the fork');
  const id = decodeURIComponent(page.url().match(/#\/c\/([^?]+)/)[1]);
  const c = await server.api(`conversations/${id}`);
  assert.equal(c.source, 'native');
  assert.equal(c.forked_from.message_id, forkedAt);
});

test('rename, then delete with confirmation', async () => {
  // The fork from the previous test is open.
  await page.locator('.title-btn').click();
  await page.locator('dialog.prompt-dialog input').fill('Fork to delete');
  await page.locator('dialog.prompt-dialog button[value="ok"]').click();
  await page.locator('.conv-title', { hasText: 'Fork to delete' }).waitFor();
  await page.locator('#sidebar .card', { hasText: 'Fork to delete' }).waitFor();
  const id = decodeURIComponent(page.url().match(/#\/c\/([^?]+)/)[1]);

  await page.locator('[data-action="delete"]').click();
  await page.locator('dialog.confirm-dialog button[value="cancel"]').click();
  assert.equal((await server.api(`conversations/${id}`)).title, 'Fork to delete', 'cancel keeps it');

  await page.locator('[data-action="delete"]').click();
  await page.locator('dialog.confirm-dialog button[value="ok"]').click();
  await page.waitForURL((u) => !u.href.includes(id));
  await page.locator('#sidebar .card', { hasText: 'Fork to delete' }).waitFor({ state: 'detached' });
  await assert.rejects(server.api(`conversations/${id}`), /404/);
});

test('HTML and scripts in stored messages render as inert text', async () => {
  const c = await server.api('conversations', { method: 'POST', body: { title: 'Hostile <img src=x onerror="window.__xss=10">' } });
  const payload = 'Look: <img src=x onerror="window.__xss=11"> and <script>window.__xss=12</script> and [click](javascript:window.__xss=13) and <a href="javascript:window.__xss=14">a</a>';
  await server.api(`conversations/${c.id}/messages`, { method: 'POST', body: { role: 'user', content: payload } });
  await server.api(`conversations/${c.id}/messages`, {
    method: 'POST',
    body: { role: 'assistant', content: '```html\n<script>window.__xss=15</script>\n```\n\n**bold** <b>not bold</b> <iframe src="javascript:window.__xss=16"></iframe>' },
  });
  await page.goto(`${server.base}/#/c/${c.id}`);
  await page.locator('article.msg-assistant').waitFor();
  await page.waitForTimeout(500);
  const body = page.locator('article.msg-user .msg-body');
  assert.ok((await body.textContent()).includes('<img src=x onerror="window.__xss=11">'), 'the img tag shows as text');
  assert.ok((await body.textContent()).includes('<script>window.__xss=12</script>'), 'the script tag shows as text');
  assert.ok((await page.locator('.conv-title').textContent()).includes('<img src=x'), 'the title shows as text');
  assert.ok((await page.locator('article.msg-assistant .codeblock code').textContent()).includes('<script>'));
  assert.equal(await page.locator('article.msg-assistant strong').count(), 1, 'Markdown still renders');
  const traces = await injectionTraces(page);
  assert.deepEqual(traces, { xss: null, imgs: 0, scripts: 0, jsLinks: 0, onAttrs: 0, boldTags: 0 });
  assert.equal(await page.locator('iframe').count(), 0);
  assert.deepEqual(events.dialogs, []);
  assert.deepEqual(events.errors, []);
});

test('an imported export carrying HTML and scripts renders inert', async () => {
  const { file } = hostileChatGptExport(fs.mkdtempSync(path.join(server.tmp, 'hostile-')));
  await page.goto(`${server.base}/#/import`);
  await page.locator('#import-file').setInputFiles(file);
  const job = page.locator('.import-job[data-status="done"], .import-job[data-status="failed"]').first();
  await job.waitFor({ timeout: 30_000 });
  assert.equal(await job.getAttribute('data-status'), 'done', await job.textContent());
  await folder('chatgpt').locator('.card', { hasText: 'XSS <img' }).click();
  await page.locator('article.msg-assistant').waitFor();
  await page.waitForTimeout(500);
  assert.ok((await page.locator('article.msg-user .msg-body').textContent()).includes('<img src=x onerror="window.__xss=1">'));
  assert.ok((await page.locator('article.msg-assistant .msg-body').textContent()).includes('<script>window.__xss=5</script>'));
  const traces = await injectionTraces(page);
  assert.deepEqual(traces, { xss: null, imgs: 0, scripts: 0, jsLinks: 0, onAttrs: 0, boldTags: 0 });
  assert.deepEqual(events.dialogs, []);
  assert.deepEqual(events.errors, []);
});

test('statistics chart conversations and messages per month by source', async () => {
  await page.goto(`${server.base}/#/stats`);
  await page.locator('svg.chart[data-field="conversations"]').waitFor();
  assert.ok(await page.locator('svg.chart[data-field="conversations"] rect.bar[data-source="chatgpt"]').count() >= 1);
  assert.ok(await page.locator('svg.chart[data-field="messages"] rect.bar[data-source="native"]').count() >= 1);
  const stats = await server.api('stats');
  assert.equal((await page.locator('#stat-conversations').textContent()).trim(), stats.conversations.toLocaleString('en-US'));
  await screenshot(page, 'desktop-stats');
});

test('phone width: the sidebar is a drawer', async () => {
  await page.setViewportSize(PHONE);
  await page.goto(`${server.base}/#/`);
  await page.locator('#menu-btn').waitFor();
  const sidebar = page.locator('#sidebar');
  const offscreen = async () => sidebar.evaluate((el) => el.getBoundingClientRect().right <= 0);
  await page.waitForTimeout(300);
  assert.ok(await offscreen(), 'the drawer starts closed');
  await page.locator('#menu-btn').click();
  await page.waitForTimeout(350);
  assert.equal(await offscreen(), false, 'the drawer opens');
  await screenshot(page, 'phone-drawer');
  await folder('chatgpt').locator('.card', { hasText: 'Sourdough starter' }).click();
  await page.locator('article.msg').first().waitFor();
  await page.waitForTimeout(350);
  assert.ok(await offscreen(), 'opening a conversation closes the drawer');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling at phone width (${overflow}px)`);
  await screenshot(page, 'phone-conversation');
  await page.goto(`${server.base}/#/search?q=sourdough`);
  await page.locator('a.hit').first().waitFor();
  await screenshot(page, 'phone-search');
  await page.setViewportSize(DESKTOP);
});
