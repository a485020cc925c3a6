// Who may do what: the write tools with --mcp-write (over both transports, on one database
// that a read-only server also serves), and the HTTP endpoint's token, Origin, Host and
// session rules.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  spawnServer, fillLibrary, httpClient, stdioClient, api, ok, toolError, text, LONG_ID,
} from './helpers.mjs';

const TOKEN = 'mcp-test-token-5f2c9a';
const INIT = {
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

let reader;
let writer;
let locked;
const clients = {};

before(async () => {
  reader = await spawnServer([], { tmpPrefix: 'chat-mcp-access-' });
  await fillLibrary(reader.base);
  // Two more servers on the same database file: one serving the write tools, one with a token.
  writer = await spawnServer(['--db', reader.db, '--mcp-write']);
  locked = await spawnServer(['--db', reader.db, '--token', TOKEN]);
  clients.http = await httpClient(writer.base, { name: 'agent-over-http' });
  clients.stdio = await stdioClient(reader.db, { write: true, name: 'agent-over-stdio' });
});

after(async () => {
  for (const c of Object.values(clients)) await c.close().catch(() => {});
  for (const s of [locked, writer, reader]) await s?.stop();
});

/** A raw HTTP request to a server's /mcp, for what the SDK client would not send. */
function raw(base, { method = 'POST', headers = {}, body } = {}) {
  const url = new URL(`${base}/mcp`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method,
      headers: {
        Accept: 'application/json, text/event-stream',
        ...(payload ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
      },
    }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

for (const kind of ['http', 'stdio']) {
  describe(`write tools with --mcp-write, over ${kind}`, () => {
    const c = () => clients[kind].client;

    test('the write tools are listed as writes', async () => {
      const { tools } = await c().listTools();
      for (const name of ['tag_conversation', 'add_note', 'save_conversation']) {
        const t = tools.find((x) => x.name === name);
        assert.ok(t, name);
        assert.equal(t.annotations.readOnlyHint, false, name);
        assert.equal(t.annotations.destructiveHint, false, name);
      }
    });

    test('tag_conversation adds and removes tags', async () => {
      const tag = `from ${kind}`;
      const added = await ok(c(), 'tag_conversation', { id: LONG_ID, add: [tag, 'shared'] });
      assert.ok(added.conversation.tags.includes(tag));
      assert.ok((await ok(c(), 'list_tags')).tags.some((t) => t.tag === tag && t.count === 1));
      assert.ok((await api(reader.base, `conversations/${LONG_ID}`)).tags.includes(tag), 'the other server sees it');
      const removed = await ok(c(), 'tag_conversation', { id: LONG_ID, remove: [tag] });
      assert.ok(!removed.conversation.tags.includes(tag));
    });

    test('add_note appends a visible note, recorded as the agent\'s, that search finds', async () => {
      const chatgpt = (await ok(c(), 'list_conversations', { source: 'chatgpt', limit: 1 })).conversations[0];
      const word = `zebranote${kind}`;
      const r = await ok(c(), 'add_note', { conversation_id: chatgpt.id, text: `Remember the ${word}: feed it twice a day.` });
      assert.ok(r.message_id);
      assert.equal(r.conversation.message_count, chatgpt.message_count + 1);
      const { hits } = await ok(c(), 'search_conversations', { query: word });
      assert.deepEqual(hits.map((h) => h.message_id), [r.message_id]);
      const around = await c().callTool({ name: 'get_message_context', arguments: { message_id: r.message_id, before: 1 } });
      assert.match(text(around), new RegExp(`## Note · Assistant · agent-over-${kind}`));
      assert.match(text(around), new RegExp(word));
    });

    test('save_conversation files the agent\'s chat as a native conversation', async () => {
      const word = `xylophone${kind}`;
      const saved = await ok(c(), 'save_conversation', {
        title: `Launch plan (${kind})`,
        messages: [
          { role: 'user', content: `What is the plan for the ${word} launch?`, created_at: '2026-01-05T10:00:00Z' },
          { role: 'assistant', content: 'Ship on Friday, announce on Monday.', model: 'agent-model' },
        ],
        tags: ['agent'],
        folder: 'agents/plans',
      });
      const conv = saved.conversation;
      assert.equal(conv.source, 'native');
      assert.equal(conv.folder, 'agents/plans');
      assert.equal(conv.message_count, 2);
      assert.deepEqual(conv.tags, ['agent']);
      const { hits } = await ok(c(), 'search_conversations', { query: word, source: 'native' });
      assert.equal(hits[0].conversation_id, conv.id);
      assert.equal(hits[0].date, '2026-01-05T10:00:00Z');
      const page = await c().callTool({ name: 'get_conversation', arguments: { id: conv.id } });
      assert.match(page.content[0].text, /## Assistant · agent-model/);
      const res = await c().readResource({ uri: conv.uri });
      assert.match(res.contents[0].text, /Ship on Friday/);
    });

    test('bad write arguments are refused with a clear message and nothing written', async () => {
      const before = await api(reader.base, 'conversations?limit=100&archived=all');
      const cases = [
        ['tag_conversation', { id: LONG_ID }, /nothing to do/],
        ['tag_conversation', { id: 'no-such-id', add: ['x'] }, /no conversation with id/],
        ['tag_conversation', { id: LONG_ID, add: ['x'.repeat(65)] }, /at most 64 characters/],
        ['tag_conversation', { id: LONG_ID, add: Array.from({ length: 51 }, (_, i) => `t${i}`) }, /the most is 50/],
        ['add_note', { conversation_id: 'no-such-id', text: 'hi' }, /no conversation with id/],
        ['add_note', { conversation_id: LONG_ID, text: '   ' }, /text is empty/],
        ['save_conversation', { title: 'x', messages: [] }, /give 1 to 2000/],
        ['save_conversation', { title: '', messages: [{ role: 'user', content: 'hi' }] }, /title is empty/],
        ['save_conversation', { title: 'x', messages: [{ role: 'robot', content: 'hi' }] }, /unknown variant `robot`/],
        ['save_conversation', { title: 'x', messages: [{ role: 'user', content: 'hi', created_at: 'yesterday' }] }, /messages\[0\]\.created_at must be a date/],
        ['save_conversation', { title: 'x', folder: 'a//b', messages: [{ role: 'user', content: 'hi' }] }, /empty segments/],
      ];
      for (const [tool, args, message] of cases) {
        assert.match(await toolError(c(), tool, args), message, `${tool} ${JSON.stringify(args).slice(0, 80)}`);
      }
      const after = await api(reader.base, 'conversations?limit=100&archived=all');
      assert.equal(after.items.length, before.items.length);
      assert.ok((await ok(c(), 'search_conversations', { query: 'sourdough' })).hits.length > 0);
    });
  });
}

test('writers over stdio and HTTP and the API work on one database at once', async () => {
  const chatgpt = (await ok(clients.http.client, 'list_conversations', { source: 'chatgpt', limit: 1 })).conversations[0];
  const jobs = [];
  for (let i = 0; i < 8; i++) {
    jobs.push(ok(clients.stdio.client, 'add_note', { conversation_id: chatgpt.id, text: `parallel note ${i}` }));
    jobs.push(ok(clients.http.client, 'tag_conversation', { id: LONG_ID, add: [`busy-${i}`] }));
    jobs.push(api(reader.base, `conversations/${LONG_ID}/tags/api-${i}`, { method: 'PUT' }));
  }
  await Promise.all(jobs);
  const tags = (await api(reader.base, `conversations/${LONG_ID}`)).tags;
  for (let i = 0; i < 8; i++) assert.ok(tags.includes(`busy-${i}`) && tags.includes(`api-${i}`), `tag ${i}`);
  const { hits } = await ok(clients.stdio.client, 'search_conversations', { query: 'parallel note', limit: 50 });
  assert.equal(hits.filter((h) => h.message_id).length, 8);
});

describe('the HTTP endpoint\'s token, Origin, Host and session rules', () => {
  test('a server with a token refuses /mcp without it, or with a wrong one, like the API', async () => {
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: TOKEN }]) {
      const res = await raw(locked.base, { headers, body: INIT });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.match(res.headers['www-authenticate'], /^Bearer/);
      assert.equal(JSON.parse(res.body).error, 'unauthorized');
    }
    await assert.rejects(httpClient(locked.base));
    const { client, close } = await httpClient(locked.base, { token: TOKEN });
    assert.ok((await ok(client, 'search_conversations', { query: 'haiku' })).hits.length > 0);
    await close();
  });

  test('off loopback the server will not start without a token, and serves /mcp with one', async () => {
    await assert.rejects(spawnServer(['--bind', '0.0.0.0:0']), /refusing to listen on 0\.0\.0\.0:0 without a token/);
    const open = await spawnServer(['--bind', '0.0.0.0:0', '--db', reader.db, '--token', TOKEN]);
    try {
      const port = new URL(open.base).port;
      assert.equal((await raw(`http://127.0.0.1:${port}`, { body: INIT })).status, 401);
      const { client, close } = await httpClient(`http://127.0.0.1:${port}`, { token: TOKEN });
      assert.ok((await client.listTools()).tools.length >= 6);
      await close();
    } finally {
      await open.stop();
    }
  });

  test('requests from a foreign web origin or host name are refused (DNS rebinding)', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const origin = await raw(locked.base, { headers: { ...auth, Origin: 'http://evil.example' }, body: INIT });
    assert.equal(origin.status, 403);
    assert.equal(JSON.parse(origin.body).error, 'forbidden_origin');
    const port = new URL(locked.base).port;
    const host = await raw(locked.base, { headers: { ...auth, Host: `evil.example:${port}` }, body: INIT });
    assert.equal(host.status, 403, host.body);
    assert.equal((await raw(locked.base, { headers: { ...auth, Host: `localhost:${port}` }, body: INIT })).status, 200);
  });

  test('sessions follow the MCP specification: an id at initialize, required after, ended by DELETE', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const init = await raw(locked.base, { headers: auth, body: INIT });
    assert.equal(init.status, 200);
    const session = init.headers['mcp-session-id'];
    assert.match(session, /^[\x21-\x7e]{16,}$/, 'a visible-ASCII, hard to guess session id');
    assert.match(init.body, /"serverInfo":\{"name":"ai-os-chat"/);
    const withSession = { ...auth, 'Mcp-Session-Id': session, 'Mcp-Protocol-Version': '2025-06-18' };
    await raw(locked.base, { headers: withSession, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
    const list = await raw(locked.base, { headers: withSession, body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
    assert.equal(list.status, 200);
    assert.match(list.body, /search_conversations/);
    const noSession = await raw(locked.base, { headers: auth, body: { jsonrpc: '2.0', id: 3, method: 'tools/list' } });
    assert.ok(noSession.status >= 400 && noSession.status < 500, `${noSession.status} without a session`);
    const unknown = await raw(locked.base, { headers: { ...withSession, 'Mcp-Session-Id': 'not-a-session' }, body: { jsonrpc: '2.0', id: 4, method: 'tools/list' } });
    assert.equal(unknown.status, 404);
    const ended = await raw(locked.base, { method: 'DELETE', headers: withSession });
    assert.ok(ended.status >= 200 && ended.status < 300, `DELETE answered ${ended.status}`);
    const after = await raw(locked.base, { headers: withSession, body: { jsonrpc: '2.0', id: 5, method: 'tools/list' } });
    assert.equal(after.status, 404, 'an ended session is gone');
  });
});
