#![no_main]
//! `parse_ini` on arbitrary UTF-8: it returns entries or a located error,
//! never panics.

use std::path::Path;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(error) = kayobe_config::inventory::parse_ini(text, Path::new("fuzz")) {
            assert!(error.location().is_some(), "syntax errors carry a location");
        }
    }
});
