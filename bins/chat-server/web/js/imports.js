// Import: drag-and-drop or a file picker, POST /imports (multipart), progress from polling
// GET /imports/{id} and from `import.progress` over the WebSocket, the report at the end, and
// for failures the import helper's explanation (streamed) and its retry action.

import { api, qs, enc, ApiError } from './api.js';
import { h, mount, fullTime, plural } from './dom.js';
import { renderMarkdown } from './markdown.js';
import { icon } from './icons.js';
import { IMPORT_SOURCES, sourceLabel, badge, emit, errorText, toast, go } from './common.js';

const POLL_MS = 600;
const COUNTERS = ['seen', 'imported', 'updated', 'unchanged', 'skipped', 'failed', 'messages'];

export class ImportView {
  constructor(root, live) {
    this.root = root;
    this.live = live;
    this.jobs = new Map(); // id -> latest view
    this.polling = new Set();
    live.addEventListener('import.progress', (e) => {
      const { id, status, progress } = e.detail;
      const job = this.jobs.get(id);
      // Events and polls race: an event sent while the job ran can arrive after the poll saw
      // it finish. A finished job never goes back to running.
      if (job && (job.finished_at || isFinished(job))) return;
      this.jobs.set(id, { ...(job || { id }), status, progress });
      this.renderJob(id);
      // The poll converges on the server's final view (report included) whatever the events do.
      if (!this.polling.has(id)) this.poll(id);
    });
  }

