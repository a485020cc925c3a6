// The reading tools and resources, and every kind of bad argument, through the official
// TypeScript SDK client over both transports: streamable HTTP at /mcp on a running
// chat-server, and stdio (`chat-server mcp`) on the same database file while that server runs.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  spawnServer, fillLibrary, httpClient, stdioClient, api, ok, toolError, text,
  PROVIDERS, LONG_ID, LONG_MESSAGES, HUGE_AT, longLine, longConversation,
} from './helpers.mjs';

const READ_TOOLS = ['get_conversation', 'get_message_context', 'list_conversations', 'list_folders', 'list_tags', 'search_conversations'];
const WRITE_TOOLS = ['add_note', 'save_conversation', 'tag_conversation'];

let server;
const clients = {};

before(async () => {
  server = await spawnServer([], { tmpPrefix: 'chat-mcp-tools-' });
  await fillLibrary(server.base);
  clients.http = await httpClient(server.base);
  clients.stdio = await stdioClient(server.db);
});

after(async () => {
  for (const c of Object.values(clients)) await c.close().catch(() => {});
  await server?.stop();
});

/** Reads a conversation page by page; returns the tool results. */
async function allPages(client, first) {
  const pages = [];
  let cursor;
  do {
    const args = cursor ? { id: first.id, cursor } : first;
    const result = await client.callTool({ name: 'get_conversation', arguments: args });
    assert.notEqual(result.isError, true, text(result));
    pages.push(result);
    cursor = result.structuredContent.next_cursor;
    assert.ok(pages.length < 400, 'paging does not end');
  } while (cursor);
  return pages;
}

/** Proves the session still answers after an error. */
async function stillWorks(client) {
  const r = await ok(client, 'search_conversations', { query: 'sourdough' });
  assert.ok(r.hits.length > 0, 'the session stopped answering');
}

