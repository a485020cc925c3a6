//! The media store against real files: bytes kept once per hash, streamed in and out, linked
//! to messages through their parts, dropped with the last reference, swept after a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use chat_model::{ConversationId, MediaHash, Part, Role};
use chat_store::{BulkItem, NewConversation, NewMessage, Store, StoredMedia};
use common::{count, parsed, temp_store, Backend};
use rstest::rstest;

/// Bytes whose every MiB differs, so chunks stored or read out of order would show.
fn varied(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i >> 20) as u8)
        .collect()
}

/// A 3x2 PNG header followed by `tail` (enough for sniffing and dimensions).
fn png(tail: &[u8]) -> Vec<u8> {
    let mut b = vec![
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0, 0, 0, 0,
    ];
    b.extend_from_slice(tail);
    b
}

fn store_bytes(store: &Store, bytes: &[u8], chunk: usize) -> StoredMedia {
    let mut w = store.media_writer().unwrap();
    for c in bytes.chunks(chunk) {
        w.write_all(c).unwrap();
    }
    w.finish().unwrap()
}

fn read_all(store: &Store, hash: &MediaHash) -> Vec<u8> {
    let mut out = Vec::new();
    store
        .media_bytes(hash, 0, u64::MAX)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// What holds bytes: files on SQLite, blobs (of chunks) on PostgreSQL.
fn stored_objects(store: &Store) -> usize {
    match store.media_dir() {
        Some(_) => files(store).len(),
        None => count(store, "media_blobs") as usize,
    }
}

/// Every file under the media directory (shards and tmp).
fn files(store: &Store) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for d in std::fs::read_dir(store.media_dir().unwrap()).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

fn image_part(hash: &MediaHash) -> Part {
    Part::Image {
        reference: Some("file-service://file-1".into()),
        mime_type: None,
        width: None,
        height: None,
        data: None,
        media: Some(hash.to_string()),
    }
}

fn message_with(store: &Store, hash: &MediaHash) -> (ConversationId, chat_model::MessageId) {
    store
        .write(|r| {
            let c = r.create_conversation(NewConversation::default())?;
            let mut m = NewMessage::new(Role::User, "look");
            m.parts = vec![image_part(hash), Part::Reasoning { text: "x".into() }];
            let m = r.add_message(&c.id, m)?;
            Ok((c.id, m.id))
        })
        .unwrap()
}

#[rstest]
fn bytes_are_stored_once_under_their_blake3_hash_and_read_back_whole_or_in_ranges(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    // Over two PostgreSQL chunks (1 MiB each), so ranges cross a chunk boundary.
    let bytes = png(&varied(2_300_000));
    let first = store_bytes(&store, &bytes, 4096);
    assert!(first.newly_stored);
    assert_eq!(
        first.info.hash.as_str(),
        blake3::hash(&bytes).to_hex().as_str()
    );
    assert_eq!(first.info.size, bytes.len() as u64);
    assert_eq!(first.info.mime, "image/png");
    assert_eq!((first.info.width, first.info.height), (Some(3), Some(2)));
    let path = store.media_dir().map(|d| {
        d.join(&first.info.hash.as_str()[..2])
            .join(first.info.hash.as_str())
    });
    if let Some(path) = &path {
        assert_eq!(std::fs::read(path).unwrap(), bytes);
    } else {
        assert_eq!(count(&store, "media_chunks"), 3);
    }
    assert_eq!(read_all(&store, &first.info.hash), bytes);

    // Same bytes again, in other chunks and from memory: nothing new, no file left behind.
    let again = store_bytes(&store, &bytes, 77_777);
    assert!(!again.newly_stored);
    assert_eq!(again.info, first.info);
    let from_memory = store.put_media_bytes(&bytes).unwrap();
    assert!(!from_memory.newly_stored);
    if let Some(path) = path {
        assert_eq!(files(&store), vec![path]);
    }
    assert_eq!(stored_objects(&store), 1);
    assert_eq!(count(&store, "media"), 1);

    let mib = 1 << 20;
    for (start, len) in [(100, 50), (mib - 10, 30), (mib, 2 * mib), (0, 0)] {
        let mut range = Vec::new();
        store
            .media_bytes(&first.info.hash, start as u64, len as u64)
            .unwrap()
            .read_to_end(&mut range)
            .unwrap();
        let end = (start + len).min(bytes.len());
        assert_eq!(range, bytes[start..end], "range {start}+{len}");
    }
    let info = store.read(|r| r.media_info(&first.info.hash)).unwrap();
    assert_eq!(info, Some(first.info));
}

#[rstest]
fn unknown_media_is_not_found_and_an_unfinished_writer_leaves_nothing(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let unknown: MediaHash = "0".repeat(64).parse().unwrap();
    assert!(matches!(
        store.media_bytes(&unknown, 0, u64::MAX),
        Err(chat_store::Error::NotFound { .. })
    ));
    assert_eq!(store.read(|r| r.media_info(&unknown)).unwrap(), None);
    let mut w = store.media_writer().unwrap();
    w.write_all(&varied(1_500_000)).unwrap();
    drop(w);
    assert_eq!(stored_objects(&store), 0);
    assert_eq!(count(&store, "media"), 0);
    assert!(Store::open_in_memory().unwrap().media_writer().is_err());
}

#[rstest]
fn parts_link_messages_to_media_and_the_last_deletion_removes_the_bytes(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let stored = store_bytes(&store, &png(b"shared"), 10);
    let hash = stored.info.hash;
    let (first, first_msg) = message_with(&store, &hash);
    let (second, _) = message_with(&store, &hash);
    let listed = store.read(|r| r.message_media(&first_msg)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].hash, hash);
    assert_eq!(store.read(|r| r.media_references(&hash)).unwrap(), 2);

    store.write(|r| r.delete_conversation(&first)).unwrap();
    assert_eq!(store.read(|r| r.media_references(&hash)).unwrap(), 1);
    assert_eq!(read_all(&store, &hash), png(b"shared"));

    store.write(|r| r.delete_conversation(&second)).unwrap();
    assert_eq!(store.read(|r| r.media_info(&hash)).unwrap(), None);
    assert_eq!(stored_objects(&store), 0);
    if store.media_dir().is_some() {
        assert_eq!(count(&store, "media_trash"), 0);
    } else {
        assert_eq!(count(&store, "media_chunks"), 0);
    }
    // A part naming bytes the store does not hold links nothing and fails nothing.
    let (_, m) = message_with(&store, &hash);
    assert!(store.read(|r| r.message_media(&m)).unwrap().is_empty());
}

