//! The assessment as pretty JSON, its results serialised in parallel.
//!
//! A large inventory's assessment holds 600,000 results (600 MB of JSON): serialising them one
//! after another was the longest serial step of a run. Each result is serialised on its own, in
//! windows, on every core, indented to its depth and written in order — byte for byte what
//! `serde_json::to_writer_pretty` writes for the whole value.

use std::io::Write;

use rayon::prelude::*;

use crate::assessment::{Assessment, CheckResult};

/// Results serialised per window (four parallel chunks of 256): bounds the bytes held before
/// they are written, and so the memory a run touches.
const WINDOW: usize = 1_024;

/// The indentation of a result: an element of the top-level object's `results` array.
const INDENT: &[u8] = b"    ";

/// Writes `a` as pretty JSON with a trailing newline.
pub fn write_assessment(a: &mut Assessment, out: &mut impl Write) -> std::io::Result<()> {
    // Everything but the results, as serde writes it; the results take the empty array's place.
    let results = std::mem::take(&mut a.results);
    let frame = serde_json::to_vec_pretty(&*a);
    a.results = results;
    let frame = frame.map_err(std::io::Error::other)?;
    let marker = b"\n  \"results\": []";
    let Some(at) = find(&frame, marker) else {
        // Not the shape this module knows: let serde write it all.
        serde_json::to_writer_pretty(&mut *out, &*a).map_err(std::io::Error::other)?;
        return out.write_all(b"\n");
    };
    let cut = at + marker.len() - 2; // just before `[]`
    out.write_all(&frame[..cut])?;
    if a.results.is_empty() {
        out.write_all(b"[]")?;
    } else {
        out.write_all(b"[")?;
        for (w, window) in a.results.chunks(WINDOW).enumerate() {
            let parts: Vec<std::io::Result<Vec<u8>>> = window
                .par_chunks(256)
                .enumerate()
                .map(|(c, chunk)| render(chunk, w == 0 && c == 0))
                .collect();
            for part in parts {
                out.write_all(&part?)?;
            }
        }
        out.write_all(b"\n  ]")?;
    }
    out.write_all(&frame[cut + 2..])?;
    out.write_all(b"\n")
}

/// Results as array elements: each after `,` (but the very first) and a newline, indented.
fn render(chunk: &[CheckResult], first: bool) -> std::io::Result<Vec<u8>> {
    use serde::Serialize as _;
    use serde_json::ser::{Formatter as _, PrettyFormatter};
    let mut buf = Vec::with_capacity(chunk.len() * 1024);
    for (i, r) in chunk.iter().enumerate() {
        buf.extend_from_slice(if first && i == 0 { b"\n" } else { b",\n" });
        buf.extend_from_slice(INDENT);
        // serde's pretty formatter, two levels deep (the top-level object and its `results`
        // array): each line of the result comes out indented as in the whole document.
        let mut deep = PrettyFormatter::new();
        deep.begin_object(&mut std::io::sink())?;
        deep.begin_array(&mut std::io::sink())?;
        r.serialize(&mut serde_json::Serializer::with_formatter(&mut buf, deep))
            .map_err(std::io::Error::other)?;
    }
    Ok(buf)
}

/// The first position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::{CheckResult, Status};
    use crate::library::Severity;

    fn result(control: &str, message: &str) -> CheckResult {
        CheckResult {
            control: control.into(),
            title: "t".into(),
            family: "f".into(),
            status: Status::Fail,
            severity: Severity::High,
            resource: None,
            policies: vec!["p".to_owned()],
            messages: vec![message.to_owned()],
            unknown: Vec::new(),
            determined: true,
            frameworks: std::sync::Arc::new(std::collections::BTreeMap::from([(
                "soc2".to_owned(),
                vec!["CC6.1".to_owned()],
            )])),
            fingerprint: "ab".to_owned(),
            waiver: None,
            attestation: None,
            basis: crate::basis::Basis::Declared,
            sources: std::sync::Arc::default(),
        }
    }

    fn assessment(results: Vec<CheckResult>) -> Assessment {
        let mut a = crate::assessment::tests_support::empty();
        a.results = results;
        a
    }

    /// Byte for byte what serde writes, for no result, one, and more than a window of them
    /// (with newlines and quotes inside strings).
    #[test]
    fn same_bytes_as_serde() {
        for n in [0, 1, 3, WINDOW + 700] {
            let results = (0..n)
                .map(|i| result(&format!("c{i}"), "line one\nline \"two\"\n  indented"))
                .collect();
            let mut a = assessment(results);
            let mut expected = serde_json::to_vec_pretty(&a).expect("serialises");
            expected.push(b'\n');
            let mut got = Vec::new();
            write_assessment(&mut a, &mut got).expect("writes");
            assert_eq!(got.len(), expected.len(), "{n} results");
            assert!(got == expected, "{n} results differ");
        }
    }
}
