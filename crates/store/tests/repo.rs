//! Repository functions against real SQLite files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chat_model::timestamp::{from_millis, now, to_millis};
use chat_model::{
    ConversationDetail, ConversationId, FolderPath, MessageId, MessageStatus, Part, RatingValue,
    Role, Source, Tag,
};
use chat_store::{
    ArchivedFilter, Cursor, Error, ImportRunRecord, ListQuery, NewConversation, NewMessage,
    QuarantineItem, Repo, SearchQuery, Store, SCHEMA_VERSION,
};
use common::{all_counts, count, temp_store, Backend};
use rstest::rstest;

fn new_convo(store: &Store, title: &str) -> ConversationId {
    store
        .write(|r| {
            r.create_conversation(NewConversation {
                title: Some(title.into()),
                ..NewConversation::default()
            })
        })
        .unwrap()
        .id
}

fn say(store: &Store, c: &ConversationId, role: Role, text: &str) -> MessageId {
    store
        .write(|r| r.add_message(c, NewMessage::new(role, text)))
        .unwrap()
        .id
}

fn tag(s: &str) -> Tag {
    Tag::new(s).unwrap()
}

fn folder(s: &str) -> FolderPath {
    FolderPath::new(s).unwrap()
}

// ----- opening and migrations -------------------------------------------------------------

#[test]
fn open_creates_a_wal_database_at_the_current_version_from_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    let (version, mode, fk): (i64, String, i64) = store
        .read(|r| {
            let c = r.connection();
            Ok((
                c.query_row("PRAGMA user_version", [], |x| x.get(0))?,
                c.query_row("PRAGMA journal_mode", [], |x| x.get(0))?,
                c.query_row("PRAGMA foreign_keys", [], |x| x.get(0))?,
            ))
        })
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(mode, "wal");
    assert_eq!(fk, 1);
    store.integrity_check().unwrap();
    drop(store);
    // Reopening an up-to-date file keeps the data and migrates nothing.
    let store = Store::open(&path).unwrap();
    let c = new_convo(&store, "kept");
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.read(|r| r.get_conversation(&c)).unwrap().title,
        "kept"
    );
    store.checkpoint().unwrap();
}

fn page_size(store: &Store) -> i64 {
    store
        .read(|r| {
            Ok(r.connection()
                .query_row("PRAGMA page_size", [], |x| x.get(0))?)
        })
        .unwrap()
}

#[test]
fn new_databases_get_16_kib_pages_and_existing_ones_keep_theirs() {
    let (_d, fresh) = temp_store();
    assert_eq!(page_size(&fresh), 16_384);

    // A file created elsewhere with SQLite's default pages (an older version of this
    // program, or the sqlite3 shell) is opened, migrated and written as it is.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE keep_me (x); PRAGMA journal_mode = WAL;")
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(page_size(&store), 4_096);
    let c = new_convo(&store, "on small pages");
    assert_eq!(
        store.read(|r| r.get_conversation(&c)).unwrap().title,
        "on small pages"
    );
    store.integrity_check().unwrap();
}

#[test]
fn a_database_newer_than_the_code_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    match Store::open(&path) {
        Err(Error::SchemaTooNew { found, supported }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    let msg = Error::SchemaTooNew {
        found: 9,
        supported: 1,
    }
    .to_string();
    assert!(msg.contains("9") && msg.contains("upgrade"), "{msg}");
}

#[test]
fn a_file_that_is_not_a_database_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.db");
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    assert!(matches!(Store::open(&path), Err(Error::Corrupt(_))));
}

#[test]
fn in_memory_store_works() {
    let store = Store::open_in_memory().unwrap();
    assert!(store.path().is_none());
    let c = new_convo(&store, "mem");
    say(&store, &c, Role::User, "hello");
    assert_eq!(
        store
            .read(|r| r.get_conversation(&c))
            .unwrap()
            .message_count,
        1
    );
}

#[rstest]
fn a_failing_write_closure_rolls_back(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let res: chat_store::Result<()> = store.write(|r| {
        r.create_conversation(NewConversation::default())?;
        Err(Error::InvalidInput("stop".into()))
    });
    assert!(res.is_err());
    assert_eq!(count(&store, "convos"), 0);
}

// ----- conversations and messages ---------------------------------------------------------

