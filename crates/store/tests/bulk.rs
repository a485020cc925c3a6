//! The importers' bulk writer against real SQLite files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_model::timestamp::from_millis;
use chat_model::{FolderPath, MessageStatus, ParsedMessage, RatingValue, Role, Source, Tag};
use chat_store::{
    content_hash, derive_message_id, imported_message_id, ArchivedFilter, BulkItem, ListQuery,
    Prepared, Pretokenizer, SearchQuery, Store, TokenSet, WriteStatus,
};
use common::{count, parsed, temp_store, Backend};
use rstest::rstest;

/// `PRAGMA data_version` seen from an independent connection: it changes whenever another
/// connection commits a change to the file.
fn data_version(observer: &rusqlite::Connection) -> i64 {
    observer
        .query_row("PRAGMA data_version", [], |r| r.get(0))
        .unwrap()
}

fn observer(store: &Store) -> rusqlite::Connection {
    rusqlite::Connection::open(store.path().unwrap()).unwrap()
}

fn seqs(store: &Store) -> Vec<(i64, String)> {
    store
        .read(|r| {
            let mut stmt = r
                .connection()
                .prepare("SELECT seq, id FROM convo_turns ORDER BY seq")?;
            let rows = stmt.query_map([], |x| Ok((x.get(0)?, x.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .unwrap()
}

#[rstest]
fn inserts_conversations_with_their_messages_folders_and_flags(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let mut a = parsed("a", 4);
    a.active_leaf = Some("m2".into());
    a.messages[3].interrupted = true;
    a.messages[1].parts = vec![chat_model::Part::Reasoning { text: "r".into() }];
    a.messages[2].parent = Some("gone".into()); // a missing parent makes a root
    a.summary = Some("sum".into());
    a.extra = serde_json::json!({"k": 1});
    let mut b = parsed("b", 2);
    b.archived = true;
    b.created_at = None;
    let custom = FolderPath::new("mine").unwrap();
    let out = store
        .bulk_writer()
        .unwrap()
        .write_batch(&[
            BulkItem {
                conversation: &a,
                folder: None,
                prepared: None,
            },
            BulkItem {
                conversation: &b,
                folder: Some(&custom),
                prepared: None,
            },
        ])
        .unwrap();
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|o| o.status == WriteStatus::Inserted));
    assert_eq!(out[0].messages_written, 4);
    assert_eq!(out[1].messages_written, 2);

    let ca = store
        .read(|r| r.get_conversation(&out[0].conversation_id))
        .unwrap();
    assert_eq!(ca.title, "Imported a");
    assert_eq!(ca.source, Source::Chatgpt);
    assert_eq!(ca.source_id.as_deref(), Some("a"));
    assert_eq!(ca.folder.as_str(), "imported/chatgpt");
    assert_eq!(ca.summary.as_deref(), Some("sum"));
    assert_eq!(ca.created_at, from_millis(1_700_000_000_000).unwrap());
    assert_eq!(
        ca.updated_at,
        from_millis(1_700_000_003_000).unwrap(),
        "last message time"
    );
    assert!(!ca.is_archived());
    let leaf = imported_message_id(&ca.id, "chatgpt", "a", "m2");
    assert_eq!(
        ca.current_message_id.as_ref().map(|m| m.as_str()),
        Some(leaf.as_str())
    );
    let tree = store.read(|r| r.message_tree(&ca.id, true)).unwrap();
    assert_eq!(tree.len(), 4);
    assert_eq!(tree[1].parent_id.as_ref(), Some(&tree[0].id));
    assert_eq!(tree[1].parts.len(), 1);
    assert!(tree[2].parent_id.is_none());
    assert_eq!(tree[3].status, MessageStatus::Interrupted);
    assert_eq!(tree[0].source_id.as_deref(), Some("m0"));

    let cb = store
        .read(|r| r.get_conversation(&out[1].conversation_id))
        .unwrap();
    assert_eq!(cb.folder, custom);
    assert!(cb.is_archived());
    assert_eq!(
        cb.created_at,
        from_millis(1_700_000_000_000).unwrap(),
        "first message time"
    );
    assert_eq!(
        cb.current_message_id.as_ref().map(|m| m.as_str()),
        Some(imported_message_id(&cb.id, "chatgpt", "b", "m1").as_str()),
        "no active leaf: the last message"
    );
    assert_eq!(
        store
            .read(|r| r.search(&SearchQuery::new("tokio")))
            .unwrap()
            .len(),
        4
    );
    store.integrity_check().unwrap();
}

#[rstest]
fn cjk_text_written_in_bulk_and_rewritten_is_indexed_as_written_one_by_one(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let write = |c: &chat_model::ParsedConversation| {
        store
            .bulk_writer()
            .unwrap()
            .write_batch(&[BulkItem {
                conversation: c,
                folder: None,
                prepared: None,
            }])
            .unwrap()
    };
    let mut c = parsed("cjk", 3);
    c.messages[0].content = "東京タワー and 大阪".into();
    c.messages[1].content = "隠れた 東京".into();
    c.messages[1].hidden = true;
    write(&c);
    // Changed: one message rewritten in place, one added (the update path).
    c.messages[2].content = "京都 now".into();
    c.messages.push(ParsedMessage {
        source_id: "m3".into(),
        parent: Some("m2".into()),
        content: "新しい 東京都".into(),
        ..c.messages[2].clone()
    });
    assert_eq!(write(&c)[0].status, WriteStatus::Updated);
    // Every search column equals what a one-by-one write computes from the stored text.
    store.integrity_check().unwrap();
    let found = |q: &str| {
        store
            .read(|r| r.search(&SearchQuery::new(q)))
            .unwrap()
            .len()
    };
    assert_eq!(found("東京"), 2);
    assert_eq!(found("京都"), 2);
    assert_eq!(found("隠れた"), 0);
}

#[test]
fn rewriting_an_unchanged_conversation_writes_nothing() {
    let (_d, store) = temp_store();
    let convos: Vec<_> = (0..20).map(|i| parsed(&format!("c{i}"), 6)).collect();
    let items: Vec<_> = convos
        .iter()
        .map(|c| BulkItem {
            conversation: c,
            folder: None,
            prepared: None,
        })
        .collect();
    let mut writer = store.bulk_writer().unwrap();
    writer.write_batch(&items).unwrap();
    let obs = observer(&store);
    let before_version = data_version(&obs);
    let before_rows = seqs(&store);
    let wal = store.path().unwrap().with_extension("db-wal");
    let wal_len = std::fs::metadata(&wal).unwrap().len();

    let out = writer.write_batch(&items).unwrap();
    assert!(out
        .iter()
        .all(|o| o.status == WriteStatus::Unchanged && o.messages_written == 0));
    assert_eq!(
        data_version(&obs),
        before_version,
        "no commit changed the file"
    );
    assert_eq!(
        std::fs::metadata(&wal).unwrap().len(),
        wal_len,
        "no page was written"
    );
    assert_eq!(seqs(&store), before_rows);
    // A fresh writer (new import run) sees the same.
    let out = store.bulk_writer().unwrap().write_batch(&items).unwrap();
    assert!(out.iter().all(|o| o.status == WriteStatus::Unchanged));
    assert_eq!(data_version(&obs), before_version);
}

#[test]
fn a_grown_conversation_adds_only_its_new_messages() {
    let (_d, store) = temp_store();
    let mut writer = store.bulk_writer().unwrap();
    let small = parsed("g", 4);
    let first = writer
        .write_batch(&[BulkItem {
            conversation: &small,
            folder: None,
            prepared: None,
        }])
        .unwrap();
    let before = seqs(&store);
    let mut grown = parsed("g", 6);
    grown.active_leaf = Some("m5".into());
    let out = writer
        .write_batch(&[BulkItem {
            conversation: &grown,
            folder: None,
            prepared: None,
        }])
        .unwrap();
    assert_eq!(out[0].status, WriteStatus::Updated);
    assert_eq!(out[0].messages_written, 2);
    assert_eq!(out[0].conversation_id, first[0].conversation_id);
    let after = seqs(&store);
    assert_eq!(after.len(), 6);
    assert_eq!(
        &after[..4],
        &before[..],
        "old rows untouched (same seq, same id)"
    );
    let c = store
        .read(|r| r.get_conversation(&out[0].conversation_id))
        .unwrap();
    assert_eq!(c.message_count, 6);
    assert_eq!(
        c.current_message_id.as_ref().map(|m| m.as_str()),
        Some(imported_message_id(&c.id, "chatgpt", "g", "m5").as_str())
    );
    let branch = store.read(|r| r.active_branch(&c.id, false)).unwrap();
    assert_eq!(branch.len(), 6, "new messages hang off the old ones");
    assert_eq!(c.updated_at, from_millis(1_700_000_005_000).unwrap());
    // An edited message is updated in place and re-indexed.
    let mut edited = grown.clone();
    edited.messages[0].content = "completely different wording about zebras".into();
    let out = writer
        .write_batch(&[BulkItem {
            conversation: &edited,
            folder: None,
            prepared: None,
        }])
        .unwrap();
    assert_eq!(out[0].status, WriteStatus::Updated);
    assert_eq!(out[0].messages_written, 1);
    assert_eq!(seqs(&store).len(), 6);
    assert_eq!(
        store
            .read(|r| r.search(&SearchQuery::new("zebras")))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .read(|r| r.search(&SearchQuery::new("\"message 0 of g\"")))
            .unwrap()
            .len(),
        0
    );
    store.integrity_check().unwrap();
}

#[rstest]
fn user_changes_survive_a_bulk_rewrite(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let mut writer = store.bulk_writer().unwrap();
    let renamed = parsed("r", 4);
    let untouched = parsed("u", 4);
    let out = writer
        .write_batch(&[
            BulkItem {
                conversation: &renamed,
                folder: None,
                prepared: None,
            },
            BulkItem {
                conversation: &untouched,
                folder: None,
                prepared: None,
            },
        ])
        .unwrap();
    let (rid, uid) = (
        out[0].conversation_id.clone(),
        out[1].conversation_id.clone(),
    );
    let rated = chat_model::MessageId::from(imported_message_id(&rid, "chatgpt", "r", "m1"));
    let folder = FolderPath::new("projects/x").unwrap();
    let tag = Tag::new("keep").unwrap();
    store
        .write(|r| {
            r.rename(&rid, "My own title")?;
            r.add_tag(&rid, &tag)?;
            r.move_to_folder(&rid, &folder)?;
            r.archive(&rid)?;
            r.rate_message(&rated, RatingValue::Down, Some("wrong"))?;
            Ok(())
        })
        .unwrap();

    let mut renamed2 = parsed("r", 7);
    renamed2.title = "Provider's new title".into();
    renamed2.messages[1].content = "provider edited this answer".into();
    let mut untouched2 = parsed("u", 5);
    untouched2.title = "Provider's new title".into();
    let out = writer
        .write_batch(&[
            BulkItem {
                conversation: &renamed2,
                folder: Some(&FolderPath::new("elsewhere").unwrap()),
                prepared: None,
            },
            BulkItem {
                conversation: &untouched2,
                folder: None,
                prepared: None,
            },
        ])
        .unwrap();
    assert!(out.iter().all(|o| o.status == WriteStatus::Updated));
    let c = store.read(|r| r.get_conversation(&rid)).unwrap();
    assert_eq!(c.title, "My own title");
    assert_eq!(c.tags, vec![tag]);
    assert_eq!(c.folder, folder);
    assert!(c.is_archived());
    assert_eq!(c.message_count, 7);
    let m = store.read(|r| r.get_message(&rated)).unwrap();
    assert_eq!(m.content, "provider edited this answer");
    assert_eq!(m.rating.unwrap().value, RatingValue::Down);
    // A title the user never touched follows the provider.
    assert_eq!(
        store.read(|r| r.get_conversation(&uid)).unwrap().title,
        "Provider's new title"
    );
    // Archived stays out of the default list.
    let listed = store
        .read(|r| r.list_conversations(&ListQuery::default()))
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let all = store
        .read(|r| {
            r.list_conversations(&ListQuery {
                archived: ArchivedFilter::All,
                ..Default::default()
            })
        })
        .unwrap();
    assert_eq!(all.items.len(), 2);
}

#[test]
fn hidden_messages_and_identity_across_sources() {
    let (_d, store) = temp_store();
    let mut a = parsed("same-id", 2);
    a.messages.push(ParsedMessage {
        source_id: "tool".into(),
        parent: Some("m1".into()),
        role: Role::Tool,
        content: "hidden tool output".into(),
        parts: Vec::new(),
        model: None,
        created_at: None,
        hidden: true,
        interrupted: false,
    });
    let mut b = parsed("same-id", 2);
    b.source = Source::Claude;
    let out = store
        .bulk_writer()
        .unwrap()
        .write_batch(&[
            BulkItem {
                conversation: &a,
                folder: None,
                prepared: None,
            },
            BulkItem {
                conversation: &b,
                folder: None,
                prepared: None,
            },
        ])
        .unwrap();
    assert_ne!(
        out[0].conversation_id, out[1].conversation_id,
        "keyed on (source, source_id)"
    );
    assert_eq!(count(&store, "convo_turns"), 5);
    assert_eq!(count(&store, "turns_hidden_fts_docsize"), 1);
    assert_eq!(count(&store, "turns_fts_docsize"), 4);
    assert!(store
        .read(|r| r.search(&SearchQuery::new("hidden")))
        .unwrap()
        .is_empty());
}

#[rstest]
fn content_hash_and_message_ids_are_deterministic(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let a = parsed("x", 3);
    let mut b = a.clone();
    assert_eq!(content_hash(&a).unwrap(), content_hash(&b).unwrap());
    b.messages[2].content.push('!');
    assert_ne!(content_hash(&a).unwrap(), content_hash(&b).unwrap());
    assert_eq!(
        derive_message_id("chatgpt", "c", "m"),
        derive_message_id("chatgpt", "c", "m")
    );
    assert_ne!(
        derive_message_id("chatgpt", "c", "m"),
        derive_message_id("claude", "c", "m")
    );
    assert_ne!(
        derive_message_id("chatgpt", "ab", "c"),
        derive_message_id("chatgpt", "a", "bc")
    );
    let (x, y) = (
        chat_model::ConversationId::generate(),
        chat_model::ConversationId::generate(),
    );
    assert_eq!(
        imported_message_id(&x, "chatgpt", "c", "m"),
        imported_message_id(&x, "chatgpt", "c", "m")
    );
    assert!(imported_message_id(&x, "chatgpt", "c", "m")
        .ends_with(&derive_message_id("chatgpt", "c", "m")));
    assert!(
        imported_message_id(&x, "chatgpt", "c", "m")
            <= imported_message_id(&y, "chatgpt", "c", "a"),
        "ids follow the (time-ordered) conversation id"
    );
}

#[test]
fn deferred_indexing_covers_cjk_titles_and_repeats_within_one_batch() {
    let (_d, store) = temp_store();
    let mut first = parsed("dup", 2);
    first.messages[1].content = "東京タワーの高さは333メートルです".into();
    first.title = "Trip planning".into();
    let mut again = parsed("dup", 3);
    again.messages[1].content = "東京タワーの高さは333メートルです".into();
    again.messages[0].content = "edited twice in one batch".into();
    again.title = "Trip planning".into();
    let out = store
        .bulk_writer()
        .unwrap()
        .write_batch(&[
            BulkItem {
                conversation: &first,
                folder: None,
                prepared: None,
            },
            BulkItem {
                conversation: &again,
                folder: None,
                prepared: None,
            },
        ])
        .unwrap();
    assert_eq!(out[0].status, WriteStatus::Inserted);
    assert_eq!(out[1].status, WriteStatus::Updated);
    assert_eq!(out[1].messages_written, 2, "one edited, one new");
    store.integrity_check().unwrap();
    let hits = |q: &str| store.read(|r| r.search(&SearchQuery::new(q))).unwrap();
    assert_eq!(hits("東京").len(), 1);
    assert_eq!(hits("タワー").len(), 1);
    assert_eq!(hits("edited").len(), 1);
    assert_eq!(hits("planning").len(), 1, "title indexed");
    assert_eq!(count(&store, "turns_cjk_fts"), 1);
    let flag: i64 = store
        .read(|r| {
            Ok(r.connection()
                .query_row("SELECT defer_fts FROM store_flags", [], |x| x.get(0))?)
        })
        .unwrap();
    assert_eq!(flag, 0, "the triggers are back on after a batch");
    // And interactive writes are indexed by the triggers again.
    type_turn(&store, &out[0].conversation_id, "afterwards");
    assert_eq!(hits("afterwards").len(), 1);
    store.integrity_check().unwrap();
}

/// A message typed in the app (an interactive write, indexed by the triggers).
fn type_turn(store: &Store, conversation: &chat_model::ConversationId, text: &str) {
    store
        .write(|r| r.add_message(conversation, chat_store::NewMessage::new(Role::User, text)))
        .unwrap();
}

/// Conversations whose texts exercise the tokenizer: diacritics, CJK, hidden messages, titles,
/// the same text twice, an empty message.
fn tokenizer_corpus() -> Vec<chat_model::ParsedConversation> {
    (0..6)
        .map(|i| {
            let mut c = parsed(&format!("tok{i}"), 5);
            c.title = format!("Crème brûlée n°{i}, naïve CAFÉ");
            c.messages[0].content = "Straße, Ærøskøbing and Ångström — ¿qué?".into();
            c.messages[1].content = format!("東京タワー {i} and ＦＵＬＬＷＩＤＴＨ text");
            c.messages[2].hidden = true;
            c.messages[2].content = format!("hidden tool output {i}: ελληνικά");
            c.messages[3].content = String::new();
            c
        })
        .collect()
}

/// Every segment of the word indexes, as stored.
fn word_index(store: &Store) -> Vec<(String, i64, Vec<u8>)> {
    store
        .read(|r| {
            let mut out = Vec::new();
            for t in ["turns_fts", "turns_hidden_fts", "convos_fts"] {
                let mut stmt = r
                    .connection()
                    .prepare(&format!("SELECT id, block FROM {t}_data ORDER BY id"))?;
                let rows = stmt.query_map([], |x| Ok((t.to_owned(), x.get(0)?, x.get(1)?)))?;
                out.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
            }
            Ok(out)
        })
        .unwrap()
}

fn items(conversations: &[chat_model::ParsedConversation]) -> Vec<BulkItem<'_>> {
    conversations
        .iter()
        .map(|c| BulkItem {
            conversation: c,
            folder: None,
            prepared: None,
        })
        .collect()
}

/// A fresh store holding `items`, written in one batch (with `tokens` when given).
fn store_with(items: &[BulkItem<'_>], tokens: Option<&TokenSet>) -> (common::TestGuard, Store) {
    let (dir, store) = temp_store();
    let mut writer = store.bulk_writer().unwrap();
    match tokens {
        Some(tokens) => writer.write_batch_tokenized(items, tokens),
        None => writer.write_batch(items),
    }
    .unwrap();
    drop(writer);
    (dir, store)
}

#[test]
fn tokens_computed_ahead_build_the_very_same_index() {
    let corpus = tokenizer_corpus();
    let (_a, plain) = store_with(&items(&corpus), None);
    let mut tokenizer = Pretokenizer::new().expect("SQLite's unicode61 tokenizer");
    let mut tokens = TokenSet::default();
    for c in &corpus {
        tokenizer.add(&mut tokens, &c.title);
        for m in &c.messages {
            tokenizer.add(&mut tokens, &m.content);
        }
    }
    // Distinct non-empty texts: 6 titles, 1 shared first message, 6 CJK, 6 hidden, and the
    // generated "message 4 of tokN" texts.
    assert_eq!(tokens.len(), 6 + 1 + 6 + 6 + 6);
    let (_b, ahead) = store_with(&items(&corpus), Some(&tokens));
    // Every text the word indexes took came from the set: 5 visible and hidden non-empty
    // messages and a title per conversation (the shared text twice, once per row).
    assert_eq!(tokens.replayed(), 6 * 5);

    assert_eq!(word_index(&plain), word_index(&ahead));
    assert!(!word_index(&ahead).is_empty());
    // FTS5's own check re-tokenizes every row with the builtin tokenizer.
    ahead.integrity_check().unwrap();
    let hits = |q: &str| ahead.read(|r| r.search(&SearchQuery::new(q))).unwrap();
    assert_eq!(
        hits("angstrom").len(),
        6,
        "diacritics folded as unicode61 does"
    );
    assert_eq!(hits("brulee").len(), 6);
}

#[test]
fn a_token_set_without_the_batch_texts_changes_nothing() {
    let corpus = tokenizer_corpus();
    let mut tokenizer = Pretokenizer::new().unwrap();
    let mut tokens = TokenSet::default();
    tokenizer.add(&mut tokens, "some other text entirely");
    let (_d, store) = store_with(&items(&corpus), Some(&tokens));
    assert_eq!(tokens.replayed(), 0);
    store.integrity_check().unwrap();
    let (_p, plain) = store_with(&items(&corpus), None);
    assert_eq!(word_index(&plain), word_index(&store));
}

/// What a written conversation's rows hold, without our generated ids.
fn stored_rows(store: &Store) -> Vec<String> {
    store
        .read(|r| {
            let mut stmt = r.connection().prepare(
                "SELECT json_array(c.source_id, hex(c.content_hash), c.extra, c.title,
                        substr(t.id, 13), t.parts, t.content, t.hidden, t.seq,
                        substr(t.parent_id, 13), substr(c.current_turn_id, 13))
                 FROM convo_turns t JOIN convos c ON c.id = t.convo_id ORDER BY t.seq",
            )?;
            let rows = stmt.query_map([], |x| x.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
        .unwrap()
}

#[test]
fn derivations_prepared_ahead_write_the_same_rows() {
    let mut corpus = tokenizer_corpus();
    corpus[0].messages[1].parts = vec![chat_model::Part::Reasoning {
        text: "thinking".into(),
    }];
    corpus[1].extra = serde_json::json!({"k": 1});
    let (_a, plain) = store_with(&items(&corpus), None);

    let prepared: Vec<Prepared> = corpus.iter().map(|c| Prepared::new(c).unwrap()).collect();
    // One of them was prepared from another conversation: the writer must not use it.
    let wrong = Prepared::new(&parsed("other", 2)).unwrap();
    let ahead_items: Vec<BulkItem<'_>> = corpus
        .iter()
        .zip(&prepared)
        .enumerate()
        .map(|(i, (c, p))| BulkItem {
            conversation: c,
            folder: None,
            prepared: Some(if i == 2 { &wrong } else { p }),
        })
        .collect();
    let (_b, ahead) = store_with(&ahead_items, None);
    assert_eq!(stored_rows(&plain), stored_rows(&ahead));
    assert_eq!(
        count(&ahead, "turns_cjk_fts"),
        6,
        "CJK runs prepared ahead are indexed"
    );
    // And a re-import with prepared items recognises every conversation as unchanged.
    let again = ahead
        .bulk_writer()
        .unwrap()
        .write_batch(&ahead_items)
        .unwrap();
    assert!(again.iter().all(|o| o.status == WriteStatus::Unchanged));
}

// SQLite only: its WAL file and checkpoint thread (PostgreSQL manages its own WAL).
#[test]
fn the_wal_stays_about_one_batch_long_during_a_bulk_import() {
    let (dir, store) = temp_store();
    let wal = dir.path().join("chat.db-wal");
    let mut writer = store.bulk_writer().unwrap();
    let mut largest = 0u64;
    for b in 0..8 {
        let mut batch: Vec<chat_model::ParsedConversation> =
            (0..20).map(|i| parsed(&format!("b{b}c{i}"), 10)).collect();
        for c in &mut batch {
            for m in &mut c.messages {
                m.content = format!("{} {}", m.content, "padding text ".repeat(400));
            }
        }
        writer.write_batch(&items(&batch)).unwrap();
        // Time for the checkpoint thread, as a parser would take to fill the next batch.
        std::thread::sleep(std::time::Duration::from_millis(300));
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    drop(writer);
    let db = std::fs::metadata(dir.path().join("chat.db")).unwrap().len();
    // Each batch writes ~1 MB of text. Without the checkpoint thread the WAL grew to hold every
    // batch (its autocheckpoint is 64 MiB); with it, SQLite starts the WAL over each batch.
    assert!(
        db > 6_000_000,
        "the batches reached the database file: {db}"
    );
    assert!(
        largest < db / 3,
        "the WAL grew to {largest} bytes for a {db}-byte database"
    );
    assert_eq!(count(&store, "convos"), 160);
    store.integrity_check().unwrap();
}

#[test]
fn the_connection_goes_back_to_the_pool_with_its_triggers_on() {
    // In memory the pool has one connection, so the interactive write below runs on the
    // connection the bulk writer used (with its triggers off during the batch's inserts).
    let store = Store::open_in_memory().unwrap();
    let new = parsed("new", 2);
    let mut changed = parsed("changed", 2);
    store
        .bulk_writer()
        .unwrap()
        .write_batch(&items(std::slice::from_ref(&changed)))
        .unwrap();
    changed.messages[0].content = "rewritten in place".into();
    let out = store
        .bulk_writer()
        .unwrap()
        .write_batch(&items(&[new, changed]))
        .unwrap();
    assert_eq!(out[0].status, WriteStatus::Inserted);
    assert_eq!(
        out[1].status,
        WriteStatus::Updated,
        "outcomes keep the items' order"
    );
    type_turn(&store, &out[0].conversation_id, "typed afterwards");
    let hits = |q: &str| store.read(|r| r.search(&SearchQuery::new(q))).unwrap();
    assert_eq!(hits("afterwards").len(), 1, "the insert trigger indexed it");
    assert_eq!(hits("rewritten").len(), 1, "the update trigger indexed it");
    store.integrity_check().unwrap();
}
