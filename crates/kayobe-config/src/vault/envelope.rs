//! The text framing of ansible-vault data: a `$ANSIBLE_VAULT;…` header line,
//! then the hex of `hex(salt)\nhex(hmac)\nhex(ciphertext)` in 80-column lines.
//!
//! Parsing follows ansible-core's `parse_vaulttext_envelope` and
//! `parse_vaulttext`, and remembers where each hex digit came from so that an
//! error can name its line and column.

use std::fmt::Write as _;

use super::error::{EnvelopeProblem, HexSection, VaultError};
use crate::Location;

/// What every piece of vault data starts with.
pub(super) const HEADER: &[u8] = b"$ANSIBLE_VAULT";
/// The only cipher ansible-vault reads and writes.
const CIPHER: &str = "AES256";
/// Width of the hex lines ansible-vault writes.
const LINE_WIDTH: usize = 80;

/// A parsed envelope: what the cipher needs, plus the vault id of a 1.2 header.
pub(super) struct Envelope {
    pub(super) vault_id: Option<String>,
    pub(super) salt: Vec<u8>,
    pub(super) hmac: Vec<u8>,
    pub(super) ciphertext: Vec<u8>,
}

/// The envelope text ansible-vault writes for these parts: a 1.2 header when
/// there is a vault id other than `default`, else 1.1; ends with a newline.
pub(super) fn format(
    vault_id: Option<&str>,
    salt: &[u8],
    hmac: &[u8],
    ciphertext: &[u8],
) -> String {
    let mut inner = Vec::with_capacity(2 * (salt.len() + hmac.len() + ciphertext.len()) + 2);
    inner.extend_from_slice(hex::encode(salt).as_bytes());
    inner.push(b'\n');
    inner.extend_from_slice(hex::encode(hmac).as_bytes());
    inner.push(b'\n');
    inner.extend_from_slice(hex::encode(ciphertext).as_bytes());
    let body = hex::encode(inner);

    let mut text = String::with_capacity(body.len() + body.len() / LINE_WIDTH + 64);
    match vault_id.filter(|id| !id.is_empty() && *id != "default") {
        Some(id) => {
            let _ = write!(text, "$ANSIBLE_VAULT;1.2;{CIPHER};{id}");
        }
        None => text.push_str("$ANSIBLE_VAULT;1.1;AES256"),
    }
    for chunk in body.as_bytes().chunks(LINE_WIDTH) {
        text.push('\n');
        // Hex digits are ASCII, so every chunk is valid UTF-8.
        text.push_str(std::str::from_utf8(chunk).expect("hex is ASCII"));
    }
    text.push('\n');
    text
}

/// One line of the input: its 0-based index and where its content starts.
struct Line<'a> {
    index: usize,
    column: usize,
    content: &'a [u8],
}

