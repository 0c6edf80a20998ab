//! YAML 1.1 scalars as PyYAML's `SafeConstructor` reads them: which plain
//! scalars are booleans, nulls, numbers or timestamps, and what they become.
//!
//! PyYAML resolves a plain scalar by trying, for its first character, a list of
//! regular expressions in a fixed order (float before int before timestamp).
//! The matchers here are those expressions written out by hand (no regex
//! engine on the hot path). Python's `$` also matches before one trailing
//! newline, which matters for `!unsafe` block scalars: they are resolved as if
//! they were plain.

use std::fmt::Write as _;

/// The type PyYAML's implicit resolver gives a scalar's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Implicit {
    Null,
    Bool,
    Int,
    Float,
    Timestamp,
    /// `<<`: the merge key.
    Merge,
    /// `=`: PyYAML's `tag:yaml.org,2002:value`, which has no constructor.
    ValueKey,
    /// `!`, `&` or `*` (only reachable re-resolving a tagged scalar): PyYAML's
    /// `tag:yaml.org,2002:yaml`, which has no constructor.
    YamlIndicator,
    Str,
}

/// The implicit type of `text` as PyYAML's `Resolver` resolves a plain scalar.
pub(crate) fn resolve(text: &str) -> Implicit {
    // Python's `$` matches at the end or before a final newline.
    let core = text.strip_suffix('\n').unwrap_or(text);
    let Some(first) = text.chars().next() else {
        return Implicit::Null;
    };
    match first {
        'y' | 'Y' | 'n' | 'N' | 't' | 'T' | 'f' | 'F' | 'o' | 'O' => {
            if is_bool(core) {
                Implicit::Bool
            } else if matches!(core, "null" | "Null" | "NULL") {
                Implicit::Null
            } else {
                Implicit::Str
            }
        }
        '-' | '+' | '.' | '0'..='9' => {
            if is_float(core) {
                Implicit::Float
            } else if first != '.' && is_int(core) {
                Implicit::Int
            } else if first.is_ascii_digit() && is_timestamp(core) {
                Implicit::Timestamp
            } else {
                Implicit::Str
            }
        }
        '~' if core == "~" => Implicit::Null,
        '<' if core == "<<" => Implicit::Merge,
        '=' if core == "=" => Implicit::ValueKey,
        '!' | '&' | '*' if core.len() == 1 => Implicit::YamlIndicator,
        _ => Implicit::Str,
    }
}

fn is_bool(s: &str) -> bool {
    matches!(
        s,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn strip_sign(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

/// `[0-9][0-9_]*` at the start of `s`: the rest after it, if it matched.
fn digits_then_underscores(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    if !b.first()?.is_ascii_digit() {
        return None;
    }
    let n = b[1..]
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'_')
        .count();
    Some(&s[1 + n..])
}

/// `(?::[0-5]?[0-9])+` matching all of `s`.
fn is_sexagesimal_tail(s: &str) -> bool {
    let Some(rest) = s.strip_prefix(':') else {
        return false;
    };
    rest.split(':').all(|part| match part.as_bytes() {
        [d] => d.is_ascii_digit(),
        [t, d] => (b'0'..=b'5').contains(t) && d.is_ascii_digit(),
        _ => false,
    })
}

/// `[eE][-+][0-9]+` matching all of `s`, or `s` empty.
fn is_optional_exponent(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let b = s.as_bytes();
    b.len() >= 3
        && matches!(b[0], b'e' | b'E')
        && matches!(b[1], b'-' | b'+')
        && b[2..].iter().all(u8::is_ascii_digit)
}

fn all_digits_or_underscores(s: &str) -> bool {
    s.bytes().all(|c| c.is_ascii_digit() || c == b'_')
}

/// PyYAML's float expression.
fn is_float(s: &str) -> bool {
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // `\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?` (no sign allowed)
    if let Some(rest) = s.strip_prefix('.')
        && let Some(after) = digits_then_underscores(rest)
        && is_optional_exponent(after)
    {
        return true;
    }
    let unsigned = strip_sign(s);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let Some(after_int) = digits_then_underscores(unsigned) else {
        return false;
    };
    if let Some(fraction) = after_int.strip_prefix('.') {
        // `[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?`
        let n = fraction
            .bytes()
            .take_while(|c| c.is_ascii_digit() || *c == b'_')
            .count();
        return is_optional_exponent(&fraction[n..]);
    }
    // `[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*`
    match after_int.split_once('.') {
        Some((tail, fraction)) => is_sexagesimal_tail(tail) && all_digits_or_underscores(fraction),
        None => false,
    }
}

/// PyYAML's int expression.
fn is_int(s: &str) -> bool {
    let u = strip_sign(s);
    if let Some(bits) = u.strip_prefix("0b") {
        return !bits.is_empty() && bits.bytes().all(|c| matches!(c, b'0' | b'1' | b'_'));
    }
    if let Some(hex) = u.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|c| c.is_ascii_hexdigit() || c == b'_');
    }
    if let Some(octal) = u.strip_prefix('0') {
        return octal.is_empty() || octal.bytes().all(|c| matches!(c, b'0'..=b'7' | b'_'));
    }
    match u.as_bytes().first() {
        Some(b'1'..=b'9') => {}
        _ => return false,
    }
    let after = digits_then_underscores(u).unwrap_or_default();
    after.is_empty() || is_sexagesimal_tail(after)
}

