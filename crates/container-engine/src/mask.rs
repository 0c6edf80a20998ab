//! Masking secret values in a container's output as it streams.
//!
//! Output arrives in chunks cut anywhere, even inside a secret or a UTF-8
//! character, so the masker works on bytes. Every byte that any occurrence
//! of any secret covers is masked — occurrences that overlap, or a secret
//! that is the prefix of another, make one masked run, so no tail of a longer
//! secret is ever let through after a shorter one matched. A byte is only let
//! out once no occurrence can still cover it: whole lines, or — for a line
//! longer than [`MAX_PENDING`] — all but the last `longest secret - 1` bytes.

/// What a run of secret bytes is replaced with.
pub const MASK: &str = "********";

/// How many bytes of an unfinished line are held back before part of it is
/// let out (a progress bar without newlines must not grow memory forever).
const MAX_PENDING: usize = 64 * 1024;

/// Replaces secret values in a byte stream, line by line.
pub struct Masker {
    secrets: Vec<Vec<u8>>,
    longest: usize,
    pending: Vec<u8>,
    max_pending: usize,
}

impl Masker {
    /// A masker of `secrets` (empty values are ignored).
    pub fn new(secrets: impl IntoIterator<Item = Vec<u8>>) -> Self {
        let mut secrets: Vec<Vec<u8>> = secrets
            .into_iter()
            .filter(|secret| !secret.is_empty())
            .collect();
        secrets.sort();
        secrets.dedup();
        let longest = secrets.iter().map(Vec::len).max().unwrap_or(0);
        Self {
            secrets,
            longest,
            pending: Vec::new(),
            max_pending: MAX_PENDING,
        }
    }

    /// Takes the next chunk; calls `emit(text, line_ended)` for every piece
    /// that can be let out, masked.
    pub fn push(&mut self, chunk: &[u8], emit: &mut impl FnMut(&str, bool)) {
        self.pending.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(offset) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let end = start + offset;
            let line = self.pending[start..end]
                .strip_suffix(b"\r")
                .unwrap_or(&self.pending[start..end]);
            let covered = self.covered(line);
            emit(&render(line, &covered), true);
            start = end + 1;
        }
        self.pending.drain(..start);
        if self.pending.len() > self.max_pending {
            self.let_out_decided(emit);
        }
    }

    /// Lets out what is left at the end of the stream.
    pub fn finish(mut self, emit: &mut impl FnMut(&str, bool)) {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            let covered = self.covered(&pending);
            emit(&render(&pending, &covered), false);
        }
    }

    /// Lets out the start of an unfinished line as far as every byte's fate
    /// is known: an occurrence covering a byte before `cut` lies wholly in
    /// what has arrived, and the piece must not end inside a masked run that
    /// may go on (the run is then let out whole, later).
    fn let_out_decided(&mut self, emit: &mut impl FnMut(&str, bool)) {
        let cut = (self.pending.len() + 1).saturating_sub(self.longest.max(1));
        let covered = self.covered(&self.pending);
        let end = (1..=cut)
            .rev()
            .find(|&end| !covered[end - 1] || (end < cut && !covered[end]))
            .unwrap_or(0);
        if end > 0 {
            emit(&render(&self.pending[..end], &covered[..end]), false);
            self.pending.drain(..end);
        }
    }

    /// Which bytes of `text` some occurrence of some secret covers.
    fn covered(&self, text: &[u8]) -> Vec<bool> {
        let mut covered = vec![false; text.len()];
        for secret in &self.secrets {
            let mut from = 0;
            while let Some(at) = find(&text[from..], secret) {
                let start = from + at;
                covered[start..start + secret.len()].fill(true);
                from = start + 1;
            }
        }
        covered
    }
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// `text` with each run of covered bytes replaced by [`MASK`].
fn render(text: &[u8], covered: &[bool]) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut in_mask = false;
    for (&byte, &hidden) in text.iter().zip(covered) {
        if hidden {
            if !in_mask {
                out.extend_from_slice(MASK.as_bytes());
            }
        } else {
            out.push(byte);
        }
        in_mask = hidden;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Everything the masker lets out, `\n` after each ended line.
    fn run(secrets: &[String], chunks: &[&[u8]], max_pending: usize) -> String {
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

    fn owned(secrets: &[&str]) -> Vec<String> {
        secrets.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn masks_secrets_split_across_chunks() {
        let out = run(
            &owned(&["hunter2", "hunt"]),
            &[b"pass: hun", b"ter2 and hu", b"nt\r\nend"],
            MAX_PENDING,
        );
        assert_eq!(out, "pass: ******** and ********\nend");
    }

    #[test]
    fn a_shorter_prefix_secret_never_lets_the_longer_ones_tail_through() {
        // Listed shortest first: a masker replacing secrets one after the
        // other would print `********word`.
        let out = run(&owned(&["pass", "password"]), &[b"x password y"], 4);
        assert_eq!(out, "x ******** y");
        // Overlapping secrets make one masked run.
        let out = run(&owned(&["abcd", "cdef"]), &[b"-abcdef-"], MAX_PENDING);
        assert_eq!(out, "-********-");
    }

    proptest! {
        /// Overlapping and prefix secrets, the output cut at every chunk
        /// boundary (one cut at each position, and byte by byte) and any
        /// holding limit: what comes out is the whole output masked at once,
        /// and no secret survives.
        #[test]
        fn every_chunk_boundary_gives_the_same_masked_output(
            secrets in proptest::collection::vec("[a-c]{1,5}", 1..4),
            text in "[a-c\n]{0,40}",
            max_pending in 1usize..12,
        ) {
            let bytes = text.as_bytes();
            let whole = run(&secrets, &[bytes], usize::MAX);
            for line in whole.split('\n') {
                for secret in &secrets {
                    prop_assert!(!line.contains(secret.as_str()), "{:?} in {:?}", secret, line);
                }
            }
            for cut in 0..=bytes.len() {
                let chunked = run(&secrets, &[&bytes[..cut], &bytes[cut..]], max_pending);
                prop_assert_eq!(&chunked, &whole, "cut at {}", cut);
            }
            let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
            prop_assert_eq!(&run(&secrets, &bytewise, max_pending), &whole);
        }
    }
}
