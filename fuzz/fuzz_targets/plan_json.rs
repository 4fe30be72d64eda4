//! Fuzzes the parser vouch routes `plan.json` to, and the rendering of its problems.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_fuzz::parse_and_render("plan.json", data));
