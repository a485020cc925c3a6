// The conversation view and live chat.
//
// A conversation is loaded whole (`?branch=all&hidden=true`): the page computes the visible
// path from the active leaf up through `parent_id`, siblings (messages sharing a parent) for
// the branch switcher, and shows hidden messages (system prompts, reasoning, tool calls)
// collapsed in place. Live chat goes over the WebSocket: `chat.accepted` adds the user's
// message and an empty assistant message, `chat.delta` appends text to it as it streams (as
// plain text), and `chat.done` replaces it with the final content rendered as Markdown; then
// the conversation is fetched again so ids, times and titles match the server.

import { api, qs, enc, apiUrl, getToken, download, ApiError } from './api.js';
import { h, mount, timeEl, plural, debounce } from './dom.js';
import { renderMarkdown, codeBlock, safeHref, copyText } from './markdown.js';
import { icon } from './icons.js';
import { attachmentsEl, formatBytes } from './media.js';
import { requestId } from './ws.js';
import {
  badge, conversationHref, go, emit, on, toast, errorText, confirmDialog, promptDialog,
} from './common.js';

const ROLE_LABEL = { user: 'You', assistant: 'Assistant', system: 'System', tool: 'Tool' };

function iconButton(name, label, onclick, extra = {}) {
  return h('button', { type: 'button', class: `icon-btn ${extra.class || ''}`.trim(), title: label, 'aria-label': label, onclick, ...extra.attrs },
    icon(name, { size: 16 }));
}

export class ConversationView {
  constructor(root, live) {
    this.root = root;
    this.live = live;
    this.conv = null; // the conversation object, or null for a new chat
    this.messages = new Map(); // id -> message
    this.order = []; // ids in server order (parents before children)
    this.leaf = null;
    this.highlight = '';
    this.pending = new Map(); // request_id -> { kind, content, parentId, conversationId }
    // The message being edited and its draft: a re-render (a live update, a resync) reopens the
    // editor with the draft instead of throwing the reader's typing away.
    this.editing = null; // { id, draft }
    this.streaming = null; // { conversationId, messageId, requestId }
    this.loadSeq = 0;
    this.resyncSoon = debounce(() => this.resync(), 300);
    this.listen();
  }

  get id() {
    return this.conv ? this.conv.id : null;
  }

  // ----- loading ---------------------------------------------------------------------------------

  /** Shows a new, empty chat. */
  openNew() {
    this.visible = true;
    this.editing = null;
    this.loadSeq++;
    this.conv = null;
    this.messages.clear();
    this.order = [];
    this.leaf = null;
    this.highlight = '';
    emit('conversation-open', '');
    this.render();
    this.root.querySelector('.composer textarea')?.focus({ preventScroll: true });
  }

  async open(id, messageId = '') {
    this.visible = true;
    const seq = ++this.loadSeq;
    const same = this.conv && this.conv.id === id;
    if (!same) this.editing = null;
    if (!same) {
      mount(this.root, h('div', { class: 'view-loading' }, 'Loading conversation…'));
    }
    emit('conversation-open', id);
    try {
      const detail = await api(`conversations/${enc(id)}${qs({ branch: 'all', hidden: 'true' })}`);
      if (seq !== this.loadSeq) return;
      this.setDetail(detail);
      this.highlight = messageId;
      if (messageId && this.messages.has(messageId) && !this.path().includes(messageId)) {
        this.leaf = this.descend(messageId);
      }
      this.render();
      if (messageId) this.scrollToMessage(messageId);
      else this.scrollToBottom();
    } catch (e) {
      if (seq !== this.loadSeq) return;
      this.conv = null;
      mount(this.root, h('div', { class: 'view-error', role: 'alert' },
        h('h2', {}, e instanceof ApiError && e.status === 404 ? 'Conversation not found' : 'Could not open the conversation'),
        h('p', {}, errorText(e)),
        h('a', { href: '#/' }, 'Back to a new chat')));
    }
  }

  setDetail(detail) {
    const { messages, ...conv } = detail;
    this.conv = conv;
    this.messages.clear();
    this.order = [];
    for (const m of messages) {
      this.messages.set(m.id, m);
      this.order.push(m.id);
    }
    this.leaf = conv.current_message_id && this.messages.has(conv.current_message_id)
      ? conv.current_message_id
      : this.defaultLeaf();
  }

