//! The schema, in one place, and the migrations that build it.

use rusqlite::Connection;

use crate::error::{Context, Error, Result};

/// The schema version this code writes and understands (`PRAGMA user_version`).
///
/// Checklist for changing the schema:
/// 1. Never edit a migration that has shipped: append a new entry to `MIGRATIONS`; its index
///    plus one is its version, so bump this constant with it.
/// 2. Keep the FTS5 triggers in step with any change to `convo_turns.content`/`hidden` or
///    `convos.title`, and run `INSERT INTO <fts>(<fts>) VALUES('rebuild')` in the migration if
///    what is indexed changes.
/// 3. Add a test that upgrades a file at the previous version and compares its `sqlite_schema`
///    against a freshly created one.
/// 4. Describe the change in `docs/architecture.md` ("Storage").
pub const SCHEMA_VERSION: i64 = 4;

/// Character classes that mark text as CJK (Han, kana, Hangul, compatibility ideographs).
/// Used in trigger `WHEN` clauses (GLOB classes are Unicode-aware) and mirrored by
/// [`crate::search::is_cjk`].
macro_rules! cjk_glob {
    () => {
        "'*[\u{3040}-\u{30FF}\u{3400}-\u{4DBF}\u{4E00}-\u{9FFF}\u{AC00}-\u{D7AF}\u{F900}-\u{FAFF}]*'"
    };
}

