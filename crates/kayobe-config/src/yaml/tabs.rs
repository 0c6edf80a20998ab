//! Tabs after `:` and `-`: separation for YAML and libyaml, an error for
//! saphyr. Turning them into spaces keeps every position, and outside
//! scalars the meaning.

/// How many `:<tab>` separations [`super::parse`] patches one at a time (one
/// re-parse each) before it reports the next one as an error.
pub(super) const MAX_TAB_PATCHES: usize = 64;

/// `text` with every tab in the blanks after a `:` or `-` turned into a space,
/// and the character positions of those tabs.
pub(super) fn patch_all_tab_separations(text: &str) -> (String, Vec<usize>) {
    let mut patched = String::with_capacity(text.len());
    let mut positions = Vec::new();
    let mut after_indicator = false;
    for (index, c) in text.chars().enumerate() {
        match c {
            '\t' if after_indicator => {
                patched.push(' ');
                positions.push(index);
            }
            ' ' if after_indicator => patched.push(' '),
            _ => {
                after_indicator = matches!(c, ':' | '-');
                patched.push(c);
            }
        }
    }
    (patched, positions)
}

/// `text` with the tabs between an indicator (`:` or `-`) and the value
/// starting at `char_index` turned into spaces (same positions, same meaning:
/// they separate tokens), or `None` if that is not what is there.
pub(super) fn tab_separated_indicator(text: &str, char_index: usize) -> Option<String> {
    let end = text
        .char_indices()
        .nth(char_index)
        .map_or(text.len(), |(i, _)| i);
    let before = &text.as_bytes()[..end];
    let run = before
        .iter()
        .rev()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let start = end - run;
    if start == 0 || !matches!(before[start - 1], b':' | b'-') || !before[start..].contains(&b'\t')
    {
        return None;
    }
    let mut patched = String::with_capacity(text.len());
    patched.push_str(&text[..start]);
    patched.push_str(&text[start..end].replace('\t', " "));
    patched.push_str(&text[end..]);
    Some(patched)
}
