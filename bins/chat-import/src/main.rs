//! `chat-import`: imports ChatGPT, Claude, Gemini and VS Code Copilot exports (files, folders,
//! zip archives) into an AI OS Chat database, and exports a database back to Markdown, JSON or
//! fine-tuning JSONL.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chat_import::{ImportOptions, ImportReport, Importer};
use chat_model::{FolderPath, Source};
use chat_store::Store;
use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SourceArg {
    Auto,
    Chatgpt,
    Claude,
    Gemini,
    Copilot,
}

/// Import chat exports into an AI OS Chat database (or export it).
///
/// PATHs may be files, folders (walked) or zip archives (read in place). The source of each
/// file is detected from its content. Re-running an import is safe: unchanged conversations are
/// recognised and skipped, grown ones gain only their new messages.
///
/// Exit status: 0 everything imported or unchanged; 1 some items failed, others imported;
/// 2 nothing could be read (missing path, unknown format, usage error).
#[derive(Debug, Parser)]
#[command(name = "chat-import", version, max_term_width = 100)]
struct Cli {
    /// The database: a SQLite file (created if missing) or a PostgreSQL URL
    /// (`postgres://user:password@host:5432/chat?sslmode=require`).
    #[arg(long, env = "CHAT_DB", default_value = "chat.db")]
    db: PathBuf,

    /// Force a source instead of detecting it.
    #[arg(long, value_enum, default_value_t = SourceArg::Auto)]
    source: SourceArg,

    /// The folder imported conversations land in (default: imported/<source>).
    #[arg(long)]
    folder: Option<String>,

    /// Parse and report without writing anything.
    #[arg(long)]
    dry_run: bool,

    /// Print exactly one JSON report on stdout.
    #[arg(long)]
    json: bool,

    /// No progress bar and no summary on stderr.
    #[arg(long, short)]
    quiet: bool,

    /// Export every conversation as one Markdown file into this folder, instead of importing.
    /// The images, recordings and files they show are written once each to DIR/media/ and
    /// linked from the files.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["paths", "export_json", "export_finetune"])]
    export_md: Option<PathBuf>,

    /// Export every conversation (whole trees) as one JSON file, instead of importing.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["paths", "export_finetune"])]
    export_json: Option<PathBuf>,

    /// With --export-json: write one zip (FILE must end in .zip) holding conversations.json
    /// and the bytes of every media item it refers to (media/<hash>.<ext>), which imports
    /// back identical, media included.
    #[arg(long, requires = "export_json")]
    with_media: bool,

    /// Export up-rated answers as fine-tuning JSONL, instead of importing.
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    export_finetune: Option<PathBuf>,

    /// Copy the whole store (--db) into this database instead of importing: a SQLite file
    /// or a PostgreSQL URL, empty or holding an earlier (perhaps interrupted) copy. Streams,
    /// shows progress and verifies every conversation by hash at the end.
    #[arg(long, value_name = "DB", conflicts_with_all = ["paths", "export_md", "export_json", "export_finetune"])]
    copy_to: Option<PathBuf>,

    /// Back the SQLite store (--db) up into this new file with SQLite's online backup, while
    /// chat-server keeps running on it (PostgreSQL: use pg_dump; see docs/deploy.md).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["paths", "export_md", "export_json", "export_finetune", "copy_to"])]
    backup_to: Option<PathBuf>,

