//! Timestamp shapes found in exports: epoch seconds (float or integer), epoch milliseconds,
//! numeric strings, and RFC 3339 / ISO 8601 with or without fractions and offsets.

use chat_model::Timestamp;
use serde_json::Value;
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{PrimitiveDateTime, UtcOffset};

/// Numbers at or above this are taken as milliseconds (1e11 s is the year 5138).
const MILLIS_THRESHOLD: f64 = 1e11;

/// A timestamp from a JSON value: a number (seconds or milliseconds, see [`from_epoch`]) or a
/// string ([`from_str`]). `None` for null, other types, or values out of range.
pub fn from_value(value: &Value) -> Option<Timestamp> {
    match value {
        Value::Number(n) => n.as_f64().and_then(from_epoch),
        Value::String(s) => from_str(s),
        _ => None,
    }
}

/// A timestamp from epoch seconds (with fraction) or, for values of 1e11 and above,
/// epoch milliseconds. `None` for non-finite, negative-beyond-1900 or absurd values.
pub fn from_epoch(value: f64) -> Option<Timestamp> {
    if !value.is_finite() {
        return None;
    }
    let millis = if value.abs() >= MILLIS_THRESHOLD {
        value
    } else {
        value * 1000.0
    };
    // Keep to years 1900..=9999.
    if !(-2_208_988_800_000.0..=253_402_300_799_000.0).contains(&millis) {
        return None;
    }
    // Stored at millisecond precision: round to the nearest millisecond, so that
    // 1700000105.25 s (1700000105249.9998 ms in binary floating point) is 1700000105250 ms.
    chat_model::timestamp::from_millis(millis.round() as i64).ok()
}

/// A timestamp from a string: RFC 3339 (`Z` or offset, any fraction), ISO 8601 without an
/// offset (taken as UTC), or a number in a string.
pub fn from_str(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let parsed = Timestamp::parse(s, &Rfc3339)
        .ok()
        .or_else(|| Timestamp::parse(s, &Iso8601::DEFAULT).ok())
        .or_else(|| {
            PrimitiveDateTime::parse(s, &Iso8601::DEFAULT)
                .ok()
                .map(|p| p.assume_offset(UtcOffset::UTC))
        })
        .or_else(|| {
            // "2024-03-13 14:48:37.115821" (space instead of T), taken as UTC.
            let replaced = s.replacen(' ', "T", 1);
            Timestamp::parse(&replaced, &Rfc3339).ok().or_else(|| {
                PrimitiveDateTime::parse(&replaced, &Iso8601::DEFAULT)
                    .ok()
                    .map(|p| p.assume_offset(UtcOffset::UTC))
            })
        });
    match parsed {
        Some(ts) => {
            let utc = ts.to_offset(UtcOffset::UTC);
            chat_model::timestamp::from_millis(chat_model::timestamp::to_millis(utc)).ok()
        }
        None => s.parse::<f64>().ok().and_then(from_epoch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_model::timestamp::to_millis;
    use rstest::rstest;
    use serde_json::json;

    #[rstest]
    #[case::epoch_seconds_float(json!(1_700_000_000.123_456), 1_700_000_000_123)]
    #[case::epoch_seconds_int(json!(1_700_000_000), 1_700_000_000_000)]
    #[case::epoch_millis(json!(1_700_000_000_123_i64), 1_700_000_000_123)]
    #[case::numeric_string(json!("1700000000.5"), 1_700_000_000_500)]
    #[case::float_rounding(json!(1_700_000_105.25), 1_700_000_105_250)]
    #[case::rfc3339_z_micros(json!("2024-03-13T14:48:37.115821Z"), 1_710_341_317_115)]
    #[case::rfc3339_offset(json!("2024-03-13T14:48:37.115821+00:00"), 1_710_341_317_115)]
    #[case::rfc3339_other_offset(json!("2024-03-13T16:48:37+02:00"), 1_710_341_317_000)]
    #[case::rfc3339_no_fraction(json!("2024-03-13T14:48:37Z"), 1_710_341_317_000)]
    #[case::iso_no_offset(json!("2024-03-13T14:48:37.115"), 1_710_341_317_115)]
    #[case::space_separated(json!("2024-03-13 14:48:37Z"), 1_710_341_317_000)]
    fn timestamps_parse(#[case] value: Value, #[case] millis: i64) {
        let ts = from_value(&value).unwrap_or_else(|| panic!("{value} did not parse"));
        assert_eq!(to_millis(ts), millis);
    }

    #[rstest]
    #[case::null(json!(null))]
    #[case::garbage(json!("yesterday"))]
    #[case::nan_like(json!("NaN"))]
    #[case::huge(json!(1e300))]
    #[case::object(json!({}))]
    #[case::empty(json!(""))]
    fn bad_timestamps_are_none(#[case] value: Value) {
        assert_eq!(from_value(&value), None);
    }
}
