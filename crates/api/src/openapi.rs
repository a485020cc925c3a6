//! The OpenAPI document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::conversations::routes as conversations;
use crate::imports::routes as imports;
use crate::{export, library, media, search};

/// Adds the bearer-token scheme.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every endpoint of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "AI OS Chat API",
        description = "Conversations, messages, tags, folders, ratings, search, export and imports. \
            Errors are {\"error\": \"snake_case_code\", \"message\": \"...\"}. Timestamps are RFC 3339 UTC; ids are opaque strings."
    ),
    paths(
        library::health,
        openapi_json,
        conversations::list,
        conversations::create,
        conversations::get,
        conversations::put,
        conversations::patch,
        conversations::delete,
        conversations::bulk_archive,
        conversations::add_message,
        conversations::fork,
        conversations::summarize,
        conversations::put_tag,
        conversations::delete_tag,
        library::tags,
        library::folders,
        library::message,
        library::rate,
        library::unrate,
        library::ratings,
        search::search,
        media::get,
        library::stats,
        export::export_all,
        export::export_one,
        imports::create,
        imports::get,
        imports::list,
        imports::cancel,
        imports::explain,
        imports::retry,
        crate::chat::session::upgrade,
    ),
    components(schemas(crate::events::Event, crate::dto::AttachmentView)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "conversations"), (name = "messages"), (name = "tags"), (name = "search"),
        (name = "export"), (name = "imports"), (name = "media"), (name = "chat"), (name = "system"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
