// Setup for the MCP tests: a real chat-server (HTTP) with the fixtures of all four providers
// imported through its API and a long conversation, and MCP clients from the official
// TypeScript SDK connected over streamable HTTP (`/mcp`) or stdio (`chat-server mcp`).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { REPO, SERVER_BIN, serverEnv, spawnServer } from '../support/server.mjs';

export { spawnServer };
export const FIXTURES = path.join(REPO, 'fixtures', 'import');

/** One fixture export per provider, with a word only it holds and how many conversations. */
export const PROVIDERS = [
  { source: 'chatgpt', file: path.join(FIXTURES, 'chatgpt-single', 'conversations.json'), word: 'sourdough' },
  { source: 'claude', file: path.join(FIXTURES, 'claude', 'conversations.json'), word: 'haiku' },
  { source: 'gemini', file: path.join(FIXTURES, 'takeout', 'Takeout', 'My Activity', 'Gemini Apps', 'MyActivity.json'), word: 'Lima' },
  { source: 'copilot', file: path.join(FIXTURES, 'vscode', 'workspaceStorage', '9f8e7d', 'chatSessions', 'sess-1111.jsonl'), word: 'semicolon' },
];

/** The long conversation: LONG_MESSAGES messages with numbered lines, one of them far longer
 *  than a page, one with an attachment. */
export const LONG_ID = 'long-conversation-1';
export const LONG_MESSAGES = 240;
export const HUGE_AT = 100;

export function longLine(message, line) {
  return `L${message}-${line} the quarterly deploy notes "${'é'.repeat(8)}" <b>kept</b> & checked`;
}

export function longConversation() {
  const messages = [];
  for (let i = 0; i < LONG_MESSAGES; i++) {
    const lines = i === HUGE_AT ? 900 : 6;
    const content = Array.from({ length: lines }, (_, k) => longLine(i, k)).join('\n');
    const m = {
      id: `long-m${i}`,
      role: i % 2 === 0 ? 'user' : 'assistant',
      content,
      created_at: new Date(Date.UTC(2025, 2, 1, 9, 0, i)).toISOString(),
    };
    if (i > 0) m.parent_id = `long-m${i - 1}`;
    if (i === 7) m.parts = [{ type: 'attachment', name: 'quarterly-report.pdf', mime_type: 'application/pdf', size: 48213 }];
    messages.push(m);
  }
  return { title: 'Quarterly deploy log', source: 'native', tags: ['ops'], messages };
}

/** Calls the HTTP API; throws on a non-2xx status. */
export async function api(base, p, { method = 'GET', body, headers = {}, raw } = {}) {
  const init = { method, headers: { ...headers } };
  if (raw !== undefined) {
    init.body = raw;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(`${base}/api/v1/${p.replace(/^\//, '')}`, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p} -> ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Imports each provider's fixture through the API and waits for the jobs; adds the long
 *  conversation. */
export async function fillLibrary(base) {
  for (const p of PROVIDERS) {
    const name = encodeURIComponent(path.basename(p.file));
    const job = await api(base, `imports?filename=${name}`, {
      method: 'POST',
      raw: fs.readFileSync(p.file),
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    const deadline = Date.now() + 30_000;
    let state = job;
    while (state.status !== 'done' && state.status !== 'failed') {
      assert.ok(Date.now() < deadline, `import of ${p.file} did not finish`);
      await new Promise((r) => setTimeout(r, 100));
      state = await api(base, `imports/${job.id}`);
    }
    assert.equal(state.status, 'done', `import of ${p.file}: ${JSON.stringify(state.error)}`);
    assert.ok(state.report.totals.imported > 0, `nothing imported from ${p.file}`);
  }
  await api(base, `conversations/${LONG_ID}`, { method: 'PUT', body: longConversation() });
}

/** An SDK client connected to `/mcp` of the server at `base`. */
export async function httpClient(base, { token, name = 'mcp-test-http' } = {}) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers } });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, close: () => client.close() };
}

/** An SDK client that launches `chat-server mcp --db <db>` and talks to it over stdio. */
export async function stdioClient(db, { write = false, name = 'mcp-test-stdio' } = {}) {
  const args = ['mcp', '--db', db];
  if (write) args.push('--mcp-write');
  let stderr = '';
  const transport = new StdioClientTransport({ command: SERVER_BIN, args, env: serverEnv(), stderr: 'pipe' });
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, close: () => client.close(), stderr: () => stderr };
}

/** The text blocks of a tool result, joined. */
export function text(result) {
  return result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

/** Calls a tool that must succeed; returns its structured content (or parsed text). */
export async function ok(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.notEqual(result.isError, true, `${name} failed: ${text(result)}`);
  return result.structuredContent ?? JSON.parse(result.content[0].text);
}

/** Calls a tool that must answer a tool error; returns its message. */
export async function toolError(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name}(${JSON.stringify(args)}) should fail, got: ${text(result).slice(0, 300)}`);
  return text(result);
}
