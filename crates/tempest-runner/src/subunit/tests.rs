//! Unit and property tests of the subunit v2 packet reader and writer:
//! round trips, CRC and length checks, errors with offsets.

use proptest::prelude::*;

use super::*;

/// An owned packet, for generating and comparing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnedPacket {
    status: Status,
    test_id: Option<String>,
    route_code: Option<String>,
    timestamp: Option<Timestamp>,
    tags: Option<Vec<String>>,
    mime_type: Option<String>,
    file: Option<(String, Vec<u8>)>,
    runnable: bool,
    eof: bool,
}

impl OwnedPacket {
    fn borrow(&self) -> Packet<'_> {
        Packet {
            status: self.status,
            test_id: self.test_id.as_deref(),
            route_code: self.route_code.as_deref(),
            timestamp: self.timestamp,
            tags: self
                .tags
                .as_ref()
                .map(|tags| tags.iter().map(String::as_str).collect()),
            mime_type: self.mime_type.as_deref(),
            file: self
                .file
                .as_ref()
                .map(|(name, content)| FileChunk { name, content }),
            runnable: self.runnable,
            eof: self.eof,
        }
    }

    fn from_packet(packet: &Packet<'_>) -> Self {
        OwnedPacket {
            status: packet.status,
            test_id: packet.test_id.map(str::to_owned),
            route_code: packet.route_code.map(str::to_owned),
            timestamp: packet.timestamp,
            tags: packet
                .tags
                .as_ref()
                .map(|tags| tags.iter().map(|tag| (*tag).to_owned()).collect()),
            mime_type: packet.mime_type.map(str::to_owned),
            file: packet
                .file
                .as_ref()
                .map(|file| (file.name.to_owned(), file.content.to_vec())),
            runnable: packet.runnable,
            eof: packet.eof,
        }
    }
}

fn encode(packets: &[OwnedPacket]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for packet in packets {
        write_packet(&mut bytes, &packet.borrow()).unwrap();
    }
    bytes
}

/// Every packet read, and the error that stopped reading, if any.
fn decode(bytes: &[u8]) -> (Vec<OwnedPacket>, Option<SubunitError>) {
    let (packets, error, _) = decode_counting_text(bytes);
    (packets, error)
}

/// As `decode`, also giving the bytes skipped as text.
fn decode_counting_text(bytes: &[u8]) -> (Vec<OwnedPacket>, Option<SubunitError>, u64) {
    let mut reader = PacketReader::new(bytes);
    let mut packets = Vec::new();
    loop {
        match reader.next_packet() {
            Ok(Some(packet)) => packets.push(OwnedPacket::from_packet(&packet)),
            Ok(None) => return (packets, None, reader.text_bytes()),
            Err(error) => return (packets, Some(error), reader.text_bytes()),
        }
    }
}

fn text() -> impl Strategy<Value = String> {
    // Any characters but NUL, which subunit strings cannot hold.
    proptest::string::string_regex("[^\u{0}]{0,24}").unwrap()
}

