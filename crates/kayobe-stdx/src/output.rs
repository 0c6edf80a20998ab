//! The one output writer: every file a command writes goes through here.
//!
//! - **`-`** is standard output.
//! - **FIFOs and character devices** are written through (opened for
//!   writing, never replaced): `--output /dev/stdout` or a named pipe gets
//!   the data, and `/dev/null` stays a device.
//! - **Regular files** are replaced atomically: the data goes to a
//!   temporary file in the same directory (created 0600), which is synced,
//!   given the target's mode and owner, and renamed over the target; the
//!   directory is then synced. A failure leaves the target as it was.
//! - **Symbolic links** are followed to their target (as `ansible-vault`
//!   follows them), which is replaced; the link stays a link.
//! - **Modes**: a replaced file keeps its mode, a new one gets
//!   [`OutputOptions`]'s; a mode is never wider than the options' maximum
//!   (plaintext decrypted from a vault: 0600).
//! - **Inputs**: writing onto a file the same command reads (by device and
//!   inode, so through links too) is refused before anything is written.
//! - Directories, sockets and block devices are refused.
//!
//! [`write_set`] writes several files all or nothing.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Seek, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How an output file is written.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    new_mode: u32,
    max_mode: u32,
    keep_mode: bool,
    inputs: Vec<PathBuf>,
    create_parents: bool,
    durable: bool,
}

impl OutputOptions {
    /// A file others may read: 0644 when new (reports, workflows, diffs).
    pub fn public() -> Self {
        Self::with_modes(0o644, 0o7777)
    }

    /// A file only its owner reads: 0600 when new (vaulted text).
    pub fn private() -> Self {
        Self::with_modes(0o600, 0o7777)
    }

    /// A secret in plaintext (decrypted vault text, unseal keys): 0600 when
    /// new, and a replaced file's mode narrowed to at most 0600.
    pub fn secret() -> Self {
        Self::with_modes(0o600, 0o600)
    }

    /// A file that gets exactly `mode`, replaced or new (files whose mode
    /// is part of what is rendered, e.g. a runner's host files).
    pub fn exactly(mode: u32) -> Self {
        Self {
            keep_mode: false,
            ..Self::with_modes(mode, 0o7777)
        }
    }

    fn with_modes(new_mode: u32, max_mode: u32) -> Self {
        Self {
            new_mode,
            max_mode,
            keep_mode: true,
            inputs: Vec::new(),
            create_parents: false,
            durable: true,
        }
    }

    /// Refuses to write onto any of `inputs` (the files the command reads).
    pub fn refusing_inputs<P: AsRef<Path>>(mut self, inputs: impl IntoIterator<Item = P>) -> Self {
        self.inputs
            .extend(inputs.into_iter().map(|path| path.as_ref().to_path_buf()));
        self
    }

    /// Creates missing parent directories of a regular file.
    pub fn creating_parents(mut self) -> Self {
        self.create_parents = true;
        self
    }

    /// For a file made again from its input at will (a report): still
    /// renamed into place whole, but not synced to disk, which for a large
    /// report costs more than writing it, and the old version removed just
    /// before (see `Staged::rename`). A crash may then lose the file, never
    /// leave half of it.
    pub fn regenerable(mut self) -> Self {
        self.durable = false;
        self
    }
}

/// Why an output could not be written. Never holds the data.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file system call failed.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// The output (as named) or the temporary file.
        path: PathBuf,
        /// What was being done, e.g. `write`.
        action: &'static str,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The output is a file the same command reads.
    #[error(
        "refusing to write {}: it is the input {} of this command; write the output to another file",
        .path.display(),
        .input.display()
    )]
    IsInput {
        /// The output.
        path: PathBuf,
        /// The input it is.
        input: PathBuf,
    },
    /// The output is something that cannot hold the data.
    #[error(
        "cannot write {}: it is a {kind}; name a regular file, a FIFO, a character device or `-`",
        .path.display()
    )]
    Unsupported {
        /// The output.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// A set of files must be regular files to be written all or nothing.
    #[error(
        "cannot write {} with the other files all or nothing: it is a {kind}, not a regular file",
        .path.display()
    )]
    NotRegularInSet {
        /// The output.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
}

