//! Escaping for XML (HTML's is `kayobe_stdx::push_html`), and the JUnit id split.

use std::fmt::Write;

/// The bytes `push_xml` must look at: markup, C0 controls, and 0xEF (the
/// first byte of U+FFFE and U+FFFF, which XML 1.0 forbids).
static XML_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'"' as usize] = true;
    table[0xEF] = true;
    table
};

/// Appends `text` escaped for XML element content or a double-quoted
/// attribute; characters XML 1.0 forbids are dropped.
pub(crate) fn push_xml(out: &mut String, text: &str, attribute: bool) {
    // Copy the plain runs between special bytes whole: a per-character loop
    // was an eighth of the JUnit report's time on a large stream.
    let bytes = text.as_bytes();
    let mut plain_from = 0;
    let mut at = 0;
    while let Some(found) = bytes[at..]
        .iter()
        .position(|&b| XML_SPECIAL[usize::from(b)])
    {
        at += found;
        out.push_str(&text[plain_from..at]);
        let Some(c) = text[at..].chars().next() else {
            break;
        };
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' | '\r' | '\t' if attribute => {
                let _ = write!(out, "&#x{:X};", u32::from(c));
            }
            '"' | '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => {}
            _ => out.push(c),
        }
        at += c.len_utf8();
        plain_from = at;
    }
    out.push_str(&text[plain_from..]);
}

/// Splits a test id into JUnit's classname and name as python-junitxml does:
/// at the last dot before the first `(` (else before the last character).
pub(crate) fn split_id(id: &str) -> (&str, &str) {
    let end = id.find('(').unwrap_or_else(|| id.len().saturating_sub(1));
    match id.as_bytes()[..end].iter().rposition(|&b| b == b'.') {
        Some(dot) => (&id[..dot], &id[dot + 1..]),
        None => ("", id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_id_follows_junitxml() {
        assert_eq!(split_id("a.b.C.test_x"), ("a.b.C", "test_x"));
        assert_eq!(split_id("a.C.test(x.y)"), ("a.C", "test(x.y)"));
        assert_eq!(split_id("plain"), ("", "plain"));
        assert_eq!(split_id("ends."), ("", "ends."));
        assert_eq!(split_id(""), ("", ""));
        assert_eq!(split_id("é.ü"), ("é", "ü"));
    }

    #[test]
    fn xml_escapes_markup_and_drops_forbidden_characters() {
        let mut out = String::new();
        push_xml(&mut out, "<a href=\"x\">&\u{1}\n", true);
        assert_eq!(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#xA;");
        out.clear();
        push_xml(&mut out, "\"q\"\n\u{FFFF}", false);
        assert_eq!(out, "\"q\"\n");
    }

    /// The character-by-character escape `push_xml` must agree with.
    fn push_xml_per_char(out: &mut String, text: &str, attribute: bool) {
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' if attribute => out.push_str("&quot;"),
                '\n' | '\r' | '\t' if attribute => {
                    let _ = write!(out, "&#x{:X};", u32::from(c));
                }
                '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' => {}
                '\u{FFFE}' | '\u{FFFF}' => {}
                _ => out.push(c),
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn xml_escape_matches_the_per_character_rules(
            text in "(\\PC|[&<>\"\u{0}-\u{1F}\u{FFFE}\u{FFFF}\u{FFFD}])*",
            attribute: bool,
        ) {
            let mut fast = String::new();
            push_xml(&mut fast, &text, attribute);
            let mut slow = String::new();
            push_xml_per_char(&mut slow, &text, attribute);
            proptest::prop_assert_eq!(fast, slow);
        }
    }
}
