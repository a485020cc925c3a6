//! Test support, behind the `testing` feature: byte-level mutations of fixtures for the
//! parsers' property tests (every parser must survive any of them without panicking).

#![allow(missing_docs)]

use proptest::prelude::*;

/// One edit of an input's bytes. Positions wrap around the input's length, so any value applies.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Flip one bit.
    Flip { at: usize, bit: u8 },
    /// Overwrite one byte.
    Set { at: usize, byte: u8 },
    /// Insert bytes.
    Insert { at: usize, bytes: Vec<u8> },
    /// Delete up to `len` bytes.
    Delete { at: usize, len: usize },
    /// Cut the input.
    Truncate { at: usize },
}

/// Mutations whose inserted and overwritten bytes come from `spice`: the bytes that matter to
/// the format (JSON structure, escapes, surrogate halves, a BOM piece, invalid UTF-8, ...).
pub fn mutation(spice: &'static [u8]) -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), prop::sample::select(spice))
            .prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (
            any::<usize>(),
            prop::collection::vec(prop::sample::select(spice), 1..8)
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

/// Applies a mutation in place.
pub fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len().max(1);
    match m {
        Mutation::Flip { at, bit } => {
            if let Some(b) = bytes.get_mut(at % n) {
                *b ^= 1 << (bit % 8);
            }
        }
        Mutation::Set { at, byte } => {
            if let Some(b) = bytes.get_mut(at % n) {
                *b = *byte;
            }
        }
        Mutation::Insert { at, bytes: ins } => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, ins.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let at = at % n;
            let end = (at + len).min(bytes.len());
            if at < end {
                bytes.drain(at..end);
            }
        }
        Mutation::Truncate { at } => bytes.truncate(at % (bytes.len() + 1)),
    }
}