  show(route) {
    this.active = true;
    const input = h('input', {
      type: 'file', id: 'import-file', multiple: true, accept: '.zip,.json,.jsonl,.html,.htm,application/zip,application/json',
      class: 'visually-hidden',
      onchange: (e) => {
        if (e.target.files.length) this.upload(Array.from(e.target.files));
        e.target.value = '';
      },
    });
    this.sourceSelect = h('select', { id: 'import-source', 'aria-label': 'Source' },
      h('option', { value: '' }, 'Detect automatically'),
      IMPORT_SOURCES.map((s) => h('option', { value: s }, sourceLabel(s))));
    const zone = h('label', { class: 'dropzone', for: 'import-file', tabindex: '0',
      onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } },
      ondragover: (e) => { e.preventDefault(); zone.classList.add('over'); },
      ondragleave: () => zone.classList.remove('over'),
      ondrop: (e) => {
        e.preventDefault();
        e.stopPropagation();
        zone.classList.remove('over');
        const files = Array.from(e.dataTransfer?.files || []);
        if (files.length) this.upload(files);
      },
    },
    icon('upload', { size: 28 }),
    h('strong', {}, 'Drop an export here, or choose a file'),
    h('span', {}, 'ChatGPT, Claude, Gemini (Takeout or AI Studio) or VS Code Copilot: the zip as downloaded, or its JSON.'));
    this.jobsEl = h('div', { class: 'import-jobs', id: 'import-jobs' });
    this.recentEl = h('div', { class: 'import-recent' });
    mount(this.root, h('section', { class: 'import-view' },
      h('h1', {}, 'Import'),
      zone, input,
      h('div', { class: 'import-options' }, h('label', {}, 'Source ', this.sourceSelect)),
      this.jobsEl,
      h('h2', {}, 'Recent imports'),
      this.recentEl));
    for (const id of this.jobs.keys()) this.renderJob(id);
    if (route.id && !this.jobs.has(route.id)) this.track(route.id);
    this.loadRecent();
  }

  hide() {
    this.active = false;
  }

  async loadRecent() {
    try {
      const runs = await api(`imports${qs({ limit: 10 })}`);
      if (!runs.length) {
        mount(this.recentEl, h('p', { class: 'empty-hint' }, 'No imports yet.'));
        return;
      }
      mount(this.recentEl, h('ul', { class: 'recent-list' }, runs.map((r) => h('li', {},
        h('a', { href: `#/import?id=${enc(r.id)}`, onclick: (e) => { e.preventDefault(); this.track(r.id, r); } },
          h('span', { class: `status status-${r.status}` }, r.status),
          ' ', (r.files || []).join(', ') || r.id,
          ' · ', fullTime(r.created_at),
          r.outcome ? ` · ${r.outcome}` : '')))));
    } catch (e) {
      mount(this.recentEl, h('p', { class: 'view-error' }, errorText(e)));
    }
  }

  /** Uploads files (from the picker or a drop) and follows the job. */
  async upload(files, source = this.sourceSelect?.value || '') {
    const form = new FormData();
    if (source) form.append('source', source);
    for (const f of files) form.append('file', f, f.name);
    const tempId = `upload-${Date.now()}`;
    this.jobs.set(tempId, { id: tempId, status: 'uploading', files: files.map((f) => f.name), progress: { bytes_total: files.reduce((n, f) => n + f.size, 0) } });
    this.renderJob(tempId);
    try {
      const res = await api(`imports${qs({ source })}`, { method: 'POST', body: form });
      this.jobs.delete(tempId);
      this.removeJobEl(tempId);
      this.track(res.id, { id: res.id, status: res.status || 'queued', files: files.map((f) => f.name), progress: {} });
    } catch (e) {
      this.jobs.set(tempId, { ...this.jobs.get(tempId), status: 'failed', error: errorText(e), uploadFailed: true });
      this.renderJob(tempId);
    }
  }

  track(id, initial) {
    // The upload's answer can come after a live event already said the job finished: a
    // finished job is never shown queued again.
    if (initial && !isFinished(this.jobs.get(id))) this.jobs.set(id, initial);
    else if (!this.jobs.has(id)) this.jobs.set(id, { id, status: 'queued', progress: {} });
    this.renderJob(id);
    this.poll(id);
  }

  async poll(id) {
    if (this.polling.has(id)) return;
    this.polling.add(id);
    try {
      for (;;) {
        let view;
        try {
          view = await api(`imports/${enc(id)}`);
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) {
            this.jobs.set(id, { id, status: 'failed', error: 'This import is unknown to the server.' });
            this.renderJob(id);
            return;
          }
          await sleep(POLL_MS * 3);
          continue;
        }
        // A poll answered before a live event said "finished" must not take the job back.
        if (isFinished(view) || !isFinished(this.jobs.get(id))) {
          this.jobs.set(id, view);
          this.renderJob(id);
        }
        if (isFinished(view)) {
          emit('library-changed');
          this.loadRecent();
          return;
        }
        await sleep(POLL_MS);
      }
    } finally {
      this.polling.delete(id);
    }
  }

  removeJobEl(id) {
    this.jobsEl?.querySelector(`[data-job="${CSS.escape(id)}"]`)?.remove();
  }

  renderJob(id) {
    if (!this.active || !this.jobsEl) return;
    const job = this.jobs.get(id);
    if (!job) return;
    const el = jobEl(job, this);
    const old = this.jobsEl.querySelector(`[data-job="${CSS.escape(id)}"]`);
    if (old) {
      // Keep a streamed explanation across re-renders.
      const explain = old.querySelector('.explain');
      if (explain) el.querySelector('.explain')?.replaceWith(explain);
      old.replaceWith(el);
    } else this.jobsEl.prepend(el);
  }

  async explain(id, button) {
    // Look the box up at click time: a re-render keeps the job's existing explanation box (see
    // renderJob), so a box captured when the button was created may be detached by now.
    const box = button.closest('.import-job')?.querySelector('.explain');
    if (!box) return;
    button.disabled = true;
    box.hidden = false;
    const text = h('div', { class: 'explain-text' });
    mount(box, h('h3', {}, 'What went wrong'), text);
    let all = '';
    try {
      const res = await api(`imports/${enc(id)}/explain`, { method: 'POST', raw: true });
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        all += decoder.decode(value, { stream: true });
        text.textContent = all;
      }
      all += decoder.decode();
      mount(text, renderMarkdown(all));
    } catch (e) {
      const missing = e instanceof ApiError && e.status === 404 && e.code === 'route_not_found';
      mount(text, h('p', { class: 'view-error' }, missing ? 'This server cannot explain imports yet.' : errorText(e)));
    } finally {
      button.disabled = false;
    }
  }

  async retry(id, source) {
    try {
      const res = await api(`imports/${enc(id)}/retry`, { method: 'POST', body: source ? { source } : {} });
      const newId = (res && res.id) || id;
      toast('Retrying the import');
      this.jobs.delete(id);
      this.removeJobEl(id);
      this.track(newId, { id: newId, status: (res && res.status) || 'queued', progress: {} });
    } catch (e) {
      const missing = e instanceof ApiError && e.status === 404 && e.code === 'route_not_found';
      toast(missing ? 'This server cannot retry imports yet.' : errorText(e), { kind: 'error' });
    }
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function jobEl(job, view) {
  const p = job.progress || {};
  const finished = job.status === 'done' || job.status === 'failed';
  const report = job.report;
  const needsHelp = !job.uploadFailed && finished
    && (job.status === 'failed' || job.outcome === 'partial' || job.outcome === 'nothing' || (report?.totals?.failed > 0));
  const pct = p.bytes_total ? Math.min(100, Math.round((100 * (p.bytes_read || 0)) / p.bytes_total)) : null;
  const explainBox = h('div', { class: 'explain', hidden: true });
  const retrySource = h('select', { 'aria-label': 'Retry as source' },
    h('option', { value: '' }, 'Detect again'),
    IMPORT_SOURCES.map((s) => h('option', { value: s }, `As ${sourceLabel(s)}`)));
  return h('article', { class: `import-job job-${job.status}`, 'data-job': job.id, 'data-status': job.status, 'aria-live': 'polite' },
    h('div', { class: 'job-head' },
      h('span', { class: `status status-${job.status}` }, statusLabel(job)),
      h('span', { class: 'job-files' }, (job.files || []).join(', ')),
      job.source ? badge(job.source) : null),
    !finished ? h('div', { class: 'progress' },
      h('progress', pct === null ? { 'aria-label': 'Import progress' } : { max: 100, value: pct, 'aria-label': 'Import progress' }),
      h('span', { class: 'progress-text' },
        job.status === 'uploading' ? 'Uploading…' : `${plural(Number(p.conversations || 0), 'conversation')}, ${plural(Number(p.messages || 0), 'message')} so far`,
        p.current ? ` · ${p.current}` : '')) : null,
    job.error ? h('p', { class: 'job-error', role: 'alert' }, job.error) : null,
    report ? reportEl(report) : null,
    finished && report && report.totals && (report.totals.imported || report.totals.updated)
      ? h('p', {}, h('a', { href: '#/', onclick: () => { go('#/'); } }, 'See the imported conversations in the sidebar')) : null,
    needsHelp ? h('div', { class: 'job-help' },
      h('button', { type: 'button', class: 'btn explain-btn', onclick: (e) => view.explain(job.id, e.currentTarget) }, icon('sparkle', { size: 15 }), 'Explain what went wrong'),
      h('span', { class: 'retry' }, retrySource,
        h('button', { type: 'button', class: 'btn retry-btn', onclick: () => view.retry(job.id, retrySource.value) }, icon('refresh', { size: 15 }), 'Retry'))) : null,
    explainBox);
}

function statusLabel(job) {
  if (job.status === 'done') return job.outcome === 'partial' ? 'Partly imported' : job.outcome === 'nothing' ? 'Nothing imported' : 'Imported';
  if (job.status === 'failed') return 'Failed';
  if (job.status === 'running') return 'Importing…';
  if (job.status === 'uploading') return 'Uploading…';
  return 'Queued';
}

function reportEl(report) {
  const totals = report.totals || {};
  const inputs = report.inputs || [];
  const errors = [];
  for (const input of inputs) for (const e of input.errors || []) errors.push({ path: input.path, ...e });
  return h('div', { class: 'report' },
    h('table', { class: 'report-totals' },
      h('thead', {}, h('tr', {}, COUNTERS.map((k) => h('th', { scope: 'col' }, k)))),
      h('tbody', {}, h('tr', {}, COUNTERS.map((k) => h('td', { 'data-counter': k }, String(totals[k] ?? 0)))))),
    inputs.length ? h('ul', { class: 'report-inputs' }, inputs.map((i) => h('li', {},
      i.source ? badge(i.source) : h('span', { class: 'badge badge-other' }, 'unknown'), ' ', i.path || '',
      ` — ${Number(i.imported || 0)} imported, ${Number(i.updated || 0)} updated, ${Number(i.unchanged || 0)} unchanged, ${Number(i.failed || 0)} failed`))) : null,
    errors.length ? h('details', { class: 'report-errors', open: errors.length <= 5 },
      h('summary', {}, plural(errors.length, 'problem')),
      h('ul', {}, errors.slice(0, 200).map((e) => h('li', {},
        h('strong', {}, e.item || e.path || 'input'), ': ', e.error || '',
        e.hint ? h('div', { class: 'hint' }, e.hint) : null)))) : null,
    report.ignored && report.ignored.length ? h('p', { class: 'hint' }, `Ignored: ${report.ignored.slice(0, 20).join(', ')}`) : null);
}

function isFinished(job) {
  return Boolean(job) && (job.status === 'done' || job.status === 'failed');
}