for (const kind of ['http', 'stdio']) {
  describe(`MCP over ${kind}`, () => {
    const c = () => clients[kind].client;

    test('initialize names the server and its capabilities, and lists the read tools', async () => {
      assert.equal(c().getServerVersion().name, 'ai-os-chat');
      const caps = c().getServerCapabilities();
      assert.ok(caps.tools && caps.resources, JSON.stringify(caps));
      assert.match(c().getInstructions(), /search_conversations/);
      const { tools } = await c().listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), READ_TOOLS);
      for (const t of tools) {
        assert.ok(t.description.length > 80, `${t.name} needs a description a model can use`);
        assert.equal(t.inputSchema.type, 'object');
        assert.equal(t.annotations?.readOnlyHint, true, t.name);
      }
      const search = tools.find((t) => t.name === 'search_conversations');
      assert.deepEqual(search.inputSchema.required, ['query']);
      assert.ok(search.outputSchema?.properties?.hits, 'search lists its output schema');
    });

    test('search finds conversations of all four providers, ranked, with plain snippets', async () => {
      for (const p of PROVIDERS) {
        const { hits } = await ok(c(), 'search_conversations', { query: p.word });
        assert.ok(hits.length > 0, `nothing found for ${p.word}`);
        for (const h of hits) {
          assert.equal(h.source, p.source, `${p.word}: ${JSON.stringify(h)}`);
          assert.ok(h.conversation_id && h.title && h.date && h.folder === `imported/${p.source}`);
          assert.doesNotMatch(h.snippet, /<\/?mark>|&lt;|&amp;/);
        }
        assert.ok(hits.some((h) => h.message_id && h.snippet.toLowerCase().includes(p.word.toLowerCase())));
        const other = PROVIDERS.find((q) => q.source !== p.source).source;
        assert.equal((await ok(c(), 'search_conversations', { query: p.word, source: other })).hits.length, 0);
      }
      // One query across every provider at once.
      const { hits } = await ok(c(), 'search_conversations', { query: 'and*', limit: 50 });
      assert.deepEqual([...new Set(hits.map((h) => h.source))].sort(), ['chatgpt', 'claude', 'copilot', 'gemini']);
      // Folder, role and time filters.
      assert.ok((await ok(c(), 'search_conversations', { query: 'haiku', folder: 'imported/claude' })).hits.length > 0);
      assert.equal((await ok(c(), 'search_conversations', { query: 'haiku', folder: 'imported/chatgpt' })).hits.length, 0);
      const roles = await ok(c(), 'search_conversations', { query: 'deploy', role: 'assistant', limit: 50 });
      assert.ok(roles.hits.length > 0 && roles.hits.every((h) => h.role === 'assistant'));
      const march = await ok(c(), 'search_conversations', { query: 'quarterly', since: '2025-03-01', until: '2025-03-02' });
      assert.ok(march.hits.some((h) => h.message_id));
      const before = await ok(c(), 'search_conversations', { query: 'quarterly', until: '2025-02-01' });
      assert.equal(before.hits.filter((h) => h.message_id).length, 0);
    });

    test('search results page with a cursor, without repeats, to a bounded depth', async () => {
      const seen = new Set();
      let cursor;
      let calls = 0;
      do {
        const r = await ok(c(), 'search_conversations', cursor ? { query: 'deploy', limit: 50, cursor } : { query: 'deploy', limit: 50 });
        for (const h of r.hits) {
          const key = h.message_id ?? `title:${h.conversation_id}`;
          assert.ok(!seen.has(key), `hit ${key} came twice`);
          seen.add(key);
        }
        cursor = r.next_cursor;
        calls += 1;
      } while (cursor && calls < 10);
      assert.equal(seen.size, 200, 'the long conversation has 240 matches; search pages 200 deep');
      assert.equal(cursor, null, 'no cursor past the depth');
    });

    test('a long conversation pages to its end in Markdown, nothing cut silently', async () => {
      const pages = await allPages(c(), { id: LONG_ID, max_chars: 5000 });
      assert.ok(pages.length > 20, `only ${pages.length} pages`);
      const body = pages.map((p) => p.content[0].text);
      for (const t of body) assert.ok(t.length <= 5000 + 300, `a page of ${t.length} characters`);
      assert.match(body[0], /^---\ntitle: "Quarterly deploy log"/);
      const joined = body.join('');
      let from = 0;
      for (const m of longConversation().messages) {
        for (const line of m.content.split('\n')) {
          const at = joined.indexOf(line, from);
          assert.ok(at >= 0, `line ${line.slice(0, 12)} is missing or out of order`);
          from = at + line.length;
        }
      }
      assert.match(joined, /continues on the next page/);
      assert.match(joined, new RegExp(`message long-m${HUGE_AT} continued from the previous page`));
      const last = pages.at(-1);
      assert.equal(last.structuredContent.messages_to, LONG_MESSAGES);
      assert.equal(last.structuredContent.messages_total, LONG_MESSAGES);
      assert.match(text(last), /end of the conversation/);
      assert.match(pages[0].content[1].text, /More follows: call get_conversation/);
      const media = pages.flatMap((p) => p.structuredContent.media);
      assert.deepEqual(media, [{
        message_id: 'long-m7', kind: 'file', name: 'quarterly-report.pdf', mime_type: 'application/pdf', size: 48213, url: null,
      }]);
      assert.ok(joined.includes('- file: quarterly-report.pdf (application/pdf, 48213 bytes)'));
    });

    test('the JSON rendering pages too and reassembles every message exactly', async () => {
      const pages = await allPages(c(), { id: LONG_ID, format: 'json', max_chars: 20000 });
      const rebuilt = new Map();
      for (const p of pages) {
        const doc = JSON.parse(p.content[0].text);
        assert.equal(doc.format, 'ai-os-chat.conversation');
        for (const m of doc.conversation.messages) rebuilt.set(m.id, (rebuilt.get(m.id) ?? '') + m.content);
      }
      for (const m of longConversation().messages) assert.equal(rebuilt.get(m.id), m.content, m.id);
      assert.equal(rebuilt.size, LONG_MESSAGES);
    });

    test('get_message_context shows the messages around a hit on its branch', async () => {
      const hit = (await ok(c(), 'search_conversations', { query: 'semicolon' })).hits.find((h) => h.message_id);
      const around = await c().callTool({ name: 'get_message_context', arguments: { message_id: hit.message_id } });
      assert.notEqual(around.isError, true, text(around));
      assert.ok(around.structuredContent.message_ids.includes(hit.message_id));
      assert.equal(around.structuredContent.conversation.source, 'copilot');
      assert.match(text(around), /The message asked about/);

      const mid = await c().callTool({ name: 'get_message_context', arguments: { message_id: 'long-m57', before: 2, after: 2 } });
      const info = mid.structuredContent;
      assert.deepEqual(info.message_ids, ['long-m55', 'long-m56', 'long-m57', 'long-m58', 'long-m59']);
      assert.equal(info.earlier, 55);
      assert.equal(info.later, LONG_MESSAGES - 60);
      const t = text(mid);
      assert.ok(t.indexOf('The message asked about') < t.indexOf(longLine(57, 0)));
      assert.ok(t.indexOf(longLine(56, 5)) < t.indexOf('The message asked about'));
    });

    test('a message too long for the context is shortened with a cursor that reads on', async () => {
      const r = await c().callTool({ name: 'get_message_context', arguments: { message_id: `long-m${HUGE_AT}`, before: 1, after: 1, max_chars: 4000 } });
      const t = text(r);
      assert.ok(t.length < 4500, `${t.length} characters`);
      const m = t.match(/shortened here: (\d+) more characters\. Read on with get_conversation (\{.*\})/);
      assert.ok(m, t.slice(-400));
      const shownLines = [...t.matchAll(new RegExp(`L${HUGE_AT}-(\\d+) `, 'g'))].map((x) => Number(x[1]));
      const next = Math.max(...shownLines) + 1;
      const page = await c().callTool({ name: 'get_conversation', arguments: JSON.parse(m[2]) });
      assert.notEqual(page.isError, true, text(page));
      assert.match(page.content[0].text, /continued from the previous page/);
      assert.ok(page.content[0].text.includes(longLine(HUGE_AT, next)), `line ${next} should follow`);
    });

    test('conversations are resources: a template, a list, and Markdown reads that continue', async () => {
      const { resourceTemplates } = await c().listResourceTemplates();
      assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate), ['chat://conversations/{id}']);
      const { resources } = await c().listResources();
      const uri = `chat://conversations/${LONG_ID}`;
      assert.ok(resources.some((r) => r.uri === uri && r.name === 'Quarterly deploy log' && r.mimeType === 'text/markdown'));
      const listed = await api(server.base, 'conversations?limit=100&archived=all');
      assert.equal(resources.length, listed.items.length);
      const first = await c().readResource({ uri });
      assert.equal(first.contents[0].mimeType, 'text/markdown');
      assert.match(first.contents[0].text, /^---\ntitle: "Quarterly deploy log"/);
      // A long conversation comes in parts, each naming the next, to the last line.
      let next = uri;
      let whole = '';
      for (let parts = 0; next; parts++) {
        assert.ok(parts < 10, 'the parts do not end');
        const part = (await c().readResource({ uri: next })).contents[0].text;
        assert.ok(part.length <= 100_000 + 400, `a part of ${part.length} characters`);
        whole += part;
        next = part.match(/read (chat:\/\/conversations\/\S+\?cursor=[A-Za-z0-9_-]+)\)/)?.[1];
        if (parts === 0) assert.ok(next, 'the first part names the next one');
      }
      for (const m of longConversation().messages) assert.ok(whole.includes(m.content), m.id);
      await assert.rejects(c().readResource({ uri: 'chat://conversations/no-such-id' }), /no conversation with id/);
      await assert.rejects(c().readResource({ uri: 'file:///etc/passwd' }), /not a conversation resource/);
      await stillWorks(c());
    });

    test('list_conversations, list_folders and list_tags answer with counts and cursors', async () => {
      const listed = await api(server.base, 'conversations?limit=100');
      const ids = [];
      let cursor;
      do {
        const r = await ok(c(), 'list_conversations', cursor ? { limit: 2, cursor } : { limit: 2 });
        assert.ok(r.conversations.length <= 2);
        ids.push(...r.conversations.map((x) => x.id));
        cursor = r.next_cursor;
      } while (cursor);
      assert.deepEqual(ids, listed.items.map((x) => x.id));
      const claude = await ok(c(), 'list_conversations', { source: 'claude' });
      assert.ok(claude.conversations.length > 0 && claude.conversations.every((x) => x.source === 'claude'));
      const { folders } = await ok(c(), 'list_folders');
      for (const p of PROVIDERS) assert.ok(folders.some((f) => f.path === `imported/${p.source}` && f.count > 0), p.source);
      const tags = await ok(c(), 'list_tags', { limit: 1 });
      assert.ok(tags.tags.length === 1);
      assert.ok((await ok(c(), 'list_tags')).tags.some((t) => t.tag === 'ops' && t.count >= 1));
    });

    test('bad arguments get a clear tool error and the session goes on', async () => {
      const cases = [
        ['get_conversation', { id: 'no-such-id' }, /no conversation with id "no-such-id"/],
        ['get_message_context', { message_id: 'no-such-message' }, /no message with id/],
        ['get_conversation', { id: LONG_ID, cursor: '%%%not-a-cursor' }, /cursor is malformed/],
        ['search_conversations', { query: 'deploy', cursor: 'eyJrIjoieiJ9' }, /cursor is malformed/],
        ['list_conversations', { cursor: 'x'.repeat(5000) }, /cursor is malformed/],
        ['search_conversations', { query: 'deploy', limit: 0 }, /limit must be between 1 and 50/],
        ['search_conversations', { query: 'deploy', limit: 51 }, /limit must be between 1 and 50/],
        ['search_conversations', { query: 'deploy', limit: 1e9 }, /limit must be between 1 and 50/],
        ['search_conversations', { query: 'deploy', limit: -1 }, /limit must be between 1 and 50 \(default 10\); got -1/],
        ['search_conversations', { query: 'deploy', limit: 'ten' }, /limit|invalid type/],
        ['get_conversation', { id: LONG_ID, max_chars: 10 }, /max_chars must be between 1000 and 100000/],
        ['get_message_context', { message_id: 'long-m3', before: 99 }, /before\/after must be between 0 and 20/],
        ['list_conversations', { limit: 1000 }, /limit must be between 1 and 100/],
        ['list_folders', { limit: 0 }, /limit must be between 1 and 500/],
        ['search_conversations', { query: 'x'.repeat(10_000) }, /the most is 1000/],
        ['search_conversations', { query: '* ( ) " -' }, /no words to search for/],
        ['search_conversations', { query: 42 }, /query|invalid type/],
        ['search_conversations', { text: 'deploy' }, /unknown field `text`/],
        ['search_conversations', { query: 'deploy', since: 'last spring' }, /since must be a date/],
        ['search_conversations', { query: 'deploy', since: '2025-04-01', until: '2025-03-01' }, /must come before until/],
        ['search_conversations', { query: 'deploy', source: 'myspace' }, /unknown variant|source/],
        ['list_conversations', { folder: '../etc' }, /invalid folder path/],
      ];
      for (const [tool, args, message] of cases) {
        assert.match(await toolError(c(), tool, args), message, `${tool} ${JSON.stringify(args).slice(0, 80)}`);
      }
      await stillWorks(c());
      // Cursors used where they do not belong.
      const search = await ok(c(), 'search_conversations', { query: 'deploy', limit: 1 });
      assert.match(await toolError(c(), 'get_conversation', { id: LONG_ID, cursor: search.next_cursor }), /not made by get_conversation/);
      assert.match(await toolError(c(), 'search_conversations', { query: 'quarterly', cursor: search.next_cursor }), /other arguments/);
      const page = await ok(c(), 'get_conversation', { id: LONG_ID, max_chars: 1000 });
      const other = listOtherId(await ok(c(), 'list_conversations', { source: 'claude' }));
      assert.match(await toolError(c(), 'get_conversation', { id: other, cursor: page.next_cursor }), /belongs to another conversation/);
      assert.match(await toolError(c(), 'get_conversation', { id: LONG_ID, cursor: page.next_cursor, format: 'json' }), /format differs/);
      // Hostile query text is only ever words: hits or nothing, and the data stays.
      for (const q of ['"unbalanced', 'NEAR(deploy notes) AND OR NOT', 'title:* ^deploy -notes', "'); DROP TABLE convos; --", 'deploy\u0000\u0001\u0002', '東京 AND "', 'content MATCH \'x\'']) {
        const r = await c().callTool({ name: 'search_conversations', arguments: { query: q } });
        assert.ok(Array.isArray(r.structuredContent?.hits) || r.isError === true, `${q}: ${text(r)}`);
      }
      // An unknown tool is a protocol error, and the session survives it too.
      await assert.rejects(c().callTool({ name: 'drop_everything', arguments: {} }), /tool not found/i);
      await stillWorks(c());
    });

    test('write tools are not served without --mcp-write, and say how to enable them', async () => {
      const { tools } = await c().listTools();
      for (const w of WRITE_TOOLS) assert.ok(!tools.some((t) => t.name === w), w);
      for (const [name, args] of [
        ['tag_conversation', { id: LONG_ID, add: ['x'] }],
        ['add_note', { conversation_id: LONG_ID, text: 'hello' }],
        ['save_conversation', { title: 't', messages: [{ role: 'user', content: 'hi' }] }],
      ]) {
        assert.match(await toolError(c(), name, args), /read-only: ask the user to start it with --mcp-write/);
      }
      const convo = await api(server.base, `conversations/${LONG_ID}`);
      assert.deepEqual(convo.tags, ['ops'], 'nothing was written');
      await stillWorks(c());
    });
  });
}

function listOtherId(list) {
  const id = list.conversations[0]?.id;
  assert.ok(id && id !== LONG_ID);
  return id;
}
