//! Full-text tokens computed ahead of the write, on another thread.
//!
//! Tokenizing text for the word indexes (`unicode61 remove_diacritics 2`) was a sixth of the
//! bulk writer's time, and the writer is an import's bottleneck while its parse thread has time
//! to spare. So the parse thread tokenizes each text ahead with SQLite's own unicode61
//! tokenizer ([`Pretokenizer`]), the tokens travel with the batch ([`TokenSet`]), and on the
//! store's connections an override of `unicode61` replays them instead of tokenizing again.
//!
//! Why the index cannot differ from one built without it:
//! * The override delegates every call to the builtin unicode61 except the tokenizing of a
//!   document whose text is in the token set installed on the calling thread (the bulk writer
//!   installs its batch's set for the length of the batch, [`with_tokens`]).
//! * A text is found by its length and 128-bit hash, and its tokens are what the same builtin,
//!   created with the same arguments, produced from the same bytes. The override only replays
//!   for tables created with those arguments.
//! * Queries, `highlight()` and `snippet()` always tokenize afresh.
//! * Other programs opening the file have no override and use the builtin: same index.
//!
//! This is the workspace's only `unsafe` code: FTS5's tokenizer API is C function pointers,
//! which rusqlite does not wrap.
#![allow(unsafe_code)]

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use rusqlite::{ffi, Connection};
use xxhash_rust::xxh3::xxh3_128;

/// The tokenizer the word indexes use, and the arguments tokens are computed with. Keep in
/// step with `schema.rs`; a table with other arguments is never replayed into.
const TOKENIZER: &CStr = c"unicode61";
const ARGS: [&CStr; 2] = [c"remove_diacritics", c"2"];

type TokenCallback =
    unsafe extern "C" fn(*mut c_void, c_int, *const c_char, c_int, c_int, c_int) -> c_int;

/// The tokens of many texts, keyed by each text's length and hash. Built by a
/// [`Pretokenizer`]; handed to the bulk writer with the batch it belongs to.
#[derive(Default)]
pub struct TokenSet {
    /// Per token: varint length, varint gap from the previous token's end, varint span in the
    /// text, then the token's bytes.
    blob: Vec<u8>,
    /// `(xxh3-128, byte length)` of a text -> its range in `blob`.
    index: HashMap<(u128, usize), (usize, usize)>,
    /// Texts replayed so far (for tests and diagnostics).
    replayed: Cell<u64>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("texts", &self.index.len())
            .field("bytes", &self.blob.len())
            .field("replayed", &self.replayed.get())
            .finish()
    }
}

impl TokenSet {
    /// Texts held.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no text is held.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// How many times a text's tokens were replayed into an index instead of tokenized.
    pub fn replayed(&self) -> u64 {
        self.replayed.get()
    }

    fn key(text: &[u8]) -> (u128, usize) {
        (xxh3_128(text), text.len())
    }

    /// The tokens of `text` in order, or `None` when the set does not hold it (or its entry
    /// does not decode, which a set built by [`Pretokenizer::add`] never has).
    pub(crate) fn tokens(&self, text: &str) -> Option<Vec<&[u8]>> {
        let &(from, to) = self.index.get(&Self::key(text.as_bytes()))?;
        let mut rest = self.blob.get(from..to)?;
        let mut out = Vec::new();
        while !rest.is_empty() {
            let len = read_varint(&mut rest)?;
            read_varint(&mut rest)?;
            read_varint(&mut rest)?;
            out.push(rest.get(..len)?);
            rest = &rest[len..];
        }
        Some(out)
    }