/// The parts of a YAML 1.1 timestamp (PyYAML's `timestamp_regexp`).
struct TimestampParts<'a> {
    year: &'a str,
    month: &'a str,
    day: &'a str,
    time: Option<TimeParts<'a>>,
}

struct TimeParts<'a> {
    hour: &'a str,
    minute: &'a str,
    second: &'a str,
    fraction: &'a str,
    /// `None`: no zone; `Some(None)`: `Z`; `Some(Some((sign, hours, minutes)))`.
    zone: Option<Option<(char, &'a str, &'a str)>>,
}

fn take_digits(s: &str, min: usize, max: usize) -> Option<(&str, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    (n >= min).then(|| s.split_at(n))
}

/// Matches PyYAML's `timestamp_regexp` (the constructor's, which also accepts
/// one-digit months and days without a time). Returns `None` when it does not match.
fn timestamp_parts(s: &str) -> Option<TimestampParts<'_>> {
    let (year, rest) = take_digits(s, 4, 4)?;
    let rest = rest.strip_prefix('-')?;
    let (month, rest) = take_digits(rest, 1, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = take_digits(rest, 1, 2)?;
    if rest.is_empty() {
        return Some(TimestampParts {
            year,
            month,
            day,
            time: None,
        });
    }
    let rest = match rest.strip_prefix(['T', 't']) {
        Some(r) => r,
        None => {
            let r = rest.trim_start_matches([' ', '\t']);
            if r.len() == rest.len() {
                return None;
            }
            r
        }
    };
    let (hour, rest) = take_digits(rest, 1, 2)?;
    let (minute, rest) = take_digits(rest.strip_prefix(':')?, 2, 2)?;
    let (second, mut rest) = take_digits(rest.strip_prefix(':')?, 2, 2)?;
    let mut fraction = "";
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        fraction = &r[..n];
        rest = &r[n..];
    }
    let zone_text = rest.trim_start_matches([' ', '\t']);
    let zone = if rest.is_empty() {
        None
    } else if zone_text == "Z" {
        Some(None)
    } else {
        let sign = zone_text
            .chars()
            .next()
            .filter(|c| matches!(c, '+' | '-'))?;
        let (hours, r) = take_digits(&zone_text[1..], 1, 2)?;
        let minutes = if r.is_empty() {
            ""
        } else {
            let (m, r) = take_digits(r.strip_prefix(':')?, 2, 2)?;
            if !r.is_empty() {
                return None;
            }
            m
        };
        Some(Some((sign, hours, minutes)))
    };
    Some(TimestampParts {
        year,
        month,
        day,
        time: Some(TimeParts {
            hour,
            minute,
            second,
            fraction,
            zone,
        }),
    })
}