#[rstest]
fn imported_parts_link_media_and_a_changed_import_relinks_them(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let a = store_bytes(&store, b"first attachment", 4).info.hash;
    let b = store_bytes(&store, b"second attachment", 4).info.hash;
    let mut c = parsed("with-media", 2);
    c.messages[0].parts = vec![image_part(&a)];
    let mut writer = store.bulk_writer().unwrap();
    writer.write_batch(&[item(&c)]).unwrap();
    assert_eq!(store.read(|r| r.media_references(&a)).unwrap(), 1);

    c.messages[0].parts = vec![image_part(&b)];
    writer.write_batch(&[item(&c)]).unwrap();
    drop(writer);
    assert_eq!(store.read(|r| r.media_references(&b)).unwrap(), 1);
    // `a` lost its last reference inside the bulk writer's transaction: its row is gone and
    // the sweep removes its file.
    assert_eq!(store.read(|r| r.media_info(&a)).unwrap(), None);
    store.sweep_media(Duration::from_secs(3600), false).unwrap();
    assert_eq!(stored_objects(&store), 1);
    assert_eq!(read_all(&store, &b), b"second attachment");
}

#[rstest]
fn a_batch_keeps_each_item_once_with_its_name_and_hint_once_its_mark_is_waited_for(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let earlier = store_bytes(&store, b"stored before the batch", 5).info.hash;
    let batch = store.media_batch().unwrap();
    let items: Vec<Vec<u8>> = (0..40u8)
        .map(|i| png(&varied(10_000 + i as usize)))
        .collect();
    let mut hashes = Vec::new();
    for (i, bytes) in items.iter().enumerate() {
        let mut w = batch
            .writer()
            .unwrap()
            .with_name(Some(&format!("photo-{i}.png")))
            .with_hint(format!("zip:photo-{i}"));
        w.write_all(bytes).unwrap();
        let stored = w.finish().unwrap();
        assert!(stored.newly_stored, "item {i}");
        hashes.push(stored.info.hash);
    }
    // The same bytes twice more in the batch (before and after they settle), and bytes the
    // store held before it: nothing new is kept, and the extra hint is recorded.
    for hint in ["zip:again-1", "zip:again-2"] {
        let mut w = batch.writer().unwrap().with_hint(hint.into());
        w.write_all(&items[3]).unwrap();
        assert!(!w.finish().unwrap().newly_stored);
    }
    let mut w = batch.writer().unwrap().with_name(Some("late name"));
    w.write_all(b"stored before the batch").unwrap();
    assert!(!w.finish().unwrap().newly_stored);

    batch.mark().wait().unwrap();
    for (i, (hash, bytes)) in hashes.iter().zip(&items).enumerate() {
        let info = store.read(|r| r.media_info(hash)).unwrap().unwrap();
        assert_eq!(
            info.name.as_deref(),
            Some(format!("photo-{i}.png").as_str())
        );
        assert_eq!(info.mime, "image/png");
        assert_eq!(&read_all(&store, hash), bytes);
        let hint = store
            .read(|r| r.media_hint(&format!("zip:photo-{i}")))
            .unwrap();
        assert_eq!(hint.as_ref(), Some(hash));
    }
    for hint in ["zip:again-1", "zip:again-2"] {
        assert_eq!(
            store.read(|r| r.media_hint(hint)).unwrap().as_ref(),
            Some(&hashes[3])
        );
    }
    // A name is given only to an item without one.
    let before = store.read(|r| r.media_info(&earlier)).unwrap().unwrap();
    assert_eq!(before.name.as_deref(), Some("late name"));
    batch.close().unwrap();
    assert_eq!(count(&store, "media"), 41);
    assert_eq!(stored_objects(&store), 41);
    if let Some(dir) = store.media_dir() {
        let temps = std::fs::read_dir(dir.join("tmp")).unwrap().count();
        assert_eq!(temps, 0, "no temporary file is left");
    }
}