    /// Feeds the stored tokens of `text` to FTS5's callback. `None` when the set does not
    /// hold `text` (the caller tokenizes it then); otherwise the callback's first error, or
    /// `SQLITE_OK`.
    fn replay(&self, text: &[u8], ctx: *mut c_void, x_token: TokenCallback) -> Option<c_int> {
        let &(from, to) = self.index.get(&Self::key(text))?;
        let mut rest = self.blob.get(from..to)?;
        self.replayed.set(self.replayed.get() + 1);
        let mut end = 0usize;
        while !rest.is_empty() {
            let (Some(len), Some(gap), Some(span)) = (
                read_varint(&mut rest),
                read_varint(&mut rest),
                read_varint(&mut rest),
            ) else {
                return Some(ffi::SQLITE_CORRUPT);
            };
            let Some(token) = rest.get(..len) else {
                return Some(ffi::SQLITE_CORRUPT);
            };
            rest = &rest[len..];
            let start = end + gap;
            end = start + span;
            let (Ok(n), Ok(s), Ok(e)) = (
                c_int::try_from(len),
                c_int::try_from(start),
                c_int::try_from(end),
            ) else {
                return Some(ffi::SQLITE_CORRUPT);
            };
            // SAFETY: FTS5 passed `x_token` and `ctx` to this tokenize call, which is still
            // running; `token` is valid for `n` bytes for the duration of the callback.
            let rc = unsafe { x_token(ctx, 0, token.as_ptr().cast(), n, s, e) };
            if rc != ffi::SQLITE_OK {
                return Some(rc);
            }
        }
        Some(ffi::SQLITE_OK)
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(input: &mut &[u8]) -> Option<usize> {
    let mut v = 0usize;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = input.split_first()?;
        *input = rest;
        v |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

thread_local! {
    /// The token set installed on this thread by [`with_tokens`], or null.
    static INSTALLED: Cell<*const TokenSet> = const { Cell::new(ptr::null()) };
}

/// Runs `f` with `tokens` installed on this thread: while it runs, this thread's FTS5 inserts
/// replay the tokens of texts the set holds.
pub(crate) fn with_tokens<T>(tokens: Option<&TokenSet>, f: impl FnOnce() -> T) -> T {
    struct Restore(*const TokenSet);
    impl Drop for Restore {
        fn drop(&mut self) {
            INSTALLED.with(|c| c.set(self.0));
        }
    }
    let ptr = tokens.map_or(ptr::null(), |t| t as *const TokenSet);
    let _restore = Restore(INSTALLED.with(|c| c.replace(ptr)));
    f()
}

/// The FTS5 API of a connection, as SQLite documents getting it: `SELECT fts5(?1)` with a
/// pointer bound to `?1`.
fn fts5_api(conn: &Connection) -> Option<*mut ffi::fts5_api> {
    let mut api: *mut ffi::fts5_api = ptr::null_mut();
    let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
    // SAFETY: the handle is open for the borrow of `conn`; the statement is finalized before
    // returning, and `api`, which the bound pointer points to, outlives it.
    unsafe {
        let db = conn.handle();
        let sql = c"SELECT fts5(?1)";
        if ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, ptr::null_mut())
            != ffi::SQLITE_OK
        {
            ffi::sqlite3_finalize(stmt);
            return None;
        }
        ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&raw mut api).cast(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(stmt);
        ffi::sqlite3_finalize(stmt);
    }
    // SAFETY: a non-null pointer written by `fts5()` is the connection's live API object.
    (!api.is_null() && unsafe { (*api).iVersion } >= 2).then_some(api)
}

/// A tokenizer module as FTS5 hands it out: its functions and their user data.
struct Module {
    user_data: *mut c_void,
    functions: ffi::fts5_tokenizer,
}

impl Module {
    /// The module registered as [`TOKENIZER`] on the connection `api` belongs to.
    ///
    /// # Safety
    /// `api` is a live API object from [`fts5_api`].
    unsafe fn find(api: *mut ffi::fts5_api) -> Option<Module> {
        let mut user_data = ptr::null_mut();
        let mut functions = ffi::fts5_tokenizer {
            xCreate: None,
            xDelete: None,
            xTokenize: None,
        };
        // SAFETY: per this function's contract; out-pointers point to locals.
        let rc = unsafe {
            ((*api).xFindTokenizer?)(api, TOKENIZER.as_ptr(), &mut user_data, &mut functions)
        };
        (rc == ffi::SQLITE_OK && functions.xTokenize.is_some()).then_some(Module {
            user_data,
            functions,
        })
    }

    /// Creates an instance of the module with `args`.
    ///
    /// # Safety
    /// The connection the module came from is open, and `args` holds `n` C strings.
    unsafe fn create(&self, args: *mut *const c_char, n: c_int) -> Option<*mut ffi::Fts5Tokenizer> {
        let mut out = ptr::null_mut();
        // SAFETY: per this function's contract.
        let rc = unsafe { (self.functions.xCreate?)(self.user_data, args, n, &mut out) };
        (rc == ffi::SQLITE_OK && !out.is_null()).then_some(out)
    }
}

/// An instance of the override: the builtin instance it delegates to.
struct Instance {
    inner: *mut ffi::Fts5Tokenizer,
    functions: ffi::fts5_tokenizer,
    /// Created with [`ARGS`], so replayed tokens are what `inner` would produce.
    replay: bool,
}

/// Whether the `n` C strings at `args` are exactly [`ARGS`].
///
/// # Safety
/// `args` holds `n` valid C strings (or `n` is 0).
unsafe fn args_match(args: *mut *const c_char, n: c_int) -> bool {
    if usize::try_from(n).ok() != Some(ARGS.len()) || args.is_null() {
        return false;
    }
    ARGS.iter().enumerate().all(|(i, want)| {
        // SAFETY: `i < n`, and each entry is a valid C string per the contract.
        let got = unsafe { *args.add(i) };
        // SAFETY: as above; checked non-null first.
        !got.is_null() && unsafe { CStr::from_ptr(got) } == *want
    })
}

unsafe extern "C" fn override_create(
    user_data: *mut c_void,
    args: *mut *const c_char,
    n: c_int,
    out: *mut *mut ffi::Fts5Tokenizer,
) -> c_int {
    // SAFETY: `user_data` is the `Module` boxed by `register`, alive until the connection
    // closes; FTS5 passes valid arguments and an out-pointer.
    unsafe {
        let builtin = &*user_data.cast::<Module>();
        let Some(inner) = builtin.create(args, n) else {
            return ffi::SQLITE_ERROR;
        };
        let instance = Instance {
            inner,
            functions: builtin.functions,
            replay: args_match(args, n),
        };
        *out = Box::into_raw(Box::new(instance)).cast();
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn override_delete(tokenizer: *mut ffi::Fts5Tokenizer) {
    if tokenizer.is_null() {
        return;
    }
    // SAFETY: `tokenizer` was boxed by `override_create` and FTS5 deletes it once.
    unsafe {
        let instance = Box::from_raw(tokenizer.cast::<Instance>());
        if let Some(delete) = instance.functions.xDelete {
            delete(instance.inner);
        }
    }
}

unsafe extern "C" fn override_tokenize(
    tokenizer: *mut ffi::Fts5Tokenizer,
    ctx: *mut c_void,
    flags: c_int,
    text: *const c_char,
    n: c_int,
    x_token: Option<TokenCallback>,
) -> c_int {
    // SAFETY: `tokenizer` came from `override_create`; FTS5 keeps it alive during the call.
    let instance = unsafe { &*tokenizer.cast::<Instance>() };
    if instance.replay && flags == ffi::FTS5_TOKENIZE_DOCUMENT {
        let installed = INSTALLED.with(Cell::get);
        if let (false, Some(x_token), Ok(len)) = (
            installed.is_null() || text.is_null(),
            x_token,
            usize::try_from(n),
        ) {
            // SAFETY: a non-null pointer in INSTALLED refers to the set `with_tokens` borrowed
            // for the call that is running on this thread; FTS5's text is valid for `n` bytes.
            let (set, bytes) = unsafe {
                (
                    &*installed,
                    std::slice::from_raw_parts(text.cast::<u8>(), len),
                )
            };
            if let Some(rc) = set.replay(bytes, ctx, x_token) {
                return rc;
            }
        }
    }
    match instance.functions.xTokenize {
        // SAFETY: delegation with FTS5's own arguments to the instance they were meant for.
        Some(tokenize) => unsafe { tokenize(instance.inner, ctx, flags, text, n, x_token) },
        None => ffi::SQLITE_ERROR,
    }
}

unsafe extern "C" fn drop_module(user_data: *mut c_void) {
    if !user_data.is_null() {
        // SAFETY: boxed by `register`; FTS5 calls this once, when the connection closes.
        drop(unsafe { Box::from_raw(user_data.cast::<Module>()) });
    }
}

/// Installs the replaying override of `unicode61` on `conn`. Call it before the connection
/// touches a full-text table (a table keeps the tokenizer it was opened with). False when
/// FTS5 is unavailable; the connection then works as before, without replay.
pub(crate) fn register(conn: &Connection) -> bool {
    let Some(api) = fts5_api(conn) else {
        return false;
    };
    // SAFETY: `api` is live while `conn` is open.
    let Some(builtin) = (unsafe { Module::find(api) }) else {
        return false;
    };
    let user_data = Box::into_raw(Box::new(builtin));
    let mut functions = ffi::fts5_tokenizer {
        xCreate: Some(override_create),
        xDelete: Some(override_delete),
        xTokenize: Some(override_tokenize),
    };
    // SAFETY: FTS5 copies `functions` and owns `user_data` from here on, freeing it with
    // `drop_module` when the connection closes; on failure it does neither, so we free it.
    unsafe {
        let Some(create) = (*api).xCreateTokenizer else {
            drop(Box::from_raw(user_data));
            return false;
        };
        let rc = create(
            api,
            TOKENIZER.as_ptr(),
            user_data.cast(),
            &mut functions,
            Some(drop_module),
        );
        if rc != ffi::SQLITE_OK {
            drop(Box::from_raw(user_data));
            return false;
        }
    }
    true
}

/// Tokenizes texts ahead of their write, with SQLite's builtin unicode61 and the store's
/// arguments, into a [`TokenSet`]. Holds a private in-memory connection for the tokenizer's
/// lifetime; not `Send`, so create one on the thread that uses it.
pub struct Pretokenizer {
    instance: *mut ffi::Fts5Tokenizer,
    functions: ffi::fts5_tokenizer,
    /// Owns the module `instance` belongs to; dropped after it.
    _conn: Connection,
}

impl std::fmt::Debug for Pretokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pretokenizer").finish_non_exhaustive()
    }
}

/// What [`collect`] appends to.
struct Collect<'a> {
    blob: &'a mut Vec<u8>,
    end: usize,
    ok: bool,
}

unsafe extern "C" fn collect(
    ctx: *mut c_void,
    tflags: c_int,
    token: *const c_char,
    n: c_int,
    start: c_int,
    end: c_int,
) -> c_int {
    // SAFETY: `ctx` is the `Collect` passed to xTokenize by `Pretokenizer::add`, which is on
    // the stack below this call.
    let state = unsafe { &mut *ctx.cast::<Collect<'_>>() };
    let (Ok(len), Ok(start), Ok(end)) = (
        usize::try_from(n),
        usize::try_from(start),
        usize::try_from(end),
    ) else {
        state.ok = false;
        return ffi::SQLITE_DONE;
    };
    // Colocated tokens, or offsets going backwards, cannot be replayed by this encoding.
    if tflags != 0 || start < state.end || end < start || token.is_null() {
        state.ok = false;
        return ffi::SQLITE_DONE;
    }
    write_varint(state.blob, len);
    write_varint(state.blob, start - state.end);
    write_varint(state.blob, end - start);
    // SAFETY: the tokenizer passes a token valid for `n` bytes during the callback.
    state
        .blob
        .extend_from_slice(unsafe { std::slice::from_raw_parts(token.cast::<u8>(), len) });
    state.end = end;
    ffi::SQLITE_OK
}

impl Pretokenizer {
    /// `None` when FTS5's unicode61 cannot be had (the import then tokenizes on the writer).
    pub fn new() -> Option<Pretokenizer> {
        let conn = Connection::open_in_memory().ok()?;
        let api = fts5_api(&conn)?;
        let mut args: Vec<*const c_char> = ARGS.iter().map(|a| a.as_ptr()).collect();
        let n = c_int::try_from(args.len()).ok()?;
        // SAFETY: `api` is live while `conn` is, and `conn` is stored with the instance;
        // `args` holds `n` static C strings.
        let (instance, functions) = unsafe {
            let module = Module::find(api)?;
            (module.create(args.as_mut_ptr(), n)?, module.functions)
        };
        Some(Pretokenizer {
            instance,
            functions,
            _conn: conn,
        })
    }

    /// Adds the tokens of `text` to `set` (nothing for an empty text or one already there).
    pub fn add(&mut self, set: &mut TokenSet, text: &str) {
        let bytes = text.as_bytes();
        let Ok(n) = c_int::try_from(bytes.len()) else {
            return;
        };
        if n == 0 {
            return;
        }
        let key = TokenSet::key(bytes);
        if set.index.contains_key(&key) {
            return;
        }
        let Some(tokenize) = self.functions.xTokenize else {
            return;
        };
        let from = set.blob.len();
        let mut state = Collect {
            blob: &mut set.blob,
            end: 0,
            ok: true,
        };
        // SAFETY: `instance` is live (deleted only on drop); `bytes` is valid for `n` bytes;
        // `state` outlives the call, which is the only one to use it.
        let rc = unsafe {
            tokenize(
                self.instance,
                (&raw mut state).cast(),
                ffi::FTS5_TOKENIZE_DOCUMENT,
                bytes.as_ptr().cast(),
                n,
                Some(collect),
            )
        };
        if rc == ffi::SQLITE_OK && state.ok {
            let to = set.blob.len();
            set.index.insert(key, (from, to));
        } else {
            set.blob.truncate(from);
        }
    }
}

impl Drop for Pretokenizer {
    fn drop(&mut self) {
        if let Some(delete) = self.functions.xDelete {
            // SAFETY: created by `Module::create`, deleted once, before `_conn` closes.
            unsafe { delete(self.instance) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        let mut buf = Vec::new();
        for v in [0usize, 1, 127, 128, 300, 1 << 20, usize::MAX] {
            write_varint(&mut buf, v);
        }
        let mut rest = buf.as_slice();
        for v in [0usize, 1, 127, 128, 300, 1 << 20, usize::MAX] {
            assert_eq!(read_varint(&mut rest), Some(v));
        }
        assert!(rest.is_empty());
        assert_eq!(read_varint(&mut &[0x80u8][..]), None);
    }

    #[test]
    fn the_pretokenizer_records_what_unicode61_emits() {
        let mut p = Pretokenizer::new().unwrap();
        let mut set = TokenSet::default();
        p.add(&mut set, "Crème  Brûlée, naïve CAFÉ");
        p.add(&mut set, "");
        assert_eq!(set.len(), 1);
        let (from, to) = set.index[&TokenSet::key("Crème  Brûlée, naïve CAFÉ".as_bytes())];
        let mut rest = &set.blob[from..to];
        let mut tokens = Vec::new();
        let mut end = 0;
        while !rest.is_empty() {
            let len = read_varint(&mut rest).unwrap();
            let start = end + read_varint(&mut rest).unwrap();
            end = start + read_varint(&mut rest).unwrap();
            tokens.push((
                std::str::from_utf8(&rest[..len]).unwrap().to_owned(),
                start,
                end,
            ));
            rest = &rest[len..];
        }
        assert_eq!(
            tokens,
            [
                ("creme".to_owned(), 0, 6),
                ("brulee".to_owned(), 8, 16),
                ("naive".to_owned(), 18, 24),
                ("cafe".to_owned(), 25, 30),
            ]
        );
    }
}
