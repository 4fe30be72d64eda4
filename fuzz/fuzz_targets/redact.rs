//! Fuzzes redaction in every syntax: no input panics it, and the line count is kept.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for path in ["a.json", "a.yaml", "a.tf", "a.tfvars", "a.toml", ".env", "a.txt"] {
        let (out, _) = vouch::evidence::redact::redact(path, text);
        assert_eq!(out.matches('\n').count(), text.matches('\n').count(), "{path}");
    }
});
