//! The assessment as pretty JSON, its results serialised in parallel.
//!
//! A large inventory's assessment holds 600,000 results (600 MB of JSON): serialising them one
//! after another was the longest serial step of a run. Each result is serialised on its own, in
//! windows, on every core, indented to its depth and written in order — byte for byte what
//! `serde_json::to_writer_pretty` writes for the whole value.
//!
//! A result is written field by field (`write_result`): keys as static bytes, strings escaped
//! by serde_json, integers by itoa, each line break with its indentation in one copy (serde's
//! pretty formatter writes the indentation unit once per level, and those tiny copies were
//! most of the time). The parts a result shares with its control's other results (the id,
//! title, family and mappings) are rendered by serde once per run of that control and spliced
//! in, and so are the rare waiver and attestation.

use std::io::Write;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::value::RawValue;

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

/// The deepest indentation written in one copy (deeper is written level by level).
const SPACES: &[u8] = b"                                                                ";

/// `value` rendered as it appears at `depth` (a field of a result sits at depth 3).
fn rendered_at(value: &impl Serialize, depth: usize) -> std::io::Result<Box<RawValue>> {
    // Serde's pretty formatter as it stands inside `depth` levels of the document: what it
    // writes is indented as in the whole document.
    let mut formatter = PrettyFormatter::new();
    for _ in 0..depth {
        formatter.begin_object(&mut std::io::sink())?;
    }
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    value.serialize(&mut ser).map_err(std::io::Error::other)?;
    let text = String::from_utf8(buf).map_err(std::io::Error::other)?;
    RawValue::from_string(text).map_err(std::io::Error::other)
}

/// A control's parts every result of it repeats (its id, title, family and mappings),
/// rendered once for a run of its results.
struct ControlParts {
    /// The control and about allocations they were rendered from.
    of: (*const u8, *const u8),
    control: Box<RawValue>,
    title: Box<RawValue>,
    family: Box<RawValue>,
    frameworks: Box<RawValue>,
}

impl ControlParts {
    fn of(r: &CheckResult) -> (*const u8, *const u8) {
        (
            std::sync::Arc::as_ptr(&r.control).cast::<u8>(),
            std::sync::Arc::as_ptr(&r.about).cast::<u8>(),
        )
    }

    fn render(r: &CheckResult) -> std::io::Result<ControlParts> {
        // Fields of a result sit three levels deep: the document, `results`, the result.
        Ok(ControlParts {
            of: ControlParts::of(r),
            control: rendered_at(&&*r.control, 3)?,
            title: rendered_at(&r.about.title, 3)?,
            family: rendered_at(&r.about.family, 3)?,
            frameworks: rendered_at(&r.about.frameworks, 3)?,
        })
    }
}

/// Indentation for `depth` levels (two spaces each), in one copy.
fn indent(buf: &mut Vec<u8>, depth: usize) {
    match SPACES.get(..2 * depth) {
        Some(s) => buf.extend_from_slice(s),
        None => (0..depth).for_each(|_| buf.extend_from_slice(b"  ")),
    }
}

/// An object's key at `depth`, as serde's pretty formatter writes it: after `,` unless it is
/// the first, on its own line. Keys here are plain ASCII names: nothing to escape.
fn key(buf: &mut Vec<u8>, depth: usize, name: &str, first: bool) {
    buf.extend_from_slice(if first { b"\n" } else { b",\n" });
    indent(buf, depth);
    buf.push(b'"');
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b"\": ");
}

/// A JSON string, escaped as serde escapes it.
fn string(buf: &mut Vec<u8>, s: &str) -> std::io::Result<()> {
    serde_json::to_writer(&mut *buf, s).map_err(std::io::Error::other)
}

/// A field holding a string.
fn str_field(buf: &mut Vec<u8>, depth: usize, name: &str, value: &str) -> std::io::Result<()> {
    key(buf, depth, name, false);
    string(buf, value)
}

/// A field holding an integer.
fn int_field(buf: &mut Vec<u8>, depth: usize, name: &str, value: impl itoa::Integer) {
    key(buf, depth, name, false);
    integer(buf, value);
}

