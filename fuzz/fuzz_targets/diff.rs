#![no_main]
//! config-diff's text diff of two arbitrary texts (split at the first 0xFF
//! byte, which UTF-8 never holds): it stays within its budget, never
//! panics, and a unified diff names the file in both headers.

use std::path::Path;

use config_diff::tree::{FileChange, text_change};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0xFF).unwrap_or(data.len());
    let (Ok(old), Ok(new)) = (
        std::str::from_utf8(&data[..split]),
        std::str::from_utf8(data.get(split + 1..).unwrap_or_default()),
    ) else {
        return;
    };
    match text_change(Path::new("f\n\x1b"), old, new) {
        FileChange::Changed { unified } => {
            // The path is escaped: no raw control character in the headers.
            assert!(old == new || unified.starts_with("--- a/f\\n\\x1b\n+++ b/f\\n\\x1b\n"));
        }
        FileChange::Summarised { old_lines, new_lines, .. } => {
            assert_eq!((old_lines, new_lines), (old.lines().count(), new.lines().count()));
        }
        other => panic!("a text change is never {other:?}"),
    }
});
