//! Host patterns: the optional `:port` suffix and `[begin:end(:step)]` ranges,
//! as Ansible's `parse_address` and `expand_hostname_range` read them.

/// Why a host pattern could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// `[` without a matching `]`, or a `|` in the pattern (Ansible splits on it).
    #[error("unbalanced `[`/`]` in host range (or a `|` in the host name)")]
    Unbalanced,
    /// The bracket holds neither `begin:end` nor `begin:end:step`.
    #[error("host range must be begin:end or begin:end:step")]
    Shape,
    /// `[3:]`.
    #[error("host range must specify an end value")]
    MissingEnd,
    /// `[01:5]`: a zero-padded begin needs an end of the same width.
    #[error("host range must specify equal-length begin and end formats")]
    UnequalWidth,
    /// `[c:a]`.
    #[error("host range must have begin <= end")]
    Descending,
    /// A bound or step that is neither an integer nor a letter pair.
    #[error(
        "host range bounds must be integers or single letters, and the step a non-zero integer"
    )]
    NotANumber,
    /// A bound too large for a number.
    #[error("a host range bound is too large")]
    TooLarge,
    /// Ranges expanding to more names than the budget allows.
    #[error(
        "host ranges expand to more than {max} names in this {scope}; if the inventory really is \
         this large, raise the limit with {var}=N"
    )]
    OverBudget {
        /// `file` or `inventory`.
        scope: &'static str,
        /// The limit.
        max: usize,
        /// The environment variable raising it.
        var: &'static str,
    },
}

/// The environment variable setting how many host names the ranges of one
/// inventory file may expand to.
pub const MAX_HOSTS_PER_FILE_VAR: &str = "KAYOBE_AUTOMATION_MAX_HOSTS_PER_FILE";
/// The environment variable setting how many host names the ranges of all
/// of an inventory's files may expand to together.
pub const MAX_HOSTS_PER_INVENTORY_VAR: &str = "KAYOBE_AUTOMATION_MAX_HOSTS_PER_INVENTORY";
/// The per-file limit unless [`MAX_HOSTS_PER_FILE_VAR`] says otherwise.
pub const DEFAULT_MAX_HOSTS_PER_FILE: usize = 100_000;
/// The per-inventory limit unless [`MAX_HOSTS_PER_INVENTORY_VAR`] says otherwise.
pub const DEFAULT_MAX_HOSTS_PER_INVENTORY: usize = 250_000;

fn limit(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(default)
}

/// How many more host names ranges may expand to, in the file being read
/// and in the whole inventory. Expansion stops with
/// [`RangeError::OverBudget`] past either (counting the partial names of
/// patterns with several ranges), so ten lines of `h[0:999999]` are an
/// error naming the limit rather than an exhausted machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostBudget {
    file_max: usize,
    file_left: usize,
    inventory_max: usize,
    inventory_left: usize,
}

impl HostBudget {
    /// The budget of a whole inventory, from the environment or the defaults.
    pub fn from_env() -> Self {
        let file_max = limit(MAX_HOSTS_PER_FILE_VAR, DEFAULT_MAX_HOSTS_PER_FILE);
        let inventory_max = limit(MAX_HOSTS_PER_INVENTORY_VAR, DEFAULT_MAX_HOSTS_PER_INVENTORY);
        Self {
            file_max,
            file_left: file_max,
            inventory_max,
            inventory_left: inventory_max,
        }
    }

    /// The same inventory budget, with a whole file budget for the next file.
    pub fn next_file(&mut self) {
        self.file_left = self.file_max;
    }

    fn take(&mut self) -> Result<(), RangeError> {
        self.file_left = self
            .file_left
            .checked_sub(1)
            .ok_or(RangeError::OverBudget {
                scope: "file",
                max: self.file_max,
                var: MAX_HOSTS_PER_FILE_VAR,
            })?;
        self.inventory_left = self
            .inventory_left
            .checked_sub(1)
            .ok_or(RangeError::OverBudget {
                scope: "inventory",
                max: self.inventory_max,
                var: MAX_HOSTS_PER_INVENTORY_VAR,
            })?;
        Ok(())
    }
}

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Expands every `[begin:end(:step)]` range in `pattern` into host names, as
/// `expand_hostname_range` does: numeric ranges (zero padding kept when
/// `begin` has a leading zero), letter ranges, an optional step; the first
/// range is expanded first, then each result again.
///
/// A pattern without `[` is returned as is. The pattern has a file's
/// budget ([`HostBudget::from_env`]) to itself.
pub fn expand_hostname_range(pattern: &str) -> Result<Vec<String>, RangeError> {
    expand_hostname_range_within(pattern, &mut HostBudget::from_env())
}

