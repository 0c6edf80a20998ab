//! Escaping untrusted text for a terminal and for HTML.
//!
//! Text from a merge request or a test stream (file names, test ids,
//! tracebacks) must not drive the terminal it is printed on (an escape
//! sequence can recolour, move the cursor, or rewrite earlier lines) nor
//! forge a line of the output (a file name holding a newline). Control
//! characters are therefore written as visible escapes: `\n`, `\r`, `\t`,
//! `\x1b` for the other C0 characters and DEL, `\u{85}` for C1.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` for one line of output: every control character escaped,
/// newlines and tabs included.
pub fn escape_line(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// `text` for multi-line output: control characters escaped except the
/// newline and the tab, which lay the text out.
pub fn escape_text(text: &str) -> Cow<'_, str> {
    escape(text, |c| matches!(c, '\n' | '\t'))
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let needs = |c: char| c.is_control() && !keep(c);
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// Appends the start of a self-contained HTML page: doctype, UTF-8, a
/// viewport for phones, `title` (escaped), `style` inline (ours, not
/// escaped), up to and including `<body>` and a newline.
pub fn push_html_head(out: &mut String, title: &str, style: &str) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    out.push_str("<title>");
    push_html(out, title);
    out.push_str("</title><style>");
    out.push_str(style);
    out.push_str("</style></head><body>\n");
}

/// Appends `text` to `out` escaped for HTML element content and quoted
/// attributes alike; NUL becomes U+FFFD (HTML parsers do the same).
pub fn push_html(out: &mut String, text: &str) {
    if !text
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | 0))
    {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(
            escape_line("a\nb\x1b[2Jc\u{85}\t"),
            "a\\nb\\x1b[2Jc\\u{85}\\t"
        );
        assert_eq!(escape_text("a\nb\x1b[2J\r\t"), "a\nb\\x1b[2J\\r\t");
        assert!(matches!(escape_line("plain é"), Cow::Borrowed(_)));
    }

    #[test]
    fn an_html_head_escapes_its_title_and_opens_the_body() {
        let mut out = String::new();
        push_html_head(&mut out, "a <b>", "p{}");
        assert!(
            out.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
            "{out}"
        );
        assert!(
            out.contains("<title>a &lt;b&gt;</title><style>p{}</style>"),
            "{out}"
        );
        assert!(out.ends_with("</head><body>\n"), "{out}");
    }

    #[test]
    fn html_escapes_everything_active() {
        let mut out = String::new();
        push_html(&mut out, "<script>alert('x')</script>&\"\0");
        assert_eq!(
            out,
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\u{FFFD}"
        );
    }

    proptest! {
        #[test]
        fn escaped_text_holds_no_control_character(text in any::<String>()) {
            prop_assert!(!escape_line(&text).chars().any(char::is_control));
            prop_assert!(!escape_text(&text).chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
        }
    }
}
