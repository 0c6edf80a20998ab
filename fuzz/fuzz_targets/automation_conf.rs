#![no_main]
//! `AutomationConf::parse` on arbitrary UTF-8 must return, never panic.

use std::path::Path;

use kayobe_config::automation_conf::{AutomationConf, ConfContext};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let context = ConfContext::new().with("KAYOBE_ENVIRONMENT", "production");
        if let Ok(conf) = AutomationConf::parse(text, Path::new("config.sh"), &context) {
            let _ = conf.tempest();
            let _ = conf.rally();
        }
    }
});
