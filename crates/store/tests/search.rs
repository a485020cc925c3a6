//! Full-text search against real SQLite files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_model::timestamp::from_millis;
use chat_model::{ConversationId, FolderPath, Role, Source, Tag};
use chat_store::{ArchivedFilter, NewConversation, NewMessage, SearchHit, SearchQuery, Store};
use common::{temp_store, Backend};
use rstest::rstest;

struct Fixture {
    _dir: common::TestGuard,
    store: Store,
    rust: ConversationId,
    cafe: ConversationId,
    cjk: ConversationId,
}

fn fixture() -> Fixture {
    let (dir, store) = temp_store();
    let convo = |title: &str, source: Source, tags: &[&str], turns: &[(Role, &str, bool)]| {
        store
            .write(|r| {
                let c = r.create_conversation(NewConversation {
                    title: Some(title.into()),
                    folder: None,
                    tags: tags.iter().map(|t| Tag::new(t).unwrap()).collect(),
                    source,
                })?;
                for (role, text, hidden) in turns {
                    r.add_message(
                        &c.id,
                        NewMessage {
                            hidden: *hidden,
                            ..NewMessage::new(*role, *text)
                        },
                    )?;
                }
                Ok(c.id)
            })
            .unwrap()
    };
    let rust = convo(
        "Borrow checker questions",
        Source::Native,
        &["rust"],
        &[
            (Role::System, "You are a secret_prompt assistant", true),
            (
                Role::User,
                "Why does the borrow checker reject my <code> & loop?",
                false,
            ),
            (
                Role::Assistant,
                "Because the tokenizer borrow lasts for the whole loop body.",
                false,
            ),
        ],
    );
    let cafe = convo(
        "Job hunting",
        Source::Chatgpt,
        &[],
        &[
            (
                Role::User,
                "Please review my résumé for the café job",
                false,
            ),
            (
                Role::Assistant,
                "Your resume looks good; mention the naïve Bayes project.",
                false,
            ),
        ],
    );
    let cjk = convo(
        "旅行の計画",
        Source::Claude,
        &[],
        &[
            (
                Role::User,
                "東京で一番おいしいラーメン屋はどこですか",
                false,
            ),
            (
                Role::Assistant,
                "北京烤鸭是一道著名的菜。我们明天去北京。",
                false,
            ),
        ],
    );
    Fixture {
        _dir: dir,
        store,
        rust,
        cafe,
        cjk,
    }
}

fn search(store: &Store, q: SearchQuery) -> Vec<SearchHit> {
    store.read(|r| r.search(&q)).unwrap()
}

fn text(s: &str) -> SearchQuery {
    SearchQuery::new(s)
}

#[rstest]
#[case::unbalanced_quote("\"unbalanced")]
#[case::operators("AND OR")]
#[case::star("*")]
#[case::near("NEAR(")]
#[case::column_filter("title:")]
#[case::empty("")]
#[case::whitespace("   \t\n")]
#[case::caret("^borrow")]
#[case::parens("(borrow OR")]
#[case::minus("-borrow +loop")]
#[case::quotes_only("\"\"\"\"")]
#[case::colon_column("content: borrow")]
#[case::nul("borrow\u{0}loop")]
#[case::braces("{content} : borrow")]
fn hostile_queries_return_results_or_nothing_never_an_error(
    #[case] q: &str,
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let f = fixture();
    let res = f.store.read(|r| r.search(&text(q)));
    assert!(res.is_ok(), "{q:?}: {res:?}");
}

#[rstest]
fn ten_kilobytes_of_text_is_not_an_error(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let f = fixture();
    let big: String = "borrow \"checker NEAR( AND * title: ".repeat(300);
    assert!(big.len() > 10_000);
    assert!(f.store.read(|r| r.search(&text(&big))).is_ok());
    let words: String = (0..2000).map(|i| format!("w{i} ")).collect();
    assert!(f
        .store
        .read(|r| r.search(&text(&words)))
        .unwrap()
        .is_empty());
}

#[rstest]
fn empty_queries_return_nothing(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let f = fixture();
    assert!(search(&f.store, text("")).is_empty());
    assert!(search(&f.store, text("*")).is_empty());
}

#[rstest]
fn operator_words_are_plain_words(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let f = fixture();
    // "for" occurs only in the résumé message; as a quoted term it is just a word.
    let hits = search(&f.store, text("review AND for"));
    assert!(
        hits.is_empty(),
        "AND is a word that must also appear: {hits:?}"
    );
    let hits = search(&f.store, text("review for"));
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].conversation_id, f.cafe);
}