    /// Files, folders or zip archives to import.
    #[arg(required_unless_present_any = ["export_md", "export_json", "export_finetune", "copy_to", "backup_to"])]
    paths: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CHAT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("chat-import: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `--copy-to`: the whole store into `target`, with progress on stderr.
fn copy(store: &Store, target: &std::path::Path, quiet: bool) -> Result<ExitCode> {
    let to = Store::open(target).with_context(|| {
        format!(
            "cannot open the target database {}",
            chat_store::display_location(target)
        )
    })?;
    let mut show = |p: &chat_import::copy::CopyProgress| {
        if !quiet {
            eprintln!(
                "{}: {} conversations, {} messages",
                p.phase, p.conversations, p.messages
            );
        }
    };
    let report = chat_import::copy::copy_store(store, &to, &mut show)
        .context("the copy did not complete; run the same command again to finish it")?;
    to.checkpoint()?;
    if !quiet {
        eprintln!(
            "copied and verified {} conversations ({} messages), {} import runs ({} quarantined \
             items), {} import jobs, {} settings and {} media items ({} written, {} bytes) \
             from {} to {}",
            report.conversations,
            report.messages,
            report.import_runs,
            report.quarantined,
            report.import_jobs,
            report.settings,
            report.media,
            report.media_written,
            report.media_bytes,
            store.describe(),
            to.describe()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run(cli: Cli) -> Result<ExitCode> {
    let store = Store::open(&cli.db).with_context(|| {
        format!(
            "cannot open the database {}",
            chat_store::display_location(&cli.db)
        )
    })?;
    if let Some(target) = &cli.copy_to {
        return copy(&store, target, cli.quiet);
    }
    if let Some(file) = &cli.backup_to {
        store.backup_to(file).context("the backup failed")?;
        if !cli.quiet {
            eprintln!("backed up {} to {}", store.describe(), file.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(dir) = &cli.export_md {
        let written = export::markdown(&store, dir)?;
        export::summary(cli.quiet, dir, &written);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(file) = &cli.export_json {
        if cli.with_media {
            let written = export::zip(&store, file)?;
            export::summary(cli.quiet, file, &written);
            return Ok(ExitCode::SUCCESS);
        }
        let n = export::to_file(&store, chat_export::Format::Json, file)?.conversations;
        if !cli.quiet {
            eprintln!("exported {n} conversations to {}", file.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(file) = &cli.export_finetune {
        let n = export::to_file(&store, chat_export::Format::Finetune, file)?.items;
        if !cli.quiet {
            eprintln!("wrote {n} fine-tuning examples to {}", file.display());
        }
        return Ok(ExitCode::SUCCESS);
    }

    let folder = match &cli.folder {
        Some(f) => Some(FolderPath::new(f).context("invalid --folder")?),
        None => None,
    };
    let source = match cli.source {
        SourceArg::Auto => None,
        SourceArg::Chatgpt => Some(Source::Chatgpt),
        SourceArg::Claude => Some(Source::Claude),
        SourceArg::Gemini => Some(Source::Gemini),
        SourceArg::Copilot => Some(Source::Copilot),
    };
    let mut options = ImportOptions {
        source,
        folder,
        dry_run: cli.dry_run,
        ..ImportOptions::default()
    };
    let show_progress = !cli.quiet && std::io::stderr().is_terminal();
    let bar = show_progress.then(progress_bar);
    if let Some(bar) = &bar {
        let bar = bar.clone();
        options.progress = Some(Arc::new(move |p: &chat_import::Progress| {
            if p.bytes_total > 0 {
                bar.set_length(p.bytes_total);
            }
            bar.set_position(p.bytes_read);
            bar.set_message(format!("{} conversations", p.conversations));
        }));
    }
    // Ctrl-C keeps its default (end the process): every batch is one transaction, so an
    // interrupted run leaves a consistent database and running it again completes it.
    let report = Importer::new(store.clone())
        .run(&cli.paths, &options)
        .context("the import stopped")?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if cli.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    }
    if !cli.quiet {
        print_summary(&report, cli.json);
    }
    if options.cancel.load(Ordering::Relaxed) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::from(report.outcome().exit_code()))
}

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn print_summary(report: &ImportReport, json: bool) {
    let t = &report.totals;
    let verb = if report.dry_run {
        "would import"
    } else {
        "imported"
    };
    eprintln!(
        "{verb} {} new, {} updated, {} unchanged conversations ({} new messages); {} skipped, {} failed",
        t.imported, t.updated, t.unchanged, t.messages, t.skipped, t.failed
    );
    if !t.media.is_empty() {
        eprintln!(
            "media: {} stored, {} already stored, {} not in the export (kept as references)",
            t.media.stored, t.media.deduplicated, t.media.missing
        );
    }
    for input in &report.inputs {
        let source = input.source.map_or("unrecognised", |s| s.label());
        eprintln!(
            "  {} [{source}]: {} seen, {} new, {} updated, {} unchanged, {} failed",
            input.path,
            input.counts.seen,
            input.counts.imported,
            input.counts.updated,
            input.counts.unchanged,
            input.counts.failed
        );
    }
    if json {
        return;
    }
    for (path, e) in report.errors() {
        eprintln!();
        eprintln!("✗ {path}: {}", e.item);
        eprintln!("  what:  {}", e.error);
        eprintln!("  fix:   {}", e.hint);
        if let Some(q) = e.quarantine_id {
            eprintln!("  kept:  the raw bytes are quarantined (id {q}) for a later retry");
        }
    }
    if !report.ignored.is_empty() {
        eprintln!(
            "passed over {} files that are not chat exports",
            report.ignored.len()
        );
    }
}

mod export {
    use std::fs::File;
    use std::io::{BufWriter, Write};
    use std::path::Path;

    use anyhow::{Context, Result};
    use chat_export::bundle::{self, BundleWritten};
    use chat_export::{Format, Written};
    use chat_store::{ArchivedFilter, ListQuery, Store};

    /// What every bulk export reads: all conversations, archived ones too.
    fn everything() -> ListQuery {
        ListQuery {
            archived: ArchivedFilter::All,
            ..ListQuery::default()
        }
    }

    /// One Markdown file per conversation in `dir`, their media in `dir/media/`.
    pub fn markdown(store: &Store, dir: &Path) -> Result<BundleWritten> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        bundle::write_markdown_dir(store, store.conversation_details(everything()), dir)
            .with_context(|| format!("cannot export to {}", dir.display()))
    }

    /// Every conversation (JSON) and its media into one zip `file`.
    pub fn zip(store: &Store, file: &Path) -> Result<BundleWritten> {
        if !file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            anyhow::bail!(
                "--with-media writes a zip archive: name it with .zip (e.g. {}.zip), so that \
                 importing it reads it as one",
                file.with_extension("").display()
            );
        }
        let out = BufWriter::new(
            File::create(file).with_context(|| format!("cannot write {}", file.display()))?,
        );
        let details = store.conversation_details(everything());
        let (written, mut out) = bundle::write_zip(store, Format::Json, details, out)
            .with_context(|| format!("cannot export to {}", file.display()))?;
        out.flush()?;
        Ok(written)
    }

    /// Says on stderr what an export with media wrote to `dest` (unless `quiet`).
    pub fn summary(quiet: bool, dest: &Path, w: &BundleWritten) {
        if quiet {
            return;
        }
        let mut media = String::new();
        if w.media > 0 || w.missing > 0 {
            media = format!("; {} media items ({} bytes)", w.media, w.media_bytes);
        }
        if w.missing > 0 {
            media.push_str(&format!(
                ", {} referred to but not in the database (kept as references)",
                w.missing
            ));
        }
        let n = w.conversations;
        eprintln!("exported {n} conversations to {}{media}", dest.display());
    }

    /// Every conversation into one `file` in `format`.
    pub fn to_file(store: &Store, format: Format, file: &Path) -> Result<Written> {
        let out = BufWriter::new(
            File::create(file).with_context(|| format!("cannot write {}", file.display()))?,
        );
        let mut writer = format.writer(out)?;
        for detail in store.conversation_details(everything()) {
            writer.push(&detail?)?;
        }
        Ok(writer.finish()?)
    }
}
