//! A secret value: never shown by `Debug`, overwritten when dropped.

use std::fmt;

/// A secret value (file content, password). `Debug` never shows it; the
/// memory is overwritten when it is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Self(value.into())
    }

    /// The value.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The value's non-empty lines, surrounding white space trimmed: what a
    /// masker looks for, as a multi-line secret is printed line by line.
    pub fn lines(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.0
            .split(|&b| b == b'\n')
            .map(<[u8]>::trim_ascii)
            .filter(|line| !line.is_empty())
            .map(<[u8]>::to_vec)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value_and_lines_are_trimmed() {
        let secret = Secret::new("  first\r\n\nsecond\n");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(
            secret.lines().collect::<Vec<_>>(),
            [b"first".to_vec(), b"second".to_vec()]
        );
    }
}