#[rstest]
fn resume_finds_resume_with_diacritics(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let f = fixture();
    let hits = search(&f.store, text("resume"));
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits.iter().all(|h| h.conversation_id == f.cafe));
    assert!(
        hits.iter()
            .any(|h| h.snippet.contains("<mark>résumé</mark>")),
        "{hits:?}"
    );
    assert_eq!(search(&f.store, text("naive bayes")).len(), 1);
    assert_eq!(search(&f.store, text("cafe job")).len(), 1);
}

#[rstest]
#[case::two_chars("東京", 1)]
#[case::one_char_in_both("京", 2)]
#[case::three_chars("ラーメン", 1)]
#[case::chinese("北京烤鸭", 1)]
#[case::mixed_two_terms("北京 明天", 1)]
#[case::absent("大阪", 0)]
fn cjk_text_is_found(
    #[case] q: &str,
    #[case] expected: usize,
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let f = fixture();
    let hits: Vec<_> = search(&f.store, text(q))
        .into_iter()
        .filter(|h| h.message_id.is_some())
        .collect();
    assert_eq!(hits.len(), expected, "{q}: {hits:?}");
    for h in &hits {
        assert_eq!(h.conversation_id, f.cjk);
        assert!(h.snippet.contains("<mark>"), "{h:?}");
    }
}

#[rstest]
fn cjk_titles_are_found(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let f = fixture();
    let hits = search(&f.store, text("旅行"));
    assert!(
        hits.iter().any(|h| h.message_id.is_none()
            && h.conversation_id == f.cjk
            && h.snippet.contains("<mark>旅行</mark>")),
        "{hits:?}"
    );
}

#[rstest]
fn hits_carry_ids_role_time_and_an_escaped_highlighted_snippet(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let f = fixture();
    let hits = search(&f.store, text("loop"));
    assert_eq!(hits.len(), 2);
    // bm25: the shorter, denser message ranks first; scores descend.
    assert!(hits[0].score >= hits[1].score);
    let user = hits.iter().find(|h| h.role == Some(Role::User)).unwrap();
    assert_eq!(user.conversation_id, f.rust);
    assert_eq!(user.title, "Borrow checker questions");
    assert!(user.message_id.is_some() && user.created_at.is_some());
    assert!(
        user.snippet
            .contains("&lt;code&gt; &amp; <mark>loop</mark>"),
        "{}",
        user.snippet
    );
    assert!(!user.snippet.contains("<code>"));
}

#[rstest]
fn titles_are_searched_and_prefix_and_phrases_work(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let f = fixture();
    let hits = search(&f.store, text("hunting"));
    assert_eq!(hits.len(), 1);
    assert!(hits[0].message_id.is_none());
    assert_eq!(hits[0].snippet, "Job <mark>hunting</mark>");
    assert_eq!(search(&f.store, text("tokeni*")).len(), 1);
    assert_eq!(search(&f.store, text("tokeni")).len(), 0);
    assert_eq!(search(&f.store, text("\"whole loop\"")).len(), 1);
    assert_eq!(search(&f.store, text("\"loop whole\"")).len(), 0);
}

#[rstest]
fn hidden_messages_are_searched_only_when_asked(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let f = fixture();
    assert!(search(&f.store, text("secret_prompt")).is_empty());
    let hits = search(
        &f.store,
        SearchQuery {
            include_hidden: true,
            ..text("secret_prompt")
        },
    );
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].role, Some(Role::System));
}