fn io_error<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(io::Error) -> OutputError + 'a {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Where an output goes, once looked at.
enum Target {
    Stdout,
    /// A FIFO or a character device (`kind`), to be written through.
    Through(&'static str),
    /// A regular file (or none yet) at `path`, links resolved.
    Replace {
        path: PathBuf,
        previous: Option<Metadata>,
    },
}

fn kind_of(metadata: &Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_dir() {
        "directory"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_block_device() {
        "block device"
    } else if kind.is_fifo() {
        "FIFO"
    } else if kind.is_char_device() {
        "character device"
    } else {
        "regular file"
    }
}

fn look_at(given: &Path, options: &OutputOptions) -> Result<Target, OutputError> {
    if given == Path::new("-") {
        return Ok(Target::Stdout);
    }
    // `metadata` follows links, magic ones (`/dev/stdout`) included.
    let metadata = match std::fs::metadata(given) {
        Ok(metadata) => Some(metadata),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(io_error(given, "inspect")(error)),
    };
    let Some(metadata) = metadata else {
        return Ok(Target::Replace {
            path: resolve_links(given)?,
            previous: None,
        });
    };
    for input in &options.inputs {
        if input == Path::new("-") {
            continue;
        }
        if let Ok(read) = std::fs::metadata(input) {
            if (read.dev(), read.ino()) == (metadata.dev(), metadata.ino()) {
                return Err(OutputError::IsInput {
                    path: given.to_path_buf(),
                    input: input.clone(),
                });
            }
        }
    }
    let kind = metadata.file_type();
    if kind.is_fifo() || kind.is_char_device() {
        return Ok(Target::Through(kind_of(&metadata)));
    }
    if kind.is_file() {
        let path = std::fs::canonicalize(given).map_err(io_error(given, "resolve"))?;
        return Ok(Target::Replace {
            path,
            previous: Some(metadata),
        });
    }
    Err(OutputError::Unsupported {
        path: given.to_path_buf(),
        kind: kind_of(&metadata),
    })
}

/// `given` with a chain of (dangling) symbolic links followed: the path a
/// new file is created at.
fn resolve_links(given: &Path) -> Result<PathBuf, OutputError> {
    let mut path = given.to_path_buf();
    // Linux's limit on links followed in one lookup.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let target = std::fs::read_link(&path).map_err(io_error(given, "read the link"))?;
                path = match path.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(io_error(given, "resolve")(io::Error::other(
        "too many levels of symbolic links",
    )))
}

/// Distinguishes the temporary files of one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A sibling of `path` no one else uses: `.NAME.PID.N.SUFFIX`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(
        ".{name}.{}.{}.{suffix}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// A temporary file beside the file it will replace.
struct Staged {
    file: File,
    temp: PathBuf,
    path: PathBuf,
    mode: u32,
    owner: Option<(u32, u32)>,
    existed: bool,
    renamed: bool,
    durable: bool,
}

impl Staged {
    fn create(
        path: PathBuf,
        previous: Option<&Metadata>,
        options: &OutputOptions,
    ) -> Result<Self, OutputError> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if path.file_name().is_none() {
            return Err(OutputError::Unsupported {
                path,
                kind: "directory",
            });
        }
        if options.create_parents {
            std::fs::create_dir_all(&dir).map_err(io_error(&dir, "create the directory"))?;
        }
        let temp = sibling(&path, "tmp");
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(io_error(&path, "create a temporary file beside"))?;
        let kept = previous.filter(|_| options.keep_mode);
        let mode = kept.map_or(options.new_mode, |m| m.mode() & 0o7777) & options.max_mode;
        Ok(Self {
            file,
            temp,
            path,
            mode,
            owner: previous.map(|m| (m.uid(), m.gid())),
            existed: previous.is_some(),
            renamed: false,
            durable: options.durable,
        })
    }

    /// Cuts the file where writing stopped, gives it its mode and owner, and syncs it.
    fn finish(&mut self) -> Result<(), OutputError> {
        let path = self.path.clone();
        let end = self
            .file
            .stream_position()
            .map_err(io_error(&path, "write"))?;
        self.file.set_len(end).map_err(io_error(&path, "write"))?;
        self.file
            .set_permissions(std::fs::Permissions::from_mode(self.mode))
            .map_err(io_error(&path, "set the mode of"))?;
        if let Some((uid, gid)) = self.owner {
            let current = self.file.metadata().map_err(io_error(&path, "inspect"))?;
            if (current.uid(), current.gid()) != (uid, gid) {
                // Only root may give a file away; anyone else keeps ownership.
                match std::os::unix::fs::fchown(&self.file, Some(uid), Some(gid)) {
                    Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {}
                    other => other.map_err(io_error(&path, "set the owner of"))?,
                }
            }
        }
        if self.durable {
            self.file.sync_all().map_err(io_error(&path, "sync"))?;
        }
        Ok(())
    }

    fn rename(&mut self) -> Result<(), OutputError> {
        if !self.durable {
            // ext4 writes out a file renamed over another before the rename
            // returns (`auto_da_alloc`), which costs more than a report: a
            // regenerable file's old version is removed first instead.
            match std::fs::remove_file(&self.path) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => {
                    return Err(io_error(&self.path, "replace")(error));
                }
                _ => {}
            }
        }
        std::fs::rename(&self.temp, &self.path).map_err(io_error(&self.path, "replace"))?;
        self.renamed = true;
        Ok(())
    }

