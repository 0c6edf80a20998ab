//! Reading packets from any byte source, one at a time.

use std::io::{BufRead, BufReader, ErrorKind, Read};

use super::{
    FLAG_EOF, FLAG_FILE_CONTENT, FLAG_MIME_TYPE, FLAG_ROUTE_CODE, FLAG_RUNNABLE, FLAG_TAGS,
    FLAG_TEST_ID, FLAG_TIMESTAMP, FileChunk, Packet, SIGNATURE, Status, Timestamp,
};

/// A subunit v2 stream could not be read; `offset` says where.
#[derive(Debug, thiserror::Error)]
#[error("byte offset {offset} (in the packet starting at byte {packet_offset}): {kind}")]
pub struct SubunitError {
    /// The byte offset in the stream where the problem is.
    pub offset: u64,
    /// The byte offset of the packet the problem is in.
    pub packet_offset: u64,
    /// What is wrong.
    pub kind: SubunitErrorKind,
}

/// What is wrong with a subunit v2 stream.
#[derive(Debug, thiserror::Error)]
pub enum SubunitErrorKind {
    /// The stream ends inside a packet.
    #[error(
        "the stream ends inside a packet ({missing} more bytes were expected): it is truncated"
    )]
    Truncated {
        /// How many bytes of the packet are missing.
        missing: usize,
    },
    /// The packet's version nibble is not 2.
    #[error("packet version {version} is not subunit v2")]
    Version {
        /// The version found.
        version: u16,
    },
    /// The packet length uses the 4-byte form, which packets never do.
    #[error("the packet length uses 4 bytes; packets are at most 4 MiB (3-byte lengths)")]
    LengthTooLong,
    /// The packet length is shorter than its own header and checksum.
    #[error("the packet length {length} is shorter than the packet's header and checksum")]
    LengthTooShort {
        /// The length found.
        length: usize,
    },
    /// The CRC-32 stored in the packet does not match its content.
    #[error("bad checksum: calculated 0x{calculated:08x}, stored 0x{stored:08x}")]
    Checksum {
        /// The CRC-32 of the packet's bytes.
        calculated: u32,
        /// The CRC-32 the packet claims.
        stored: u32,
    },
    /// A field runs past the end of its packet.
    #[error("the {field} runs past the end of the packet")]
    FieldOverrun {
        /// Which field.
        field: &'static str,
    },
    /// A string field is not UTF-8, or holds a NUL byte.
    #[error("the {field} is not a UTF-8 string without NUL bytes")]
    BadString {
        /// Which field.
        field: &'static str,
    },
    /// The packet has bytes after its last field.
    #[error("{extra} unexpected bytes after the packet's last field")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// Reading the source failed.
    #[error("reading the stream failed: {0}")]
    Io(#[source] std::io::Error),
}

/// Reads subunit v2 packets one at a time, in constant memory: the buffer
/// holds one packet (at most 4 MiB), reused for the next.
///
/// A packet that lies whole in the read buffer is parsed where it lies (the
/// common case: packets are small); only one that straddles a refill, or
/// follows text, is copied out first.
pub struct PacketReader<R> {
    source: BufReader<R>,
    /// Bytes of `source`'s buffer holding the packet last returned in place,
    /// consumed when the next one is asked for.
    in_place: usize,
    offset: u64,
    buffer: Vec<u8>,
    failed: bool,
    text_bytes: u64,
    utf8_continuations: u8,
}

