//! Fuzzes the parser vouch routes `inventory.toml` to, and the rendering of its problems.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_fuzz::parse_and_render("inventory.toml", data));