/// An integer, as serde writes it.
fn integer(buf: &mut Vec<u8>, n: impl itoa::Integer) {
    buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// An array of strings whose opening bracket stands at `depth`.
fn strings(buf: &mut Vec<u8>, depth: usize, items: &[String]) -> std::io::Result<()> {
    if items.is_empty() {
        buf.extend_from_slice(b"[]");
        return Ok(());
    }
    buf.push(b'[');
    for (i, item) in items.iter().enumerate() {
        buf.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        indent(buf, depth + 1);
        string(buf, item)?;
    }
    buf.push(b'\n');
    indent(buf, depth);
    buf.push(b']');
    Ok(())
}

/// Closes an object whose opening brace stands at `depth`.
fn close(buf: &mut Vec<u8>, depth: usize) {
    buf.push(b'\n');
    indent(buf, depth);
    buf.push(b'}');
}

/// How serde names a fact's origin.
fn origin(o: crate::model::FactOrigin) -> &'static str {
    use crate::model::FactOrigin;
    match o {
        FactOrigin::Declared => "declared",
        FactOrigin::Imported => "imported",
        FactOrigin::Configuration => "configuration",
    }
}

/// A resource reference as the value of a result's field (fields at depth 4).
fn resource_ref(buf: &mut Vec<u8>, r: &crate::assessment::ResourceRef) -> std::io::Result<()> {
    let crate::assessment::ResourceRef {
        address,
        entity_type,
        scope,
        file,
        line,
        column,
    } = r;
    buf.push(b'{');
    key(buf, 4, "address", true);
    string(buf, address)?;
    str_field(buf, 4, "type", entity_type)?;
    if !scope.is_empty() {
        str_field(buf, 4, "scope", scope)?;
    }
    str_field(buf, 4, "file", file)?;
    int_field(buf, 4, "line", *line);
    int_field(buf, 4, "column", *column);
    close(buf, 3);
    Ok(())
}

/// A result's fact sources as the value of its field (each source at depth 4).
fn fact_sources(buf: &mut Vec<u8>, sources: &[crate::model::FactSource]) -> std::io::Result<()> {
    buf.push(b'[');
    for (i, s) in sources.iter().enumerate() {
        let crate::model::FactSource {
            origin: from,
            format,
            file,
            line,
            digest,
            collected_at,
            age_days,
            max_age_days,
            stale,
        } = s;
        buf.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        indent(buf, 4);
        buf.push(b'{');
        key(buf, 5, "origin", true);
        string(buf, origin(*from))?;
        str_field(buf, 5, "format", format)?;
        str_field(buf, 5, "file", file)?;
        int_field(buf, 5, "line", *line);
        if let Some(d) = digest {
            str_field(buf, 5, "digest", d)?;
        }
        if let Some(at) = collected_at {
            str_field(buf, 5, "collected_at", at)?;
        }
        if let Some(age) = age_days {
            int_field(buf, 5, "age_days", *age);
        }
        if let Some(max) = max_age_days {
            int_field(buf, 5, "max_age_days", *max);
        }
        if *stale {
            key(buf, 5, "stale", false);
            buf.extend_from_slice(b"true");
        }
        close(buf, 4);
    }
    buf.push(b'\n');
    indent(buf, 3);
    buf.push(b']');
    Ok(())
}

/// One result as an element of `results` (its fields at depth 3): the fields `CheckResult`
/// serialises, in its order with its omissions (`same_bytes_as_serde` holds it), its control's
/// parts spliced in already rendered.
fn write_result(buf: &mut Vec<u8>, r: &CheckResult, parts: &ControlParts) -> std::io::Result<()> {
    // Every field named: a field added to `CheckResult` does not compile here until it is
    // written too (the control's parts, `_` here, come from `parts`).
    let CheckResult {
        control: _,
        about: _,
        status,
        severity,
        resource,
        detail: _,
        determined,
        fingerprint,
        waiver,
        attestation,
        basis,
        sources,
    } = r;
    buf.push(b'{');
    key(buf, 3, "control", true);
    buf.extend_from_slice(parts.control.get().as_bytes());
    key(buf, 3, "title", false);
    buf.extend_from_slice(parts.title.get().as_bytes());
    key(buf, 3, "family", false);
    buf.extend_from_slice(parts.family.get().as_bytes());
    str_field(buf, 3, "status", status.as_str())?;
    str_field(buf, 3, "severity", severity.as_str())?;
    key(buf, 3, "resource", false);
    match resource {
        Some(res) => resource_ref(buf, res)?,
        None => buf.extend_from_slice(b"null"),
    }
    key(buf, 3, "policies", false);
    strings(buf, 3, r.policies())?;
    key(buf, 3, "messages", false);
    strings(buf, 3, r.messages())?;
    if !r.unknown().is_empty() {
        key(buf, 3, "unknown", false);
        strings(buf, 3, r.unknown())?;
    }
    key(buf, 3, "determined", false);
    buf.extend_from_slice(if *determined { b"true" } else { b"false" });
    key(buf, 3, "frameworks", false);
    buf.extend_from_slice(parts.frameworks.get().as_bytes());
    str_field(buf, 3, "fingerprint", fingerprint.as_str())?;
    if let Some(w) = waiver {
        key(buf, 3, "waiver", false);
        buf.extend_from_slice(rendered_at(w, 3)?.get().as_bytes());
    }
    if let Some(a) = attestation {
        key(buf, 3, "attestation", false);
        buf.extend_from_slice(rendered_at(a, 3)?.get().as_bytes());
    }
    str_field(buf, 3, "basis", basis.as_str())?;
    if !sources.is_empty() {
        key(buf, 3, "sources", false);
        fact_sources(buf, sources)?;
    }
    close(buf, 2);
    Ok(())
}

