//! Writing packets, as python-subunit's `StreamResultToBytes` does.

use std::io::{self, Write};

use super::{
    FLAG_EOF, FLAG_FILE_CONTENT, FLAG_MIME_TYPE, FLAG_ROUTE_CODE, FLAG_RUNNABLE, FLAG_TAGS,
    FLAG_TEST_ID, FLAG_TIMESTAMP, FLAG_VERSION_2, MAX_PACKET_LEN, Packet, SIGNATURE,
};

/// Writes `packet` to `out` as one subunit v2 packet. Fails with
/// `InvalidInput` when it would exceed [`MAX_PACKET_LEN`] or a number does
/// not fit the 30-bit encoding.
pub fn write_packet(out: &mut impl Write, packet: &Packet<'_>) -> io::Result<()> {
    let mut body = Vec::new();
    let mut flags = FLAG_VERSION_2 | packet.status.bits();
    if let Some(timestamp) = packet.timestamp {
        flags |= FLAG_TIMESTAMP;
        body.extend_from_slice(&timestamp.seconds.to_be_bytes());
        number(&mut body, timestamp.nanos)?;
    }
    if let Some(id) = packet.test_id {
        flags |= FLAG_TEST_ID;
        string(&mut body, id)?;
    }
    if let Some(tags) = &packet.tags {
        flags |= FLAG_TAGS;
        number(&mut body, len32(tags.len())?)?;
        for tag in tags {
            string(&mut body, tag)?;
        }
    }
    if packet.runnable {
        flags |= FLAG_RUNNABLE;
    }
    if let Some(mime_type) = packet.mime_type {
        flags |= FLAG_MIME_TYPE;
        string(&mut body, mime_type)?;
    }
    if let Some(file) = &packet.file {
        flags |= FLAG_FILE_CONTENT;
        string(&mut body, file.name)?;
        number(&mut body, len32(file.content.len())?)?;
        body.extend_from_slice(file.content);
    }
    if packet.eof {
        flags |= FLAG_EOF;
    }
    if let Some(route_code) = packet.route_code {
        flags |= FLAG_ROUTE_CODE;
        string(&mut body, route_code)?;
    }
    // The length counts itself: pick the smallest size that fits, as
    // python-subunit does.
    let base = 1 + 2 + body.len() + 4;
    let length = if base < 0x3F {
        base + 1
    } else if base + 2 < 0x4000 {
        base + 2
    } else if base + 3 <= MAX_PACKET_LEN {
        base + 3
    } else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a subunit packet of {base} bytes exceeds the 4 MiB limit"),
        ));
    };
    let mut packet_bytes = Vec::with_capacity(length);
    packet_bytes.push(SIGNATURE);
    packet_bytes.extend_from_slice(&flags.to_be_bytes());
    number(&mut packet_bytes, len32(length)?)?;
    packet_bytes.extend_from_slice(&body);
    let crc = crc32fast::hash(&packet_bytes);
    packet_bytes.extend_from_slice(&crc.to_be_bytes());
    out.write_all(&packet_bytes)
}

fn len32(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| too_large(len as u64))
}

fn too_large(value: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{value} does not fit a subunit number (30 bits)"),
    )
}

/// A variable-length number: 1 to 4 bytes, the first byte's top 2 bits
/// giving the size.
fn number(out: &mut Vec<u8>, value: u32) -> io::Result<()> {
    let bytes = value.to_be_bytes();
    match value {
        0..0x40 => out.push(bytes[3]),
        0x40..0x4000 => out.extend_from_slice(&[bytes[2] | 0x40, bytes[3]]),
        0x4000..0x40_0000 => out.extend_from_slice(&[bytes[1] | 0x80, bytes[2], bytes[3]]),
        0x40_0000..0x4000_0000 => {
            out.extend_from_slice(&[bytes[0] | 0xC0, bytes[1], bytes[2], bytes[3]])
        }
        _ => return Err(too_large(u64::from(value))),
    }
    Ok(())
}

fn string(out: &mut Vec<u8>, text: &str) -> io::Result<()> {
    number(out, len32(text.len())?)?;
    out.extend_from_slice(text.as_bytes());
    Ok(())
}