/// [`expand_hostname_range`], taking the names from `budget`.
pub fn expand_hostname_range_within(
    pattern: &str,
    budget: &mut HostBudget,
) -> Result<Vec<String>, RangeError> {
    let mut hosts = Vec::new();
    if pattern.contains('[') {
        expand_into(pattern, &mut hosts, budget)?;
    } else {
        hosts.push(pattern.to_owned());
    }
    Ok(hosts)
}

fn expand_into(
    pattern: &str,
    hosts: &mut Vec<String>,
    budget: &mut HostBudget,
) -> Result<(), RangeError> {
    // Ansible replaces the first `[` and the first `]` by `|` and splits on
    // `|`: exactly three parts are required.
    let open = pattern.find('[').ok_or(RangeError::Unbalanced)?;
    let close = pattern.find(']').ok_or(RangeError::Unbalanced)?;
    if pattern.contains('|') {
        return Err(RangeError::Unbalanced);
    }
    let (head, nrange, tail) = if open < close {
        (
            &pattern[..open],
            &pattern[open + 1..close],
            &pattern[close + 1..],
        )
    } else {
        // `a]b[c`: the parts are `a`, `b`, `c`.
        (
            &pattern[..close],
            &pattern[close + 1..open],
            &pattern[open + 1..],
        )
    };
    let bounds: Vec<&str> = nrange.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err(RangeError::Shape);
    }
    let begin = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    let step = bounds.get(2).copied();
    if end.is_empty() {
        return Err(RangeError::MissingEnd);
    }
    let width = if begin.starts_with('0') && begin.chars().count() > 1 {
        if begin.chars().count() != end.chars().count() {
            return Err(RangeError::UnequalWidth);
        }
        Some(begin.chars().count())
    } else {
        None
    };
    let mut emit = |item: &str| -> Result<(), RangeError> {
        budget.take()?;
        let name = format!("{head}{item}{tail}");
        if name.contains('[') {
            expand_into(&name, hosts, budget)
        } else {
            hosts.push(name);
            Ok(())
        }
    };
    // `string.ascii_letters.index(x)` is a substring search, so `ab` is a
    // valid "letter" too (at the index of its first character).
    if let (Some(first), Some(last)) = (LETTERS.find(begin), LETTERS.find(end)) {
        if first > last {
            return Err(RangeError::Descending);
        }
        if let Some(step) = step.map(python_int).transpose()?.filter(|&s| s != 0) {
            for letter in python_slice(LETTERS.as_bytes(), first, last + 1, step) {
                emit(&char::from(letter).to_string())?;
            }
            return Ok(());
        } else if step.is_none() {
            for letter in LETTERS[first..=last].chars() {
                emit(&letter.to_string())?;
            }
            return Ok(());
        }
        // A zero step fails the slice and then the numeric reading below.
    }
    let first = python_int(begin)?;
    let last = python_int(end)?;
    let step = match step {
        Some(step) => python_int(step)?,
        None => 1,
    };
    if step == 0 {
        return Err(RangeError::NotANumber);
    }
    let stop = last.checked_add(1).ok_or(RangeError::TooLarge)?;
    let mut number = first;
    while (step > 0 && number < stop) || (step < 0 && number > stop) {
        let digits = number.to_string();
        match width {
            Some(width) => emit(&zfill(&digits, width))?,
            None => emit(&digits)?,
        }
        number = match number.checked_add(step) {
            Some(next) => next,
            None => break,
        };
    }
    Ok(())
}

/// `s[start:stop:step]` for a non-zero step, with Python's clamping.
fn python_slice(items: &[u8], start: usize, stop: usize, step: i64) -> Vec<u8> {
    let len = items.len() as i64;
    let (start, stop) = (start as i64, stop as i64);
    let mut out = Vec::new();
    if step > 0 {
        let mut i = start.min(len);
        while i < stop.min(len) {
            out.push(items[i as usize]);
            i += step;
        }
    } else {
        // Negative step: from `start` (clamped to len-1) down to `stop` exclusive.
        let mut i = start.min(len - 1);
        while i > stop {
            out.push(items[i as usize]);
            i += step;
        }
    }
    out
}

/// Python's `str.zfill`: pad with zeros after any sign to `width` characters.
fn zfill(digits: &str, width: usize) -> String {
    let len = digits.chars().count();
    if len >= width {
        return digits.to_owned();
    }
    let (sign, rest) = match digits.strip_prefix(['-', '+']) {
        Some(rest) => (&digits[..1], rest),
        None => ("", digits),
    };
    format!("{sign}{}{rest}", "0".repeat(width - len))
}

