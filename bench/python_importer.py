#!/usr/bin/env python3
"""A straightforward ChatGPT importer, the baseline for chat-import's benchmark.

What a competent script would do: json.load the whole file, walk each conversation's mapping,
executemany the conversations and messages into SQLite, and build an FTS5 index over the
message text. No streaming, no tree checks, no hashing: just the shortest correct path.

usage: python_importer.py conversations.json out.db
"""
import json
import sqlite3
import sys
import time


def text_of(message):
    content = message.get("content") or {}
    parts = content.get("parts")
    if isinstance(parts, list):
        return "\n".join(p for p in parts if isinstance(p, str))
    if isinstance(content.get("text"), str):
        return content["text"]
    return ""


def main(src, dst):
    t0 = time.time()
    with open(src, "rb") as f:
        data = json.load(f)
    if isinstance(data, dict):
        data = data.get("conversations", [data])
    db = sqlite3.connect(dst)
    db.executescript(
        """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        CREATE TABLE IF NOT EXISTS convos (id TEXT PRIMARY KEY, title TEXT, created_at REAL, updated_at REAL);
        CREATE TABLE IF NOT EXISTS convo_turns (id TEXT PRIMARY KEY, convo_id TEXT, parent_id TEXT,
            role TEXT, content TEXT, created_at REAL);
        CREATE VIRTUAL TABLE IF NOT EXISTS turns_fts USING fts5(content, content='convo_turns',
            tokenize='unicode61 remove_diacritics 2');
        """
    )
    convos, turns = [], []
    for c in data:
        mapping = c.get("mapping")
        if not isinstance(mapping, dict):
            continue
        cid = c.get("id") or c.get("conversation_id")
        convos.append((cid, c.get("title"), c.get("create_time"), c.get("update_time")))
        for node_id, node in mapping.items():
            m = node.get("message")
            if not m:
                continue
            role = (m.get("author") or {}).get("role")
            turns.append((node_id, cid, node.get("parent"), role, text_of(m), m.get("create_time")))
    with db:
        db.executemany("INSERT OR IGNORE INTO convos VALUES (?, ?, ?, ?)", convos)
        db.executemany("INSERT OR IGNORE INTO convo_turns VALUES (?, ?, ?, ?, ?, ?)", turns)
        db.execute("INSERT INTO turns_fts(rowid, content) SELECT rowid, content FROM convo_turns")
    db.close()
    dt = time.time() - t0
    print(json.dumps({"conversations": len(convos), "messages": len(turns), "seconds": round(dt, 3)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
