//! Anchor names, which saphyr replaces by numbers: PyYAML rejects a name
//! defined twice in a document.

use std::collections::HashSet;

/// The anchor names of a document, to reject one defined twice as PyYAML's
/// composer does (saphyr numbers anchors and accepts redefinitions).
pub(super) struct AnchorNames<'t> {
    text: &'t str,
    /// Whether character and byte positions coincide (found out on first use).
    ascii: Option<bool>,
    /// A (character, byte) position pair to resume the character count from.
    cursor: (usize, usize),
    seen: HashSet<&'t str>,
}

impl<'t> AnchorNames<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        AnchorNames {
            text,
            ascii: None,
            cursor: (0, 0),
            seen: HashSet::new(),
        }
    }

    fn byte_offset(&mut self, char_index: usize) -> usize {
        if *self.ascii.get_or_insert_with(|| self.text.is_ascii()) {
            return char_index;
        }
        if char_index < self.cursor.0 {
            self.cursor = (0, 0);
        }
        let (mut chars, mut bytes) = self.cursor;
        for c in self.text[bytes..].chars() {
            if chars == char_index {
                break;
            }
            chars += 1;
            bytes += c.len_utf8();
        }
        self.cursor = (chars, bytes);
        bytes
    }

    /// Records the anchor of the node whose properties start at
    /// `char_index` (`&name`, possibly after a tag); false if already seen.
    pub(super) fn is_new(&mut self, char_index: usize) -> bool {
        let start = self.byte_offset(char_index).min(self.text.len());
        let rest = &self.text[start..];
        let is_end = |c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}');
        let rest = if rest.starts_with('!') {
            let tag_end = rest.find(is_end).unwrap_or(rest.len());
            rest[tag_end..].trim_start()
        } else {
            rest
        };
        let Some(after) = rest.strip_prefix('&') else {
            return true;
        };
        let name = &after[..after.find(is_end).unwrap_or(after.len())];
        self.seen.insert(name)
    }
}
