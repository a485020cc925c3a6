//! Settings, branch outlines, rating counts and deleting a whole source, against real SQLite
//! files and PostgreSQL databases (what the AI OS compatibility routes of chat-api read and write).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_model::{ConversationId, MessageId, RatingValue, Role, Source};
use chat_store::{BulkItem, Error, NewConversation, NewMessage, Store};
use common::{all_counts, parsed, temp_store, Backend};
use rstest::rstest;

fn say(store: &Store, c: &ConversationId, role: Role, text: &str) -> MessageId {
    store
        .write(|r| r.add_message(c, NewMessage::new(role, text)))
        .unwrap()
        .id
}

fn new_convo(store: &Store) -> ConversationId {
    store
        .write(|r| r.create_conversation(NewConversation::default()))
        .unwrap()
        .id
}

#[rstest]
fn settings_are_kept_replaced_cleared_and_survive_reopening(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (dir, store) = temp_store();
    assert_eq!(store.read(|r| r.get_setting("a.b")).unwrap(), None);
    store
        .write(|r| r.set_setting("a.b", Some("first\nline")))
        .unwrap();
    store
        .write(|r| r.set_setting("a.b", Some("second")))
        .unwrap();
    store.write(|r| r.set_setting("other", Some(""))).unwrap();
    drop(store);
    let store = Store::open(dir.location()).unwrap();
    assert_eq!(
        store.read(|r| r.get_setting("a.b")).unwrap().as_deref(),
        Some("second")
    );
    assert_eq!(
        store.read(|r| r.get_setting("other")).unwrap().as_deref(),
        Some("")
    );
    store.write(|r| r.set_setting("a.b", None)).unwrap();
    assert_eq!(store.read(|r| r.get_setting("a.b")).unwrap(), None);
}

#[rstest]
fn oversized_setting_keys_and_values_are_refused(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let long_key = "k".repeat(129);
    let err = store
        .write(|r| r.set_setting(&long_key, Some("v")))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    let err = store.write(|r| r.set_setting("", Some("v"))).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    let big = "x".repeat(64 * 1024 + 1);
    let err = store.write(|r| r.set_setting("k", Some(&big))).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
}

#[rstest]
fn an_outline_follows_the_active_branch_only(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let c = new_convo(&store);
    assert_eq!(
        store.read(|r| r.branch_outline(&c, 10)).unwrap(),
        Default::default()
    );
    let u1 = say(&store, &c, Role::User, "Ünïcode question that is long");
    say(&store, &c, Role::Assistant, "first answer");
    // A regeneration: a sibling of the first answer, now the active leaf.
    store
        .write(|r| {
            r.add_message(
                &c,
                NewMessage {
                    parent_id: Some(u1.clone()),
                    ..NewMessage::new(Role::Assistant, "second answer")
                },
            )
        })
        .unwrap();
    store
        .write(|r| {
            r.add_message(
                &c,
                NewMessage {
                    hidden: true,
                    ..NewMessage::new(Role::Tool, "hidden tool output")
                },
            )
        })
        .unwrap();
    say(&store, &c, Role::User, "follow-up");
    let outline = store.read(|r| r.branch_outline(&c, 7)).unwrap();
    assert_eq!(outline.roles, vec![Role::User, Role::Assistant, Role::User]);
    // Characters, not bytes.
    assert_eq!(outline.first_user.as_deref(), Some("Ünïcode"));
    let branch = store.read(|r| r.active_branch(&c, false)).unwrap();
    assert_eq!(outline.last_at, branch.last().unwrap().created_at);
    let missing = ConversationId::from_string("nope");
    assert!(matches!(
        store.read(|r| r.branch_outline(&missing, 10)),
        Err(Error::NotFound { .. })
    ));
}

#[rstest]
fn rating_counts_count_ups_and_downs(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let c = new_convo(&store);
    assert_eq!(store.read(|r| r.rating_counts()).unwrap().up, 0);
    let a = say(&store, &c, Role::Assistant, "a");
    let b = say(&store, &c, Role::Assistant, "b");
    let d = say(&store, &c, Role::Assistant, "d");
    for (m, v) in [
        (&a, RatingValue::Up),
        (&b, RatingValue::Up),
        (&d, RatingValue::Down),
    ] {
        store.write(|r| r.rate_message(m, v, None)).unwrap();
    }
    // A new rating replaces the old one.
    store
        .write(|r| r.rate_message(&b, RatingValue::Down, None))
        .unwrap();
    let counts = store.read(|r| r.rating_counts()).unwrap();
    assert_eq!((counts.up, counts.down), (1, 2));
}

#[rstest]
fn deleting_a_source_deletes_only_its_conversations_and_leaves_no_rows_behind(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let baseline = all_counts(&store);
    let convos: Vec<_> = (0..3).map(|i| parsed(&format!("c{i}"), 4)).collect();
    let items: Vec<BulkItem> = convos
        .iter()
        .map(|conversation| BulkItem {
            conversation,
            folder: None,
            prepared: None,
        })
        .collect();
    let mut writer = store.bulk_writer().unwrap();
    writer.write_batch(&items).unwrap();
    drop(writer);
    let native = new_convo(&store);
    let m = say(&store, &native, Role::Assistant, "kept");
    store
        .write(|r| r.rate_message(&m, RatingValue::Up, None))
        .unwrap();
    let deleted = store.write(|r| r.delete_source(Source::Chatgpt)).unwrap();
    assert_eq!(deleted.len(), 3);
    assert!(store.read(|r| r.get_conversation(&native)).is_ok());
    assert!(store
        .write(|r| r.delete_source(Source::Chatgpt))
        .unwrap()
        .is_empty());
    let deleted = store.write(|r| r.delete_source(Source::Native)).unwrap();
    assert_eq!(deleted, vec![native]);
    assert_eq!(all_counts(&store), baseline);
}
