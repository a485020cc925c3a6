//! The server in process, through the official Rust SDK's client over an in-memory pipe: the
//! change hook the chat server uses to tell the web UI about writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use chat_mcp::ChatMcp;
use chat_store::{NewConversation, Store};
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, Implementation, InitializeRequestParams,
    ProtocolVersion,
};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};

type Client = RunningService<RoleClient, InitializeRequestParams>;
/// Each change the hook saw: the conversation id and its tags.
type Changes = Arc<Mutex<Vec<(String, Vec<String>)>>>;

async fn connect(server: ChatMcp) -> Client {
    let (server_side, client_side) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let running = server.serve(server_side).await.unwrap();
        running.waiting().await.unwrap();
    });
    InitializeRequestParams::new(
        ClientCapabilities::default(),
        Implementation::new("hook-test", "1"),
    )
    .with_protocol_version(ProtocolVersion::V_2025_11_25)
    .serve(client_side)
    .await
    .unwrap()
}

async fn call(client: &Client, name: &'static str, args: Value) -> rmcp::model::CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(name).with_arguments(args))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_call_the_change_hook_and_a_read_only_server_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chat.db")).unwrap();
    let convo = store
        .write(|r| r.create_conversation(NewConversation::default()))
        .unwrap();
    let changed: Changes = Arc::default();
    let seen = Arc::clone(&changed);
    let writer = ChatMcp::new(store.clone())
        .writable(true)
        .on_change(Arc::new(move |c| {
            let tags = c.tags.iter().map(|t| t.as_str().to_owned()).collect();
            seen.lock().unwrap().push((c.id.as_str().to_owned(), tags));
        }));
    let client = connect(writer).await;
    let result = call(
        &client,
        "tag_conversation",
        json!({"id": convo.id.as_str(), "add": ["kept"]}),
    )
    .await;
    assert_ne!(result.is_error, Some(true), "{:?}", result.content);
    assert_eq!(
        *changed.lock().unwrap(),
        vec![(convo.id.as_str().to_owned(), vec!["kept".to_owned()])],
        "the hook sees the conversation as it now is"
    );
    let bad = call(
        &client,
        "tag_conversation",
        json!({"id": "nope", "add": ["x"]}),
    )
    .await;
    assert_eq!(bad.is_error, Some(true));
    assert_eq!(
        changed.lock().unwrap().len(),
        1,
        "a refused write is not a change"
    );
    client.cancel().await.unwrap();

    let reader = ChatMcp::new(store.clone());
    assert!(!reader.writes());
    let client = connect(reader).await;
    let refused = call(
        &client,
        "add_note",
        json!({"conversation_id": convo.id.as_str(), "text": "hi"}),
    )
    .await;
    assert_eq!(refused.is_error, Some(true));
    let messages = store.read(|r| r.message_tree(&convo.id, true)).unwrap();
    assert!(messages.is_empty(), "nothing was written");
    client.cancel().await.unwrap();
}