/// The resolver's (stricter) timestamp expression: a date-only form needs
/// two-digit months and days.
fn is_timestamp(s: &str) -> bool {
    match timestamp_parts(s) {
        Some(p) if p.time.is_none() => p.month.len() == 2 && p.day.len() == 2,
        Some(_) => true,
        None => false,
    }
}

/// Why a scalar could not be constructed as its tag asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarProblem {
    NotBool,
    NotInt,
    NotFloat,
    NotTimestamp,
    InvalidDate,
}

/// A constructed integer: fits `i64`, or Python's arbitrary precision.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Integer {
    Small(i64),
    /// Decimal digits with an optional leading `-`.
    Big(String),
}

/// `SafeConstructor.construct_yaml_bool`.
pub(crate) fn construct_bool(text: &str) -> Result<bool, ScalarProblem> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(true),
        "no" | "false" | "off" => Ok(false),
        _ => Err(ScalarProblem::NotBool),
    }
}

/// Python's `str.strip()` whitespace that `int()` and `float()` ignore.
fn trim_python(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace())
}

/// `SafeConstructor.construct_yaml_int`: underscores dropped, sign, `0b`, `0x`,
/// leading-zero octal, sexagesimal `a:b:c`, decimal, each part read by
/// Python's `int()` (which ignores surrounding whitespace and accepts the
/// base's prefix once more).
pub(crate) fn construct_int(text: &str) -> Result<Integer, ScalarProblem> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let negative = cleaned.starts_with('-');
    let value = strip_sign(&cleaned);
    if value.is_empty() {
        return Err(ScalarProblem::NotInt);
    }
    let magnitude = if value == "0" {
        BigUint::zero()
    } else if let Some(bits) = value.strip_prefix("0b") {
        python_int(bits, 2)?
    } else if let Some(hex) = value.strip_prefix("0x") {
        python_int(hex, 16)?
    } else if value.starts_with('0') {
        python_int(value, 8)?
    } else if value.contains(':') {
        let mut parts = value.split(':');
        let mut total = python_int(parts.next().unwrap_or_default(), 10)?;
        for part in parts {
            let digit = python_int(part, 10)?
                .to_u32()
                .ok_or(ScalarProblem::NotInt)?;
            total.mul_add(60, digit);
        }
        total
    } else {
        python_int(value, 10)?
    };
    Ok(magnitude.into_integer(negative))
}

/// Python's `int(text, radix)` for a non-negative ASCII number.
fn python_int(text: &str, radix: u32) -> Result<BigUint, ScalarProblem> {
    let text = trim_python(text);
    let prefix = match radix {
        2 => Some(["0b", "0B"]),
        8 => Some(["0o", "0O"]),
        16 => Some(["0x", "0X"]),
        _ => None,
    };
    let digits = prefix
        .and_then(|p| text.strip_prefix(p[0]).or_else(|| text.strip_prefix(p[1])))
        .unwrap_or(text);
    BigUint::parse(digits, radix)
}

/// `SafeConstructor.construct_yaml_float`: underscores dropped, lower-cased,
/// `.inf`, `.nan`, sexagesimal, else Python's `float()`.
pub(crate) fn construct_float(text: &str) -> Result<f64, ScalarProblem> {
    let cleaned: String = text
        .chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    let sign = if cleaned.starts_with('-') { -1.0 } else { 1.0 };
    let value = strip_sign(&cleaned);
    match value {
        ".inf" => return Ok(sign * f64::INFINITY),
        ".nan" => return Ok(f64::NAN),
        _ => {}
    }
    if value.contains(':') {
        // Summed from the last part up, as PyYAML does (same rounding).
        let (mut total, mut base) = (0.0, 1.0);
        for part in value.rsplit(':') {
            total += python_float(part)? * base;
            base *= 60.0;
        }
        return Ok(sign * total);
    }
    Ok(sign * python_float(value)?)
}