/// Results as array elements: each after `,` (but the very first) and a newline, indented.
fn render(chunk: &[CheckResult], first: bool) -> std::io::Result<Vec<u8>> {
    // Results take about a kilobyte each: room for a little more, so the buffer rarely grows.
    let mut buf = Vec::with_capacity(chunk.len() * 1_280);
    // Results come in runs of one control.
    let mut parts: Option<ControlParts> = None;
    for (i, r) in chunk.iter().enumerate() {
        buf.extend_from_slice(if first && i == 0 { b"\n" } else { b",\n" });
        buf.extend_from_slice(INDENT);
        let current = match parts.take() {
            Some(p) if p.of == ControlParts::of(r) => p,
            _ => ControlParts::render(r)?,
        };
        write_result(&mut buf, r, &current)?;
        parts = Some(current);
    }
    Ok(buf)
}

/// The first position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::assessment::{ResourceRef, Status, WaiverRef};
    use crate::library::Severity;
    use crate::model::{FactOrigin, FactSource};

    fn result(control: &str, message: &str) -> CheckResult {
        CheckResult {
            control: control.into(),
            about: Arc::new(crate::assessment::ControlAbout {
                title: "t".to_owned(),
                family: "f".to_owned(),
                frameworks: BTreeMap::from([("soc2".to_owned(), vec!["CC6.1".to_owned()])]),
            }),
            status: Status::Fail,
            severity: Severity::High,
            resource: None,
            detail: crate::assessment::Detail::boxed(
                vec!["p".to_owned()],
                vec![message.to_owned()],
                Vec::new(),
            ),
            determined: true,
            fingerprint: crate::assessment::fingerprint("c", None, &[]),
            waiver: None,
            attestation: None,
            basis: crate::basis::Basis::Declared,
            sources: Arc::default(),
        }
    }

    /// Results holding every optional part, sharing controls and resources as a run does
    /// (a resource's reference and sources shared across controls, a control's parts across
    /// resources), with text that must be escaped.
    fn varied(n: usize) -> Vec<CheckResult> {
        let resources: Vec<Arc<ResourceRef>> = (0..7)
            .map(|i| {
                Arc::new(ResourceRef {
                    address: format!("grant:g{i} \"quoted\" \u{e9}"),
                    entity_type: "Access::Grant".to_owned(),
                    scope: if i % 2 == 0 {
                        String::new()
                    } else {
                        format!("mod/{i}")
                    },
                    file: "inventory.toml".to_owned(),
                    line: i,
                    column: 1,
                })
            })
            .collect();
        let sources: Vec<Arc<[FactSource]>> = (0..7u32)
            .map(|i| {
                let s = FactSource {
                    origin: if i % 2 == 0 {
                        FactOrigin::Declared
                    } else {
                        FactOrigin::Imported
                    },
                    format: "scim".into(),
                    file: "exports/okta\\users.json".into(),
                    line: i,
                    digest: (i % 2 == 1).then(|| "sha256:00".into()),
                    collected_at: (i % 3 == 0).then(|| "2026-11-01".into()),
                    age_days: (i % 3 == 0).then_some(24),
                    max_age_days: (i % 3 == 0).then_some(30),
                    stale: i == 3,
                };
                Arc::from(vec![s.clone(), s])
            })
            .collect();
        let controls: Vec<CheckResult> = (0..5)
            .map(|c| {
                let mut r = result(&format!("c{c}"), "m");
                let about = Arc::make_mut(&mut r.about);
                about.title = format!("Title \"{c}\"\nsecond line");
                if c == 2 {
                    about.frameworks = BTreeMap::new();
                }
                r
            })
            .collect();
        (0..n)
            .map(|i| {
                let mut r = controls[i % 5].clone();
                r.resource = (i % 11 != 0).then(|| Arc::clone(&resources[i % 7]));
                if i % 4 != 0 {
                    r.sources = Arc::clone(&sources[i % 7]);
                }
                if i % 3 == 0 {
                    r.status = Status::Pass;
                    r.detail = None;
                }
                if i % 5 == 1 {
                    r.detail.get_or_insert_with(Box::default).unknown =
                        vec!["tls_version".to_owned()];
                    r.determined = false;
                }
                if i % 6 == 1 {
                    r.waiver = Some(Box::new(WaiverRef {
                        reason: "until the \"migration\"".to_owned(),
                        approver: "maria".to_owned(),
                        expires: "2027-01-01".to_owned(),
                        ticket: (i % 4 == 1).then(|| "SEC-1".to_owned()),
                    }));
                }
                if i % 9 == 2 {
                    r.attestation = Some(Box::new(crate::formats::inventory::Attestation {
                        control: "c".to_owned(),
                        owner: "o".to_owned(),
                        evidence: "e".to_owned(),
                        evidence_file: None,
                        evidence_digest: Some("sha256:11".to_owned()),
                        date: "2026-01-01".to_owned(),
                        expires: "2027-01-01".to_owned(),
                        expires_days: 0,
                        file: "inventory.toml".to_owned(),
                        line: 3,
                        offset: 0,
                    }));
                }
                r.fingerprint = crate::assessment::fingerprint(&format!("r{i}"), None, &[]);
                r
            })
            .collect()
    }

    fn assessment(results: Vec<CheckResult>) -> Assessment {
        let mut a = crate::assessment::tests_support::empty();
        a.results = results;
        a
    }

    fn assert_same_as_serde(mut a: Assessment, what: &str) {
        let mut expected = serde_json::to_vec_pretty(&a).expect("serialises");
        expected.push(b'\n');
        let mut got = Vec::new();
        write_assessment(&mut a, &mut got).expect("writes");
        assert_eq!(got.len(), expected.len(), "{what}");
        assert!(got == expected, "{what} differ");
    }

    /// Byte for byte what serde writes, for no result, one, and more than a window of them
    /// (with newlines and quotes inside strings).
    #[test]
    fn same_bytes_as_serde() {
        for n in [0, 1, 3, WINDOW + 700] {
            let results = (0..n)
                .map(|i| result(&format!("c{i}"), "line one\nline \"two\"\n  indented"))
                .collect();
            assert_same_as_serde(assessment(results), &format!("{n} results"));
        }
    }

    /// The names written for statuses, severities, bases and fact origins are serde's.
    #[test]
    fn enum_names_are_serdes() {
        use crate::basis::Basis;
        use crate::model::FactOrigin;
        let serde_name = |v: &dyn erased::Named| v.serde_name();
        for s in [
            Status::Pass,
            Status::Fail,
            Status::Error,
            Status::Waived,
            Status::NotApplicable,
        ] {
            assert_eq!(serde_name(&s), format!("\"{}\"", s.as_str()));
        }
        for s in [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ] {
            assert_eq!(serde_name(&s), format!("\"{}\"", s.as_str()));
        }
        for b in Basis::ALL {
            assert_eq!(serde_name(&b), format!("\"{}\"", b.as_str()));
        }
        for o in [
            FactOrigin::Declared,
            FactOrigin::Imported,
            FactOrigin::Configuration,
        ] {
            assert_eq!(serde_name(&o), format!("\"{}\"", origin(o)));
        }
    }

    /// A value's JSON, behind one object-safe trait for the test above.
    mod erased {
        pub trait Named {
            fn serde_name(&self) -> String;
        }
        impl<T: serde::Serialize> Named for T {
            fn serde_name(&self) -> String {
                serde_json::to_string(self).expect("serialises")
            }
        }
    }

    /// The same with shared values spliced in: resources, sources, controls' parts, and every
    /// optional field present and absent.
    #[test]
    fn shared_values_spliced_give_the_same_bytes_as_serde() {
        for n in [1, 12, 3 * WINDOW + 17] {
            assert_same_as_serde(assessment(varied(n)), &format!("{n} varied results"));
        }
    }
}
