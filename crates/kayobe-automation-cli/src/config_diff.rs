//! `kayobe-automation config-diff`: the configuration Ansible sees per host
//! (or, with `--generated`, the configuration Kayobe generates in its
//! container), compared between two git revisions, secrets masked.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kayobe_automation::config::vault::VaultSecret;
use kayobe_automation::diff::{
    ConfigDiff, DiffError, GenerateOptions, Revisions, diff_generated, diff_revisions_in, html,
    render,
};
use kayobe_automation::runtime::connect_docker;
use kayobe_stdx::{OutputOptions, escape_line, write_output};
use miette::IntoDiagnostic;

use crate::global::Global;
use crate::interrupt::{INTERRUPTED, on_interrupt};
use crate::progress::FileProgress;
use crate::review::{PublishArgs, Review};

/// How to print the diff.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum Format {
    /// Text: a summary line, then each distinct change once under the hosts
    /// it applies to (`@@ compute (1 000 hosts) @@`), `-` lines for the base
    /// and `+` for the target.
    #[default]
    Text,
    /// JSON: a summary, the changes grouped by the hosts they apply to, and
    /// per host the added, removed and changed keys.
    Json,
    /// One self-contained HTML page: a summary, then collapsible sections
    /// per group of changes and per file, with a search box.
    Html,
}

/// The `config-diff` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The revision to compare from (e.g. the merge request's target branch).
    #[arg(long, value_name = "REV")]
    base: String,
    /// The revision to compare to (e.g. the merge request's head).
    #[arg(long, value_name = "REV")]
    target: String,
    /// The output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Write the diff to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Diff the configuration `kayobe overcloud service configuration
    /// generate` writes for each revision, run in the Kayobe container,
    /// instead of the variables Ansible sees.
    #[arg(long)]
    generated: bool,
    /// The Kayobe image that generates (`--generated`).
    #[arg(long, env = "KAYOBE_IMAGE", default_value = "kayobe:latest")]
    image: String,
    /// Kayobe's `--limit` (`--generated`).
    #[arg(long, env = "KAYOBE_LIMIT", value_name = "PATTERN")]
    limit: Option<String>,
    /// Kayobe's `--tags` (`--generated`).
    #[arg(long, env = "KAYOBE_TAGS")]
    tags: Option<String>,
    /// Kayobe's `--kolla-limit` (`--generated`).
    #[arg(long, env = "KOLLA_LIMIT", value_name = "PATTERN")]
    kolla_limit: Option<String>,
    /// Kayobe's `--kolla-tags` (`--generated`).
    #[arg(long, env = "KOLLA_TAGS")]
    kolla_tags: Option<String>,
    /// More arguments for `kayobe`, split on white space (`--generated`).
    #[arg(long, env = "KAYOBE_EXTRA_ARGS", allow_hyphen_values = true)]
    extra_args: Option<String>,
    #[command(flatten)]
    publish: PublishArgs,
}