#[rstest]
fn filters_by_source_tag_role_and_archived(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let f = fixture();
    let q = |mut s: SearchQuery, fx: &dyn Fn(&mut SearchQuery)| {
        fx(&mut s);
        search(&f.store, s)
    };
    assert_eq!(
        q(text("borrow"), &|_| {}).len(),
        3,
        "two messages and a title"
    );
    assert_eq!(
        q(text("borrow"), &|s| s.role = Some(Role::Assistant)).len(),
        1
    );
    assert_eq!(
        q(text("borrow"), &|s| s.source = Some(Source::Chatgpt)).len(),
        0
    );
    assert_eq!(
        q(text("borrow"), &|s| s.tag = Some(Tag::new("RUST").unwrap())).len(),
        3
    );
    assert_eq!(
        q(text("borrow"), &|s| s.tag =
            Some(Tag::new("other").unwrap()))
        .len(),
        0
    );
    assert_eq!(q(text("borrow"), &|s| s.limit = 1).len(), 1);
    f.store.write(|r| r.archive(&f.rust)).unwrap();
    assert_eq!(q(text("borrow"), &|_| {}).len(), 0);
    assert_eq!(
        q(text("borrow"), &|s| s.archived = ArchivedFilter::Yes).len(),
        3
    );
    assert_eq!(
        q(text("borrow"), &|s| s.archived = ArchivedFilter::All).len(),
        3
    );
    assert_eq!(
        q(text("東京"), &|s| s.source = Some(Source::Native)).len(),
        0
    );
}

#[rstest]
fn filters_by_folder_and_time(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let (_d, store) = temp_store();
    let at = |day: i64| from_millis(1_700_000_000_000 + day * 86_400_000).unwrap();
    let file = |folder: &str, day: i64, text: &str| {
        store
            .write(|r| {
                let c = r.create_conversation(NewConversation {
                    title: Some(format!("{folder} planning")),
                    folder: Some(FolderPath::new(folder).unwrap()),
                    ..NewConversation::default()
                })?;
                r.add_message(
                    &c.id,
                    NewMessage {
                        created_at: Some(at(day)),
                        ..NewMessage::new(Role::User, text)
                    },
                )?;
                Ok(c.id)
            })
            .unwrap()
    };
    let work = file("work", 10, "deploy the release on friday");
    let deep = file("work/ops", 20, "deploy with a canary");
    let home = file("home", 30, "deploy the garden hose");
    // `work_2` must not count as below `work`, nor `work%` match anything else.
    file("work_2", 40, "deploy nothing");
    let ids = |q: SearchQuery| -> Vec<ConversationId> {
        let mut ids: Vec<_> = search(&store, q)
            .into_iter()
            .filter(|h| h.message_id.is_some())
            .map(|h| h.conversation_id)
            .collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids
    };
    let sorted = |mut v: Vec<ConversationId>| {
        v.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        v
    };
    let folder = |f: &str| SearchQuery {
        folder: Some(FolderPath::new(f).unwrap()),
        ..text("deploy")
    };
    assert_eq!(
        ids(folder("work")),
        sorted(vec![work.clone(), deep.clone()])
    );
    assert_eq!(ids(folder("work/ops")), vec![deep.clone()]);
    assert_eq!(ids(folder("work%")), Vec::<ConversationId>::new());
    assert_eq!(
        ids(SearchQuery {
            since: Some(at(15)),
            until: Some(at(35)),
            ..text("deploy")
        }),
        sorted(vec![deep.clone(), home.clone()])
    );
    assert_eq!(
        ids(SearchQuery {
            until: Some(at(20)),
            ..folder("work")
        }),
        vec![work.clone()],
        "until is exclusive"
    );
    // Title hits follow the folder too, and are kept by a range their conversation overlaps.
    let titles = search(
        &store,
        SearchQuery {
            since: Some(at(0)),
            ..folder("home")
        },
    );
    assert!(titles.iter().all(|h| h.conversation_id == home));
    let title_hits = search(&store, SearchQuery { ..folder("home") })
        .into_iter()
        .filter(|h| h.message_id.is_none())
        .count();
    assert_eq!(title_hits, 0, "the title 'home planning' has no 'deploy'");
    let planning = search(
        &store,
        SearchQuery {
            folder: Some(FolderPath::new("home").unwrap()),
            ..text("planning")
        },
    );
    assert_eq!(planning.len(), 1);
    assert_eq!(planning[0].conversation_id, home);
}

#[rstest]
fn filtered_search_digs_past_many_excluded_hits(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_d, store) = temp_store();
    // 300 archived matches rank above the one live match (shorter texts rank higher).
    store
        .write(|r| {
            for i in 0..300 {
                let c = r.create_conversation(NewConversation::default())?;
                r.add_message(&c.id, NewMessage::new(Role::User, format!("needle {i}")))?;
                r.archive(&c.id)?;
            }
            let c = r.create_conversation(NewConversation::default())?;
            r.add_message(
                &c.id,
                NewMessage::new(
                    Role::User,
                    "a long message with the needle somewhere inside it",
                ),
            )?;
            Ok(())
        })
        .unwrap();
    let hits = search(&store, text("needle"));
    assert_eq!(hits.len(), 1);
    assert!(hits[0].snippet.contains("<mark>needle</mark>"));
}

