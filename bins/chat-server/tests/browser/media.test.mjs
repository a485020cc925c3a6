// Media in the page: a ChatGPT 2026 export with photos, a generated image, a voice note, an
// HTML page and an SVG drawing (both with scripts), and a pointer whose bytes are not in the
// export, imported through the file picker (the real upload API and import pipeline). Then:
// images render from the stored bytes and open full size, audio has a player that loads the
// real clip, HTML and SVG are download chips and nothing renders them, the missing photo has its
// placeholder, Claude's byte-less attachments say why, and all of it with a token as well.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launch, watchedPage, screenshot, REPO, DESKTOP } from './helpers.mjs';

const MEDIA = path.join(REPO, 'fixtures', 'media', 'chatgpt-2026');
const MEDIA_FILES = fs.readdirSync(MEDIA).map((f) => path.join(MEDIA, f));
// A 960 × 540 PNG, a PDF and an MP4 (a header only: enough for its type, not for playback).
const WIDE = path.join(REPO, 'fixtures', 'media', 'chatgpt-2026-ui');
const WIDE_FILES = fs.readdirSync(WIDE).map((f) => path.join(WIDE, f));
const CLAUDE = path.join(REPO, 'fixtures', 'claude', 'attachments.json');
const TITLE = 'Photos and a voice note';
const TOKEN = 'media-ui-s3cret';

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

/** Imports `files` through the page's file picker and waits for the job to finish. */
async function importThroughPicker(files, p = page) {
  if (!p.url().endsWith('#/import')) await p.goto(`${server.base}/#/import`);
  const before = await p.locator('.import-job').count();
  await p.locator('#import-file').setInputFiles(files);
  // New jobs come first in the list.
  await p.waitForFunction((n) => {
    const jobs = document.querySelectorAll('.import-job');
    return jobs.length > n && ['done', 'failed'].includes(jobs[0].dataset.status);
  }, before, { timeout: 30_000 });
  const job = p.locator('.import-job').first();
  assert.equal(await job.getAttribute('data-status'), 'done', `import failed: ${await job.textContent()}`);
}

/** The conversation with this title, as the API gives it (every branch, hidden messages too). */
async function conversation(api, title, token) {
  const list = await api('conversations?limit=100', { token });
  const c = list.items.find((x) => x.title === title);
  assert.ok(c, `no conversation titled ${title}`);
  return api(`conversations/${c.id}?branch=all&hidden=true`, { token });
}

function attachments(conv) {
  return conv.messages.flatMap((m) => m.attachments || []);
}

async function openConversation(id) {
  await page.goto(`${server.base}/#/c/${id}`);
  await page.locator('article.msg').first().waitFor();
}

/** Waits until the <img> for `mediaId` has decoded, and returns what the page sees of it. */
async function loadedImage(mediaId) {
  const img = page.locator(`img.media-thumb[data-media-id="${mediaId}"]`);
  await img.scrollIntoViewIfNeeded();
  await page.waitForFunction((id) => {
    const el = document.querySelector(`img.media-thumb[data-media-id="${id}"]`);
    return el && el.complete && el.naturalWidth > 0;
  }, mediaId);
  return img.evaluate((el) => ({
    naturalWidth: el.naturalWidth, naturalHeight: el.naturalHeight, src: el.getAttribute('src'),
    loading: el.getAttribute('loading'), width: el.getAttribute('width'), height: el.getAttribute('height'),
  }));
}

/** Elements that would render (or run) a file inline, pointing at `mediaId`. */
async function inlineRenderers(mediaId) {
  return page.evaluate((id) => Array.from(document.querySelectorAll('img, iframe, object, embed, video, audio, source, frame'))
    .filter((el) => ['src', 'data', 'srcset'].some((a) => (el.getAttribute(a) || '').includes(id)))
    .map((el) => el.tagName), mediaId);
}

test('an imported image renders from its stored bytes and opens full size', async () => {
  await importThroughPicker(MEDIA_FILES);
  const conv = await conversation(server.api, TITLE);
  const red = attachments(conv).find((a) => a.kind === 'image' && a.media_id && a.width === 4);
  assert.ok(red, `the red photo is stored: ${JSON.stringify(attachments(conv))}`);
  await openConversation(conv.id);

  // The photo is named twice in the export (pointer and attachment entry): shown once.
  assert.equal(await page.locator(`img.media-thumb[data-media-id="${red.media_id}"]`).count(), 1);
  const img = await loadedImage(red.media_id);
  assert.equal(img.naturalWidth, 4, 'the PNG decoded from the served bytes');
  assert.equal(img.naturalHeight, 3);
  assert.equal(img.loading, 'lazy');
  assert.equal([img.width, img.height].join('x'), '4x3', 'the size from the API is set before loading');
  assert.match(img.src, new RegExp(`api/v1/media/${red.media_id}$`));

  // The generated image of the assistant's reply renders too.
  const blue = attachments(conv).find((a) => a.kind === 'image' && a.media_id && a.media_id !== red.media_id);
  assert.ok(blue, 'the generated image is stored');
  assert.ok((await loadedImage(blue.media_id)).naturalWidth > 0);

  // The thumbnail is a button: Enter opens the full-size view, Escape closes it.
  const thumb = page.locator(`button.media-image:has(img[data-media-id="${red.media_id}"])`);
  await thumb.focus();
  await page.keyboard.press('Enter');
  const box = page.locator('dialog.lightbox[open]');
  await box.waitFor();
  await page.waitForFunction(() => document.querySelector('dialog.lightbox img')?.naturalWidth > 0);
  assert.equal(await box.locator('img').evaluate((el) => el.naturalWidth), 4);
  await screenshot(page, 'desktop-media-lightbox');
  await page.keyboard.press('Escape');
  await box.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('media-image')), true, 'focus returns to the thumbnail');
  await page.locator('.transcript').evaluate((el) => { el.scrollTop = 0; });
  await screenshot(page, 'desktop-media-conversation');
});