/// Python's `int(text)` for ASCII input: surrounding whitespace, an optional
/// sign, decimal digits with single `_` between them.
fn python_int(text: &str) -> Result<i64, RangeError> {
    let trimmed = text.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c));
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return Err(RangeError::NotANumber);
    }
    let value: i64 = digits
        .replace('_', "")
        .parse()
        .map_err(|_| RangeError::TooLarge)?;
    Ok(if negative { -value } else { value })
}

/// Splits a host pattern into the host part and an optional port, as
/// `parse_address(pattern, allow_ranges=True)` does; when the pattern is not a
/// recognisable host (it raises), Ansible keeps the whole pattern and no port.
pub fn split_port(pattern: &str) -> (&str, Option<u64>) {
    let mut address = pattern;
    let mut port = None;
    // Both forms are tried in turn, the second on what the first left.
    if let Some((inner, number)) = bracketed_hostport(address) {
        address = inner;
        port = Some(number);
    }
    if let Some((inner, number)) = hostport(address) {
        address = inner;
        port = Some(number);
    }
    if is_hostname(address) || is_ipv6(address) {
        // IPv4 addresses (with ranges) are hostnames as far as this goes.
        (address, port)
    } else {
        (pattern, None)
    }
}

/// `^\[(.+)\]:([0-9]+)$`
fn bracketed_hostport(address: &str) -> Option<(&str, u64)> {
    let rest = address.strip_prefix('[')?;
    let colon = rest.rfind("]:")?;
    let (inner, port) = (&rest[..colon], &rest[colon + 2..]);
    if inner.is_empty() {
        return None;
    }
    Some((inner, parse_port(port)?))
}

/// `^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`
fn hostport(address: &str) -> Option<(&str, u64)> {
    let colon = address.rfind(':')?;
    let (host, port) = (&address[..colon], &address[colon + 1..]);
    let port = parse_port(port)?;
    // The host part: characters other than `:[]`, or whole `[...]` groups.
    let mut chars = host.chars();
    while let Some(c) = chars.next() {
        match c {
            ':' | ']' => return None,
            '[' => loop {
                match chars.next() {
                    Some(']') => break,
                    Some(_) => {}
                    None => return None,
                }
            },
            _ => {}
        }
    }
    Some((host, port))
}

fn parse_port(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Python ints are unbounded; a port this long is nonsense anyway.
    digits.parse().ok()
}

/// Python's `\w` for `str` patterns.
fn is_word_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Ansible's `hostname` pattern: dot-separated labels of word characters,
/// `-` and ranges, not starting with `-` nor ending with `-` or `_`.
fn is_hostname(address: &str) -> bool {
    address.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    let mut rest = label;
    let mut units = 0;
    let mut last_char = ' ';
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            let Some(len) = alphanumeric_range_len(rest) else {
                return false;
            };
            rest = &rest[len..];
            last_char = ']';
        } else if is_word_char(c) || (c == '-' && units > 0) {
            rest = &rest[c.len_utf8()..];
            last_char = c;
        } else {
            return false;
        }
        units += 1;
    }
    units > 0 && last_char != '-' && last_char != '_'
}

/// Length of a leading `\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`
/// (case-insensitive).
fn alphanumeric_range_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    let digits = |i: usize| bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if bytes.get(1).is_some_and(u8::is_ascii_alphabetic)
        && bytes.get(2) == Some(&b':')
        && bytes.get(3).is_some_and(u8::is_ascii_alphabetic)
    {
        i = 4;
    } else {
        let n = digits(i);
        if n == 0 || bytes.get(i + n) != Some(&b':') {
            return None;
        }
        i += n + 1;
        let m = digits(i);
        if m == 0 {
            return None;
        }
        i += m;
    }
    if bytes.get(i) == Some(&b':') {
        let n = digits(i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    (bytes.get(i) == Some(&b']')).then_some(i + 1)
}

/// One IPv6 component: 1–4 hex digits, or `[hex:hex(:digits)]`.
fn is_ipv6_component(text: &str) -> bool {
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let parts: Vec<&str> = inner.split(':').collect();
        let hex = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit());
        return match parts.as_slice() {
            [a, b] => hex(a) && hex(b),
            [a, b, s] => hex(a) && hex(b) && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
            _ => false,
        };
    }
    (1..=4).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Ansible's `ipv6` pattern (with ranges in place of components): eight
