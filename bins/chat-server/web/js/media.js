// A message's media: the `attachments` of the API's message object, shown by their sniffed type.
//
// * Images (PNG, JPEG, GIF, WebP, AVIF, BMP, ICO) as lazy thumbnails with the API's width and
//   height (so nothing moves when they load) inside a button that opens them full size in a
//   modal <dialog> (Escape, the close button or a click outside closes it).
// * Audio and video with the native player, `preload="none"`: nothing is fetched before the
//   reader presses play.
// * Everything else, SVG and HTML included, as a chip with the name and size that downloads.
//   Nothing is ever put in an <iframe>, <object> or <embed>, and an SVG never goes in an <img>.
// * Media the export did not hold: a labelled placeholder.
//
// With a token the browser cannot add the Authorization header to <img src> or <audio src>, so
// the bytes are fetched with it and shown from an object URL (images when they come near the
// viewport, audio and video when the reader asks), revoked once the element leaves the page.

import { API, api, getToken, download } from './api.js';
import { h } from './dom.js';
import { icon } from './icons.js';

const MEDIA_ID = /^[0-9a-f]{64}$/;
// Image types a browser draws as pixels and the server serves inline. SVG is not one of them.
const INLINE_IMAGE = /^image\/(png|jpeg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon)$/;
const THUMB_MAX = 240;

/** The media block of a message, or null when it has no attachments. */
export function attachmentsEl(message, source) {
  const list = distinct(message.attachments || []);
  if (!list.length) return null;
  return h('div', { class: 'msg-media' }, list.map((a) => attachmentEl(a, source)));
}

/**
 * One entry per stored item: an export may name the same bytes twice in a message (ChatGPT's
 * image pointer and its `metadata.attachments` entry), and the entries complete each other.
 */
function distinct(list) {
  const byId = new Map();
  const out = [];
  for (const a of list) {
    const seen = a.media_id ? byId.get(a.media_id) : null;
    if (!seen) {
      const copy = { ...a };
      if (a.media_id) byId.set(a.media_id, copy);
      out.push(copy);
      continue;
    }
    for (const [k, v] of Object.entries(a)) if (seen[k] == null) seen[k] = v;
    if (a.kind === 'image') seen.kind = 'image';
  }
  return out;
}

/** How one attachment shows: `image`, `audio`, `video`, `file` or `missing`. */
export function displayKind(a) {
  if (a.missing || !MEDIA_ID.test(a.media_id || '')) return 'missing';
  const type = (a.mime_type || '').toLowerCase();
  if (INLINE_IMAGE.test(type)) return 'image';
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('video/')) return 'video';
  return 'file';
}

function attachmentEl(a, source) {
  switch (displayKind(a)) {
    case 'image': return imageEl(a);
    case 'audio': return playerEl(a, 'audio');
    case 'video': return playerEl(a, 'video');
    case 'file': return chipEl(a);
    default: return missingEl(a, source);
  }
}

function mediaPath(a) {
  return `media/${a.media_id}`;
}

function mediaUrl(a) {
  return API + mediaPath(a);
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

function describe(a, fallback) {
  const name = a.name || fallback;
  return a.size != null ? `${name}, ${formatBytes(a.size)}` : name;
}

/** The thumbnail box: the image's own size scaled down to fit THUMB_MAX, never up. */
function thumbSize(a) {
  const w = Number(a.width) || 0;
  const hgt = Number(a.height) || 0;
  if (!w || !hgt) return null;
  const scale = Math.min(1, THUMB_MAX / w, THUMB_MAX / hgt);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(hgt * scale)) };
}

function imageEl(a) {
  const label = a.name || 'Image';
  const size = thumbSize(a);
  const img = h('img', {
    class: 'media-thumb', alt: label, loading: 'lazy', decoding: 'async',
    width: size?.width, height: size?.height, 'data-media-id': a.media_id,
  });
  setSource(img, a, 'lazy');
  const open = h('button', {
    type: 'button', class: 'media-image', title: `Open ${label} full size`,
    'aria-label': `Open ${describe(a, 'image')} full size`,
    onclick: () => openLightbox(a, img),
  }, img);
  return h('figure', { class: 'media media-kind-image' }, open);
}

function playerEl(a, tag) {
  const label = describe(a, tag === 'audio' ? 'Audio' : 'Video');
  const player = h(tag, {
    class: `media-${tag}`, controls: true, preload: 'none', 'aria-label': label, 'data-media-id': a.media_id,
  });
  const caption = h('figcaption', {}, label);
  const figure = h('figure', { class: `media media-kind-${tag}` }, caption);
  if (!getToken()) {
    player.src = mediaUrl(a);
    figure.prepend(player);
    return figure;
  }
  // With a token the bytes come as a blob, fetched only when the reader asks for them.
  const load = h('button', {
    type: 'button', class: 'btn media-load',
    onclick: async () => {
      load.disabled = true;
      try {
        player.src = await objectUrl(a, player);
        load.replaceWith(player);
        player.play().catch(() => { /* autoplay refused: the controls are there */ });
      } catch {
        load.disabled = false;
        load.textContent = `Could not load the ${tag}: retry`;
      }
    },
  }, icon('download', { size: 15 }), `Load ${tag}`);
  figure.prepend(load);
  return figure;
}

