//! The PostgreSQL schema, in one place, and the migrations that build it.

use postgres::Client;

use super::conn::pg_error;
use crate::error::{Error, Result};

/// The schema version this code writes and understands (the row of `chat_schema`).
///
/// Checklist for changing the schema (the same as SQLite's `crate::SCHEMA_VERSION`, whose
/// tables these mirror):
/// 1. Never edit a migration that has shipped: append a new entry to `MIGRATIONS`; its index
///    plus one is its version, so bump this constant with it.
/// 2. Make the same change to the SQLite schema (`crate::schema`), so both backends keep the
///    same records, and to the copy's column lists (`crate::copy`).
/// 3. Keep the search columns (`tsv`, `title_tsv`, `cjk`) in step with any change to
///    `convo_turns.content`/`hidden` or `convos.title`: every statement that writes those
///    writes them too, computed by `super::words`.
/// 4. Add a test that upgrades a database at the previous version and compares it with a
///    fresh one.
/// 5. Describe the change in `docs/architecture.md` ("PostgreSQL").
pub const PG_SCHEMA_VERSION: i64 = 1;

/// Advisory lock held while migrating, so instances started together migrate once.
const MIGRATION_LOCK: i64 = 0x0063_6861_746d_6967; // "chatmig"

/// Migration 1: the whole initial schema.
const V1: &str = r#"
-- Diacritics folded in snippets (`unaccent`, a trusted extension: the database owner may
-- create it).
CREATE EXTENSION IF NOT EXISTS unaccent;

