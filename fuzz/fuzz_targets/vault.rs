#![no_main]
//! (in progress)
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