function chipEl(a) {
  const name = a.name || 'file';
  const type = a.mime_type ? a.mime_type.split(';')[0] : 'file';
  const attrs = {
    class: 'media media-file', href: mediaUrl(a), download: name, 'data-media-id': a.media_id,
    title: `Download ${name}`, rel: 'noopener',
  };
  if (getToken()) {
    // The Authorization header cannot ride on a link: fetch, then save the blob.
    attrs.onclick = (e) => {
      e.preventDefault();
      download(mediaPath(a), name).catch(() => { /* api() already asked for the token */ });
    };
  }
  return h('a', attrs,
    icon('download', { size: 15 }),
    h('span', { class: 'media-name' }, name),
    h('span', { class: 'media-meta' }, [type, a.size != null ? formatBytes(a.size) : null].filter(Boolean).join(' · ')));
}

function missingEl(a, source) {
  const claude = source === 'claude';
  let text;
  if (a.kind === 'image') text = 'Image not in this export';
  else if (a.kind === 'audio') text = 'Audio not in this export';
  else text = `File not in the export: ${a.name || a.reference || 'unnamed'}`;
  const note = claude ? 'Claude exports carry no file bytes (the text Claude extracted, if any, is kept below).' : null;
  return h('div', {
    class: `media media-missing media-kind-${a.kind || 'file'}`, role: 'note',
    title: a.reference ? `Referenced as ${a.reference}` : null,
  }, icon(a.kind === 'image' ? 'eye' : 'folder', { size: 15 }), h('span', {}, text), note ? h('span', { class: 'media-note' }, note) : null);
}

// ----- sources: a plain URL without a token, an object URL with one -----------------------------

const blobUrls = new Map(); // element -> object URL
let sweeper = null;

function setSource(img, a, mode) {
  if (!getToken()) {
    img.src = mediaUrl(a);
    return;
  }
  const fetchIt = () => objectUrl(a, img).then((url) => { img.src = url; }).catch(() => {
    img.alt = `${img.alt} (could not be loaded)`;
  });
  if (mode !== 'lazy' || typeof IntersectionObserver === 'undefined') {
    fetchIt();
    return;
  }
  // Observed once on the page, against the transcript that scrolls it, so the margin counts.
  requestAnimationFrame(() => {
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        io.disconnect();
        fetchIt();
      }
    }, { root: img.closest('.transcript'), rootMargin: '400px' });
    io.observe(img);
  });
}

/** Fetches the bytes with the token and returns an object URL tied to `el`. */
async function objectUrl(a, el) {
  const res = await api(mediaPath(a), { raw: true });
  const url = URL.createObjectURL(await res.blob());
  blobUrls.set(el, url);
  watchForRemoval();
  return url;
}

/** Revokes the object URLs of elements no longer on the page (a re-render, another view). */
function watchForRemoval() {
  if (sweeper) return;
  let pending = false;
  sweeper = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      for (const [el, url] of blobUrls) {
        if (!el.isConnected) {
          URL.revokeObjectURL(url);
          blobUrls.delete(el);
        }
      }
    }, 1000);
  });
  sweeper.observe(document.body, { childList: true, subtree: true });
}

// ----- full size ---------------------------------------------------------------------------------

function openLightbox(a, thumb) {
  const label = a.name || 'Image';
  const full = h('img', { class: 'lightbox-img', alt: label, decoding: 'async' });
  if (getToken()) {
    // The thumbnail's object URL is alive as long as the thumbnail is; reuse it.
    if (blobUrls.has(thumb)) full.src = blobUrls.get(thumb);
    else objectUrl(a, full).then((url) => { full.src = url; }).catch(() => { full.alt = `${label} (could not be loaded)`; });
  } else {
    full.src = mediaUrl(a);
  }
  const dims = a.width && a.height ? `${a.width} × ${a.height}` : null;
  const close = h('button', { type: 'button', class: 'icon-btn lightbox-close', 'aria-label': 'Close', title: 'Close (Esc)', onclick: () => dialog.close() },
    icon('close', { size: 18 }));
  const dialog = h('dialog', { class: 'lightbox', 'aria-label': label },
    h('div', { class: 'lightbox-bar' },
      h('span', { class: 'lightbox-name' }, [label, dims, a.size != null ? formatBytes(a.size) : null].filter(Boolean).join(' · ')),
      close),
    full);
  // A click on the backdrop (the dialog itself, outside its content) closes it too.
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
  dialog.addEventListener('close', () => {
    dialog.remove();
    thumb.closest('button')?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}