/// Lines as Python's `bytes.splitlines` cuts them (at `\n`, `\r\n` and `\r`).
fn split_lines(text: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                i += 1;
                start = i;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                i += if text.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// Python's `bytes.strip()`: ASCII whitespace on both ends; returns the number
/// of bytes removed in front too.
pub(super) fn strip(bytes: &[u8]) -> (usize, &[u8]) {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let front = bytes.iter().take_while(|b| is_space(b)).count();
    let back = bytes[front..]
        .iter()
        .rev()
        .take_while(|b| is_space(b))
        .count();
    (front, &bytes[front..bytes.len() - back])
}

/// Where hex digits came from: segments of the joined body, each one line.
struct HexMap {
    /// `(start in joined body, line index, column of that start)`.
    segments: Vec<(usize, usize, usize)>,
}

impl HexMap {
    /// The line and 0-based column of joined body digit `index` (or just after
    /// the last digit when `index` is the length).
    fn position(&self, index: usize) -> (usize, usize) {
        let at = self
            .segments
            .partition_point(|&(start, _, _)| start <= index);
        let (start, line, column) = self.segments[at.saturating_sub(1)];
        (line, column + index - start)
    }
}

/// Parses vault text. `origin` is where the text starts (line and column
/// offsets are added to it). `lenient` accepts blank lines before the header
/// and whitespace around every line, as inline `!vault` values may carry;
/// Ansible's own file reading is strict.
pub(super) fn parse(text: &[u8], origin: &Location, lenient: bool) -> Result<Envelope, VaultError> {
    let locate = |line: usize, column: usize| Location {
        path: origin.path.clone(),
        line: origin.line + line,
        column: origin.column + column,
    };
    let mut lines: Vec<Line<'_>> = split_lines(text)
        .into_iter()
        .enumerate()
        .map(|(index, content)| {
            let (column, content) = if lenient {
                strip(content)
            } else {
                (0, content)
            };
            Line {
                index,
                column,
                content,
            }
        })
        .collect();
    if lenient {
        let blank = lines.iter().take_while(|l| l.content.is_empty()).count();
        lines.drain(..blank);
    }
    if !lines.first().is_some_and(|l| l.content.starts_with(HEADER)) {
        return Err(VaultError::NotVaulted {
            path: origin.path.clone(),
        });
    }
    for line in &lines {
        if let Some(column) = line.content.iter().position(|b| !b.is_ascii()) {
            return Err(VaultError::Malformed {
                location: locate(line.index, line.column + column),
                problem: EnvelopeProblem::NonAscii,
            });
        }
    }

    let header = &lines[0];
    let (front, stripped) = strip(header.content);
    let fields: Vec<&[u8]> = stripped.split(|&b| b == b';').collect();
    if fields.len() < 3 {
        return Err(VaultError::Malformed {
            location: locate(header.index, header.column + front + stripped.len()),
            problem: EnvelopeProblem::Header {
                fields: fields.len(),
            },
        });
    }
    let cipher_column = header.column + front + fields[0].len() + fields[1].len() + 2;
    let (cipher_front, cipher) = strip(fields[2]);
    if cipher != CIPHER.as_bytes() {
        return Err(VaultError::UnsupportedCipher {
            location: locate(header.index, cipher_column + cipher_front),
            cipher: String::from_utf8_lossy(cipher).into_owned(),
        });
    }
    // Only ASCII is left, so the vault id is valid UTF-8.
    let vault_id = fields
        .get(3)
        .map(|field| String::from_utf8_lossy(strip(field).1).into_owned());

    let mut joined = Vec::with_capacity(text.len());
    let mut map = HexMap {
        segments: Vec::with_capacity(lines.len()),
    };
    for line in &lines[1..] {
        map.segments.push((joined.len(), line.index, line.column));
        joined.extend_from_slice(line.content);
    }
    if joined.is_empty() {
        return Err(VaultError::Malformed {
            location: locate(header.index + 1, 0),
            problem: EnvelopeProblem::MissingBody,
        });
    }
    let at_body = |index: usize| {
        let (line, column) = map.position(index);
        locate(line, column)
    };
    let inner = unhex(&joined).map_err(|failure| VaultError::Malformed {
        location: at_body(failure.index()),
        problem: failure.problem(HexSection::Body),
    })?;

    // `split(b"\n", 2)`: salt and HMAC end at the first two newlines.
    let mut sections = inner.splitn(3, |&b| b == b'\n');
    let (Some(salt), Some(hmac), Some(ciphertext)) =
        (sections.next(), sections.next(), sections.next())
    else {
        return Err(VaultError::Malformed {
            location: at_body(joined.len()),
            problem: EnvelopeProblem::MissingSections {
                found: inner.split(|&b| b == b'\n').count(),
            },
        });
    };
    let hmac_start = salt.len() + 1;
    let ciphertext_start = hmac_start + hmac.len() + 1;
    let decode = |bytes: &[u8], start: usize, section: HexSection| {
        unhex(bytes).map_err(|failure| VaultError::Malformed {
            // Inner byte `i` is written as outer digits `2i` and `2i + 1`.
            location: at_body(2 * (start + failure.index())),
            problem: failure.problem(section),
        })
    };
    Ok(Envelope {
        vault_id,
        salt: decode(salt, 0, HexSection::Salt)?,
        hmac: decode(hmac, hmac_start, HexSection::Hmac)?,
        ciphertext: decode(ciphertext, ciphertext_start, HexSection::Ciphertext)?,
    })
}

/// Why [`unhex`] failed, at which digit.
enum HexFailure {
    Invalid(usize),
    Odd(usize),
}

impl HexFailure {
    fn index(&self) -> usize {
        match self {
            HexFailure::Invalid(index) | HexFailure::Odd(index) => *index,
        }
    }

    fn problem(&self, section: HexSection) -> EnvelopeProblem {
        match self {
            HexFailure::Invalid(_) => EnvelopeProblem::InvalidHex { section },
            HexFailure::Odd(_) => EnvelopeProblem::OddHex { section },
        }
    }
}

/// Python's `binascii.unhexlify`: an even number of hex digits of either case.
fn unhex(digits: &[u8]) -> Result<Vec<u8>, HexFailure> {
    if let Some(index) = digits.iter().position(|b| !b.is_ascii_hexdigit()) {
        return Err(HexFailure::Invalid(index));
    }
    if digits.len() % 2 != 0 {
        return Err(HexFailure::Odd(digits.len()));
    }
    Ok(hex::decode(digits).expect("checked: even number of hex digits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Location {
        Location::new("f.yml", 1, 1)
    }

    fn malformed(text: &str) -> (Location, EnvelopeProblem) {
        match parse(text.as_bytes(), &origin(), false) {
            Err(VaultError::Malformed { location, problem }) => (location, problem),
            Err(other) => panic!("expected a malformed envelope, got {other}"),
            Ok(_) => panic!("expected a malformed envelope, got success"),
        }
    }

    #[test]
    fn format_writes_80_column_lines_and_a_final_newline() {
        let text = format(None, &[1; 32], &[2; 32], &[3; 48]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "$ANSIBLE_VAULT;1.1;AES256");
        assert!(lines[1..lines.len() - 1].iter().all(|l| l.len() == 80));
        assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
        let parsed = parse(text.as_bytes(), &origin(), false).unwrap();
        assert_eq!(parsed.vault_id, None);
        assert_eq!(
            (parsed.salt, parsed.hmac, parsed.ciphertext),
            (vec![1; 32], vec![2; 32], vec![3; 48])
        );
    }

    #[test]
    fn format_uses_1_2_only_for_a_real_vault_id() {
        assert!(
            format(Some("prod"), &[1], &[2], &[3]).starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n")
        );
        assert!(
            format(Some("default"), &[1], &[2], &[3]).starts_with("$ANSIBLE_VAULT;1.1;AES256\n")
        );
        assert!(format(Some(""), &[1], &[2], &[3]).starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
    }

    #[test]
    fn not_vault_text_is_not_vaulted() {
        assert!(matches!(
            parse(b"hello", &origin(), false),
            Err(VaultError::NotVaulted { .. })
        ));
        assert!(matches!(
            parse(b" $ANSIBLE_VAULT;1.1;AES256\n00", &origin(), false),
            Err(VaultError::NotVaulted { .. })
        ));
    }

    #[test]
    fn short_header_points_at_its_end() {
        let (location, problem) = malformed("$ANSIBLE_VAULT;1.1\n3030\n");
        assert_eq!(location.to_string(), "f.yml:1:19");
        assert_eq!(problem, EnvelopeProblem::Header { fields: 2 });
    }

    #[test]
    fn unknown_cipher_points_at_the_cipher() {
        match parse(b"$ANSIBLE_VAULT;1.1;AES\n00\n", &origin(), false) {
            Err(VaultError::UnsupportedCipher { location, cipher }) => {
                assert_eq!(location.to_string(), "f.yml:1:20");
                assert_eq!(cipher, "AES");
            }
            _ => panic!("expected an unsupported cipher"),
        }
    }

    #[test]
    fn bad_hex_digit_points_at_its_line_and_column() {
        let (location, problem) = malformed("$ANSIBLE_VAULT;1.1;AES256\n3030\n30z0\n");
        assert_eq!(location.to_string(), "f.yml:3:3");
        assert_eq!(
            problem,
            EnvelopeProblem::InvalidHex {
                section: HexSection::Body
            }
        );
    }

    #[test]
    fn odd_hex_and_missing_parts_are_malformed() {
        let (location, problem) = malformed("$ANSIBLE_VAULT;1.1;AES256\n303\n");
        assert_eq!(location.to_string(), "f.yml:2:4");
        assert_eq!(
            problem,
            EnvelopeProblem::OddHex {
                section: HexSection::Body
            }
        );
        let (location, problem) = malformed("$ANSIBLE_VAULT;1.1;AES256\n");
        assert_eq!(location.to_string(), "f.yml:2:1");
        assert_eq!(problem, EnvelopeProblem::MissingBody);
        // "00\n00" hex-encoded: salt and HMAC, no ciphertext line.
        let (_, problem) = malformed("$ANSIBLE_VAULT;1.1;AES256\n30300a3030\n");
        assert_eq!(problem, EnvelopeProblem::MissingSections { found: 2 });
    }

    #[test]
    fn bad_inner_hex_points_at_the_outer_digits() {
        // Inner "00\n0g\n00": the `g` is inner byte 4, outer digits 8 and 9.
        let (location, problem) = malformed("$ANSIBLE_VAULT;1.1;AES256\n30300a30670a3030\n");
        assert_eq!(location.to_string(), "f.yml:2:9");
        assert_eq!(
            problem,
            EnvelopeProblem::InvalidHex {
                section: HexSection::Hmac
            }
        );
    }

    #[test]
    fn non_ascii_is_malformed_where_it_is() {
        let (location, problem) = malformed("$ANSIBLE_VAULT;1.1;AES256\n30é0\n");
        assert_eq!(location.to_string(), "f.yml:2:3");
        assert_eq!(problem, EnvelopeProblem::NonAscii);
    }

    #[test]
    fn crlf_lines_are_accepted_as_python_splits_them() {
        let text = format(Some("x"), &[1; 4], &[2; 32], &[3; 16]).replace('\n', "\r\n");
        let parsed = parse(text.as_bytes(), &origin(), false).unwrap();
        assert_eq!(parsed.vault_id.as_deref(), Some("x"));
    }

    #[test]
    fn lenient_parsing_accepts_indentation_and_offsets_locations() {
        let text = format(None, &[1; 4], &[2; 32], &[3; 16]);
        let indented: String = text.lines().map(|l| format!("    {l}  \n")).collect();
        assert!(parse(indented.as_bytes(), &origin(), false).is_err());
        assert!(parse(format!("\n{indented}").as_bytes(), &origin(), true).is_ok());

        let broken = "  $ANSIBLE_VAULT;1.1;AES256\n  30x0\n";
        match parse(broken.as_bytes(), &Location::new("k.yml", 10, 11), true) {
            Err(VaultError::Malformed { location, .. }) => {
                assert_eq!(location.to_string(), "k.yml:11:15")
            }
            _ => panic!("expected a malformed envelope"),
        }
    }
}