#[rstest]
fn create_and_get_conversation_with_tags_and_default_folder(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let c = store
        .write(|r| {
            r.create_conversation(NewConversation {
                title: Some("Rust".into()),
                folder: None,
                tags: vec![tag("b"), tag("a")],
                source: Source::Claude,
            })
        })
        .unwrap();
    assert_eq!(c.folder.as_str(), "imported/claude");
    assert_eq!(c.tags, vec![tag("a"), tag("b")]);
    assert_eq!(c.source, Source::Claude);
    assert_eq!(c.message_count, 0);
    assert!(c.current_message_id.is_none());
    let got = store.read(|r| r.get_conversation(&c.id)).unwrap();
    assert_eq!(got, c);
    let missing = store.read(|r| r.get_conversation(&ConversationId::from("nope")));
    assert!(matches!(
        missing,
        Err(Error::NotFound {
            entity: "conversation",
            ..
        })
    ));
}

#[rstest]
fn add_turn_chains_from_the_leaf_and_bumps_updated_at(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let c = new_convo(&store, "t");
    let before = store.read(|r| r.get_conversation(&c)).unwrap().updated_at;
    std::thread::sleep(Duration::from_millis(5));
    let m1 = say(&store, &c, Role::User, "first");
    let m2 = store
        .write(|r| {
            r.add_message(
                &c,
                NewMessage {
                    parts: vec![Part::Reasoning { text: "hmm".into() }],
                    model: Some("m".into()),
                    ..NewMessage::new(Role::Assistant, "second")
                },
            )
        })
        .unwrap();
    assert_eq!(m2.parent_id.as_ref(), Some(&m1));
    assert_eq!(m2.parts, vec![Part::Reasoning { text: "hmm".into() }]);
    assert_eq!(m2.model.as_deref(), Some("m"));
    let convo = store.read(|r| r.get_conversation(&c)).unwrap();
    assert_eq!(convo.current_message_id.as_ref(), Some(&m2.id));
    assert!(convo.updated_at > before);
    assert_eq!(convo.message_count, 2);
}

#[rstest]
fn add_turn_on_a_missing_conversation_is_not_found(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let res = store.write(|r| {
        r.add_message(
            &ConversationId::from("ghost"),
            NewMessage::new(Role::User, "x"),
        )
    });
    assert!(
        matches!(
            res,
            Err(Error::NotFound {
                entity: "conversation",
                ..
            })
        ),
        "{res:?}"
    );
    assert_eq!(count(&store, "convo_turns"), 0);
}

#[rstest]
fn add_turn_with_a_parent_of_another_conversation_is_invalid(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let a = new_convo(&store, "a");
    let b = new_convo(&store, "b");
    let in_a = say(&store, &a, Role::User, "in a");
    let res = store.write(|r| {
        r.add_message(
            &b,
            NewMessage {
                parent_id: Some(in_a.clone()),
                ..NewMessage::new(Role::User, "x")
            },
        )
    });
    assert!(matches!(res, Err(Error::InvalidInput(_))), "{res:?}");
    let res = store.write(|r| {
        r.add_message(
            &b,
            NewMessage {
                parent_id: Some(MessageId::from("missing")),
                ..NewMessage::new(Role::User, "x")
            },
        )
    });
    assert!(matches!(
        res,
        Err(Error::NotFound {
            entity: "message",
            ..
        })
    ));
}

