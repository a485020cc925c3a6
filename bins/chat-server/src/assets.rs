//! The web UI, embedded in the binary and served at `/`.
//!
//! The files under `web/` are compiled in with rust-embed, so the server needs no separate web
//! server, no CDN and no network. Every response carries `Cache-Control: no-cache` (the UI has
//! no build step and no hashed file names, so the browser revalidates), `nosniff`, and the
//! page's Content-Security-Policy with `frame-ancestors 'none'` added. Unknown paths outside
//! `/api/` fall back to `index.html`; unknown `/api/...` paths keep the API's JSON 404.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Web;

/// The page's policy (as in `index.html`), plus what only a header can say.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                   img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Registers the UI routes. Call after the API's `configure`, so `/api` routes win.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/{path:.*}", web::get().to(asset));
}

async fn index() -> HttpResponse {
    serve("index.html").unwrap_or_else(not_found)
}

async fn asset(req: HttpRequest) -> HttpResponse {
    let path = req.match_info().query("path").trim_start_matches('/');
    if path == "api" || path.starts_with("api/") {
        return not_found();
    }
    serve(path)
        .or_else(|| {
            // Paths that look like files are real 404s; anything else is a page route.
            let last = path.rsplit('/').next().unwrap_or(path);
            (!last.contains('.')).then(|| serve("index.html")).flatten()
        })
        .unwrap_or_else(not_found)
}

fn serve(path: &str) -> Option<HttpResponse> {
    let file = Web::get(path)?;
    let mime = content_type(path);
    let mut resp = HttpResponse::Ok();
    resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(mime)))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ));
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..12]));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        resp.insert_header((header::ETAG, v));
    }
    Some(resp.body(file.data.into_owned()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({
        "error": "not_found",
        "message": "no such page or API endpoint"
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{test, App};

    #[actix_web::test]
    async fn serves_the_page_its_modules_and_falls_back_for_routes() {
        let app = test::init_service(App::new().configure(configure)).await;
        let page = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert_eq!(page.status(), 200);
        assert_eq!(
            page.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8"
        );
        assert!(page
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        let body = test::read_body(page).await;
        assert!(
            String::from_utf8_lossy(&body).contains("<script type=\"module\" src=\"js/main.js\">")
        );

        let js = test::call_service(
            &app,
            test::TestRequest::get().uri("/js/main.js").to_request(),
        )
        .await;
        assert_eq!(js.status(), 200);
        assert_eq!(
            js.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            js.headers().get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff"
        );

        let route =
            test::call_service(&app, test::TestRequest::get().uri("/c/abc").to_request()).await;
        assert_eq!(route.status(), 200);
        let missing = test::call_service(
            &app,
            test::TestRequest::get().uri("/js/nope.js").to_request(),
        )
        .await;
        assert_eq!(missing.status(), 404);
        let api =
            test::call_service(&app, test::TestRequest::get().uri("/api/v2/x").to_request()).await;
        assert_eq!(api.status(), 404);
        let body: serde_json::Value = test::read_body_json(api).await;
        assert_eq!(body["error"], "not_found");
    }
}