    fn sync_dir(&self) {
        if !self.durable {
            return;
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Makes the rename durable; not every file system supports it.
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

enum Sink {
    Stdout(io::Stdout),
    Through(File),
    Staged(Staged),
}

/// An output being written: [`Write`] to it, then [`OutputFile::commit`].
/// Dropped without committing, a regular file's target is left as it was.
pub struct OutputFile {
    given: PathBuf,
    sink: Sink,
}

impl std::fmt::Debug for OutputFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputFile")
            .field("path", &self.given)
            .finish_non_exhaustive()
    }
}

impl OutputFile {
    /// Opens `target` (`-`: standard output) for writing as the module
    /// docs say. Refusals and failures to open come before any write.
    pub fn create(target: &Path, options: &OutputOptions) -> Result<Self, OutputError> {
        let sink = match look_at(target, options)? {
            Target::Stdout => Sink::Stdout(io::stdout()),
            // Opening a FIFO waits for its reader, as `cat > FIFO` does.
            Target::Through(_) => Sink::Through(
                OpenOptions::new()
                    .write(true)
                    .open(target)
                    .map_err(io_error(target, "open for writing"))?,
            ),
            Target::Replace { path, previous } => {
                Sink::Staged(Staged::create(path, previous.as_ref(), options)?)
            }
        };
        Ok(Self {
            given: target.to_path_buf(),
            sink,
        })
    }

    /// The output as named.
    pub fn path(&self) -> &Path {
        &self.given
    }

    /// Sets `bytes` of disk space aside for what will be written, and
    /// syncs it, so that writing up to that much later cannot run out of
    /// space (on file systems that overwrite in place). Nothing for a
    /// FIFO, a device or standard output.
    pub fn reserve(&mut self, bytes: u64) -> Result<(), OutputError> {
        let Sink::Staged(staged) = &mut self.sink else {
            return Ok(());
        };
        let path = staged.path.clone();
        let block = [0u8; 8192];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            staged
                .file
                .write_all(&block[..n])
                .map_err(io_error(&path, "set space aside for"))?;
            left -= n as u64;
        }
        staged
            .file
            .sync_all()
            .map_err(io_error(&path, "set space aside for"))?;
        staged
            .file
            .seek(io::SeekFrom::Start(0))
            .map_err(io_error(&path, "set space aside for"))?;
        Ok(())
    }

