//! The repository methods that took over what the API used to do itself: saving a whole
//! conversation state with its rules, clearing the current leaf, statistics, and the walk
//! exports use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_model::timestamp::from_millis;
use chat_model::{
    ConversationId, Message, MessageId, MessageStatus, Rating, RatingValue, Role, Source, Tag,
    Timestamp,
};
use chat_store::{
    ArchivedFilter, BulkItem, ConversationState, Error, ListQuery, NewConversation, NewMessage,
    Store,
};
use common::{parsed, temp_store, Backend};
use rstest::rstest;

fn at(ms: i64) -> Timestamp {
    from_millis(ms).unwrap()
}

/// A message of conversation `c1`.
fn message(id: &str, parent: Option<&str>, role: Role) -> Message {
    Message {
        id: MessageId::from(id),
        conversation_id: ConversationId::from("c1"),
        parent_id: parent.map(MessageId::from),
        role,
        content: format!("text of {id}"),
        parts: Vec::new(),
        model: None,
        created_at: None,
        hidden: false,
        source_id: None,
        status: MessageStatus::Complete,
        rating: None,
    }
}

/// A state of conversation `id` holding `messages` (moved into it).
fn state(id: &str, mut messages: Vec<Message>) -> ConversationState {
    for m in &mut messages {
        if m.conversation_id.as_str() == "c1" {
            m.conversation_id = ConversationId::from(id);
        }
    }
    ConversationState {
        id: ConversationId::from(id),
        title: "Saved".into(),
        source: None,
        source_id: None,
        folder: None,
        created_at: None,
        updated_at: None,
        archived: None,
        archived_at: None,
        summary: None,
        tags: vec![Tag::new("kept").unwrap()],
        current_message_id: None,
        forked_from: None,
        messages,
    }
}

