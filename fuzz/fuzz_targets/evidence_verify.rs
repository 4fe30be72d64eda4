//! Fuzzes `vouch evidence verify` on an archive: reading a `.tar.gz` (bombs, links,
//! duplicates, trailing data) and verifying what it holds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.tar.gz");
    if let Ok(read) = vouch::evidence::read::archive_bytes(path, data) {
        let v = vouch::evidence::verify::verify(&read, None);
        let _ = vouch::evidence::verify::render("fuzz.tar.gz", &v);
    }
});