impl<R: Read> PacketReader<R> {
    /// A reader over `source` (buffered here; no need to wrap it).
    pub fn new(source: R) -> Self {
        PacketReader {
            source: BufReader::with_capacity(64 * 1024, source),
            in_place: 0,
            offset: 0,
            buffer: Vec::with_capacity(4096),
            failed: false,
            text_bytes: 0,
            utf8_continuations: 0,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes skipped so far that were not part of a packet: text written
    /// between packets (see the module documentation).
    pub fn text_bytes(&self) -> u64 {
        self.text_bytes
    }

    /// The next packet, `Ok(None)` at the end of the stream. After an error
    /// the reader stops (returns `Ok(None)`): resynchronising inside a
    /// corrupt stream could invent events.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, SubunitError> {
        if self.failed {
            return Ok(None);
        }
        self.source.consume(std::mem::take(&mut self.in_place));
        let packet_offset;
        let bytes: &[u8] = if let Some(length) = self.whole_packet_in_buffer() {
            self.in_place = length;
            packet_offset = self.offset;
            self.offset += length as u64;
            &self.source.buffer()[..length]
        } else {
            match self.read_packet() {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(error) => {
                    self.failed = true;
                    return Err(error);
                }
            }
            packet_offset = self.offset - self.buffer.len() as u64;
            &self.buffer
        };
        parse_packet(bytes).map(Some).map_err(|(at, kind)| {
            self.failed = true;
            SubunitError {
                offset: packet_offset + at as u64,
                packet_offset,
                kind,
            }
        })
    }

    /// The length of the packet at the start of the read buffer when it is
    /// all there and its length field is sound; anything else (text, a
    /// refill needed, a bad length) takes the copying path, which reports it.
    fn whole_packet_in_buffer(&mut self) -> Option<usize> {
        if self.utf8_continuations != 0 {
            return None;
        }
        let available = self.source.fill_buf().ok()?;
        let (&signature, rest) = available.split_first()?;
        if signature != SIGNATURE || rest.len() < 3 {
            return None;
        }
        let (length_size, length) = match rest[2] & 0xC0 {
            0x00 => (1, usize::from(rest[2])),
            0x40 => (
                2,
                usize::from(rest[2] & 0x3F) << 8 | usize::from(*rest.get(3)?),
            ),
            0x80 => (
                3,
                usize::from(rest[2] & 0x3F) << 16
                    | usize::from(*rest.get(3)?) << 8
                    | usize::from(*rest.get(4)?),
            ),
            _ => return None,
        };
        (length >= 3 + length_size + 4 && length <= available.len()).then_some(length)
    }

    /// Reads one whole packet into the buffer; `false` at a clean end.
    fn read_packet(&mut self) -> Result<bool, SubunitError> {
        self.buffer.clear();
        // Skip text written between packets (a test's own prints, when run
        // by `python -m subunit.run`), as python-subunit does: up to a
        // signature byte that is not inside a UTF-8 character.
        let mut packet_offset = self.offset;
        loop {
            if self.fill(1, packet_offset)? == 0 {
                return Ok(false);
            }
            let byte = self.buffer[0];
            if byte == SIGNATURE && self.utf8_continuations == 0 {
                break;
            }
            self.text_bytes += 1;
            self.utf8_continuations = match byte {
                0x80..=0xBF if self.utf8_continuations > 0 => self.utf8_continuations - 1,
                0xC0..=0xDF => 1,
                0xE0..=0xEF => 2,
                0xF0..=0xF7 => 3,
                _ => 0,
            };
            self.buffer.clear();
            packet_offset = self.offset;
        }
        let error = |offset: u64, kind| SubunitError {
            offset,
            packet_offset,
            kind,
        };
        // Flags (2 bytes) and the length's first byte, which tells its size.
        self.fill_exact(3, packet_offset)?;
        let length_size = match self.buffer[3] & 0xC0 {
            0x00 => 1,
            0x40 => 2,
            0x80 => 3,
            _ => return Err(error(packet_offset + 3, SubunitErrorKind::LengthTooLong)),
        };
        self.fill_exact(length_size - 1, packet_offset)?;
        let length = self.buffer[4..3 + length_size]
            .iter()
            .fold(usize::from(self.buffer[3] & 0x3F), |value, &byte| {
                (value << 8) | usize::from(byte)
            });
        let header = 3 + length_size;
        if length < header + 4 {
            return Err(error(
                packet_offset + 3,
                SubunitErrorKind::LengthTooShort { length },
            ));
        }
        self.fill_exact(length - header, packet_offset)?;
        Ok(true)
    }

    /// Appends exactly `len` bytes or fails as truncated.
    fn fill_exact(&mut self, len: usize, packet_offset: u64) -> Result<(), SubunitError> {
        let got = self.fill(len, packet_offset)?;
        if got < len {
            return Err(SubunitError {
                offset: self.offset,
                packet_offset,
                kind: SubunitErrorKind::Truncated { missing: len - got },
            });
        }
        Ok(())
    }

    /// Appends up to `len` bytes (fewer only at the end of the source).
    fn fill(&mut self, len: usize, packet_offset: u64) -> Result<usize, SubunitError> {
        let start = self.buffer.len();
        self.buffer.resize(start + len, 0);
        let mut got = 0;
        while got < len {
            match self.source.read(&mut self.buffer[start + got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(SubunitError {
                        offset: self.offset + got as u64,
                        packet_offset,
                        kind: SubunitErrorKind::Io(source),
                    });
                }
            }
        }
        self.buffer.truncate(start + got);
        self.offset += got as u64;
        Ok(got)
    }
}

/// Parses one whole packet (signature to checksum). Errors carry the offset
/// within the packet.
pub(crate) fn parse_packet(bytes: &[u8]) -> Result<Packet<'_>, (usize, SubunitErrorKind)> {
    let checked = bytes.len() - 4;
    let stored = u32::from_be_bytes([
        bytes[checked],
        bytes[checked + 1],
        bytes[checked + 2],
        bytes[checked + 3],
    ]);
    let calculated = crc32fast::hash(&bytes[..checked]);
    if calculated != stored {
        return Err((0, SubunitErrorKind::Checksum { calculated, stored }));
    }
    let flags = u16::from_be_bytes([bytes[1], bytes[2]]);
    let version = flags >> 12;
    if version != 2 {
        return Err((1, SubunitErrorKind::Version { version }));
    }
    let length_size = match bytes[3] & 0xC0 {
        0x00 => 1,
        0x40 => 2,
        _ => 3,
    };
    let mut cursor = Cursor {
        bytes: &bytes[..checked],
        position: 3 + length_size,
    };
    let mut packet = Packet {
        status: Status::from_bits(flags),
        runnable: flags & FLAG_RUNNABLE != 0,
        eof: flags & FLAG_EOF != 0,
        ..Packet::default()
    };
    if flags & FLAG_TIMESTAMP != 0 {
        let seconds = cursor.take(4, "timestamp")?;
        let seconds = u32::from_be_bytes([seconds[0], seconds[1], seconds[2], seconds[3]]);
        let nanos = cursor.number("timestamp")?;
        packet.timestamp = Some(Timestamp { seconds, nanos });
    }
    if flags & FLAG_TEST_ID != 0 {
        packet.test_id = Some(cursor.string("test id")?);
    }
    if flags & FLAG_TAGS != 0 {
        let count = cursor.number("tag count")?;
        // Each tag takes at least one byte: bounds the allocation.
        let mut tags = Vec::with_capacity((count as usize).min(cursor.remaining()));
        for _ in 0..count {
            tags.push(cursor.string("tag")?);
        }
        packet.tags = Some(tags);
    }
    if flags & FLAG_MIME_TYPE != 0 {
        packet.mime_type = Some(cursor.string("MIME type")?);
    }
    if flags & FLAG_FILE_CONTENT != 0 {
        let name = cursor.string("file name")?;
        let length = cursor.number("file content length")?;
        let content = cursor.take(length as usize, "file content")?;
        packet.file = Some(FileChunk { name, content });
    }
    if flags & FLAG_ROUTE_CODE != 0 {
        packet.route_code = Some(cursor.string("route code")?);
    }
    if cursor.remaining() != 0 {
        return Err((
            cursor.position,
            SubunitErrorKind::TrailingBytes {
                extra: cursor.remaining(),
            },
        ));
    }
    Ok(packet)
}