/// Python's `float(text)` for ASCII input (Rust's grammar is the same for
/// what YAML can hold once the sign is gone).
fn python_float(text: &str) -> Result<f64, ScalarProblem> {
    let text = trim_python(text);
    if text.is_empty() || !text.is_ascii() {
        return Err(ScalarProblem::NotFloat);
    }
    text.parse::<f64>().map_err(|_| ScalarProblem::NotFloat)
}

/// `SafeConstructor.construct_yaml_timestamp`, as the text Ansible's JSON
/// encoder prints for the `date`/`datetime` (Python's `isoformat()`).
pub(crate) fn construct_timestamp(text: &str) -> Result<String, ScalarProblem> {
    let core = text.strip_suffix('\n').unwrap_or(text);
    let parts = timestamp_parts(core).ok_or(ScalarProblem::NotTimestamp)?;
    let number = |s: &str| s.parse::<u32>().unwrap_or(0);
    let (year, month, day) = (number(parts.year), number(parts.month), number(parts.day));
    if year == 0 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(ScalarProblem::InvalidDate);
    }
    let mut iso = format!("{year:04}-{month:02}-{day:02}");
    let Some(time) = parts.time else {
        return Ok(iso);
    };
    let (hour, minute, second) = (number(time.hour), number(time.minute), number(time.second));
    if hour > 23 || minute > 59 || second > 59 {
        return Err(ScalarProblem::InvalidDate);
    }
    let _ = write!(iso, "T{hour:02}:{minute:02}:{second:02}");
    let mut fraction: String = time.fraction.chars().take(6).collect();
    if !fraction.is_empty() {
        while fraction.len() < 6 {
            fraction.push('0');
        }
        if fraction != "000000" {
            iso.push('.');
            iso.push_str(&fraction);
        }
    }
    match time.zone {
        None => {}
        Some(None) => iso.push_str("+00:00"),
        Some(Some((sign, hours, minutes))) => {
            let offset_minutes = number(hours) * 60
                + if minutes.is_empty() {
                    0
                } else {
                    number(minutes)
                };
            // datetime.timezone needs an offset strictly within a day.
            if offset_minutes >= 24 * 60 {
                return Err(ScalarProblem::InvalidDate);
            }
            let sign = if sign == '-' && offset_minutes != 0 {
                '-'
            } else {
                '+'
            };
            let _ = write!(
                iso,
                "{sign}{:02}:{:02}",
                offset_minutes / 60,
                offset_minutes % 60
            );
        }
    }
    Ok(iso)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// How Python's `json.dumps` prints a float mapping key, which is how it
/// appears in Ansible's JSON output: its `repr`, with JSON's names for the
/// non-finite values.
pub(crate) fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        crate::value::python_float_repr(f)
    }
}

/// A non-negative integer of any size, in base 10^9 limbs (least significant
/// first): enough arithmetic for Python's unbounded `int()`.
struct BigUint(Vec<u32>);

const LIMB: u64 = 1_000_000_000;

impl BigUint {
    fn zero() -> Self {
        BigUint(vec![0])
    }