  /** Fetches the open conversation again, keeping the reader's place. */
  async resync() {
    if (!this.visible || !this.conv || this.streaming) return;
    const id = this.conv.id;
    const seq = this.loadSeq;
    const keepLeaf = this.leaf;
    const scroller = this.root.querySelector('.transcript');
    const atBottom = scroller ? scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80 : true;
    const top = scroller ? scroller.scrollTop : 0;
    try {
      const detail = await api(`conversations/${enc(id)}${qs({ branch: 'all', hidden: 'true' })}`);
      if (seq !== this.loadSeq || this.streaming) return;
      const serverLeaf = detail.current_message_id;
      this.setDetail(detail);
      // Stay on the branch being read unless the server moved on past it.
      if (keepLeaf && this.messages.has(keepLeaf) && !this.path(serverLeaf).includes(keepLeaf)) this.leaf = keepLeaf;
      this.render();
      const s = this.root.querySelector('.transcript');
      if (s) s.scrollTop = atBottom ? s.scrollHeight : top;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        toast('This conversation was deleted.');
        go('#/');
      }
    }
  }

  // ----- the tree ----------------------------------------------------------------------------------

  children(parentId) {
    const out = [];
    for (const id of this.order) {
      const m = this.messages.get(id);
      if ((m.parent_id || null) === (parentId || null)) out.push(m);
    }
    return out;
  }

  /** The deepest message under `id`, following the newest child at each step. */
  descend(id) {
    let cur = id;
    for (let guard = 0; guard < 100000; guard++) {
      const kids = this.children(cur);
      if (!kids.length) return cur;
      cur = kids[kids.length - 1].id;
    }
    return cur;
  }

  defaultLeaf() {
    if (!this.order.length) return null;
    const roots = this.children(null);
    return this.descend((roots[roots.length - 1] || this.messages.get(this.order[0])).id);
  }

  /** Ids from the root to `leaf`. */
  path(leaf = this.leaf) {
    const out = [];
    const seen = new Set();
    let cur = leaf;
    while (cur && this.messages.has(cur) && !seen.has(cur)) {
      seen.add(cur);
      out.push(cur);
      cur = this.messages.get(cur).parent_id;
    }
    return out.reverse();
  }

  /** Visible siblings of a message (itself included), in order. */
  siblings(m) {
    return this.children(m.parent_id).filter((s) => s.hidden === m.hidden);
  }

  async switchTo(messageId) {
    this.leaf = this.descend(messageId);
    this.render();
    this.scrollToMessage(messageId, false);
    // Make it the active branch, so the next message continues it.
    if (this.conv) {
      try {
        const c = await api(`conversations/${enc(this.conv.id)}`, { method: 'PATCH', body: { current_message_id: this.leaf } });
        this.conv = { ...this.conv, ...c };
      } catch { /* the view still shows the branch; sending passes parent_id explicitly */ }
    }
  }

  // ----- rendering ----------------------------------------------------------------------------------

  /**
   * Called by the router when another view (search, import, statistics) takes the main area:
   * live events keep updating this view's state, but it must not draw over the other view.
   */
  hide() {
    this.visible = false;
  }

  render() {
    if (!this.visible) return;
    const transcript = h('div', { class: 'transcript', id: 'transcript', 'aria-live': 'polite', 'aria-busy': this.streaming ? 'true' : 'false' });
    const list = h('div', { class: 'messages' });
    for (const id of this.path()) list.append(this.messageEl(this.messages.get(id)));
    if (!this.conv) {
      transcript.append(h('div', { class: 'welcome' },
        h('h1', {}, 'New chat'),
        h('p', {}, 'Ask anything below. Your conversations and everything you import from ChatGPT, Claude, Gemini and Copilot stay in this one searchable library.'),
        h('p', { class: 'welcome-links' },
          h('a', { href: '#/import' }, icon('upload', { size: 15 }), ' Import an export'),
          h('a', { href: '#/stats' }, icon('chart', { size: 15 }), ' Statistics'))));
    } else if (!list.children.length) {
      transcript.append(h('p', { class: 'empty-hint center' }, 'No messages yet.'));
    }
    transcript.append(list);
    const editorFocused = Boolean(document.activeElement?.closest?.('.edit-box'));
    mount(this.root,
      this.conv ? this.headerEl() : null,
      transcript,
      this.composerEl());
    const editing = this.editing && this.messages.get(this.editing.id);
    if (!editing || !this.openEditor(editing, editorFocused)) this.editing = null;
  }

  headerEl() {
    const c = this.conv;
    const exportLink = (format, label) => {
      const path = `conversations/${enc(c.id)}/export?format=${format}`;
      return h('a', {
        class: 'menu-item', href: apiUrl(path).href, download: '', 'data-format': format,
        onclick: (e) => {
          e.currentTarget.closest('details')?.removeAttribute('open');
          if (getToken()) {
            e.preventDefault();
            download(path, `conversation.${format}`).catch((err) => toast(errorText(err), { kind: 'error' }));
          }
        },
      }, icon('download', { size: 15 }), label);
    };
    const tagInput = h('input', {
      type: 'text', class: 'tag-input', placeholder: 'add tag', 'aria-label': 'Add a tag', maxlength: 64,
      onkeydown: (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          const tag = e.target.value.trim();
          if (tag) this.addTag(tag);
        }
      },
    });
    return h('header', { class: 'conv-head' },
      h('div', { class: 'conv-title-row' },
        h('h1', { class: 'conv-title' },
          h('button', { type: 'button', class: 'title-btn', title: 'Rename', onclick: () => this.rename() },
            h('span', { class: 'title-text' }, c.title || 'Untitled'), icon('edit', { size: 14 }))),
        badge(c.source),
        c.archived ? h('span', { class: 'archived-flag' }, 'Archived') : null),
      h('div', { class: 'conv-meta' },
        h('span', {}, 'Updated ', timeEl(c.updated_at)),
        h('span', {}, plural(Number(c.message_count || 0), 'message')),
        c.forked_from ? h('a', { href: conversationHref(c.forked_from.conversation_id, c.forked_from.message_id) }, icon('fork', { size: 13 }), ' forked from the original') : null),
      h('div', { class: 'conv-tags', 'aria-label': 'Tags' },
        (c.tags || []).map((t) => h('span', { class: 'tag-chip removable', 'data-tag': t }, t,
          h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove tag ${t}`, title: `Remove tag ${t}`, onclick: () => this.removeTag(t) }, '×'))),
        tagInput),
      c.summary ? h('p', { class: 'conv-summary' }, h('strong', {}, 'Summary: '), c.summary) : null,
      h('div', { class: 'conv-actions', role: 'toolbar', 'aria-label': 'Conversation actions' },
        h('button', { type: 'button', class: 'btn', 'data-action': 'summary', onclick: (e) => this.summarize(e.currentTarget) }, icon('sparkle', { size: 15 }), c.summary ? 'Re-summarize' : 'Summarize'),
        h('details', { class: 'menu export-menu' },
          h('summary', { class: 'btn' }, icon('download', { size: 15 }), 'Export'),
          h('div', { class: 'menu-list' }, exportLink('md', 'Markdown (.md)'), exportLink('json', 'JSON (lossless)'))),
        c.archived
          ? h('button', { type: 'button', class: 'btn', 'data-action': 'restore', onclick: () => this.setArchived(false) }, icon('restore', { size: 15 }), 'Restore')
          : h('button', { type: 'button', class: 'btn', 'data-action': 'archive', onclick: () => this.setArchived(true) }, icon('archive', { size: 15 }), 'Archive'),
        h('button', { type: 'button', class: 'btn danger-text', 'data-action': 'delete', onclick: () => this.remove() }, icon('trash', { size: 15 }), 'Delete')));
  }

  messageEl(m) {
    const role = m.role || 'assistant';
    const label = ROLE_LABEL[role] || role;
    const siblings = this.siblings(m);
    const idx = siblings.findIndex((s) => s.id === m.id);
    const isStreaming = this.streaming && this.streaming.messageId === m.id;
    const head = h('div', { class: 'msg-head' },
      h('span', { class: 'msg-role' }, label),
      m.model ? h('span', { class: 'msg-model', title: 'Model' }, m.model) : null,
      m.created_at ? timeEl(m.created_at) : null,
      m.status === 'interrupted' ? h('span', { class: 'msg-status', title: 'The reply was cut short' }, 'interrupted') : null,
      siblings.length > 1 ? h('span', { class: 'branch-switch', role: 'group', 'aria-label': 'Branches' },
        iconButton('left', 'Previous branch', () => this.switchTo(siblings[idx - 1].id), { attrs: { disabled: idx <= 0 } }),
        h('span', { class: 'branch-pos' }, `${idx + 1} / ${siblings.length}`),
        iconButton('right', 'Next branch', () => this.switchTo(siblings[idx + 1].id), { attrs: { disabled: idx >= siblings.length - 1 } })) : null);

    const body = h('div', { class: 'msg-body' });
    if (isStreaming || m.streaming) {
      body.classList.add('streaming');
      body.append(h('span', { class: 'stream-text' }, m.content || ''), h('span', { class: 'caret', 'aria-hidden': 'true' }));
    } else {
      body.classList.add('md');
      body.append(renderMarkdown(m.content || ''));
    }
    const parts = this.partsEl(m);
    const article = h('article', {
      class: `msg msg-${role}${m.id === this.highlight ? ' hit' : ''}`,
      id: `m-${m.id}`,
      'data-id': m.id,
      'data-role': role,
    }, head, body, attachmentsEl(m, this.conv?.source), parts, this.actionsEl(m, isStreaming));
    if (m.hidden) {
      return h('details', { class: 'hidden-msg', 'data-id': m.id, open: m.id === this.highlight },
        h('summary', {}, icon('eye', { size: 14 }), ` Hidden ${label.toLowerCase()} message`, m.content ? `: ${m.content.slice(0, 80)}` : ''),
        article);
    }
    return article;
  }

  partsEl(m) {
    const out = [];
    for (const p of m.parts || []) {
      switch (p.type) {
        case 'reasoning':
          out.push(h('details', { class: 'part part-reasoning' }, h('summary', {}, 'Reasoning'), h('div', { class: 'md' }, renderMarkdown(p.text || ''))));
          break;
        case 'tool_call':
          out.push(h('details', { class: 'part part-tool' }, h('summary', {}, `Tool call: ${p.name || 'tool'}`), codeBlock(JSON.stringify(p.input ?? null, null, 2), 'json')));
          break;
        case 'tool_result':
          out.push(h('details', { class: 'part part-tool' }, h('summary', {}, `Tool result${p.name ? `: ${p.name}` : ''}${p.is_error ? ' (error)' : ''}`), codeBlock(p.text || '', '')));
          break;
        case 'code':
          if (!(m.content || '').includes((p.text || '').trim())) out.push(codeBlock(p.text || '', p.language || ''));
          break;
        // Images, audio and files with bytes or a reference are the message's `attachments`,
        // drawn by media.js; what is left here is what they do not show.
        case 'image':
          if (!p.reference && !p.media && !p.data) out.push(h('div', { class: 'part part-file' }, 'Image (not kept by the export)'));
          break;
        case 'audio':
          if (p.transcript && !(m.content || '').includes(p.transcript.trim())) out.push(h('div', { class: 'part part-file' }, `Audio transcript: “${p.transcript}”`));
          break;
        case 'attachment':
          if (p.extracted_text) {
            out.push(h('details', { class: 'part part-extracted' },
              h('summary', {}, `Text of ${p.name}${p.size ? ` (${formatBytes(p.size)})` : ''}`), codeBlock(p.extracted_text, '')));
          }
          break;
        case 'citation': {
          const href = safeHref(p.url);
          out.push(h('div', { class: 'part part-citation' }, 'Source: ',
            href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' }, p.title || p.url) : (p.title || p.url || '')));
          break;
        }
        default:
          break;
      }
    }
    return out.length ? h('div', { class: 'msg-parts' }, out) : null;
  }

  actionsEl(m, isStreaming) {
    if (isStreaming || m.streaming) return null;
    const up = Boolean(m.rating && m.rating.value === 'up');
    const down = Boolean(m.rating && m.rating.value === 'down');
    return h('div', { class: 'msg-actions' },
      iconButton('copy', 'Copy text', () => copyText(m.content || '').then((ok) => toast(ok ? 'Copied' : 'Could not copy')), { class: 'copy-msg' }),
      m.role === 'assistant' ? [
        iconButton('up', up ? 'Remove the rating' : 'Good answer', () => this.rate(m, up ? null : 'up'), { class: `rate-up${up ? ' on' : ''}`, attrs: { 'aria-pressed': String(up) } }),
        iconButton('down', down ? 'Remove the rating' : 'Bad answer', () => this.rate(m, down ? null : 'down'), { class: `rate-down${down ? ' on' : ''}`, attrs: { 'aria-pressed': String(down) } }),
        this.conv ? iconButton('refresh', 'Regenerate', () => this.regenerate(m), { class: 'regen' }) : null,
      ] : null,
      m.role === 'user' && this.conv ? iconButton('edit', 'Edit into a new branch', () => this.edit(m), { class: 'edit-msg' }) : null,
      this.conv ? iconButton('fork', 'Fork from here', () => this.fork(m), { class: 'fork' }) : null);
  }

  composerEl() {
    const streaming = Boolean(this.streaming);
    const textarea = h('textarea', {
      id: 'composer-input',
      rows: 2,
      placeholder: this.conv ? 'Reply… (Ctrl+Enter to send)' : 'Message… (Ctrl+Enter to send)',
      'aria-label': 'Message',
      onkeydown: (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          this.sendFromComposer();
        }
      },
      oninput: (e) => { this.draft = e.target.value; autoGrow(e.target); },
    });
    if (this.draft) textarea.value = this.draft;
    const status = h('div', { class: 'live-status', id: 'live-status', role: 'status' });
    this.updateLiveStatus(status);
    return h('form', {
      class: 'composer',
      onsubmit: (e) => { e.preventDefault(); this.sendFromComposer(); },
    },
    status,
    h('div', { class: 'composer-row' },
      textarea,
      streaming
        ? h('button', { type: 'button', class: 'btn stop-btn', id: 'stop-btn', title: 'Stop (Esc)', onclick: () => this.stop() }, icon('stop', { size: 16 }), 'Stop')
        : h('button', { type: 'submit', class: 'btn primary send-btn', id: 'send-btn', title: 'Send (Ctrl+Enter)' }, icon('send', { size: 16 }), 'Send')));
  }

  updateLiveStatus(el = this.root.querySelector('#live-status')) {
    if (!el) return;
    const state = this.live.state;
    el.dataset.state = state;
    if (state === 'open') {
      el.textContent = '';
      el.hidden = true;
      return;
    }
    el.hidden = false;
    if (state === 'connecting') el.textContent = this.live.everOpened ? 'Reconnecting to live chat…' : 'Connecting to live chat…';
    else if (state === 'waiting') {
      const secs = Math.max(1, Math.round((this.live.retryAt - Date.now()) / 1000));
      mount(el, this.live.everOpened ? 'Live chat disconnected. ' : 'Live chat is not available on this server right now. ',
        `Retrying in ${secs} s. `,
        h('button', { type: 'button', class: 'link-btn', onclick: () => this.live.retryNow() }, 'Retry now'));
    } else el.textContent = '';
  }

  scrollToBottom() {
    const s = this.root.querySelector('.transcript');
    if (s) s.scrollTop = s.scrollHeight;
  }

  scrollToMessage(id, flash = true) {
    const el = this.root.querySelector(`[data-id="${CSS.escape(id)}"]`);
    if (!el) return;
    if (el.tagName === 'DETAILS') el.open = true;
    el.scrollIntoView({ block: 'center' });
    if (flash) {
      const art = el.matches('article') ? el : el.querySelector('article');
      art?.classList.add('hit', 'flash');
      setTimeout(() => art?.classList.remove('flash'), 2500);
    }
  }

  // ----- library actions ------------------------------------------------------------------------------

  async patch(body) {
    const c = await api(`conversations/${enc(this.conv.id)}`, { method: 'PATCH', body });
    this.conv = { ...this.conv, ...c };
    emit('library-changed');
    return c;
  }

  async rename() {
    const title = await promptDialog({ title: 'Rename conversation', label: 'Title', value: this.conv.title || '' });
    if (title === null || title.trim() === (this.conv.title || '')) return;
    try {
      await this.patch({ title: title.trim() });
      this.render();
    } catch (e) { toast(errorText(e), { kind: 'error' }); }
  }

  async setArchived(archived) {
    try {
      await this.patch({ archived });
      toast(archived ? 'Archived' : 'Restored');
      this.render();
    } catch (e) { toast(errorText(e), { kind: 'error' }); }
  }

  async remove() {
    const ok = await confirmDialog({
      title: 'Delete this conversation?',
      body: `“${this.conv.title || 'Untitled'}” and all its messages will be deleted. This cannot be undone.`,
      confirm: 'Delete', danger: true,
    });
    if (!ok) return;
    try {
      await api(`conversations/${enc(this.conv.id)}`, { method: 'DELETE' });
      toast('Deleted');
      emit('library-changed');
      go('#/');
    } catch (e) { toast(errorText(e), { kind: 'error' }); }
  }

  async addTag(tag) {
    try {
      const c = await api(`conversations/${enc(this.conv.id)}/tags/${enc(tag)}`, { method: 'PUT' });
      this.conv = { ...this.conv, ...c };
      emit('library-changed');
      this.render();
      this.root.querySelector('.tag-input')?.focus();
    } catch (e) { toast(errorText(e), { kind: 'error' }); }
  }

  async removeTag(tag) {
    try {
      const c = await api(`conversations/${enc(this.conv.id)}/tags/${enc(tag)}`, { method: 'DELETE' });
      this.conv = { ...this.conv, ...c };
      emit('library-changed');
      this.render();
    } catch (e) { toast(errorText(e), { kind: 'error' }); }
  }

  async summarize(button) {
    button.disabled = true;
    const label = button.lastChild;
    label.textContent = 'Summarizing…';
    try {
      const res = await api(`conversations/${enc(this.conv.id)}/summary`, { method: 'POST' });
      const summary = res && typeof res === 'object' ? (res.summary ?? res.conversation?.summary) : null;
      if (summary !== undefined && summary !== null) this.conv = { ...this.conv, summary };
      emit('library-changed');
      await this.resync();
      this.render();
    } catch (e) {
      const missing = e instanceof ApiError && e.status === 404 && e.code === 'route_not_found';
      toast(missing ? 'This server cannot generate summaries yet.' : errorText(e), { kind: 'error' });
      button.disabled = false;
      label.textContent = 'Summarize';
    }
  }

  async rate(m, value) {
    try {
      if (value) {
        const r = await api(`messages/${enc(m.id)}/rating`, { method: 'PUT', body: { rating: value } });
        m.rating = r;
      } else {
        await api(`messages/${enc(m.id)}/rating`, { method: 'DELETE' });
        m.rating = null;
      }
      const el = this.root.querySelector(`article[data-id="${CSS.escape(m.id)}"]`);
      el?.querySelector('.msg-actions')?.replaceWith(this.actionsEl(m, false));
    } catch (e) { toast(errorText(e), { kind: 'error' }); }
  }

  async fork(m) {
    try {
      const c = await api(`conversations/${enc(this.conv.id)}/fork`, { method: 'POST', body: { message_id: m.id } });
      toast('Forked into a new conversation');
      emit('library-changed');
      go(conversationHref(c.id));
    } catch (e) { toast(errorText(e), { kind: 'error' }); }
  }

  edit(m) {
    this.editing = { id: m.id, draft: m.content || '' };
    this.openEditor(m, true);
  }

  /** Replaces a message's body with an editor holding the current draft. */
  openEditor(m, focus) {
    const art = this.root.querySelector(`article[data-id="${CSS.escape(m.id)}"]`);
    if (!art) return false;
    const ta = h('textarea', { class: 'edit-input', 'aria-label': 'Edit message', rows: 3 });
    ta.value = this.editing ? this.editing.draft : m.content || '';
    ta.addEventListener('input', () => { if (this.editing) this.editing.draft = ta.value; });
    const close = () => { this.editing = null; this.render(); };
    const send = () => {
      const text = ta.value.trim();
      if (!text) return;
      if (this.send(text, { parentId: m.parent_id || null, edit: true })) close();
    };
    ta.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); }
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
    });
    const form = h('div', { class: 'edit-box' }, ta,
      h('div', { class: 'edit-actions' },
        h('button', { type: 'button', class: 'btn', onclick: close }, 'Cancel'),
        h('button', { type: 'button', class: 'btn primary edit-send', onclick: send }, 'Save & send')));
    art.querySelector('.msg-body').replaceWith(form);
    art.querySelector('.msg-actions')?.remove();
    autoGrow(ta);
    if (focus) ta.focus({ preventScroll: true });
    return true;
  }

  // ----- live chat ------------------------------------------------------------------------------------

  sendFromComposer() {
    const ta = this.root.querySelector('#composer-input');
    if (!ta) return;
    const text = ta.value.trim();
    if (!text || this.streaming) return;
    // Continue the branch on screen, even when it is not the stored active branch.
    const parentId = this.conv && this.leaf && this.leaf !== this.conv.current_message_id ? this.leaf : undefined;
    if (this.send(text, { parentId })) {
      ta.value = '';
      this.draft = '';
    }
  }

  /** Sends a chat message; returns false (and says why) when the live connection is down. */
  send(content, { parentId, edit = false } = {}) {
    if (!this.live.open) {
      this.chatError('Live chat is not connected, so the message was not sent. It will reconnect by itself; try again in a moment.');
      return false;
    }
    const rid = requestId();
    const frame = { type: 'chat.send', request_id: rid, conversation_id: this.id, content };
    if (parentId !== undefined) frame.parent_id = parentId;
    this.pending.set(rid, { kind: 'send', content, parentId: parentId === undefined ? this.leaf : parentId, conversationId: this.id, edit });
    this.live.send(frame);
    this.streaming = { requestId: rid, conversationId: this.id, messageId: null };
    this.render();
    this.scrollToBottom();
    return true;
  }

  regenerate(m) {
    if (this.streaming) return;
    if (!this.live.open) {
      this.chatError('Live chat is not connected; try again in a moment.');
      return;
    }
    const rid = requestId();
    this.pending.set(rid, { kind: 'regenerate', parentId: m.parent_id, conversationId: this.id });
    this.live.send({ type: 'chat.regenerate', request_id: rid, conversation_id: this.id, message_id: m.id });
    this.streaming = { requestId: rid, conversationId: this.id, messageId: null };
    this.render();
  }

  stop() {
    if (!this.streaming) return;
    const conversationId = this.streaming.conversationId || this.id;
    if (conversationId) this.live.send({ type: 'chat.cancel', conversation_id: conversationId });
    const s = this.streaming;
    // If the server never confirms, stop waiting after a while and show what is stored.
    setTimeout(() => {
      if (this.streaming === s) {
        this.streaming = null;
        this.resync();
        this.render();
      }
    }, 5000);
  }

  chatError(text) {
    const region = this.root.querySelector('.transcript');
    toast(text, { kind: 'error', timeout: 6000 });
    if (region) {
      region.querySelector('.chat-error')?.remove();
      region.append(h('div', { class: 'chat-error', role: 'alert' }, text));
      this.scrollToBottom();
    }
  }

  listen() {
    const live = this.live;
    live.addEventListener('state', () => this.updateLiveStatus());
    setInterval(() => { if (live.state === 'waiting') this.updateLiveStatus(); }, 1000);
    live.addEventListener('open', (e) => {
      if (e.detail.reconnected) {
        this.streaming = null;
        this.resync();
        emit('library-changed');
      }
    });
    live.addEventListener('close', () => {
      if (this.streaming) {
        this.streaming = null;
        this.pending.clear();
        this.chatError('The connection dropped during the reply; what arrived is kept. Reconnecting…');
        this.render();
      }
    });
    live.addEventListener('chat.accepted', (e) => this.onAccepted(e.detail));
    live.addEventListener('chat.delta', (e) => this.onDelta(e.detail));
    live.addEventListener('chat.done', (e) => this.onDone(e.detail));
    live.addEventListener('chat.error', (e) => this.onError(e.detail));
    live.addEventListener('conversation.updated', (e) => {
      emit('library-changed');
      const c = e.detail.conversation;
      if (c && this.conv && c.id === this.conv.id && !this.streaming) this.resyncSoon();
    });
    live.addEventListener('conversation.deleted', (e) => {
      emit('library-changed');
      if (this.conv && e.detail.id === this.conv.id) {
        toast('This conversation was deleted elsewhere.');
        go('#/');
      }
    });
  }

  onAccepted(msg) {
    const p = this.pending.get(msg.request_id);
    if (!p) return;
    const now = new Date().toISOString();
    if (!this.conv) {
      // A new conversation: show it under its id without reloading the view.
      this.conv = {
        id: msg.conversation_id, title: 'New chat', source: 'native', tags: [], summary: null,
        created_at: now, updated_at: now, archived: false, message_count: 0, current_message_id: null,
      };
      this.loadSeq++;
      this.ignoreRoute = msg.conversation_id;
      history.replaceState(null, '', conversationHref(msg.conversation_id));
      emit('conversation-open', msg.conversation_id);
      emit('library-changed');
    }
    if (msg.conversation_id !== this.id) return;
    let parent = p.parentId ?? null;
    if (p.kind === 'send' && msg.user_message_id && !this.messages.has(msg.user_message_id)) {
      this.addMessage({ id: msg.user_message_id, parent_id: parent, role: 'user', content: p.content, created_at: now, parts: [], hidden: false, rating: null, status: 'complete' });
    }
    if (msg.user_message_id) parent = msg.user_message_id;
    if (msg.assistant_message_id) {
      this.addMessage({ id: msg.assistant_message_id, parent_id: parent, role: 'assistant', content: '', created_at: now, parts: [], hidden: false, rating: null, status: 'complete', streaming: true });
      this.leaf = msg.assistant_message_id;
    }
    this.streaming = { requestId: msg.request_id, conversationId: msg.conversation_id, messageId: msg.assistant_message_id };
    this.render();
    this.scrollToBottom();
  }

  addMessage(m) {
    this.messages.set(m.id, m);
    if (!this.order.includes(m.id)) this.order.push(m.id);
  }

  onDelta(msg) {
    if (!this.conv || msg.conversation_id !== this.conv.id) return;
    const m = this.messages.get(msg.message_id);
    if (!m) return;
    m.content = (m.content || '') + (msg.delta || '');
    const el = this.root.querySelector(`article[data-id="${CSS.escape(m.id)}"] .stream-text`);
    if (el) {
      const s = this.root.querySelector('.transcript');
      const atBottom = s && s.scrollHeight - s.scrollTop - s.clientHeight < 120;
      el.textContent = m.content;
      if (atBottom) s.scrollTop = s.scrollHeight;
    }
  }

  onDone(msg) {
    if (!this.conv || msg.conversation_id !== this.conv.id) return;
    const m = this.messages.get(msg.message_id);
    if (m) {
      if (typeof msg.content === 'string') m.content = msg.content;
      if (msg.model) m.model = msg.model;
      m.streaming = false;
    }
    if (this.streaming && (this.streaming.messageId === msg.message_id || !this.streaming.messageId)) {
      this.pending.delete(this.streaming.requestId);
      this.streaming = null;
    }
    this.render();
    this.scrollToBottom();
    emit('library-changed');
    this.resync();
  }

  onError(msg) {
    const mine = (msg.request_id && this.pending.has(msg.request_id))
      || (this.streaming && msg.conversation_id && msg.conversation_id === this.streaming.conversationId);
    if (!mine) return;
    if (msg.request_id) this.pending.delete(msg.request_id);
    const wasStreaming = this.streaming;
    this.streaming = null;
    for (const m of this.messages.values()) if (m.streaming) m.streaming = false;
    this.render();
    this.chatError(`The reply failed: ${msg.message || msg.error || 'unknown error'}`);
    if (wasStreaming && this.conv) this.resync();
  }

  /** Keyboard: Esc stops a stream. Returns true when it did something. */
  escape() {
    if (this.streaming) {
      this.stop();
      return true;
    }
    return false;
  }
}

function autoGrow(ta) {
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight, 240)}px`;
}

