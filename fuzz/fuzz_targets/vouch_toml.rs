//! Fuzzes `vouch.toml` parsing and validation, then renders every problem it reports.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(problems) = vouch::config::Config::parse(text, std::path::Path::new(".")) {
        let _ = vouch::report::human::render_problems(
            &problems,
            vouch::report::human::Style { color: false },
        );
    }
});