/// Migration 1: the whole initial schema.
const V1: &str = concat!(
    r#"
CREATE TABLE convos (
    seq                  INTEGER PRIMARY KEY,          -- stable rowid for the FTS5 title index
    id                   TEXT NOT NULL UNIQUE,         -- the public id
    source               TEXT NOT NULL,
    source_id            TEXT,                         -- provider's id; NULL for native
    title                TEXT NOT NULL DEFAULT '',
    title_edited         INTEGER NOT NULL DEFAULT 0 CHECK (title_edited IN (0, 1)),
    folder               TEXT NOT NULL DEFAULT '',
    model                TEXT,
    created_at           INTEGER NOT NULL,             -- unix ms UTC
    updated_at           INTEGER NOT NULL,
    archived_at          INTEGER,
    summary              TEXT,
    current_turn_id      TEXT,
    forked_from_convo_id TEXT REFERENCES convos(id) ON DELETE SET NULL,
    forked_from_turn_id  TEXT REFERENCES convo_turns(id) ON DELETE SET NULL,
    content_hash         BLOB,                         -- xxh3-128 of the parsed import
    extra                TEXT,                         -- JSON: import attachments and raw fields
    UNIQUE (source, source_id)
);
CREATE INDEX convos_updated ON convos (updated_at DESC, id DESC);
CREATE INDEX convos_folder ON convos (folder);
CREATE INDEX convos_forked_from ON convos (forked_from_convo_id) WHERE forked_from_convo_id IS NOT NULL;
CREATE INDEX convos_forked_turn ON convos (forked_from_turn_id) WHERE forked_from_turn_id IS NOT NULL;

CREATE TABLE convo_turns (
    seq        INTEGER PRIMARY KEY,                    -- stable rowid for the FTS5 indexes
    id         TEXT NOT NULL UNIQUE,                   -- the public id
    convo_id   TEXT NOT NULL REFERENCES convos(id) ON DELETE CASCADE,
    parent_id  TEXT,
    role       TEXT NOT NULL,
    content    TEXT NOT NULL DEFAULT '',
    parts      TEXT,                                   -- JSON array of chat_model::Part
    model      TEXT,
    created_at INTEGER,
    hidden     INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    source_id  TEXT,
    status     TEXT NOT NULL DEFAULT 'complete'
);
CREATE INDEX convo_turns_convo ON convo_turns (convo_id, seq);

CREATE TABLE message_ratings (
    turn_id    TEXT PRIMARY KEY NOT NULL REFERENCES convo_turns(id) ON DELETE CASCADE,
    rating     INTEGER NOT NULL CHECK (rating IN (1, -1)),
    reason     TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE tags (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE convo_tags (
    convo_id TEXT NOT NULL REFERENCES convos(id) ON DELETE CASCADE,
    tag_id   INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (convo_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX convo_tags_tag ON convo_tags (tag_id);
-- A tag exists while at least one conversation carries it.
CREATE TRIGGER convo_tags_gc AFTER DELETE ON convo_tags
WHEN NOT EXISTS (SELECT 1 FROM convo_tags WHERE tag_id = old.tag_id)
BEGIN
    DELETE FROM tags WHERE id = old.tag_id;
END;

CREATE TABLE import_runs (
    id          TEXT PRIMARY KEY NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT NOT NULL,
    inputs      TEXT NOT NULL DEFAULT '[]',
    sources     TEXT NOT NULL DEFAULT '[]',
    report      TEXT,
    error       TEXT
);
CREATE TABLE import_quarantine (
    id         INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES import_runs(id) ON DELETE CASCADE,
    input      TEXT NOT NULL,
    item       TEXT NOT NULL,
    error      TEXT NOT NULL,
    hint       TEXT,
    source     TEXT,
    location   TEXT,
    raw        BLOB,
    created_at INTEGER NOT NULL
);
CREATE INDEX import_quarantine_run ON import_quarantine (run_id);

-- One row of store-wide switches. `defer_fts` is set to 1 by the bulk writer inside its own
-- transaction and back to 0 before it commits, so no other connection ever sees it set: while
-- it is set the insert triggers below stand aside and the bulk writer indexes the batch's new
-- rows with one INSERT ... SELECT per index (FTS5 flushes its pending terms at every statement
-- savepoint, so row-by-row trigger inserts would write one tiny segment per message).
CREATE TABLE store_flags (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    defer_fts INTEGER NOT NULL DEFAULT 0 CHECK (defer_fts IN (0, 1))
);
INSERT INTO store_flags (id, defer_fts) VALUES (1, 0);

-- Full-text search. External-content FTS5 tables read their text from views over
-- convo_turns, so the text is stored once; the triggers below keep the indexes in step.
CREATE VIEW turns_visible_src AS SELECT seq, content FROM convo_turns WHERE hidden = 0;
CREATE VIEW turns_hidden_src AS SELECT seq, content FROM convo_turns WHERE hidden = 1;
CREATE VIRTUAL TABLE turns_fts USING fts5(
    content, content = 'turns_visible_src', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE turns_hidden_fts USING fts5(
    content, content = 'turns_hidden_src', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
-- unicode61 does not segment CJK (a run of ideographs is one token), so visible messages
-- holding CJK text are also indexed, with their own copy of the text, by trigrams.
CREATE VIRTUAL TABLE turns_cjk_fts USING fts5(
    content, tokenize = 'trigram remove_diacritics 1'
);
CREATE VIRTUAL TABLE convos_fts USING fts5(
    title, content = 'convos', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO turns_fts (turns_fts, rank) VALUES ('automerge', 8);
INSERT INTO turns_fts (turns_fts, rank) VALUES ('crisismerge', 32);
INSERT INTO turns_fts (turns_fts, rank) VALUES ('hashsize', 67108864);

CREATE TRIGGER convo_turns_ai AFTER INSERT ON convo_turns
WHEN (SELECT defer_fts FROM store_flags WHERE id = 1) = 0
BEGIN
    INSERT INTO turns_fts (rowid, content) SELECT new.seq, new.content WHERE new.hidden = 0;
    INSERT INTO turns_hidden_fts (rowid, content) SELECT new.seq, new.content WHERE new.hidden = 1;
    INSERT INTO turns_cjk_fts (rowid, content) SELECT new.seq, new.content
        WHERE new.hidden = 0 AND length(new.content) <> octet_length(new.content)
          AND new.content GLOB "#,
    cjk_glob!(),
    r#";
END;
CREATE TRIGGER convo_turns_ad AFTER DELETE ON convo_turns BEGIN
    INSERT INTO turns_fts (turns_fts, rowid, content) SELECT 'delete', old.seq, old.content WHERE old.hidden = 0;
    INSERT INTO turns_hidden_fts (turns_hidden_fts, rowid, content) SELECT 'delete', old.seq, old.content WHERE old.hidden = 1;
    DELETE FROM turns_cjk_fts WHERE rowid = old.seq;
END;
CREATE TRIGGER convo_turns_au AFTER UPDATE OF content, hidden ON convo_turns
WHEN old.content IS NOT new.content OR old.hidden IS NOT new.hidden
BEGIN
    INSERT INTO turns_fts (turns_fts, rowid, content) SELECT 'delete', old.seq, old.content WHERE old.hidden = 0;
    INSERT INTO turns_hidden_fts (turns_hidden_fts, rowid, content) SELECT 'delete', old.seq, old.content WHERE old.hidden = 1;
    DELETE FROM turns_cjk_fts WHERE rowid = old.seq;
    INSERT INTO turns_fts (rowid, content) SELECT new.seq, new.content WHERE new.hidden = 0;
    INSERT INTO turns_hidden_fts (rowid, content) SELECT new.seq, new.content WHERE new.hidden = 1;
    INSERT INTO turns_cjk_fts (rowid, content) SELECT new.seq, new.content
        WHERE new.hidden = 0 AND length(new.content) <> octet_length(new.content)
          AND new.content GLOB "#,
    cjk_glob!(),
    r#";
END;
CREATE TRIGGER convos_ai AFTER INSERT ON convos
WHEN (SELECT defer_fts FROM store_flags WHERE id = 1) = 0
BEGIN
    INSERT INTO convos_fts (rowid, title) VALUES (new.seq, new.title);
END;
CREATE TRIGGER convos_ad AFTER DELETE ON convos BEGIN
    INSERT INTO convos_fts (convos_fts, rowid, title) VALUES ('delete', old.seq, old.title);
END;
CREATE TRIGGER convos_au AFTER UPDATE OF title ON convos
WHEN old.title IS NOT new.title
BEGIN
    INSERT INTO convos_fts (convos_fts, rowid, title) VALUES ('delete', old.seq, old.title);
    INSERT INTO convos_fts (rowid, title) VALUES (new.seq, new.title);
END;
"#
);

/// Migration 2: the state of the API's import jobs, so every server instance on a database
/// answers for every job (a SQLite file has one server, but the table is the same on both
/// backends, and a restarted server still knows its jobs).
const V2: &str = "
CREATE TABLE import_jobs (
    id         TEXT PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    state      TEXT NOT NULL                    -- JSON, the API's view of the job
);
";

/// Migration 3: store-wide settings, one text value per key (the summariser's prompt, the AI OS
/// frontend's current session). Plain key/value so another backend mirrors it as is.
const V3: &str = "
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;
";

/// Migration 4: media. The bytes live outside SQLite (content-addressed files beside the
/// database, `crate::media`); these tables hold what is known about them and which messages
/// refer to them. Links follow the `media` field of a message's parts through triggers, so
/// every write path (imports, the API's saves, appends) keeps them right; a media row whose
/// last link goes is deleted and its hash queued in `media_trash`, whose files the store
/// removes after the transaction commits (or at the next open, after a crash).
const V4: &str = r#"
CREATE TABLE media (
    hash       TEXT PRIMARY KEY NOT NULL,              -- BLAKE3, 64 lower-case hex digits
    size       INTEGER NOT NULL,
    mime       TEXT NOT NULL,                          -- sniffed from the bytes
    name       TEXT,                                   -- the first original name seen
    width      INTEGER,
    height     INTEGER,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE media_links (
    turn_id TEXT NOT NULL REFERENCES convo_turns(id) ON DELETE CASCADE,
    hash    TEXT NOT NULL REFERENCES media(hash),
    PRIMARY KEY (turn_id, hash)
) WITHOUT ROWID;
CREATE INDEX media_links_hash ON media_links (hash);
-- What an input called bytes it held (e.g. a zip entry's name, size and CRC): lets a second
-- import find the hash without writing the bytes anywhere.
CREATE TABLE media_hints (
    key  TEXT PRIMARY KEY NOT NULL,
    hash TEXT NOT NULL REFERENCES media(hash) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX media_hints_hash ON media_hints (hash);
CREATE TABLE media_trash (
    hash TEXT PRIMARY KEY NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER media_links_ai AFTER INSERT ON convo_turns
WHEN new.parts IS NOT NULL AND instr(new.parts, '"media"') > 0
BEGIN
    INSERT OR IGNORE INTO media_links (turn_id, hash)
        SELECT new.id, json_extract(p.value, '$.media') FROM json_each(new.parts) p
        WHERE json_extract(p.value, '$.media') IN (SELECT hash FROM media);
END;
CREATE TRIGGER media_links_au AFTER UPDATE OF parts ON convo_turns
WHEN old.parts IS NOT new.parts
BEGIN
    INSERT OR IGNORE INTO media_links (turn_id, hash)
        SELECT new.id, json_extract(p.value, '$.media') FROM json_each(new.parts) p
        WHERE new.parts IS NOT NULL AND json_extract(p.value, '$.media') IN (SELECT hash FROM media);
    DELETE FROM media_links WHERE turn_id = new.id AND hash NOT IN (
        SELECT json_extract(p.value, '$.media') FROM json_each(coalesce(new.parts, '[]')) p
        WHERE json_extract(p.value, '$.media') IS NOT NULL);
END;
CREATE TRIGGER media_links_gc AFTER DELETE ON media_links
WHEN NOT EXISTS (SELECT 1 FROM media_links WHERE hash = old.hash)
BEGIN
    DELETE FROM media WHERE hash = old.hash;
END;
CREATE TRIGGER media_ad AFTER DELETE ON media BEGIN
    INSERT OR IGNORE INTO media_trash (hash) VALUES (old.hash);
END;
CREATE TRIGGER media_ai AFTER INSERT ON media BEGIN
    DELETE FROM media_trash WHERE hash = new.hash;
END;
"#;

/// Every migration, in order; migration `i` moves the file from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4];

/// Reads `PRAGMA user_version`.
pub(crate) fn user_version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .ctx("reading the schema version")
}

/// Brings the file up to [`SCHEMA_VERSION`], refusing one that is newer.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 0 {
        return Err(Error::Corrupt(format!("negative schema version {found}")));
    }
    let start = usize::try_from(found).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        let version = index as i64 + 1;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .ctx("starting a migration")?;
        tx.execute_batch(sql).ctx("applying a migration")?;
        tx.pragma_update(None, "user_version", version)
            .ctx("recording the schema version")?;
        tx.commit().ctx("committing a migration")?;
        tracing::info!(version, "migrated the chat store schema");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_and_version_constant_agree() {
        assert_eq!(MIGRATIONS.len() as i64, SCHEMA_VERSION);
    }

    /// The `sqlite_schema` rows of a connection, sorted.
    fn schema_rows(conn: &Connection) -> Vec<(String, String, Option<String>)> {
        let mut stmt = conn
            .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn a_file_at_each_earlier_version_upgrades_to_the_fresh_schema() {
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();
        assert_eq!(user_version(&fresh).unwrap(), SCHEMA_VERSION);
        for version in 1..SCHEMA_VERSION {
            let mut old = Connection::open_in_memory().unwrap();
            for sql in &MIGRATIONS[..version as usize] {
                old.execute_batch(sql).unwrap();
            }
            old.pragma_update(None, "user_version", version).unwrap();
            migrate(&mut old).unwrap();
            assert_eq!(user_version(&old).unwrap(), SCHEMA_VERSION);
            assert_eq!(
                schema_rows(&old),
                schema_rows(&fresh),
                "from version {version}"
            );
        }
    }

    #[test]
    fn cjk_glob_matches_cjk_only() {
        let conn = Connection::open_in_memory().unwrap();
        let glob = |s: &str| -> bool {
            conn.query_row(concat!("SELECT ?1 GLOB ", cjk_glob!()), [s], |r| r.get(0))
                .unwrap()
        };
        assert!(glob("hello 東京 world"));
        assert!(glob("ひらがな"));
        assert!(glob("한국어"));
        assert!(!glob("résumé naïve"));
        assert!(!glob(""));
    }
}
