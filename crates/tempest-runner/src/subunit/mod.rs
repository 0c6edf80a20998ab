//! Subunit v2: the binary test event stream Tempest (through stestr) writes.
//!
//! A stream is a sequence of packets. Each packet is: the signature byte
//! `0xB3`; 16 bits of flags (version `0x2` in the top nibble, which fields are
//! present, and the test status in the low 3 bits); the whole packet's length
//! as a big-endian variable-length number (1 to 3 bytes); the present fields
//! in a fixed order (timestamp, test id, tags, MIME type, file content, route
//! code); and a CRC-32 of everything before it. This is the layout
//! python-subunit's `subunit/v2.py` reads and writes.
//!
//! [`PacketReader`] reads one packet at a time into a reused buffer, so a
//! stream of any size is read in constant memory. Bytes between packets
//! that do not start one (a test's own prints when run by `python -m
//! subunit.run`) are skipped, as python-subunit's filters do, and counted
//! ([`PacketReader::text_bytes`]) so a damaged signature is never silent.
//! Differences from python-subunit: a version other than 2 is an error
//! (python-subunit ignores the version), and bytes after a packet's last
//! field are an error (python-subunit ignores them).

mod read;
mod write;

pub use read::{PacketReader, SubunitError, SubunitErrorKind};
pub use write::write_packet;

/// The directives a subunit v1 stream's lines start with (python-subunit's
/// `TestProtocolServer`), each followed by `:` or a space.
const V1_DIRECTIVES: [&str; 12] = [
    "test",
    "testing",
    "success",
    "successful",
    "failure",
    "error",
    "skip",
    "xfail",
    "uxsuccess",
    "tags",
    "time",
    "progress",
];

/// Whether a stream starting with `head` is subunit v1 (line-based text)
/// rather than v2: its first non-blank line is a v1 directive. A v2 stream
/// starts with the packet signature byte 0xB3, never with text.
pub fn looks_like_v1(head: &[u8]) -> bool {
    let Some(line) = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|line| !line.is_empty())
    else {
        return false;
    };
    V1_DIRECTIVES.iter().any(|directive| {
        line.strip_prefix(directive.as_bytes())
            .is_some_and(|rest| matches!(rest.first(), Some(b':' | b' ')))
    })
}

/// The signature byte that starts every packet.
pub const SIGNATURE: u8 = 0xB3;
/// The largest packet python-subunit writes or reads: 3-byte length.
pub const MAX_PACKET_LEN: usize = 0x3F_FFFF;

pub(crate) const FLAG_VERSION_2: u16 = 0x2000;
pub(crate) const FLAG_TEST_ID: u16 = 0x0800;
pub(crate) const FLAG_ROUTE_CODE: u16 = 0x0400;
pub(crate) const FLAG_TIMESTAMP: u16 = 0x0200;
pub(crate) const FLAG_RUNNABLE: u16 = 0x0100;
pub(crate) const FLAG_TAGS: u16 = 0x0080;
pub(crate) const FLAG_FILE_CONTENT: u16 = 0x0040;
pub(crate) const FLAG_MIME_TYPE: u16 = 0x0020;
pub(crate) const FLAG_EOF: u16 = 0x0010;

/// The status a packet reports for its test (the flags' low 3 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0: no status (a packet carrying only a file or tags).
    Undefined,
    /// 1: the test exists (listed, not run).
    Exists,
    /// 2: the test started.
    InProgress,
    /// 3: the test passed.
    Success,
    /// 4: the test passed but was expected to fail.
    UnexpectedSuccess,
    /// 5: the test was skipped.
    Skip,
    /// 6: the test failed.
    Fail,
    /// 7: the test failed, as expected.
    ExpectedFailure,
}

impl Status {
    /// The status in the flags' low 3 bits.
    pub fn from_bits(bits: u16) -> Self {
        match bits & 0x7 {
            0 => Status::Undefined,
            1 => Status::Exists,
            2 => Status::InProgress,
            3 => Status::Success,
            4 => Status::UnexpectedSuccess,
            5 => Status::Skip,
            6 => Status::Fail,
            _ => Status::ExpectedFailure,
        }
    }

    /// The 3 bits this status is written as.
    pub fn bits(self) -> u16 {
        match self {
            Status::Undefined => 0,
            Status::Exists => 1,
            Status::InProgress => 2,
            Status::Success => 3,
            Status::UnexpectedSuccess => 4,
            Status::Skip => 5,
            Status::Fail => 6,
            Status::ExpectedFailure => 7,
        }
    }

    /// Whether a test with this status has ended (testtools' final states).
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Undefined | Status::InProgress)
    }
}

/// A packet timestamp: seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Whole seconds since the epoch.
    pub seconds: u32,
    /// Nanoseconds within the second (python-subunit writes microsecond precision).
    pub nanos: u32,
}

impl Timestamp {
    /// The time from `self` to `later`, or `None` when `later` is earlier.
    pub fn until(self, later: Timestamp) -> Option<std::time::Duration> {
        let start = std::time::Duration::new(u64::from(self.seconds), 0)
            + std::time::Duration::from_nanos(u64::from(self.nanos));
        let end = std::time::Duration::new(u64::from(later.seconds), 0)
            + std::time::Duration::from_nanos(u64::from(later.nanos));
        end.checked_sub(start)
    }
}

/// A chunk of a file attached to a test (or to the whole stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChunk<'a> {
    /// The file's name, e.g. `traceback`, `reason`, `stdout`.
    pub name: &'a str,
    /// These bytes of it; a file may come in several chunks.
    pub content: &'a [u8],
}

/// One subunit v2 packet, borrowing its strings from the reader's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The test status (low 3 bits of the flags).
    pub status: Status,
    /// The test this packet is about; `None` for stream-level packets.
    pub test_id: Option<&'a str>,
    /// Which worker or process the packet came from.
    pub route_code: Option<&'a str>,
    /// When the event happened.
    pub timestamp: Option<Timestamp>,
    /// The test's tags (e.g. `worker-0`); `None` when the packet sets none.
    pub tags: Option<Vec<&'a str>>,
    /// The MIME type of the file content.
    pub mime_type: Option<&'a str>,
    /// A chunk of an attached file.
    pub file: Option<FileChunk<'a>>,
    /// Whether the test can be run (cleared for enumeration-only entries).
    pub runnable: bool,
    /// Whether this is the last chunk of `file`.
    pub eof: bool,
}

impl Default for Packet<'_> {
    fn default() -> Self {
        Packet {
            status: Status::Undefined,
            test_id: None,
            route_code: None,
            timestamp: None,
            tags: None,
            mime_type: None,
            file: None,
            runnable: true,
            eof: false,
        }
    }
}

#[cfg(test)]
mod tests;
