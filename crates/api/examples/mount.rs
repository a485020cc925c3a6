//! Mounts the whole chat API under `/chat` inside another actix-web app, next to that app's own
//! routes.
//!
//! ```text
//! cargo run -p chat-api --example mount
//! curl http://127.0.0.1:8090/chat/api/v1/health
//! curl -H 'Authorization: Bearer demo-token' http://127.0.0.1:8090/chat/api/v1/conversations
//! ```

use actix_web::{web, App, HttpResponse, HttpServer};
use chat_api::ApiState;

async fn home() -> HttpResponse {
    HttpResponse::Ok().body("the host app; the chat API lives under /chat/api/v1\n")
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join("chat-api-mount-example");
    std::fs::create_dir_all(&dir)?;
    let store = chat_store::Store::open(dir.join("chat.db"))?;
    let state = ApiState::builder(store.clone())
        .token(Some("demo-token"))
        .max_upload(256 * 1024 * 1024)
        .build();

    println!("listening on http://127.0.0.1:8090 (API under /chat/api/v1)");
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/", web::get().to(home))
            .service(web::scope("/chat").configure(chat_api::configure))
    })
    .bind("127.0.0.1:8090")?
    .run()
    .await?;
    store.checkpoint()?;
    Ok(())
}