#[rstest]
fn hints_name_stored_bytes_and_go_with_them(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_dir, store) = temp_store();
    let hash = store_bytes(&store, b"hinted", 3).info.hash;
    store
        .write(|r| r.put_media_hint("zip:file-1.dat:6:1234", &hash))
        .unwrap();
    let hint = store
        .read(|r| r.media_hint("zip:file-1.dat:6:1234"))
        .unwrap();
    assert_eq!(hint, Some(hash.clone()));
    assert_eq!(store.read(|r| r.media_hint("zip:other")).unwrap(), None);
    // Unreferenced and past the grace period: swept, hint and all.
    let swept = store.sweep_media(Duration::ZERO, false).unwrap();
    assert_eq!(swept.unreferenced, 1);
    assert_eq!(
        store
            .read(|r| r.media_hint("zip:file-1.dat:6:1234"))
            .unwrap(),
        None
    );
    assert_eq!(stored_objects(&store), 0);
}

#[test]
fn a_sweep_removes_what_a_killed_import_left_and_keeps_what_is_referenced() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let (kept, temp) = {
        let store = Store::open(&db).unwrap();
        let kept = store_bytes(&store, b"referenced", 5).info.hash;
        message_with(&store, &kept);
        store_bytes(&store, b"stored but never linked", 5);
        // A write cut short by a kill: the temporary file stays.
        let mut w = store.media_writer().unwrap();
        w.write_all(b"half").unwrap();
        w.flush().unwrap();
        std::mem::forget(w);
        // A file the database does not know (the kill came between rename and commit).
        let stray = blake3::hash(b"stray").to_hex().to_string();
        let shard = store.media_dir().unwrap().join(&stray[..2]);
        std::fs::create_dir_all(&shard).unwrap();
        std::fs::write(shard.join(&stray), b"stray").unwrap();
        let temp = store.media_dir().unwrap().join("tmp");
        (kept, temp)
    };
    assert_eq!(std::fs::read_dir(&temp).unwrap().count(), 1);
    // Opening again sweeps only what is older than the grace period: nothing yet.
    let store = Store::open(&db).unwrap();
    assert_eq!(files(&store).len(), 4);
    let swept = store.sweep_media(Duration::ZERO, true).unwrap();
    assert_eq!(
        (swept.temp_files, swept.unreferenced, swept.orphan_files),
        (1, 1, 1)
    );
    let left = files(&store);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].ends_with(kept.as_str()));
    assert_eq!(read_all(&store, &kept), b"referenced");
}

