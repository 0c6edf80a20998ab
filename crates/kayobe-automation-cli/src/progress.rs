//! Progress of long work: a bar on a terminal, plain
//! lines otherwise, so CI logs get a line at the start and at the end rather
//! than a stream of redraws.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use kayobe_automation::diff::tree::Progress;

/// Shows how a tree diff goes, on standard error.
pub struct FileProgress {
    /// What is being compared, to start each plain line with.
    what: &'static str,
    /// The bar, on a terminal only.
    bar: Option<ProgressBar>,
    total: AtomicU64,
    done: AtomicU64,
}

impl FileProgress {
    /// A bar when standard error is a terminal, plain lines otherwise.
    pub fn new(what: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} files")
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar.set_message(what);
            bar
        });
        Self {
            what,
            bar,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
        }
    }
}

impl Progress for FileProgress {
    fn start(&self, paths: u64) {
        self.total.store(paths, Ordering::Relaxed);
        match &self.bar {
            Some(bar) => bar.set_length(paths),
            None => eprintln!("{}: comparing {paths} files", self.what),
        }
    }

    fn compared(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None if done == self.total.load(Ordering::Relaxed) => {
                eprintln!("{}: compared {done} files", self.what);
            }
            None => {}
        }
    }
}

impl Drop for FileProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