-- The words of a text for `ts_headline` (snippets), close to SQLite's `unicode61
-- remove_diacritics 2`: no stemming, no stop words, lower case, accents removed (unaccent is
-- a filtering dictionary in front of simple). The stored vectors come from the store.
CREATE TEXT SEARCH CONFIGURATION chat_simple (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION chat_simple
    ALTER MAPPING FOR word, hword, hword_part, numword, numhword, hword_numpart
    WITH unaccent, simple;

-- unaccent() is only STABLE (its dictionary could change); this wrapper names the dictionary
-- and is declared IMMUTABLE so that expressions over it can be indexed.
CREATE FUNCTION chat_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

CREATE TABLE convos (
    id                   text COLLATE "C" PRIMARY KEY,
    source               text NOT NULL,
    source_id            text,
    title                text NOT NULL DEFAULT '',
    title_edited         boolean NOT NULL DEFAULT false,
    folder               text COLLATE "C" NOT NULL DEFAULT '',
    model                text,
    created_at           bigint NOT NULL,              -- unix ms UTC
    updated_at           bigint NOT NULL,
    archived_at          bigint,
    summary              text,
    current_turn_id      text COLLATE "C",
    forked_from_convo_id text COLLATE "C" REFERENCES convos(id) ON DELETE SET NULL,
    forked_from_turn_id  text COLLATE "C",             -- foreign key added below
    content_hash         bytea,                        -- xxh3-128 of the parsed import
    extra                text,                         -- JSON: import attachments and raw fields
    -- The title's words, written with it by the store (`pg::words`; no default, so an
    -- INSERT that forgets it fails).
    title_tsv            tsvector NOT NULL,
    -- What a listing shows, kept by the triggers below so that a page reads no other table:
    -- the number of messages, and the tag names sorted and joined by chr(31) (NULL: none).
    turn_count           bigint NOT NULL DEFAULT 0,
    tag_names            text,
    UNIQUE (source, source_id)
);
CREATE INDEX convos_updated ON convos (updated_at DESC, id DESC);
CREATE INDEX convos_folder ON convos (folder);
CREATE INDEX convos_forked_from ON convos (forked_from_convo_id) WHERE forked_from_convo_id IS NOT NULL;
CREATE INDEX convos_forked_turn ON convos (forked_from_turn_id) WHERE forked_from_turn_id IS NOT NULL;
CREATE INDEX convos_title_tsv ON convos USING gin (title_tsv);

CREATE TABLE convo_turns (
    id         text COLLATE "C" PRIMARY KEY,
    seq        bigint GENERATED ALWAYS AS IDENTITY,    -- insertion order: parents before children
    convo_id   text COLLATE "C" NOT NULL REFERENCES convos(id) ON DELETE CASCADE,
    parent_id  text COLLATE "C",
    role       text NOT NULL,
    content    text NOT NULL DEFAULT '',
    parts      text,                                   -- JSON array of chat_model::Part
    model      text,
    created_at bigint,
    hidden     boolean NOT NULL DEFAULT false,
    source_id  text,
    status     text NOT NULL DEFAULT 'complete',
    -- Search columns, written with the text by the store (`pg::words`): the words as
    -- SQLite's unicode61 tokenizer sees them, and the pairs of neighbouring characters in
    -- the CJK runs of a visible message (NULL when it has none), which find CJK terms.
    tsv        tsvector NOT NULL,
    cjk        tsvector
);
-- lz4 compresses long values several times faster than pglz, the default (pglz was a sixth
-- of an import's COPY); a server built without lz4 keeps pglz.
DO $$ BEGIN
    ALTER TABLE convo_turns ALTER COLUMN content SET COMPRESSION lz4,
        ALTER COLUMN parts SET COMPRESSION lz4, ALTER COLUMN tsv SET COMPRESSION lz4;
    ALTER TABLE convos ALTER COLUMN extra SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN NULL;
END $$;
CREATE UNIQUE INDEX convo_turns_seq ON convo_turns (seq);
CREATE INDEX convo_turns_convo ON convo_turns (convo_id, seq);
CREATE INDEX convo_turns_tsv ON convo_turns USING gin (tsv) WHERE NOT hidden;
CREATE INDEX convo_turns_hidden_tsv ON convo_turns USING gin (tsv) WHERE hidden;
CREATE INDEX convo_turns_cjk ON convo_turns USING gin (cjk) WHERE cjk IS NOT NULL;
CREATE INDEX convo_turns_cjk_seq ON convo_turns (seq) WHERE cjk IS NOT NULL;
ALTER TABLE convos ADD FOREIGN KEY (forked_from_turn_id)
    REFERENCES convo_turns(id) ON DELETE SET NULL;

CREATE TABLE message_ratings (
    turn_id    text COLLATE "C" PRIMARY KEY REFERENCES convo_turns(id) ON DELETE CASCADE,
    rating     smallint NOT NULL CHECK (rating IN (1, -1)),
    reason     text,
    created_at bigint NOT NULL
);

CREATE TABLE tags (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);
-- Tags compare case-insensitively (SQLite: COLLATE NOCASE).
CREATE UNIQUE INDEX tags_name ON tags (lower(name));
CREATE TABLE convo_tags (
    convo_id text COLLATE "C" NOT NULL REFERENCES convos(id) ON DELETE CASCADE,
    tag_id   bigint NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (convo_id, tag_id)
);
CREATE INDEX convo_tags_tag ON convo_tags (tag_id);
-- A tag exists while at least one conversation carries it.
CREATE FUNCTION convo_tags_gc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tags WHERE id = OLD.tag_id
        AND NOT EXISTS (SELECT 1 FROM convo_tags WHERE tag_id = OLD.tag_id);
    RETURN NULL;
END $$;
CREATE TRIGGER convo_tags_gc AFTER DELETE ON convo_tags
    FOR EACH ROW EXECUTE FUNCTION convo_tags_gc();

-- convos.turn_count and convos.tag_names, kept once per statement (a COPY of a whole batch
-- updates each of its conversations once). A message never moves to another conversation
-- and a tag is never renamed, so inserts and deletes are all that change them.
CREATE FUNCTION convo_turns_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE convos c SET turn_count = c.turn_count + d.n
        FROM (SELECT convo_id, count(*) AS n FROM changed GROUP BY convo_id) d
        WHERE c.id = d.convo_id;
    ELSE
        UPDATE convos c SET turn_count = c.turn_count - d.n
        FROM (SELECT convo_id, count(*) AS n FROM changed GROUP BY convo_id) d
        WHERE c.id = d.convo_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER convo_turns_added AFTER INSERT ON convo_turns REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION convo_turns_counted();
CREATE TRIGGER convo_turns_removed AFTER DELETE ON convo_turns REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION convo_turns_counted();
CREATE FUNCTION convo_tags_named() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE convos c SET tag_names = (
        SELECT string_agg(tg.name, chr(31) ORDER BY lower(tg.name), tg.name)
        FROM convo_tags ct JOIN tags tg ON tg.id = ct.tag_id WHERE ct.convo_id = c.id)
    WHERE c.id IN (SELECT convo_id FROM changed);
    RETURN NULL;
END $$;
CREATE TRIGGER convo_tags_added AFTER INSERT ON convo_tags REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION convo_tags_named();
CREATE TRIGGER convo_tags_removed AFTER DELETE ON convo_tags REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION convo_tags_named();

CREATE TABLE import_runs (
    id          text COLLATE "C" PRIMARY KEY,
    started_at  bigint NOT NULL,
    finished_at bigint,
    status      text NOT NULL,
    inputs      text NOT NULL DEFAULT '[]',
    sources     text NOT NULL DEFAULT '[]',
    report      text,
    error       text
);
CREATE TABLE import_quarantine (
    id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    run_id     text COLLATE "C" NOT NULL REFERENCES import_runs(id) ON DELETE CASCADE,
    input      text NOT NULL,
    item       text NOT NULL,
    error      text NOT NULL,
    hint       text,
    source     text,
    location   text,
    raw        bytea,
    created_at bigint NOT NULL
);
CREATE INDEX import_quarantine_run ON import_quarantine (run_id);

-- The state of the API's import jobs, so every instance answers for every job.
CREATE TABLE import_jobs (
    id         text COLLATE "C" PRIMARY KEY,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    state      text NOT NULL                           -- JSON, the API's view of the job
);

-- Store-wide settings, one text value per key (the summariser's prompt, the AI OS frontend's
-- current session).
CREATE TABLE settings (
    key   text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);

-- Media (see SQLite's migration 4 for the records). The bytes are in the database, so every
-- instance serves them: a blob is a list of chunks of at most 1 MiB, written one by one while
-- the bytes stream in (no transaction holds a whole item) and owned by its media row once
-- complete; a blob no media row owns is a write in progress or one a crash interrupted, which
-- the sweep removes after a grace period.
CREATE TABLE media_blobs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at bigint NOT NULL
);
CREATE TABLE media_chunks (
    blob_id bigint NOT NULL REFERENCES media_blobs(id) ON DELETE CASCADE,
    seq     integer NOT NULL,
    data    bytea NOT NULL,
    PRIMARY KEY (blob_id, seq)
);
-- Media are mostly compressed already: store chunks out of line without trying to compress.
ALTER TABLE media_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE media (
    hash       text COLLATE "C" PRIMARY KEY,           -- BLAKE3, 64 lower-case hex digits
    size       bigint NOT NULL,
    mime       text NOT NULL,                          -- sniffed from the bytes
    name       text,                                   -- the first original name seen
    width      integer,
    height     integer,
    created_at bigint NOT NULL,
    blob_id    bigint NOT NULL UNIQUE REFERENCES media_blobs(id)
);
CREATE TABLE media_links (
    turn_id text COLLATE "C" NOT NULL REFERENCES convo_turns(id) ON DELETE CASCADE,
    hash    text COLLATE "C" NOT NULL REFERENCES media(hash),
    PRIMARY KEY (turn_id, hash)
);
CREATE INDEX media_links_hash ON media_links (hash);
CREATE TABLE media_hints (
    key  text COLLATE "C" PRIMARY KEY,
    hash text COLLATE "C" NOT NULL REFERENCES media(hash) ON DELETE CASCADE
);
CREATE INDEX media_hints_hash ON media_hints (hash);

-- Links follow the `media` field of a message's parts, on every write path (COPY included).
CREATE FUNCTION media_links_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM media_links WHERE turn_id = NEW.id AND hash NOT IN (
            SELECT p->>'media' FROM jsonb_array_elements(coalesce(NEW.parts, '[]')::jsonb) p
            WHERE jsonb_typeof(p) = 'object' AND p->>'media' IS NOT NULL);
    END IF;
    IF NEW.parts IS NOT NULL AND strpos(NEW.parts, '"media"') > 0 THEN
        INSERT INTO media_links (turn_id, hash)
            SELECT NEW.id, p->>'media' FROM jsonb_array_elements(NEW.parts::jsonb) p
            WHERE jsonb_typeof(p) = 'object' AND p->>'media' IN (SELECT hash FROM media)
            ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER media_links_ai AFTER INSERT ON convo_turns FOR EACH ROW
    WHEN (NEW.parts IS NOT NULL AND strpos(NEW.parts, '"media"') > 0)
    EXECUTE FUNCTION media_links_sync();
CREATE TRIGGER media_links_au AFTER UPDATE OF parts ON convo_turns FOR EACH ROW
    WHEN (OLD.parts IS DISTINCT FROM NEW.parts)
    EXECUTE FUNCTION media_links_sync();
-- An item whose last link goes is deleted, and its bytes with it.
CREATE FUNCTION media_links_gc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM media WHERE hash = OLD.hash
        AND NOT EXISTS (SELECT 1 FROM media_links WHERE hash = OLD.hash);
    RETURN NULL;
END $$;
CREATE TRIGGER media_links_gc AFTER DELETE ON media_links
    FOR EACH ROW EXECUTE FUNCTION media_links_gc();
CREATE FUNCTION media_gc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM media_blobs WHERE id = OLD.blob_id;
    RETURN NULL;
END $$;
CREATE TRIGGER media_gc AFTER DELETE ON media
    FOR EACH ROW EXECUTE FUNCTION media_gc();
"#;

/// Every migration, in order; migration `i` moves the database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1];

/// Brings the database up to [`PG_SCHEMA_VERSION`], refusing one that is newer. Holds an
/// advisory lock meanwhile, so instances starting together migrate once.
pub(crate) fn migrate(client: &mut Client, target: &str) -> Result<()> {
    let err = |context| move |e| pg_error(target, context, e);
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .map_err(err("waiting for the migration lock"))?;
    let result = migrate_locked(client, target);
    let unlock = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .map_err(err("releasing the migration lock"));
    result.and(unlock.map(|_| ()))
}

fn migrate_locked(client: &mut Client, target: &str) -> Result<()> {
    let err = |context| move |e| pg_error(target, context, e);
    let encoding: String = client
        .query_one("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()", &[])
        .and_then(|r| r.try_get(0))
        .map_err(err("reading the database encoding"))?;
    if encoding != "UTF8" {
        return Err(Error::InvalidInput(format!(
            "the database at {target} uses the {encoding} encoding; create it with \
             ENCODING 'UTF8' (e.g. `createdb -E UTF8 -T template0 chat`)"
        )));
    }
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS chat_schema (
                 one     boolean PRIMARY KEY DEFAULT true CHECK (one),
                 version bigint NOT NULL
             );
             INSERT INTO chat_schema (version) VALUES (0) ON CONFLICT DO NOTHING;",
        )
        .map_err(err("creating the schema version table"))?;
    let found: i64 = client
        .query_one("SELECT version FROM chat_schema", &[])
        .and_then(|r| r.try_get(0))
        .map_err(err("reading the schema version"))?;
    if found > PG_SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: PG_SCHEMA_VERSION,
        });
    }
    let start = usize::try_from(found).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        let version = index as i64 + 1;
        let mut tx = client.transaction().map_err(err("starting a migration"))?;
        tx.batch_execute(sql).map_err(err("applying a migration"))?;
        tx.execute("UPDATE chat_schema SET version = $1", &[&version])
            .map_err(err("recording the schema version"))?;
        tx.commit().map_err(err("committing a migration"))?;
        tracing::info!(version, "migrated the chat store's PostgreSQL schema");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_and_version_constant_agree() {
        assert_eq!(MIGRATIONS.len() as i64, PG_SCHEMA_VERSION);
        // The search columns are the store's to write: none is left to a default.
        assert!(V1.contains("tsv        tsvector NOT NULL,"));
        assert!(V1.contains("title_tsv            tsvector NOT NULL,"));
    }
}