    fn mul_add(&mut self, factor: u32, addend: u32) {
        let mut carry = u64::from(addend);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(factor) + carry;
            *limb = (v % LIMB) as u32;
            carry = v / LIMB;
        }
        while carry > 0 {
            self.0.push((carry % LIMB) as u32);
            carry /= LIMB;
        }
    }

    fn parse(digits: &str, radix: u32) -> Result<Self, ScalarProblem> {
        if digits.is_empty() {
            return Err(ScalarProblem::NotInt);
        }
        let mut n = BigUint::zero();
        for c in digits.chars() {
            let d = c.to_digit(radix).ok_or(ScalarProblem::NotInt)?;
            n.mul_add(radix, d);
        }
        Ok(n)
    }

    fn to_u64(&self) -> Option<u64> {
        let mut v: u64 = 0;
        for limb in self.0.iter().rev() {
            v = v.checked_mul(LIMB)?.checked_add(u64::from(*limb))?;
        }
        Some(v)
    }

    fn to_u32(&self) -> Option<u32> {
        self.to_u64().and_then(|v| u32::try_from(v).ok())
    }

    fn into_integer(self, negative: bool) -> Integer {
        if let Some(v) = self.to_u64() {
            if negative {
                if v <= i64::MAX as u64 + 1 {
                    return Integer::Small(0i64.wrapping_sub_unsigned(v));
                }
            } else if let Ok(v) = i64::try_from(v) {
                return Integer::Small(v);
            }
        }
        let mut text = String::new();
        if negative {
            text.push('-');
        }
        let mut limbs = self.0.iter().rev();
        if let Some(top) = limbs.next() {
            let _ = write!(text, "{top}");
        }
        for limb in limbs {
            let _ = write!(text, "{limb:09}");
        }
        Integer::Big(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_pyyaml() {
        use Implicit::*;
        let cases = [
            ("", Null),
            ("~", Null),
            ("null", Null),
            ("NULL", Null),
            ("nULL", Str),
            ("yes", Bool),
            ("Off", Bool),
            ("y", Str),
            ("n", Str),
            ("oN", Str),
            ("1", Int),
            ("-0", Int),
            ("010", Int),
            ("09", Str),
            ("0x1F", Int),
            ("0b101", Int),
            ("1_000", Int),
            ("1:30", Int),
            ("1:60", Str),
            ("1.5", Float),
            ("1.", Float),
            (".5", Float),
            ("-.5", Str),
            ("1e3", Str),
            ("1.0e3", Str),
            ("1.0e+3", Float),
            ("1:30.5", Float),
            (".inf", Float),
            ("-.Inf", Float),
            ("-.nan", Str),
            (".NaN", Float),
            ("2001-12-14", Timestamp),
            ("2001-1-14", Str),
            ("2001-12-14t21:59:43.10-05:00", Timestamp),
            ("2001-12-14 21:59:43.10", Timestamp),
            ("<<", Merge),
            ("=", ValueKey),
            ("yes\n", Bool),
        ];
        for (text, want) in cases {
            assert_eq!(resolve(text), want, "{text:?}");
        }
    }

    #[test]
    fn constructs_ints_like_pyyaml() {
        assert_eq!(construct_int("010"), Ok(Integer::Small(8)));
        assert_eq!(construct_int("-0x_1f"), Ok(Integer::Small(-31)));
        assert_eq!(construct_int("0b11"), Ok(Integer::Small(3)));
        assert_eq!(construct_int("190:20:30"), Ok(Integer::Small(685_230)));
        assert_eq!(
            construct_int("-9223372036854775808"),
            Ok(Integer::Small(i64::MIN))
        );
        assert_eq!(
            construct_int("123456789012345678901234567890"),
            Ok(Integer::Big("123456789012345678901234567890".into()))
        );
        assert_eq!(construct_int("0x_"), Err(ScalarProblem::NotInt));
    }

    #[test]
    fn constructs_timestamps_as_python_isoformat() {
        assert_eq!(
            construct_timestamp("2001-12-14").as_deref(),
            Ok("2001-12-14")
        );
        assert_eq!(
            construct_timestamp("2001-12-14t21:59:43.10-05:00").as_deref(),
            Ok("2001-12-14T21:59:43.100000-05:00")
        );
        assert_eq!(
            construct_timestamp("2002-12-14 1:59:43 Z").as_deref(),
            Ok("2002-12-14T01:59:43+00:00")
        );
        assert_eq!(
            construct_timestamp("2001-02-30"),
            Err(ScalarProblem::InvalidDate)
        );
    }

    #[test]
    fn float_keys_print_as_python_json_does() {
        // Finite floats print as their repr (tested in `value`); JSON names
        // the others.
        assert_eq!(python_float_repr(1.5), "1.5");
        assert_eq!(python_float_repr(f64::INFINITY), "Infinity");
        assert_eq!(python_float_repr(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(python_float_repr(f64::NAN), "NaN");
    }
}