/// components, or fewer with one `::`, optionally ending in dotted components.
fn is_ipv6(address: &str) -> bool {
    // Split on `:` outside brackets.
    let mut groups = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in address.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' if depth == 0 => {
                groups.push(&address[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    groups.push(&address[start..]);
    if groups.len() < 3 {
        return false;
    }
    let dotted = |g: &str| {
        let parts: Vec<&str> = g.split('.').collect();
        parts.len() == 4 && parts.iter().all(|p| is_ipv6_component(p))
    };
    let last = groups[groups.len() - 1];
    if last.contains('.') {
        // The IPv4-in-IPv6 forms: (0:){6}v4, ::(ffff:)?v4, (0:){5}ffff:v4.
        if !dotted(last) {
            return false;
        }
        let head = &groups[..groups.len() - 1];
        let is = |g: &&str, v: &str| *g == v;
        return (head.len() == 6 && head.iter().all(|g| is(g, "0")))
            || (head.len() == 2 && head.iter().all(|g| g.is_empty()))
            || (head.len() == 3
                && head[0].is_empty()
                && head[1].is_empty()
                && head[2].eq_ignore_ascii_case("ffff"))
            || (head.len() == 6
                && head[..5].iter().all(|g| is(g, "0"))
                && head[5].eq_ignore_ascii_case("ffff"));
    }
    let empties: Vec<usize> = (0..groups.len())
        .filter(|&i| groups[i].is_empty())
        .collect();
    let components_ok = |gs: &[&str]| gs.iter().all(|g| is_ipv6_component(g));
    match empties.as_slice() {
        [] => groups.len() == 8 && components_ok(&groups),
        // `a::b`: one empty group strictly inside; 2..=7 components in all.
        [i] if *i > 0 && *i < groups.len() - 1 => {
            let n = groups.len() - 1;
            (2..=7).contains(&n) && components_ok(&groups[..*i]) && components_ok(&groups[i + 1..])
        }
        // `a::` (1..=6 before) or `::b` (1..=6 after).
        [i, j] if *j == i + 1 && *j == groups.len() - 1 => {
            (1..=7).contains(i) && components_ok(&groups[..*i])
        }
        [0, 1] => {
            let n = groups.len() - 2;
            (1..=6).contains(&n) && components_ok(&groups[2..])
        }
        // `::`
        [0, 1, 2] => groups.len() == 3,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(pattern: &str) -> Vec<String> {
        expand_hostname_range(pattern).unwrap()
    }

    #[test]
    fn expands_numeric_letter_and_stepped_ranges() {
        assert_eq!(expand("ctl[01:03]"), ["ctl01", "ctl02", "ctl03"]);
        assert_eq!(expand("s-[a:c].x"), ["s-a.x", "s-b.x", "s-c.x"]);
        assert_eq!(expand("n[0:10:4]"), ["n0", "n4", "n8"]);
        assert_eq!(expand("n[:2]"), ["n0", "n1", "n2"]);
        assert_eq!(expand("r[1:2]c[a:b]"), ["r1ca", "r1cb", "r2ca", "r2cb"]);
        assert_eq!(expand("h[8:11]"), ["h8", "h9", "h10", "h11"]);
        assert_eq!(expand("x[y:B]"), ["xy", "xz", "xA", "xB"]);
        assert_eq!(expand("x[a:e:2]"), ["xa", "xc", "xe"]);
        assert!(expand("h[5:1]").is_empty());
        assert!(expand("h[1:5:-1]").is_empty());
    }

    #[test]
    fn rejects_what_ansible_rejects() {
        assert_eq!(expand_hostname_range("h[1]"), Err(RangeError::Shape));
        assert_eq!(expand_hostname_range("h[1:]"), Err(RangeError::MissingEnd));
        assert_eq!(
            expand_hostname_range("h[01:5]"),
            Err(RangeError::UnequalWidth)
        );
        assert_eq!(expand_hostname_range("h[c:a]"), Err(RangeError::Descending));
        assert_eq!(expand_hostname_range("h[1:x]"), Err(RangeError::NotANumber));
        assert_eq!(expand_hostname_range("h[1:2"), Err(RangeError::Unbalanced));
        assert_eq!(
            expand_hostname_range("h[1:9:0]"),
            Err(RangeError::NotANumber)
        );
    }

    #[test]
    fn splits_ports_like_parse_address() {
        assert_eq!(split_port("host:22"), ("host", Some(22)));
        assert_eq!(split_port("h[1:3]:22"), ("h[1:3]", Some(22)));
        assert_eq!(split_port("[fe80::1]:22"), ("fe80::1", Some(22)));
        assert_eq!(split_port("fe80::1"), ("fe80::1", None));
        assert_eq!(split_port("host_:22"), ("host_:22", None));
        assert_eq!(split_port("10.0.0.1:2222"), ("10.0.0.1", Some(2222)));
        assert_eq!(split_port("host"), ("host", None));
        assert_eq!(split_port("a_b-c.d"), ("a_b-c.d", None));
        assert_eq!(split_port("[1:2]:22"), ("1", Some(2)));
    }
}