#[test]
fn on_postgres_a_sweep_removes_an_interrupted_write_and_keeps_what_is_referenced() {
    Backend::Postgres.enter();
    let (guard, store) = temp_store();
    let kept = store_bytes(&store, &varied(1_200_000), 64 * 1024).info.hash;
    message_with(&store, &kept);
    store_bytes(&store, b"stored but never linked", 5);
    // A write cut short by a kill: its chunks stay, owned by no item.
    let mut w = store.media_writer().unwrap();
    w.write_all(&varied(1_100_000)).unwrap();
    std::mem::forget(w);
    assert_eq!(count(&store, "media_blobs"), 3);
    // Opening again sweeps only what is older than the grace period: nothing yet.
    let store = Store::open(guard.location()).unwrap();
    assert_eq!(count(&store, "media_blobs"), 3);
    let swept = store.sweep_media(Duration::ZERO, true).unwrap();
    assert_eq!((swept.temp_files, swept.unreferenced), (1, 1));
    assert_eq!(count(&store, "media_blobs"), 1);
    assert_eq!(count(&store, "media_chunks"), 2);
    assert_eq!(read_all(&store, &kept), varied(1_200_000));
}

fn item(c: &chat_model::ParsedConversation) -> BulkItem<'_> {
    BulkItem {
        conversation: c,
        folder: None,
        prepared: None,
    }
}

#[test]
fn an_online_backup_holds_the_database_and_its_media_while_writers_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chat.db")).unwrap();
    let image = png(&varied(50_000));
    let hash = store_bytes(&store, &image, 4096).info.hash;
    let (kept, _) = message_with(&store, &hash);
    // A writer keeps adding conversations while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                store
                    .write(|r| r.create_conversation(NewConversation::default()))
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    let backup = dir.path().join("backup.db");
    store.backup_to(&backup).unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.join().unwrap() > 0);
    assert!(
        store.backup_to(&backup).is_err(),
        "an existing file is refused"
    );
    drop(store);

    let copy = Store::open(&backup).unwrap();
    copy.integrity_check().unwrap();
    assert_eq!(read_all(&copy, &hash), image);
    let (conversation, messages) = copy
        .read(|r| Ok((r.get_conversation(&kept)?, r.message_tree(&kept, true)?)))
        .unwrap();
    assert_eq!(conversation.message_count, 1);
    let linked = copy.read(|r| r.message_media(&messages[0].id)).unwrap();
    assert_eq!(linked[0].hash, hash);
}
