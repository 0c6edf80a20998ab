//! Folding a stream's events into one result per test run.
//!
//! The rules are testtools' `StreamToExtendedDecorator` (what
//! `subunit2junitxml` uses): `exists` events are ignored; events are grouped
//! by (test id, route code); a group ends at its first final status
//! (anything but none or `inprogress`) and a later event for the same id
//! starts a new one; attachments with empty content are dropped; the latest
//! tags win; events without a test id (stream-level files) are discarded;
//! groups still open at the end of the stream did not complete.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::time::Duration;

use crate::subunit::{Packet, PacketReader, Status, SubunitError, Timestamp};

/// How one test run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Failed.
    Failure,
    /// Passed although expected to fail.
    UnexpectedSuccess,
    /// Started but never ended (the worker died or the stream was cut).
    Incomplete,
    /// Failed, as expected.
    ExpectedFailure,
    /// Skipped.
    Skip,
    /// Passed.
    Success,
}

impl Outcome {
    /// Whether this outcome makes the run fail.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Outcome::Failure | Outcome::UnexpectedSuccess | Outcome::Incomplete
        )
    }

    /// The short name reports use: `fail`, `uxsuccess`, `incomplete`,
    /// `xfail`, `skip`, `success`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Failure => "fail",
            Outcome::UnexpectedSuccess => "uxsuccess",
            Outcome::Incomplete => "incomplete",
            Outcome::ExpectedFailure => "xfail",
            Outcome::Skip => "skip",
            Outcome::Success => "success",
        }
    }
}

/// A file attached to a test (its chunks joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name, e.g. `traceback`, `reason`, `stdout`.
    pub name: String,
    /// The content, cut at [`MAX_ATTACHMENT_BYTES`] per test.
    pub content: Vec<u8>,
}

/// The most attachment bytes kept per test: bounds memory whatever a test
/// prints; the rest is dropped and [`TestResult::attachments_cut`] is set.
pub const MAX_ATTACHMENT_BYTES: usize = 1 << 20;

/// One completed (or abandoned) test run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The test id, e.g. `tempest.api.compute.test_x.TestX.test_y[id-…,smoke]`.
    pub id: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The timestamp of its first event.
    pub start: Option<Timestamp>,
    /// The timestamp of its last timestamped event.
    pub end: Option<Timestamp>,
    /// Its tags (e.g. `worker-0`).
    pub tags: Vec<String>,
    /// Its attached files, in the order first seen.
    pub attachments: Vec<Attachment>,
    /// Whether attachment bytes beyond [`MAX_ATTACHMENT_BYTES`] were dropped.
    pub attachments_cut: bool,
}

impl TestResult {
    /// How long it ran, when both ends have timestamps.
    pub fn duration(&self) -> Option<Duration> {
        self.start?.until(self.end?)
    }

    /// The attachment named `name`, as text.
    pub fn attachment_text(&self, name: &str) -> Option<Cow<'_, str>> {
        self.attachments
            .iter()
            .find(|attachment| attachment.name == name)
            .map(|attachment| String::from_utf8_lossy(&attachment.content))
    }

    /// What to show for this result: the traceback, else the skip reason,
    /// else every attachment under its name; empty when there is none.
    pub fn details(&self) -> String {
        for name in ["traceback", "reason", "reasons"] {
            if let Some(text) = self.attachment_text(name) {
                return text.into_owned();
            }
        }
        let mut text = String::new();
        for attachment in &self.attachments {
            text.push_str(&attachment.name);
            text.push_str(":\n");
            text.push_str(&String::from_utf8_lossy(&attachment.content));
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
        if self.outcome == Outcome::Incomplete && text.is_empty() {
            text.push_str("the test started but did not complete");
        }
        text
    }
}

/// A word-at-a-time multiply-rotate hasher (FxHash's scheme) for the
/// open-test map: every packet looks its test up, and SipHash over ~150-byte
/// Tempest ids cost a third of the read time. The keys come from the stream
/// being reported on, a local file, so flooding resistance is not needed.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(SEED);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type IdMap<V> = HashMap<String, V, std::hash::BuildHasherDefault<IdHasher>>;

/// An open group of events for one test.
struct Pending {
    result: TestResult,
    attachment_bytes: usize,
}