fn packet() -> impl Strategy<Value = OwnedPacket> {
    (
        0u16..8,
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of((any::<u32>(), 0u32..1_000_000_000)),
        proptest::option::of(proptest::collection::vec(text(), 0..4)),
        proptest::option::of(text()),
        proptest::option::of((
            text(),
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..64),
                proptest::collection::vec(any::<u8>(), 16_000..17_000),
            ],
        )),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(status, test_id, route_code, timestamp, tags, mime_type, file, runnable, eof)| {
                OwnedPacket {
                    status: Status::from_bits(status),
                    test_id,
                    route_code,
                    timestamp: timestamp.map(|(seconds, nanos)| Timestamp { seconds, nanos }),
                    tags,
                    mime_type,
                    file,
                    runnable,
                    eof,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn packets_round_trip(packets in proptest::collection::vec(packet(), 0..12)) {
        let bytes = encode(&packets);
        let (read, error) = decode(&bytes);
        prop_assert!(error.is_none(), "{error:?}");
        prop_assert_eq!(read, packets);
    }

    #[test]
    fn a_cut_stream_keeps_whole_packets_and_reports_the_offset(
        packets in proptest::collection::vec(packet(), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = encode(&packets);
        let boundaries: Vec<usize> = {
            let mut ends = vec![0];
            for packet in &packets {
                ends.push(ends.last().unwrap() + encode(std::slice::from_ref(packet)).len());
            }
            ends
        };
        let cut = cut.index(bytes.len());
        let (read, error) = decode(&bytes[..cut]);
        let whole = boundaries.iter().filter(|&&end| end <= cut).count() - 1;
        prop_assert_eq!(&read[..], &packets[..whole]);
        if boundaries.contains(&cut) {
            prop_assert!(error.is_none());
        } else {
            let error = error.expect("a cut inside a packet is an error");
            prop_assert!(matches!(error.kind, SubunitErrorKind::Truncated { .. }), "{error}");
            prop_assert_eq!(error.offset, cut as u64);
            prop_assert_eq!(error.packet_offset, boundaries[whole] as u64);
        }
    }

    #[test]
    fn a_changed_byte_is_never_silent(
        packets in proptest::collection::vec(packet(), 1..6),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut bytes = encode(&packets);
        let at = at.index(bytes.len());
        bytes[at] ^= flip;
        let (read, error, text) = decode_counting_text(&bytes);
        match error {
            // A changed signature turns the packet into skipped text.
            None => prop_assert!(text > 0 && read.len() < packets.len()),
            // Either in the changed packet, or later after skipping it as text.
            Some(error) => prop_assert!(
                error.packet_offset <= at as u64 || text > 0,
                "{error} for byte {at}"
            ),
        }
    }

    #[test]
    fn text_between_packets_is_skipped_and_counted(
        packets in proptest::collection::vec(packet(), 1..6),
        text in "[^\u{b3}]{0,40}",
    ) {
        let mut bytes = Vec::new();
        for packet in &packets {
            bytes.extend_from_slice(text.as_bytes());
            write_packet(&mut bytes, &packet.borrow()).unwrap();
        }
        let (read, error, skipped) = decode_counting_text(&bytes);
        prop_assert!(error.is_none(), "{error:?}");
        prop_assert_eq!(read, packets.clone());
        prop_assert_eq!(skipped, (text.len() * packets.len()) as u64);
    }
}

#[test]
fn reads_what_python_subunit_writes() {
    // The bytes python-subunit 1.4.6's StreamResultToBytes writes for
    // status(test_id="a.b", test_status="success", timestamp=2020-01-01 UTC,
    // file_name="traceback", file_bytes=b"x", route_code="0").
    let bytes = python_packet();
    let (packets, error) = decode(&bytes);
    assert!(error.is_none(), "{error:?}");
    let packet = &packets[0];
    assert_eq!(packet.status, Status::Success);
    assert_eq!(packet.test_id.as_deref(), Some("a.b"));
    assert_eq!(packet.route_code.as_deref(), Some("0"));
    assert_eq!(
        packet.timestamp,
        Some(Timestamp {
            seconds: 1_577_836_800,
            nanos: 0
        })
    );
    assert_eq!(packet.file, Some(("traceback".to_owned(), b"x".to_vec())));
    assert!(packet.runnable);
    // And our writer gives the same bytes.
    assert_eq!(encode(&packets), bytes);
}

fn python_packet() -> Vec<u8> {
    let hex = "b32f431f5e0be1000003612e620974726163656261636b0178013002b14668";
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn text_and_cut_packets() {
    let (packets, error) = decode(b"\xb3");
    assert!(packets.is_empty());
    let error = error.unwrap();
    assert!(matches!(error.kind, SubunitErrorKind::Truncated { .. }));
    assert_eq!(error.offset, 1);
    assert!(error.to_string().starts_with("byte offset 1 "), "{error}");

    // 0xB3 inside a UTF-8 character ("³" is C2 B3) is text, not a packet.
    let mut bytes = "x³ printed\n".as_bytes().to_vec();
    write_packet(
        &mut bytes,
        &Packet {
            test_id: Some("t"),
            status: Status::Success,
            ..Packet::default()
        },
    )
    .unwrap();
    let (packets, error, text) = decode_counting_text(&bytes);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(packets.len(), 1);
    assert_eq!(text, "x³ printed\n".len() as u64);
}

/// Packets parsed in place from the read buffer and packets that straddle
/// a refill (copied out first) read the same, with the right offsets.
#[test]
fn packets_across_many_buffer_refills_read_back_whole() {
    let packets: Vec<OwnedPacket> = (0..3000)
        .map(|index| OwnedPacket {
            status: Status::Success,
            test_id: Some(format!("tempest.api.T.test_{index}")),
            route_code: None,
            timestamp: None,
            tags: Some(vec![format!("worker-{}", index % 4)]),
            mime_type: None,
            // Now and then a file large enough to span a whole buffer.
            file: (index % 500 == 7).then(|| ("log".to_owned(), vec![b'x'; 70_000 + index])),
            runnable: true,
            eof: false,
        })
        .collect();
    let bytes = encode(&packets);
    assert!(bytes.len() > 4 * 64 * 1024, "several read buffers long");
    let mut reader = PacketReader::new(&bytes[..]);
    let mut read = Vec::new();
    while let Some(packet) = reader.next_packet().unwrap() {
        read.push(OwnedPacket::from_packet(&packet));
    }
    assert_eq!(reader.offset(), bytes.len() as u64);
    assert_eq!(read, packets);
}

#[test]
fn timestamps_give_durations() {
    let start = Timestamp {
        seconds: 10,
        nanos: 900_000_000,
    };
    let end = Timestamp {
        seconds: 12,
        nanos: 100_000_000,
    };
    assert_eq!(
        start.until(end),
        Some(std::time::Duration::from_millis(1200))
    );
    assert_eq!(end.until(start), None);
}