#[rstest]
fn matches_are_found_however_old_and_frequent_words_rank_their_newest(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    // 6,000 messages, oldest first: a word in the three oldest only, a word in every
    // seventh with its shortest message the oldest, and a word in every message whose
    // shortest message is the newest (a user's), and the assistant's shortest an old one (one
    // in seven messages is the assistant's).
    let mut c = common::parsed("long-history", 6000);
    for (i, m) in c.messages.iter_mut().enumerate() {
        m.role = if i % 7 == 3 {
            Role::Assistant
        } else {
            Role::User
        };
        m.content = match i {
            0..3 => format!("message {i} with an ancient word and the common one"),
            _ if i % 7 == 0 => format!("message {i} with the sometimes word and the common one"),
            _ => format!("message {i} with the common one"),
        };
    }
    c.messages[3].content = "common one".into();
    c.messages[7].content = "sometimes".into();
    c.messages[5999].content = "common".into();
    let written = store
        .bulk_writer()
        .unwrap()
        .write_batch(&[chat_store::BulkItem {
            conversation: &c,
            folder: None,
            prepared: None,
        }])
        .unwrap();
    // Statistics, from which PostgreSQL sizes its first window for a frequent word.
    store.optimize().unwrap();
    let ids = store
        .read(|r| r.message_tree(&written[0].conversation_id, true))
        .unwrap();
    assert_eq!(ids.len(), 6000);
    let messages = |q: SearchQuery| -> Vec<SearchHit> {
        search(&store, q)
            .into_iter()
            .filter(|h| h.message_id.is_some())
            .collect()
    };
    let query = |s: &str, limit: u32, role: Option<Role>| {
        let mut q = text(s);
        q.limit = limit;
        q.role = role;
        q
    };
    assert_eq!(messages(query("ancient", 20, None)).len(), 3);
    let sometimes = messages(query("sometimes", 500, None));
    assert_eq!(sometimes.len(), 500);
    assert_eq!(sometimes[0].message_id.as_ref(), Some(&ids[7].id));
    let common = messages(query("common", 500, None));
    assert_eq!(common.len(), 500);
    assert_eq!(common[0].message_id.as_ref(), Some(&ids[5999].id));
    // A frequent word whose filtered matches are few and old: every window is widened.
    let answers = messages(query("common", 20, Some(Role::Assistant)));
    assert_eq!(answers.len(), 20);
    assert_eq!(answers[0].message_id.as_ref(), Some(&ids[3].id));
    assert!(answers.iter().all(|h| h.role == Some(Role::Assistant)));
}

#[test]
fn cjk_words_in_bulk_imported_english_text_are_found_and_mixed_queries_need_every_word() {
    let (_dir, store) = common::temp_store();
    let mut c = common::parsed("mixed-script", 2);
    c.messages[1].content =
        "A long answer about towers: the 東京タワー is 333 m tall, shorter than Skytree (東京スカイツリー)."
            .into();
    {
        let mut w = store.bulk_writer().unwrap();
        w.write_batch(&[chat_store::BulkItem {
            conversation: &c,
            folder: None,
            prepared: None,
        }])
        .unwrap();
    }
    let hits = |q: &str| -> Vec<SearchHit> {
        search(&store, text(q))
            .into_iter()
            .filter(|h| h.message_id.is_some())
            .collect()
    };
    assert_eq!(hits("東京タワー").len(), 1);
    assert_eq!(hits("東京").len(), 1);
    assert_eq!(
        hits("東京タワー skytree").len(),
        1,
        "mixed query, both words present"
    );
    assert_eq!(
        hits("東京タワー giraffe").len(),
        0,
        "mixed query, one word absent"
    );
    // The snippet comes from the whole message, not from the trigram index's copy.
    assert!(
        hits("東京タワー")[0].snippet.contains("towers"),
        "{:?}",
        hits("東京タワー")
    );
    // The trigram index holds only the CJK runs of the message.
    let indexed: String = store
        .read(|r| {
            Ok(r.connection()
                .query_row("SELECT content FROM turns_cjk_fts", [], |row| row.get(0))?)
        })
        .unwrap();
    assert_eq!(indexed, "東京タワー 東京スカイツリー");
}