test('a voice note gets a native player that loads the stored clip', async () => {
  const conv = await conversation(server.api, TITLE);
  const clip = attachments(conv).find((a) => a.kind === 'audio' && a.media_id);
  assert.ok(clip, 'the voice note is stored');
  await openConversation(conv.id);
  const audio = page.locator(`audio.media-audio[data-media-id="${clip.media_id}"]`);
  await audio.waitFor();
  assert.equal(await audio.getAttribute('preload'), 'none', 'nothing is fetched before play');
  assert.equal(await audio.evaluate((el) => el.controls), true);
  // Ask for the metadata as play would: the browser reads the real WAV through the media URL.
  const duration = await audio.evaluate((el) => new Promise((resolve, reject) => {
    el.addEventListener('loadedmetadata', () => resolve(el.duration), { once: true });
    el.addEventListener('error', () => reject(new Error(`audio error ${el.error?.code}`)), { once: true });
    el.preload = 'metadata';
    el.load();
  }));
  assert.ok(duration > 0, `the clip has a duration (${duration})`);
});

test('HTML and SVG attachments are download chips, never rendered', async () => {
  const conv = await conversation(server.api, TITLE);
  const files = attachments(conv).filter((a) => /html|svg/.test(a.mime_type || ''));
  assert.equal(files.length, 2, `the HTML page and the SVG drawing are stored: ${JSON.stringify(attachments(conv))}`);
  await openConversation(conv.id);
  for (const a of files) {
    const chip = page.locator(`a.media-file[data-media-id="${a.media_id}"]`);
    await chip.waitFor();
    assert.equal(await chip.getAttribute('download'), a.name, `${a.name} downloads`);
    assert.match(await chip.textContent(), new RegExp(a.name.replace('.', '\\.')));
    assert.deepEqual(await inlineRenderers(a.media_id), [], `nothing renders ${a.name} inline`);
    // The server agrees: served as an attachment under a sandbox policy.
    const res = await fetch(`${server.base}/api/v1/media/${a.media_id}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') || '', /^attachment/);
    assert.match(res.headers.get('content-security-policy') || '', /sandbox/);
    // Clicking downloads the file; the page stays where it was and nothing runs.
    const [download] = await Promise.all([page.waitForEvent('download'), chip.click()]);
    assert.equal(download.suggestedFilename(), a.name);
    const bytes = fs.readFileSync(await download.path(), 'utf8');
    assert.match(bytes, /<script>/, 'the download is the file itself');
  }
  assert.match(page.url(), new RegExp(`#/c/${conv.id}$`));
  assert.notEqual(await page.title(), 'pwned');
  assert.equal(await page.locator('iframe, object, embed').count(), 0);
  assert.deepEqual(events.dialogs, [], 'no script of the SVG or HTML ran');
  assert.deepEqual(events.errors, []);
});

test('a large image is a bounded thumbnail that opens full size; a PDF is a chip, a video a player', async () => {
  await importThroughPicker(WIDE_FILES);
  const conv = await conversation(server.api, 'A wide picture, a report and a clip');
  const list = attachments(conv);
  const wide = list.find((a) => a.width === 960);
  const pdf = list.find((a) => a.mime_type === 'application/pdf');
  const clip = list.find((a) => (a.mime_type || '').startsWith('video/'));
  assert.ok(wide && pdf && clip, `the fixture's media are stored: ${JSON.stringify(list)}`);
  await openConversation(conv.id);

  const img = await loadedImage(wide.media_id);
  assert.equal(img.naturalWidth, 960);
  assert.equal([img.width, img.height].join('x'), '240x135', 'scaled to fit 240 px, aspect kept, before loading');
  const box = await page.locator(`img.media-thumb[data-media-id="${wide.media_id}"]`).boundingBox();
  assert.ok(box.width <= 240 && box.height <= 240, `the thumbnail is bounded (${box.width}×${box.height})`);
  await page.locator(`button.media-image:has(img[data-media-id="${wide.media_id}"])`).click();
  const full = page.locator('dialog.lightbox[open] img');
  await page.waitForFunction(() => document.querySelector('dialog.lightbox img')?.naturalWidth > 0);
  assert.ok((await full.boundingBox()).width > 600, 'the full-size view is larger than the thumbnail');
  await page.locator('dialog.lightbox .lightbox-close').click();
  await page.locator('dialog.lightbox').waitFor({ state: 'detached' });

  const chip = page.locator(`a.media-file[data-media-id="${pdf.media_id}"]`);
  assert.equal(await chip.getAttribute('download'), 'report.pdf');
  assert.match(await chip.textContent(), /report\.pdf.*application\/pdf · 193 B/);
  assert.deepEqual(await inlineRenderers(pdf.media_id), []);

  const video = page.locator(`video.media-video[data-media-id="${clip.media_id}"]`);
  await video.waitFor();
  assert.equal(await video.getAttribute('preload'), 'none');
  assert.equal(await video.evaluate((el) => el.controls), true);
  assert.equal(await page.locator('iframe, object, embed').count(), 0);
});

test('media the export lacks show a labelled placeholder', async () => {
  const conv = await conversation(server.api, TITLE);
  assert.ok(attachments(conv).some((a) => a.missing), 'the fixture has a pointer without bytes');
  await openConversation(conv.id);
  const missing = page.locator('.media-missing');
  await missing.first().waitFor();
  assert.equal(await missing.count(), attachments(conv).filter((a) => a.missing).length);
  assert.match(await missing.first().textContent(), /Image not in this export/);
  assert.equal(await missing.first().getAttribute('role'), 'note');

  // Claude exports carry no bytes: the files are named, and the page says why.
  await importThroughPicker(CLAUDE);
  const claude = await conversation(server.api, 'Review my notes');
  await openConversation(claude.id);
  const notes = page.locator('.media-missing', { hasText: 'notes.txt' });
  await notes.waitFor();
  assert.match(await notes.textContent(), /File not in the export: notes\.txt/);
  assert.match(await notes.textContent(), /Claude exports carry no file bytes/);
  // The text Claude extracted from it is kept, one click away.
  assert.ok(await page.locator('details.part-extracted', { hasText: 'notes.txt' }).count() >= 1);
  assert.deepEqual(events.errors, []);
});

test('with a token, media are fetched with it and shown from object URLs', async () => {
  const secured = await startServer(['--token', TOKEN]);
  const { context, close } = await launch(DESKTOP);
  try {
    const { page: p, events: ev } = await watchedPage(context);
    p.setDefaultTimeout(15_000);
    // The page asks for the token on its first 401.
    await p.goto(`${secured.base}/#/import`);
    const ask = p.locator('dialog.token-dialog');
    await ask.waitFor();
    await ask.locator('input[name="token"]').fill(TOKEN);
    await ask.locator('button[type="submit"]').click();
    await importThroughPicker(MEDIA_FILES, p);

    const conv = await conversation(secured.api, TITLE, TOKEN);
    const red = attachments(conv).find((a) => a.kind === 'image' && a.media_id);
    // Without the token the bytes stay closed.
    assert.equal((await fetch(`${secured.base}/api/v1/media/${red.media_id}`)).status, 401);

    await p.goto(`${secured.base}/#/c/${conv.id}`);
    // Lazy with a token too: the bytes are fetched when the image comes into view.
    await p.locator(`img.media-thumb[data-media-id="${red.media_id}"]`).scrollIntoViewIfNeeded();
    await p.waitForFunction((id) => {
      const el = document.querySelector(`img.media-thumb[data-media-id="${id}"]`);
      return el && el.complete && el.naturalWidth > 0;
    }, red.media_id);
    const src = await p.locator(`img.media-thumb[data-media-id="${red.media_id}"]`).getAttribute('src');
    assert.match(src, /^blob:/, 'the image comes from a blob fetched with the token');

    // Audio loads on demand, with the token, into a player.
    const clip = attachments(conv).find((a) => a.kind === 'audio' && a.media_id);
    await p.locator('.media-kind-audio button.media-load').click();
    const audio = p.locator(`audio.media-audio[data-media-id="${clip.media_id}"]`);
    await audio.waitFor();
    assert.match(await audio.getAttribute('src'), /^blob:/);
    await p.waitForFunction((id) => document.querySelector(`audio[data-media-id="${id}"]`)?.readyState >= 1, clip.media_id);

    // A chip downloads through the token too.
    const page_ = attachments(conv).find((a) => /html/.test(a.mime_type || ''));
    const [download] = await Promise.all([p.waitForEvent('download'), p.locator(`a.media-file[data-media-id="${page_.media_id}"]`).click()]);
    assert.equal(download.suggestedFilename(), page_.name);
    assert.match(fs.readFileSync(await download.path(), 'utf8'), /hostile page/);

    // Leaving the conversation revokes the object URL.
    await p.goto(`${secured.base}/#/import`);
    await p.locator('#import-file').waitFor();
    await p.waitForTimeout(1500);
    const revoked = await p.evaluate((url) => fetch(url).then(() => false, () => true), src);
    assert.equal(revoked, true, 'the blob URL is revoked once its image left the page');
    assert.deepEqual(ev.dialogs, []);
    assert.deepEqual(ev.errors, []);
  } finally {
    await close();
    await secured.stop();
  }
});