fn invalid(store: &Store, s: ConversationState) -> String {
    match store.write(|repo| repo.save_conversation_state(s)) {
        Err(Error::InvalidInput(m)) => m,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[rstest]
fn a_state_is_created_then_replaced_and_its_rules_are_checked_before_writing(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let mut rated = message("b", Some("a"), Role::Assistant);
    rated.rating = Some(Rating {
        value: RatingValue::Up,
        reason: Some("good".into()),
        created_at: at(1_700_000_000_000),
    });
    let first = state("c1", vec![message("a", None, Role::User), rated]);
    let saved = store
        .write(|repo| repo.save_conversation_state(first))
        .unwrap();
    assert!(saved.created);
    assert_eq!(saved.conversation.source, Source::Native);
    assert_eq!(saved.conversation.message_count, 2);
    assert_eq!(
        saved.conversation.current_message_id,
        Some(MessageId::from("b"))
    );
    let b = store
        .read(|repo| repo.get_message(&MessageId::from("b")))
        .unwrap();
    assert_eq!(b.rating.map(|r| r.value), Some(RatingValue::Up));

    // Archived, then saved again without saying: the archive time stays; an empty id gets
    // a fresh one.
    let mut second = state("c1", vec![message("a", None, Role::User)]);
    second.archived_at = Some(at(1_700_000_000_000));
    store
        .write(|repo| repo.save_conversation_state(second))
        .unwrap();
    let mut third = state("c1", vec![message("a", None, Role::User)]);
    third.messages.push(Message {
        id: MessageId::from(""),
        ..message("x", Some("a"), Role::Assistant)
    });
    let saved = store
        .write(|repo| repo.save_conversation_state(third))
        .unwrap();
    assert!(!saved.created);
    assert_eq!(saved.conversation.archived_at, Some(at(1_700_000_000_000)));
    assert_eq!(saved.conversation.message_count, 2);

    let mut other = message("m", None, Role::User);
    other.conversation_id = ConversationId::from("elsewhere");
    assert_eq!(
        invalid(&store, state("c2", vec![other])),
        "message \"m\" names another conversation"
    );
    assert_eq!(
        invalid(
            &store,
            state("c2", vec![message("b", Some("a"), Role::User)])
        ),
        "message b: parent \"a\" is not an earlier message of the body (list parents before \
         children)"
    );
    assert_eq!(
        invalid(
            &store,
            state(
                "c2",
                vec![
                    message("a", None, Role::User),
                    message("a", None, Role::User)
                ]
            )
        ),
        "message id a appears twice"
    );
    let mut leaf = state("c2", vec![message("a", None, Role::User)]);
    leaf.current_message_id = Some(MessageId::from("zz"));
    assert_eq!(
        invalid(&store, leaf),
        "current_message_id is not one of the saved messages"
    );
    // Nothing of the refused states was written.
    let err = store
        .read(|repo| repo.get_conversation(&ConversationId::from("c2")))
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[rstest]
fn clearing_the_current_leaf_makes_the_next_message_a_new_root(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let c = store
        .write(|repo| repo.create_conversation(NewConversation::default()))
        .unwrap();
    let first = store
        .write(|repo| repo.add_message(&c.id, NewMessage::new(Role::User, "one")))
        .unwrap();
    store.write(|repo| repo.clear_current_leaf(&c.id)).unwrap();
    let root = store
        .write(|repo| repo.add_message(&c.id, NewMessage::new(Role::User, "one, edited")))
        .unwrap();
    assert_eq!(root.parent_id, None);
    assert_ne!(root.id, first.id);
    let tree = store.read(|repo| repo.message_tree(&c.id, true)).unwrap();
    assert_eq!(tree.len(), 2, "the first branch stays");
    let missing = store
        .write(|repo| repo.clear_current_leaf(&ConversationId::from("nope")))
        .unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
}

#[rstest]
fn stats_count_conversations_and_messages_per_month_and_source(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let imported = parsed("s1", 3);
    let mut writer = store.bulk_writer().unwrap();
    writer
        .write_batch(&[BulkItem {
            conversation: &imported,
            folder: None,
            prepared: None,
        }])
        .unwrap();
    drop(writer);
    let c = store
        .write(|repo| repo.create_conversation(NewConversation::default()))
        .unwrap();
    store
        .write(|repo| repo.add_message(&c.id, NewMessage::new(Role::User, "hi")))
        .unwrap();
    let stats = store.read(|repo| repo.stats()).unwrap();
    assert_eq!((stats.conversations, stats.messages), (2, 4));
    let chatgpt: Vec<_> = stats
        .months
        .iter()
        .filter(|m| m.source == Source::Chatgpt)
        .collect();
    assert_eq!(chatgpt.len(), 1);
    assert_eq!(chatgpt[0].month, "2023-11");
    assert_eq!((chatgpt[0].conversations, chatgpt[0].messages), (1, 3));
    let sorted = stats.months.windows(2).all(|w| w[0].month <= w[1].month);
    assert!(sorted, "{:?}", stats.months);
}

#[rstest]
fn the_walk_reads_every_conversation_whole_across_pages_and_honours_filters(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let items: Vec<_> = (0..450).map(|i| parsed(&format!("w{i}"), 2)).collect();
    let mut writer = store.bulk_writer().unwrap();
    let bulk: Vec<BulkItem<'_>> = items
        .iter()
        .map(|c| BulkItem {
            conversation: c,
            folder: None,
            prepared: None,
        })
        .collect();
    writer.write_batch(&bulk).unwrap();
    drop(writer);
    let native = store
        .write(|repo| repo.create_conversation(NewConversation::default()))
        .unwrap();
    store.write(|repo| repo.archive(&native.id)).unwrap();

    let all: Vec<_> = store
        .conversation_details(ListQuery {
            archived: ArchivedFilter::All,
            limit: 7,
            ..ListQuery::default()
        })
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), 451);
    assert!(all
        .iter()
        .filter(|d| d.conversation.source == Source::Chatgpt)
        .all(|d| d.messages.len() == 2));
    let mut ids: Vec<_> = all.iter().map(|d| d.conversation.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 451, "no conversation twice");

    let chatgpt_only = store
        .conversation_details(ListQuery {
            source: Some(Source::Chatgpt),
            archived: ArchivedFilter::No,
            ..ListQuery::default()
        })
        .count();
    assert_eq!(chatgpt_only, 450);
    let none_archived = store
        .conversation_details(ListQuery::default())
        .filter_map(Result::ok)
        .any(|d| d.conversation.id == native.id);
    assert!(
        !none_archived,
        "the default filter leaves archived ones out"
    );
}
