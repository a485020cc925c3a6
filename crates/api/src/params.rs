//! Parsing of query-string values into domain values, with 400s that say what was expected.
//! Empty values (`?source=`) count as absent.

use chat_model::{FolderPath, Role, Source, Tag, Timestamp};
use chat_store::ArchivedFilter;

use crate::error::ApiError;

pub(crate) fn given_str(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

pub(crate) fn source(v: Option<&str>) -> Result<Option<Source>, ApiError> {
    given_str(v)
        .map(|s| {
            s.parse::<Source>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_query",
                    format!(
                        "unknown source {s:?}; expected native, chatgpt, claude, gemini or copilot"
                    ),
                )
            })
        })
        .transpose()
}

pub(crate) fn role(v: Option<&str>) -> Result<Option<Role>, ApiError> {
    given_str(v)
        .map(|s| {
            s.parse::<Role>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("unknown role {s:?}; expected user, assistant, system or tool"),
                )
            })
        })
        .transpose()
}

pub(crate) fn tag(v: Option<&str>) -> Result<Option<Tag>, ApiError> {
    given_str(v)
        .map(|s| Tag::new(s).map_err(ApiError::from))
        .transpose()
}

pub(crate) fn folder(v: Option<&str>) -> Result<Option<FolderPath>, ApiError> {
    given_str(v)
        .map(|s| FolderPath::new(s).map_err(ApiError::from))
        .transpose()
}

pub(crate) fn archived(v: Option<&str>) -> Result<ArchivedFilter, ApiError> {
    match given_str(v) {
        None | Some("false") => Ok(ArchivedFilter::No),
        Some("true") => Ok(ArchivedFilter::Yes),
        Some("all") => Ok(ArchivedFilter::All),
        Some(other) => Err(ApiError::bad_request(
            "invalid_query",
            format!("archived must be false, true or all, not {other:?}"),
        )),
    }
}

/// A yes/no parameter: `true`/`1` or `false`/`0` (absent: false).
pub(crate) fn flag(name: &str, v: Option<&str>) -> Result<bool, ApiError> {
    match given_str(v) {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            "invalid_query",
            format!("{name} must be true or false, not {other:?}"),
        )),
    }
}

pub(crate) fn time(name: &str, v: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    use time::format_description::well_known::Rfc3339;
    given_str(v)
        .map(|s| {
            Timestamp::parse(s, &Rfc3339).map_err(|_| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("{name} must be an RFC 3339 time such as 2024-01-31T12:00:00Z"),
                )
            })
        })
        .transpose()
}

pub(crate) fn limit(v: Option<u32>, max: u32) -> Result<u32, ApiError> {
    match v {
        None => Ok(0),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be between 1 and {max}, not {n}"),
        )),
    }
}

pub(crate) fn title(v: &str) -> Result<String, ApiError> {
    const MAX: usize = 1000;
    let t = v.trim();
    if t.chars().count() > MAX {
        return Err(ApiError::invalid(format!(
            "a title is at most {MAX} characters"
        )));
    }
    if t.chars().any(|c| c.is_control()) {
        return Err(ApiError::invalid(
            "a title cannot contain control characters",
        ));
    }
    Ok(t.to_owned())
}
