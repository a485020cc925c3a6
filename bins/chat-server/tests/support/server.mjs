// Starting the real chat-server for the node test suites (browser, MCP): a fresh temp folder,
// an ephemeral loopback port by default, the address read from its first stdout line, and a
// stop() that sends SIGTERM, waits for the exit and removes the folder. No dependencies.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const SERVER_BIN = process.env.CHAT_SERVER_BIN
  ? path.resolve(process.env.CHAT_SERVER_BIN)
  : path.join(REPO, 'target', 'debug', 'chat-server');

/** The environment a test server runs with: quiet logs, and none of the user's CHAT_ settings. */
export function serverEnv(extra = {}) {
  const env = { ...process.env, CHAT_LOG: process.env.CHAT_LOG || 'warn' };
  for (const k of Object.keys(env)) if (k.startsWith('CHAT_') && k !== 'CHAT_LOG') delete env[k];
  return { ...env, ...extra };
}

/**
 * Starts chat-server with `args` (plus `--bind 127.0.0.1:0` unless a bind is given, and
 * `--db <tmp>/chat.db` unless a db is given). Resolves { base, db, tmp, child, stop, logs }.
 */
export async function spawnServer(args = [], { tmpPrefix = 'chat-test-' } = {}) {
  if (!fs.existsSync(SERVER_BIN)) {
    throw new Error(`chat-server not found at ${SERVER_BIN}: build it (cargo build -p chat-server) or set CHAT_SERVER_BIN`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  const full = [...args];
  if (!full.includes('--bind')) full.push('--bind', '127.0.0.1:0');
  let db = full[full.indexOf('--db') + 1];
  if (!full.includes('--db')) {
    db = path.join(tmp, 'chat.db');
    full.push('--db', db);
  }
  const child = spawn(SERVER_BIN, full, { env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stderr.on('data', (d) => { logs += d; });
  const started = new Promise((resolve, reject) => {
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
  let base;
  try {
    base = await started;
  } catch (e) {
    child.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  return { base, db, tmp, child, stop, logs: () => logs };
}
