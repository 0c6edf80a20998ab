#![no_main]
//! `kayobe_config::yaml::parse` on arbitrary UTF-8: it returns a value or an
//! error, never panics; every error it returns points inside the text.

use std::path::Path;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = kayobe_config::yaml::parse(text, Path::new("fuzz.yml")) {
        let location = error.location().expect("parse errors carry a location");
        assert!(location.line >= 1 && location.column >= 1);
        // Lines end at `\n`, `\r\n` or a lone `\r`, as YAML counts them.
        let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count();
        assert!(location.line <= lines + 1);
    }
});