/// Runs `config-diff`: exit 0 when the revisions' configuration is the same,
/// 1 when it differs (errors exit 2 in `main`).
pub fn run(global: &Global, args: Args) -> miette::Result<ExitCode> {
    let secret = global.optional_vault_secret()?;
    let diff = if args.generated {
        match generated_diff(global, &args, secret.as_ref())? {
            Some(diff) => diff,
            None => {
                eprintln!("config-diff cancelled; its container was stopped and removed");
                return Ok(ExitCode::from(INTERRUPTED));
            }
        }
    } else {
        let scratch = Scratch::create()?;
        scratch
            .unless_interrupted(diff_revisions_in(
                scratch.path(),
                &global.config_path,
                global.environment.as_deref(),
                Revisions {
                    base: &args.base,
                    target: &args.target,
                },
                secret.as_ref(),
                &FileProgress::new("config-diff"),
            ))
            .into_diagnostic()?
    };
    for warning in &diff.warnings {
        eprintln!("warning: {}", escape_line(&warning.to_string()));
    }
    let output = match args.format {
        Format::Text => render::text(&diff),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(&render::json(&diff)).into_diagnostic()?;
            json.push('\n');
            json
        }
        Format::Html => html::page(&diff),
    };
    match &args.out {
        Some(path) => {
            write_output(path, output.as_bytes(), &OutputOptions::public()).into_diagnostic()?
        }
        None => std::io::stdout()
            .lock()
            .write_all(output.as_bytes())
            .into_diagnostic()?,
    }
    let environment = PublishArgs::environment(global.environment.as_deref());
    let review = Review::config_diff(environment, &diff, args.publish.report_url.as_deref());
    if let Some(done) = args.publish.publish(&review)? {
        eprintln!("{done}");
    }
    Ok(if diff.has_changes() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The diff of what Kayobe generates for each revision, in the container;
/// `None` after Ctrl-C.
fn generated_diff(
    global: &Global,
    args: &Args,
    secret: Option<&VaultSecret>,
) -> miette::Result<Option<ConfigDiff>> {
    let options = GenerateOptions {
        image: args.image.clone(),
        environment: global.environment.clone(),
        limit: args.limit.clone(),
        tags: args.tags.clone(),
        kolla_limit: args.kolla_limit.clone(),
        kolla_tags: args.kolla_tags.clone(),
        extra_args: args.extra_args.clone(),
    };
    crate::async_runtime::block_on(async {
        let cancel = on_interrupt()?;
        let docker = connect_docker().await.into_diagnostic()?;
        let diff = diff_generated(
            &docker,
            &global.config_path,
            &args.base,
            &args.target,
            secret,
            &options,
            // Kayobe's output, for the reader of a failed run.
            |line| eprintln!("{line}"),
            cancel,
        )
        .await;
        match diff {
            Ok(diff) => Ok(Some(diff)),
            Err(DiffError::Cancelled) => Ok(None),
            Err(error) => Err(error).into_diagnostic(),
        }
    })?
}

/// A private (0700) temporary directory for the revisions' checkouts,
/// removed when dropped and, since a checkout holds decrypted secrets, also
/// when the process is interrupted (SIGINT, SIGTERM, SIGHUP), after which
/// the process exits 128 + the signal's number.
struct Scratch {
    dir: tempfile::TempDir,
    interrupted: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Scratch {
    fn create() -> miette::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("kayobe-config-diff-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .into_diagnostic()?;
        let path = dir.path().to_path_buf();
        let runtime = crate::async_runtime::runtime()?;
        // Registered before the checkouts exist, so no signal slips between.
        let signals = runtime
            .block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                Ok::<_, std::io::Error>([
                    (signal(SignalKind::interrupt())?, 130),
                    (signal(SignalKind::terminate())?, 143),
                    (signal(SignalKind::hangup())?, 129),
                ])
            })
            .into_diagnostic()?;
        let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = interrupted.clone();
        std::thread::spawn(move || {
            let [(mut interrupt, a), (mut terminate, b), (mut hangup, c)] = signals;
            let code = runtime.block_on(async {
                tokio::select! {
                    _ = interrupt.recv() => a,
                    _ = terminate.recv() => b,
                    _ = hangup.recv() => c,
                }
            });
            interrupted.store(true, std::sync::atomic::Ordering::SeqCst);
            // The export goes on while this runs, and may fill a directory
            // being removed; it only makes directories below `path`, so
            // once `path` is gone it stays gone.
            for _ in 0..1000 {
                match std::fs::remove_dir_all(&path) {
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => break,
                    Ok(()) if !path.exists() => break,
                    _ => {}
                }
            }
            std::process::exit(code);
        });
        Ok(Self {
            dir,
            interrupted: seen,
        })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// `result`, unless an interrupt is clearing the checkouts: then the
    /// error is that clearing's, and the interrupt's exit code is the
    /// answer, so this waits for the signal thread to end the process.
    fn unless_interrupted<T, E>(&self, result: Result<T, E>) -> Result<T, E> {
        if result.is_err() && self.interrupted.load(std::sync::atomic::Ordering::SeqCst) {
            loop {
                std::thread::park();
            }
        }
        result
    }
}