/// A position in a packet's checked bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    fn take(
        &mut self,
        len: usize,
        field: &'static str,
    ) -> Result<&'a [u8], (usize, SubunitErrorKind)> {
        if len > self.remaining() {
            return Err((self.position, SubunitErrorKind::FieldOverrun { field }));
        }
        let taken = &self.bytes[self.position..self.position + len];
        self.position += len;
        Ok(taken)
    }

    /// A variable-length number: the first byte's top 2 bits give its size.
    fn number(&mut self, field: &'static str) -> Result<u32, (usize, SubunitErrorKind)> {
        let first = *self
            .bytes
            .get(self.position)
            .ok_or((self.position, SubunitErrorKind::FieldOverrun { field }))?;
        let size = usize::from(first >> 6) + 1;
        let bytes = self.take(size, field)?;
        Ok(bytes[1..]
            .iter()
            .fold(u32::from(first & 0x3F), |value, &byte| {
                (value << 8) | u32::from(byte)
            }))
    }

    fn string(&mut self, field: &'static str) -> Result<&'a str, (usize, SubunitErrorKind)> {
        let length = self.number(field)? as usize;
        let start = self.position;
        let bytes = self.take(length, field)?;
        if bytes.contains(&0) {
            return Err((start, SubunitErrorKind::BadString { field }));
        }
        std::str::from_utf8(bytes).map_err(|_| (start, SubunitErrorKind::BadString { field }))
    }
}
