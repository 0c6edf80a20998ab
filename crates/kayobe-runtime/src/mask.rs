//! Masking secret values in a container's output as it streams.
//!
//! Output arrives in chunks cut anywhere, even inside a secret or a UTF-8
//! character, so the masker works on bytes and only lets a byte go once no
//! secret occurrence can still cover it: whole lines, or — for a line longer
//! than [`MAX_PENDING`] — all but the last `longest secret - 1` bytes.

/// What a secret value is replaced with.
pub const MASK: &str = "********";

/// How many bytes of an unfinished line are held back before part of it is
/// let out (a progress bar without newlines must not grow memory forever).
const MAX_PENDING: usize = 64 * 1024;

/// Replaces secret values in a byte stream, line by line.
pub(crate) struct Masker {
    /// Longest first, so a secret containing another is masked whole.
    secrets: Vec<Vec<u8>>,
    pending: Vec<u8>,
    max_pending: usize,
}

impl Masker {
    /// A masker of `secrets` (empty values are ignored).
    pub(crate) fn new(secrets: impl IntoIterator<Item = Vec<u8>>) -> Self {
        let mut secrets: Vec<Vec<u8>> = secrets
            .into_iter()
            .filter(|secret| !secret.is_empty())
            .collect();
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        Self {
            secrets,
            pending: Vec::new(),
            max_pending: MAX_PENDING,
        }
    }

    /// Takes the next chunk; calls `emit(text, line_ended)` for every piece
    /// that can be let out, masked.
    pub(crate) fn push(&mut self, chunk: &[u8], emit: &mut impl FnMut(&str, bool)) {
        self.pending.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(offset) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let end = start + offset;
            let line = self.pending[start..end]
                .strip_suffix(b"\r")
                .unwrap_or(&self.pending[start..end]);
            let (masked, _) = self.mask_until(line, line.len());
            emit(&String::from_utf8_lossy(&masked), true);
            start = end + 1;
        }
        self.pending.drain(..start);
        if self.pending.len() > self.max_pending {
            let longest = self.secrets.first().map_or(0, Vec::len);
            let cut = (self.pending.len() + 1).saturating_sub(longest.max(1));
            let (masked, consumed) = self.mask_until(&self.pending, cut);
            if consumed > 0 {
                emit(&String::from_utf8_lossy(&masked), false);
                self.pending.drain(..consumed);
            }
        }
    }

    /// Lets out what is left at the end of the stream.
    pub(crate) fn finish(mut self, emit: &mut impl FnMut(&str, bool)) {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            let (masked, _) = self.mask_until(&pending, pending.len());
            emit(&String::from_utf8_lossy(&masked), false);
        }
    }

    /// `text` masked from its start until the first position at or after
    /// `cut` that no secret occurrence covers; the masked bytes and how many
    /// bytes of `text` they stand for.
    fn mask_until(&self, text: &[u8], cut: usize) -> (Vec<u8>, usize) {
        let mut masked = Vec::with_capacity(text.len());
        let mut at = 0;
        while at < cut {
            match self
                .secrets
                .iter()
                .find(|secret| text[at..].starts_with(secret))
            {
                Some(secret) => {
                    masked.extend_from_slice(MASK.as_bytes());
                    at += secret.len();
                }
                None => {
                    masked.push(text[at]);
                    at += 1;
                }
            }
        }
        (masked, at)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Everything the masker lets out, `\n` after each ended line.
    fn run(secrets: &[&str], chunks: &[&[u8]], max_pending: usize) -> String {
        let mut masker = Masker::new(secrets.iter().map(|s| s.as_bytes().to_vec()));
        masker.max_pending = max_pending;
        let mut out = String::new();
        let mut emit = |text: &str, ended: bool| {
            out.push_str(text);
            if ended {
                out.push('\n');
            }
        };
        for chunk in chunks {
            masker.push(chunk, &mut emit);
        }
        masker.finish(&mut emit);
        out
    }

    #[test]
    fn masks_secrets_split_across_chunks() {
        let out = run(
            &["hunter2", "hunt"],
            &[b"pass: hun", b"ter2 and hu", b"nt\r\nend"],
            MAX_PENDING,
        );
        assert_eq!(out, "pass: ******** and ********\nend");
    }

    proptest! {
        /// However the output is cut into chunks and however small the
        /// holding limit, what comes out is the whole output masked at once,
        /// and no secret survives.
        #[test]
        fn chunking_never_changes_the_masked_output(
            secret in "[a-c]{1,6}",
            text in "[a-c\n]{0,80}",
            cuts in proptest::collection::vec(0usize..80, 0..8),
            max_pending in 1usize..12,
        ) {
            let bytes = text.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|cut| cut.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut last = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                chunks.push(&bytes[last..cut]);
                last = cut;
            }
            let whole = run(&[&secret], &[bytes], usize::MAX);
            let chunked = run(&[&secret], &chunks, max_pending);
            prop_assert_eq!(&chunked, &whole);
            for line in whole.split('\n') {
                prop_assert!(!line.contains(secret.as_str()), "{:?} in {:?}", secret, line);
            }
        }
    }
}