    /// The staged file, for a writer that goes back to fill in a header
    /// once the rest is written; `None` when the output is written through
    /// (standard output, a FIFO, a device), where there is no going back.
    /// The output ends where the file's position is at the commit (the
    /// space [`OutputFile::reserve`] set aside is cut off there), so a
    /// writer that went back returns to the end first.
    pub fn seekable(&mut self) -> Option<&mut File> {
        match &mut self.sink {
            Sink::Staged(staged) => Some(&mut staged.file),
            Sink::Stdout(_) | Sink::Through(_) => None,
        }
    }

    /// Finishes the output: a regular file is synced and renamed over its
    /// target; anything else is flushed.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let given = self.given.clone();
        match &mut self.sink {
            Sink::Stdout(stdout) => stdout.flush().map_err(io_error(&given, "write")),
            Sink::Through(file) => file.flush().map_err(io_error(&given, "write")),
            Sink::Staged(staged) => {
                staged.finish()?;
                staged.rename()?;
                staged.sync_dir();
                Ok(())
            }
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Stdout(stdout) => stdout.write(buf),
            Sink::Through(file) => file.write(buf),
            Sink::Staged(staged) => staged.file.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(stdout) => stdout.lock().write_all(buf),
            Sink::Through(file) => file.write_all(buf),
            Sink::Staged(staged) => staged.file.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(stdout) => stdout.flush(),
            Sink::Through(file) => file.flush(),
            Sink::Staged(staged) => staged.file.flush(),
        }
    }
}

/// Writes `data` to `target` ([`OutputFile`]: `-`, FIFOs and devices
/// through, regular files atomically).
pub fn write_output(
    target: &Path,
    data: &[u8],
    options: &OutputOptions,
) -> Result<(), OutputError> {
    let mut output = OutputFile::create(target, options)?;
    output.write_all(data).map_err(io_error(target, "write"))?;
    output.commit()
}

/// Writes every `(path, data)` pair all or nothing: each file is staged
/// and synced first; then each is renamed over its target, and if one
/// rename fails the files already replaced are put back (from hard links
/// made before the first rename) and the new ones removed. Every target
/// must be a regular file or absent (links followed).
pub fn write_set<P: AsRef<Path>, D: AsRef<[u8]>>(
    files: &[(P, D)],
    options: &OutputOptions,
) -> Result<(), OutputError> {
    let mut staged = Vec::with_capacity(files.len());
    for (given, data) in files {
        let given = given.as_ref();
        let (path, previous) = match look_at(given, options)? {
            Target::Replace { path, previous } => (path, previous),
            Target::Stdout => {
                return Err(OutputError::NotRegularInSet {
                    path: given.to_path_buf(),
                    kind: "standard output",
                });
            }
            Target::Through(kind) => {
                return Err(OutputError::NotRegularInSet {
                    path: given.to_path_buf(),
                    kind,
                });
            }
        };
        let mut file = Staged::create(path, previous.as_ref(), options)?;
        file.file
            .write_all(data.as_ref())
            .map_err(io_error(given, "write"))?;
        file.finish()?;
        staged.push(file);
    }
    let mut backups = Backups(Vec::new());
    for file in &staged {
        if file.existed {
            let backup = sibling(&file.path, "bak");
            std::fs::hard_link(&file.path, &backup)
                .map_err(io_error(&file.path, "keep a copy of"))?;
            backups.0.push((file.path.clone(), backup));
        }
    }
    for at in 0..staged.len() {
        if let Err(error) = staged[at].rename() {
            for done in &staged[..at] {
                match backups.0.iter().find(|(path, _)| *path == done.path) {
                    Some((path, backup)) => {
                        let _ = std::fs::rename(backup, path);
                    }
                    None => {
                        let _ = std::fs::remove_file(&done.path);
                    }
                }
            }
            return Err(error);
        }
    }
    for file in &staged {
        file.sync_dir();
    }
    Ok(())
}

/// Hard links to the files a set replaces, removed when dropped (a link
/// renamed back over its file is gone already).
struct Backups(Vec<(PathBuf, PathBuf)>);

impl Drop for Backups {
    fn drop(&mut self) {
        for (_, backup) in &self.0 {
            let _ = std::fs::remove_file(backup);
        }
    }
}

#[cfg(test)]
mod tests;