/// Reads a subunit v2 stream and yields each test's result as it completes.
///
/// Memory holds only the tests in progress (about as many as there are
/// workers). After a stream error the iterator yields the error once, then
/// the tests still open as [`Outcome::Incomplete`], then ends: the results
/// read before the error are all delivered.
pub struct ResultReader<R> {
    packets: PacketReader<R>,
    pending: IdMap<Pending>,
    key: String,
    ended: bool,
    unfinished: Option<std::vec::IntoIter<(String, Pending)>>,
}

impl<R: Read> ResultReader<R> {
    /// A reader of results from `source`.
    pub fn new(source: R) -> Self {
        ResultReader {
            packets: PacketReader::new(source),
            pending: IdMap::default(),
            key: String::new(),
            ended: false,
            unfinished: None,
        }
    }

    /// Bytes of the stream read so far.
    pub fn offset(&self) -> u64 {
        self.packets.offset()
    }

    /// Bytes skipped so far as text between packets.
    pub fn text_bytes(&self) -> u64 {
        self.packets.text_bytes()
    }

    fn next_result(&mut self) -> Option<Result<TestResult, SubunitError>> {
        while !self.ended {
            let packet = match self.packets.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => {
                    self.ended = true;
                    break;
                }
                Err(error) => {
                    self.ended = true;
                    return Some(Err(error));
                }
            };
            if let Some(result) = fold(&mut self.pending, &mut self.key, packet) {
                return Some(Ok(result));
            }
        }
        // The tests still open did not complete; sorted so every run gives
        // the same order.
        if self.unfinished.is_none() {
            let mut open: Vec<(String, Pending)> = self.pending.drain().collect();
            open.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            self.unfinished = Some(open.into_iter());
        }
        let (_, pending) = self.unfinished.as_mut()?.next()?;
        Some(Ok(pending.result))
    }
}

impl<R: Read> Iterator for ResultReader<R> {
    type Item = Result<TestResult, SubunitError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_result()
    }
}

/// Applies one packet; returns the result it completes, if any.
fn fold(pending: &mut IdMap<Pending>, key: &mut String, packet: Packet<'_>) -> Option<TestResult> {
    if packet.status == Status::Exists {
        return None;
    }
    let id = packet.test_id?;
    // NUL cannot occur in subunit strings, so this key is unambiguous.
    key.clear();
    key.push_str(packet.route_code.unwrap_or(""));
    key.push(if packet.route_code.is_some() {
        '\0'
    } else {
        '\u{1}'
    });
    key.push_str(id);
    let entry = match pending.get_mut(key.as_str()) {
        Some(entry) => entry,
        None => pending.entry(key.clone()).or_insert_with(|| Pending {
            result: TestResult {
                id: id.to_owned(),
                outcome: Outcome::Incomplete,
                start: packet.timestamp,
                end: None,
                tags: Vec::new(),
                attachments: Vec::new(),
                attachments_cut: false,
            },
            attachment_bytes: 0,
        }),
    };
    if packet.timestamp.is_some() {
        entry.result.end = packet.timestamp;
    }
    if let Some(file) = packet.file.filter(|file| !file.content.is_empty()) {
        let room = MAX_ATTACHMENT_BYTES - entry.attachment_bytes;
        let kept = &file.content[..file.content.len().min(room)];
        entry.result.attachments_cut |= kept.len() < file.content.len();
        entry.attachment_bytes += kept.len();
        let attachments = &mut entry.result.attachments;
        match attachments.iter_mut().find(|a| a.name == file.name) {
            Some(attachment) => attachment.content.extend_from_slice(kept),
            None => attachments.push(Attachment {
                name: file.name.to_owned(),
                content: kept.to_vec(),
            }),
        }
    }
    // Writers repeat the same tags on every packet: replace only on change.
    if let Some(tags) = packet.tags.filter(|tags| *tags != entry.result.tags) {
        entry.result.tags = tags.into_iter().map(str::to_owned).collect();
    }
    let outcome = match packet.status {
        Status::Success => Outcome::Success,
        Status::Fail => Outcome::Failure,
        Status::Skip => Outcome::Skip,
        Status::ExpectedFailure => Outcome::ExpectedFailure,
        Status::UnexpectedSuccess => Outcome::UnexpectedSuccess,
        Status::Undefined | Status::InProgress | Status::Exists => return None,
    };
    let mut done = pending.remove(key.as_str())?;
    done.result.outcome = outcome;
    Some(done.result)
}
