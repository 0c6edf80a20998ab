#![no_main]
//! Reading arbitrary bytes as a subunit v2 stream must give results and at
//! most one error with an offset inside the input, never panic; and the
//! summary and JUnit/HTML rendering of whatever was read must not panic.

use tempest_runner::{ResultReader, Summary};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut summary = Summary::default();
    let mut errors = 0;
    for item in ResultReader::new(data) {
        match item {
            Ok(result) => {
                summary.add(&result);
                let _ = result.details();
            }
            Err(error) => {
                errors += 1;
                assert!(error.offset <= data.len() as u64);
                assert!(error.packet_offset <= error.offset);
            }
        }
    }
    assert!(errors <= 1);
    let _ = summary.to_string();
});