#[rstest]
fn branches_active_branch_tree_and_set_current_leaf(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let c = new_convo(&store, "tree");
    let sys = store
        .write(|r| {
            r.add_message(
                &c,
                NewMessage {
                    hidden: true,
                    ..NewMessage::new(Role::System, "be brief")
                },
            )
        })
        .unwrap()
        .id;
    let q = say(&store, &c, Role::User, "question");
    let a1 = say(&store, &c, Role::Assistant, "answer one");
    // A regeneration: a sibling of a1.
    let a2 = store
        .write(|r| {
            r.add_message(
                &c,
                NewMessage {
                    parent_id: Some(q.clone()),
                    ..NewMessage::new(Role::Assistant, "answer two")
                },
            )
        })
        .unwrap()
        .id;
    let ids = |v: Vec<chat_model::Message>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.read(|r| r.active_branch(&c, false)).unwrap()),
        vec![q.clone(), a2.clone()]
    );
    assert_eq!(
        ids(store.read(|r| r.active_branch(&c, true)).unwrap()),
        vec![sys.clone(), q.clone(), a2.clone()]
    );
    assert_eq!(
        ids(store.read(|r| r.message_tree(&c, true)).unwrap()),
        vec![sys.clone(), q.clone(), a1.clone(), a2.clone()]
    );
    assert_eq!(
        ids(store.read(|r| r.message_tree(&c, false)).unwrap()),
        vec![q.clone(), a1.clone(), a2.clone()]
    );
    store.write(|r| r.set_current_leaf(&c, &a1)).unwrap();
    assert_eq!(
        ids(store.read(|r| r.active_branch(&c, false)).unwrap()),
        vec![q.clone(), a1.clone()]
    );
    let other = new_convo(&store, "other");
    let res = store.write(|r| r.set_current_leaf(&other, &a1));
    assert!(matches!(res, Err(Error::InvalidInput(_))));
    assert!(store
        .read(|r| r.active_branch(&other, false))
        .unwrap()
        .is_empty());
    assert!(matches!(
        store.read(|r| r.active_branch(&ConversationId::from("x"), false)),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn active_branch_survives_a_parent_cycle() {
    let (_d, store) = temp_store();
    let c = new_convo(&store, "cycle");
    let a = say(&store, &c, Role::User, "a");
    let b = say(&store, &c, Role::Assistant, "b");
    store
        .write(|r| {
            r.connection().execute(
                "UPDATE convo_turns SET parent_id = ?1 WHERE id = ?2",
                [b.as_str(), a.as_str()],
            )?;
            Ok(())
        })
        .unwrap();
    let branch = store.read(|r| r.active_branch(&c, false)).unwrap();
    assert_eq!(branch.len(), 2);
}

#[rstest]
fn update_turn_content_finishes_a_streamed_reply_and_reindexes_it(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let c = new_convo(&store, "stream");
    let m = store
        .write(|r| {
            r.add_message(
                &c,
                NewMessage {
                    status: MessageStatus::Interrupted,
                    ..NewMessage::new(Role::Assistant, "partial zebra")
                },
            )
        })
        .unwrap();
    let done = store
        .write(|r| r.update_message_content(&m.id, "complete giraffe", MessageStatus::Complete))
        .unwrap();
    assert_eq!(done.content, "complete giraffe");
    assert_eq!(done.status, MessageStatus::Complete);
    let hits = |q: &str| {
        store
            .read(|r| r.search(&SearchQuery::new(q)))
            .unwrap()
            .len()
    };
    assert_eq!(hits("zebra"), 0);
    assert_eq!(hits("giraffe"), 1);
    assert!(matches!(
        store.write(|r| r.update_message_content(
            &MessageId::from("no"),
            "x",
            MessageStatus::Complete
        )),
        Err(Error::NotFound { .. })
    ));
    store.integrity_check().unwrap();
}

#[rstest]
fn get_message_returns_the_message_or_not_found(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let c = new_convo(&store, "m");
    let id = say(&store, &c, Role::User, "hi");
    let m = store.read(|r| r.get_message(&id)).unwrap();
    assert_eq!(m.content, "hi");
    assert_eq!(m.conversation_id, c);
    assert!(m.created_at.is_some());
    assert!(matches!(
        store.read(|r| r.get_message(&MessageId::from("zz"))),
        Err(Error::NotFound {
            entity: "message",
            ..
        })
    ));
}

#[rstest]
fn save_conversation_persists_full_state_and_replaces_the_message_set(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let c = new_convo(&store, "save");
    let m1 = say(&store, &c, Role::User, "one");
    let m2 = say(&store, &c, Role::Assistant, "two");
    store
        .write(|r| r.rate_message(&m2, RatingValue::Up, None))
        .unwrap();
    let mut detail = ConversationDetail {
        conversation: store.read(|r| r.get_conversation(&c)).unwrap(),
        messages: store.read(|r| r.message_tree(&c, true)).unwrap(),
    };
    // Drop m2, edit m1, add a new message, change tags and title.
    detail.messages.retain(|m| m.id != m2);
    detail.messages[0].content = "one edited".into();
    let mut extra = detail.messages[0].clone();
    extra.id = MessageId::generate();
    extra.parent_id = Some(m1.clone());
    extra.content = "three".into();
    extra.rating = Some(chat_model::Rating {
        value: RatingValue::Down,
        reason: Some("meh".into()),
        created_at: now(),
    });
    detail.messages.push(extra.clone());
    detail.conversation.title = "saved".into();
    detail.conversation.tags = vec![tag("x")];
    detail.conversation.current_message_id = Some(extra.id.clone());
    let saved = store.write(|r| r.save_conversation(&detail)).unwrap();
    assert_eq!(saved.title, "saved");
    assert_eq!(saved.tags, vec![tag("x")]);
    assert_eq!(saved.message_count, 2);
    assert_eq!(saved.current_message_id.as_ref(), Some(&extra.id));
    let tree = store.read(|r| r.message_tree(&c, true)).unwrap();
    assert_eq!(tree[0].content, "one edited");
    assert_eq!(tree[1].rating.as_ref().unwrap().value, RatingValue::Down);
    assert_eq!(
        count(&store, "message_ratings"),
        1,
        "m2's rating went with it"
    );
    // A brand-new conversation saved whole.
    let mut fresh = detail.clone();
    fresh.conversation.id = ConversationId::generate();
    for m in &mut fresh.messages {
        m.conversation_id = fresh.conversation.id.clone();
    }
    // Same message ids as another conversation: a conflict, and nothing is written.
    let res = store.write(|r| r.save_conversation(&fresh));
    assert!(matches!(res, Err(Error::Conflict(_))), "{res:?}");
    for m in &mut fresh.messages {
        m.id = MessageId::generate();
    }
    fresh.messages[1].parent_id = Some(fresh.messages[0].id.clone());
    fresh.conversation.current_message_id = None;
    let saved = store.write(|r| r.save_conversation(&fresh)).unwrap();
    assert_eq!(saved.message_count, 2);
    assert_eq!(
        saved.current_message_id.as_ref(),
        Some(&fresh.messages[1].id)
    );
    assert_eq!(
        store
            .read(|r| r.search(&SearchQuery::new("three")))
            .unwrap()
            .len(),
        2
    );
    store.integrity_check().unwrap();
}

// ----- listing, archive, folders, tags -----------------------------------------------------

fn set_updated(store: &Store, c: &ConversationId, ms: i64) {
    store
        .write(|r| {
            r.execute_sql(&format!(
                "UPDATE convos SET updated_at = {ms} WHERE id = '{}'",
                c.as_str()
            ))
        })
        .unwrap();
}

#[rstest]
fn pagination_walks_to_the_end_without_duplicates_or_gaps(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let mut all = HashSet::new();
    for i in 0..57 {
        let c = new_convo(&store, &format!("c{i}"));
        // Many ties on updated_at, to exercise the id tie-break.
        set_updated(&store, &c, 1_000 + (i / 4) as i64);
        all.insert(c);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let mut pages = 0;
    loop {
        let page = store
            .read(|r| {
                r.list_conversations(&ListQuery {
                    limit: 10,
                    cursor: cursor.clone(),
                    ..ListQuery::default()
                })
            })
            .unwrap();
        pages += 1;
        for w in page.items.windows(2) {
            assert!(
                (w[0].updated_at, &w[0].id) > (w[1].updated_at, &w[1].id),
                "ordered by (updated_at, id) descending"
            );
        }
        seen.extend(page.items.into_iter().map(|c| c.id));
        match page.next_cursor {
            // Round-trip through the string form, as a client would.
            Some(c) => cursor = Some(Cursor::decode(&c.encode()).unwrap()),
            None => break,
        }
    }
    assert_eq!(pages, 6);
    assert_eq!(seen.len(), 57);
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), all);
}

#[rstest::rstest]
#[case::empty("")]
#[case::no_dot("12345")]
#[case::bad_hex("12.zz")]
#[case::odd_hex("12.abc")]
#[case::not_a_number("x.61")]
#[case::bad_utf8("1.ff")]
fn garbage_cursors_are_invalid_input(#[case] s: &str) {
    assert!(matches!(Cursor::decode(s), Err(Error::InvalidInput(_))));
}

#[rstest]
fn list_filters_by_source_folder_tag_and_updated_range(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let mk = |src: Source, f: &str, t: Option<&str>, at: i64| {
        let c = store
            .write(|r| {
                r.create_conversation(NewConversation {
                    title: None,
                    folder: Some(folder(f)),
                    tags: t.map(tag).into_iter().collect(),
                    source: src,
                })
            })
            .unwrap()
            .id;
        set_updated(&store, &c, at);
        c
    };
    let a = mk(Source::Native, "work", Some("rust"), 1000);
    let b = mk(Source::Native, "work/deep", None, 2000);
    let c = mk(Source::Chatgpt, "workshop", Some("Rust"), 3000);
    let d = mk(Source::Claude, "", None, 4000);
    let list = |q: ListQuery| -> Vec<ConversationId> {
        store
            .read(|r| r.list_conversations(&q))
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    assert_eq!(
        list(ListQuery::default()),
        vec![d.clone(), c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(
        list(ListQuery {
            source: Some(Source::Native),
            ..Default::default()
        }),
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        list(ListQuery {
            folder: Some(folder("work")),
            ..Default::default()
        }),
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        list(ListQuery {
            folder: Some(folder("work/deep")),
            ..Default::default()
        }),
        vec![b.clone()]
    );
    // Tags compare case-insensitively.
    assert_eq!(
        list(ListQuery {
            tag: Some(tag("RUST")),
            ..Default::default()
        }),
        vec![c.clone(), a.clone()]
    );
    assert_eq!(
        list(ListQuery {
            updated_after: Some(from_millis(2000).unwrap()),
            updated_before: Some(from_millis(4000).unwrap()),
            ..Default::default()
        }),
        vec![c.clone(), b.clone()]
    );
}

#[rstest]
fn archive_hides_from_the_default_list_and_restore_brings_it_back(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let a = new_convo(&store, "a");
    let b = new_convo(&store, "b");
    let ids = |f: ArchivedFilter| -> HashSet<ConversationId> {
        store
            .read(|r| {
                r.list_conversations(&ListQuery {
                    archived: f,
                    ..Default::default()
                })
            })
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    let archived = store.write(|r| r.archive(&a)).unwrap();
    assert!(archived.is_archived());
    assert_eq!(ids(ArchivedFilter::No), HashSet::from([b.clone()]));
    assert_eq!(ids(ArchivedFilter::Yes), HashSet::from([a.clone()]));
    assert_eq!(ids(ArchivedFilter::All).len(), 2);
    assert_eq!(count(&store, "convos"), 2, "archiving deletes nothing");
    let restored = store.write(|r| r.restore(&a)).unwrap();
    assert!(!restored.is_archived());
    assert_eq!(ids(ArchivedFilter::No).len(), 2);
    assert!(matches!(
        store.write(|r| r.archive(&ConversationId::from("q"))),
        Err(Error::NotFound { .. })
    ));
}

#[rstest]
fn archive_older_than_archives_only_stale_conversations_of_the_source(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let old_native = new_convo(&store, "old");
    let fresh = new_convo(&store, "fresh");
    let old_claude = store
        .write(|r| {
            r.create_conversation(NewConversation {
                source: Source::Claude,
                ..Default::default()
            })
        })
        .unwrap()
        .id;
    set_updated(&store, &old_native, 1000);
    set_updated(&store, &old_claude, 1000);
    let cutoff = from_millis(to_millis(now()) - 60_000).unwrap();
    assert_eq!(
        store
            .write(|r| r.archive_older_than(cutoff, Some(Source::Claude)))
            .unwrap(),
        1
    );
    assert!(store
        .read(|r| r.get_conversation(&old_claude))
        .unwrap()
        .is_archived());
    assert!(!store
        .read(|r| r.get_conversation(&old_native))
        .unwrap()
        .is_archived());
    assert_eq!(
        store.write(|r| r.archive_older_than(cutoff, None)).unwrap(),
        1
    );
    assert!(store
        .read(|r| r.get_conversation(&old_native))
        .unwrap()
        .is_archived());
    assert!(!store
        .read(|r| r.get_conversation(&fresh))
        .unwrap()
        .is_archived());
}

#[rstest]
fn rename_move_and_summary(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let (_d, store) = temp_store();
    let c = new_convo(&store, "before");
    assert_eq!(
        store.write(|r| r.rename(&c, " after ")).unwrap().title,
        "after"
    );
    assert_eq!(
        store
            .write(|r| r.move_to_folder(&c, &folder("a/b")))
            .unwrap()
            .folder,
        folder("a/b")
    );
    assert_eq!(
        store
            .write(|r| r.set_summary(&c, Some("short")))
            .unwrap()
            .summary
            .as_deref(),
        Some("short")
    );
    assert_eq!(
        store.write(|r| r.set_summary(&c, None)).unwrap().summary,
        None
    );
    let ghost = ConversationId::from("ghost");
    assert!(matches!(
        store.write(|r| r.rename(&ghost, "x")),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.write(|r| r.move_to_folder(&ghost, &folder("x"))),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.write(|r| r.set_summary(&ghost, None)),
        Err(Error::NotFound { .. })
    ));
    // The new title is searchable, the old one is not.
    let titles = |q: &str| {
        store
            .read(|r| r.search(&SearchQuery::new(q)))
            .unwrap()
            .len()
    };
    assert_eq!(titles("after"), 1);
    assert_eq!(titles("before"), 0);
}

#[rstest]
fn tags_add_remove_and_list_with_counts(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let a = new_convo(&store, "a");
    let b = new_convo(&store, "b");
    store.write(|r| r.add_tag(&a, &tag("rust"))).unwrap();
    store.write(|r| r.add_tag(&a, &tag("rust"))).unwrap(); // idempotent
    store.write(|r| r.add_tag(&b, &tag("Rust"))).unwrap(); // same tag, other case
    store.write(|r| r.add_tag(&b, &tag("web"))).unwrap();
    let tags = store.read(|r| r.list_tags()).unwrap();
    assert_eq!(tags, vec![(tag("rust"), 2), (tag("web"), 1)]);
    store.write(|r| r.remove_tag(&b, &tag("web"))).unwrap();
    store.write(|r| r.remove_tag(&b, &tag("never"))).unwrap();
    assert_eq!(
        store.read(|r| r.list_tags()).unwrap(),
        vec![(tag("rust"), 2)]
    );
    assert_eq!(count(&store, "tags"), 1, "an unused tag is removed");
    assert_eq!(
        store.read(|r| r.get_conversation(&b)).unwrap().tags,
        vec![tag("rust")]
    );
    assert!(matches!(
        store.write(|r| r.add_tag(&ConversationId::from("x"), &tag("y"))),
        Err(Error::NotFound { .. })
    ));
}

#[rstest]
fn folders_with_counts_per_source(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let (_d, store) = temp_store();
    for (src, f, archive) in [
        (Source::Native, "work", false),
        (Source::Native, "work", true),
        (Source::Chatgpt, "work", false),
        (Source::Chatgpt, "imported/chatgpt", false),
    ] {
        let c = store
            .write(|r| {
                r.create_conversation(NewConversation {
                    folder: Some(folder(f)),
                    source: src,
                    ..Default::default()
                })
            })
            .unwrap()
            .id;
        if archive {
            store.write(|r| r.archive(&c)).unwrap();
        }
    }
    let folders = store.read(|r| r.list_folders()).unwrap();
    let got: Vec<(&str, Option<Source>, u64, u64)> = folders
        .iter()
        .map(|f| (f.path.as_str(), f.source, f.count, f.archived_count))
        .collect();
    assert_eq!(
        got,
        vec![
            ("imported/chatgpt", Some(Source::Chatgpt), 1, 0),
            ("work", Some(Source::Chatgpt), 1, 0),
            ("work", Some(Source::Native), 1, 1),
        ]
    );
}

// ----- ratings -----------------------------------------------------------------------------

#[rstest]
fn rate_replace_unrate_and_list_rated_messages(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let c = new_convo(&store, "r");
    let m1 = say(&store, &c, Role::Assistant, "one");
    let m2 = say(&store, &c, Role::Assistant, "two");
    store
        .write(|r| r.rate_message(&m1, RatingValue::Down, Some("wrong")))
        .unwrap();
    let r = store
        .write(|r| r.rate_message(&m1, RatingValue::Up, Some("  ")))
        .unwrap();
    assert_eq!(r.value, RatingValue::Up);
    assert_eq!(r.reason, None);
    store
        .write(|r| r.rate_message(&m2, RatingValue::Down, Some("bad")))
        .unwrap();
    assert_eq!(
        count(&store, "message_ratings"),
        2,
        "one rating per message"
    );
    let all = store.read(|r| r.rated_messages(None)).unwrap();
    assert_eq!(all.len(), 2);
    let downs = store
        .read(|r| r.rated_messages(Some(RatingValue::Down)))
        .unwrap();
    assert_eq!(downs.len(), 1);
    assert_eq!(downs[0].message.id, m2);
    assert_eq!(downs[0].conversation_id, c);
    assert_eq!(downs[0].rating.reason.as_deref(), Some("bad"));
    assert_eq!(
        store
            .read(|r| r.get_message(&m1))
            .unwrap()
            .rating
            .unwrap()
            .value,
        RatingValue::Up
    );
    store.write(|r| r.unrate_message(&m1)).unwrap();
    assert!(store.read(|r| r.get_message(&m1)).unwrap().rating.is_none());
    assert_eq!(
        store
            .read(|r| r.rated_messages(Some(RatingValue::Up)))
            .unwrap()
            .len(),
        0
    );
    assert!(matches!(
        store.write(|r| r.rate_message(&MessageId::from("no"), RatingValue::Up, None)),
        Err(Error::NotFound { .. })
    ));
}

// ----- forks -------------------------------------------------------------------------------

#[rstest]
fn fork_copies_the_path_to_the_message_and_leaves_the_original_alone(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let c = new_convo(&store, "orig");
    store.write(|r| r.add_tag(&c, &tag("keep"))).unwrap();
    let m1 = say(&store, &c, Role::User, "q1");
    let m2 = say(&store, &c, Role::Assistant, "a1");
    let _m3 = say(&store, &c, Role::User, "q2");
    let before = store.read(|r| r.message_tree(&c, true)).unwrap();
    let fork = store.write(|r| r.fork(&c, &m2)).unwrap();
    assert_ne!(fork.id, c);
    assert_eq!(fork.source, Source::Native);
    let origin = fork.forked_from.clone().unwrap();
    assert_eq!(origin.conversation_id, c);
    assert_eq!(origin.message_id, m2);
    assert_eq!(fork.tags, vec![tag("keep")]);
    let branch = store.read(|r| r.active_branch(&fork.id, true)).unwrap();
    assert_eq!(
        branch
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>(),
        vec!["q1", "a1"]
    );
    assert!(branch
        .iter()
        .all(|m| m.id != m1 && m.id != m2 && m.conversation_id == fork.id));
    assert_eq!(branch[1].parent_id.as_ref(), Some(&branch[0].id));
    assert_eq!(fork.current_message_id.as_ref(), Some(&branch[1].id));
    assert_eq!(store.read(|r| r.message_tree(&c, true)).unwrap(), before);
    // Deleting the original clears the fork's origin instead of dangling.
    store.write(|r| r.delete_conversation(&c)).unwrap();
    assert!(store
        .read(|r| r.get_conversation(&fork.id))
        .unwrap()
        .forked_from
        .is_none());
}

#[rstest]
fn forking_at_a_message_of_another_conversation_is_an_error(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let a = new_convo(&store, "a");
    let b = new_convo(&store, "b");
    let in_b = say(&store, &b, Role::User, "x");
    let res = store.write(|r| r.fork(&a, &in_b));
    assert!(matches!(res, Err(Error::InvalidInput(_))), "{res:?}");
    assert_eq!(count(&store, "convos"), 2);
    assert!(matches!(
        store.write(|r| r.fork(&a, &MessageId::from("no"))),
        Err(Error::NotFound { .. })
    ));
}

// ----- delete ------------------------------------------------------------------------------

#[rstest]
fn delete_leaves_no_orphan_rows_in_any_table_or_index(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let keep = new_convo(&store, "keeper");
    store.write(|r| r.add_tag(&keep, &tag("shared"))).unwrap();
    let k = say(&store, &keep, Role::User, "kept text");
    store
        .write(|r| r.rate_message(&k, RatingValue::Up, None))
        .unwrap();
    let baseline = all_counts(&store);

    let c = new_convo(&store, "doomed title");
    store.write(|r| r.add_tag(&c, &tag("shared"))).unwrap();
    store.write(|r| r.add_tag(&c, &tag("only-here"))).unwrap();
    let m = say(&store, &c, Role::User, "doomed text résumé");
    say(&store, &c, Role::Assistant, "東京の天気は晴れです");
    store
        .write(|r| {
            r.add_message(
                &c,
                NewMessage {
                    hidden: true,
                    ..NewMessage::new(Role::Tool, "tool output")
                },
            )
        })
        .unwrap();
    store
        .write(|r| r.rate_message(&m, RatingValue::Down, Some("x")))
        .unwrap();
    assert_ne!(all_counts(&store), baseline);

    store.write(|r| r.delete_conversation(&c)).unwrap();
    assert_eq!(all_counts(&store), baseline);
    store.integrity_check().unwrap();
    let hits = |q: &str| {
        let mut s = SearchQuery::new(q);
        s.include_hidden = true;
        s.archived = ArchivedFilter::All;
        store.read(|r| r.search(&s)).unwrap().len()
    };
    assert_eq!(hits("doomed"), 0);
    assert_eq!(hits("東京"), 0);
    assert_eq!(hits("tool"), 0);
    assert_eq!(hits("kept"), 1);
    assert!(matches!(
        store.write(|r| r.delete_conversation(&c)),
        Err(Error::NotFound { .. })
    ));
}

// ----- import runs and quarantine ------------------------------------------------------------

#[rstest]
fn import_runs_and_quarantine_round_trip_and_cascade(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    let mut run = ImportRunRecord {
        id: "run-1".into(),
        started_at: from_millis(1_000).unwrap(),
        finished_at: None,
        status: "running".into(),
        inputs: serde_json::json!(["export.zip"]),
        sources: serde_json::json!(["chatgpt"]),
        report: None,
        error: None,
    };
    store.write(|r| r.create_import_run(&run)).unwrap();
    assert!(matches!(
        store.write(|r| r.create_import_run(&run)),
        Err(Error::Conflict(_))
    ));
    run.status = "succeeded".into();
    run.finished_at = Some(from_millis(2_000).unwrap());
    run.report = Some(serde_json::json!({"inserted": 3}));
    store.write(|r| r.update_import_run(&run)).unwrap();
    assert_eq!(store.read(|r| r.get_import_run("run-1")).unwrap(), run);
    let mut later = run.clone();
    later.id = "run-2".into();
    later.started_at = from_millis(5_000).unwrap();
    store.write(|r| r.create_import_run(&later)).unwrap();
    let runs = store.read(|r| r.list_import_runs(10)).unwrap();
    assert_eq!(
        runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["run-2", "run-1"]
    );
    assert_eq!(store.read(|r| r.list_import_runs(1)).unwrap().len(), 1);
    assert!(matches!(
        store.read(|r| r.get_import_run("nope")),
        Err(Error::NotFound { .. })
    ));

    let item = QuarantineItem {
        id: 0,
        run_id: "run-1".into(),
        input: "export.zip".into(),
        item: "conversation 7".into(),
        error: "missing mapping".into(),
        hint: Some("re-export".into()),
        source: Some(Source::Chatgpt),
        location: Some("$[7].mapping".into()),
        raw: Some(b"{\"bad\":1}".to_vec()),
        created_at: from_millis(1_500).unwrap(),
    };
    let id = store.write(|r| r.quarantine_item(&item)).unwrap();
    store.write(|r| r.quarantine_item(&item)).unwrap();
    let listed = store.read(|r| r.list_quarantine("run-1")).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], QuarantineItem { id, ..item.clone() });
    store.write(|r| r.delete_quarantine(id)).unwrap();
    assert_eq!(store.read(|r| r.list_quarantine("run-1")).unwrap().len(), 1);
    assert!(matches!(
        store.write(|r| r.delete_quarantine(id)),
        Err(Error::NotFound { .. })
    ));
    let orphan = QuarantineItem {
        run_id: "no-run".into(),
        ..item
    };
    assert!(store.write(|r| r.quarantine_item(&orphan)).is_err());
    store
        .write(|r| r.execute_sql("DELETE FROM import_runs WHERE id = 'run-1'"))
        .unwrap();
    assert_eq!(
        count(&store, "import_quarantine"),
        0,
        "quarantine cascades with its run"
    );
}

// ----- concurrency -------------------------------------------------------------------------

#[test]
fn four_threads_writing_for_two_seconds_never_see_locked_and_lose_nothing() {
    let (_d, store) = temp_store();
    let c = new_convo(&store, "busy");
    let deadline = Instant::now() + Duration::from_secs(2);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            let c = c.clone();
            std::thread::spawn(move || {
                let mut written = 0u64;
                while Instant::now() < deadline {
                    // A read-then-write transaction: the pattern that deadlocks into
                    // "database is locked" with deferred transactions.
                    store
                        .write(|r: &Repo<'_>| {
                            let before = r.get_conversation(&c)?.message_count;
                            r.add_message(
                                &c,
                                NewMessage::new(Role::User, format!("t{t} n{written}")),
                            )?;
                            assert_eq!(r.get_conversation(&c)?.message_count, before + 1);
                            Ok(())
                        })
                        .unwrap_or_else(|e| panic!("thread {t}: {e}"));
                    written += 1;
                    // And a reader in between.
                    store.read(|r| r.get_conversation(&c)).unwrap();
                }
                written
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(total > 4, "each thread wrote something ({total})");
    let stored = store
        .read(|r| r.get_conversation(&c))
        .unwrap()
        .message_count;
    assert_eq!(stored, total);
    assert_eq!(count(&store, "turns_fts_docsize") as u64, total);
}
