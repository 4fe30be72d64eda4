//! The assessment as pretty JSON, its results serialised in parallel.
//!
//! A large inventory's assessment holds 600,000 results (600 MB of JSON): serialising them one
//! after another was the longest serial step of a run. Each result is serialised on its own, in
//! windows, on every core, indented to its depth and written in order — byte for byte what
//! `serde_json::to_writer_pretty` writes for the whole value.
//!
//! Two things keep it fast: [`Pretty`] writes what serde's pretty formatter writes, but each
//! line break with its indentation in one copy (serde's writes the indentation unit once per
//! level, and those tiny copies were most of the time); and the parts a result shares with its
//! control's other results (the id, title, family and mappings) are rendered once per run of
//! that control and spliced in.

use std::io::Write;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::ser::Formatter;
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

/// A line break followed by the deepest indentation [`Pretty`] writes in one copy.
const BREAK: &[u8] = b",\n                                                                ";

/// Serde's `PrettyFormatter` with two-space indentation, byte for byte, writing each line
/// break and its indentation in one copy.
struct Pretty {
    depth: usize,
    has_value: bool,
}

impl Pretty {
    /// A formatter as it stands inside `depth` levels of the document (the top-level object,
    /// the `results` array, …): what it writes is indented as in the whole document.
    fn at(depth: usize) -> Pretty {
        Pretty {
            depth,
            has_value: false,
        }
    }

    /// `\n` (after `,` unless `first`) and the indentation of the current depth.
    fn line<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> std::io::Result<()> {
        let from = usize::from(first);
        let to = 2 + 2 * self.depth;
        match BREAK.get(from..to) {
            Some(bytes) => w.write_all(bytes),
            None => {
                w.write_all(&BREAK[from..2])?;
                (0..self.depth).try_for_each(|_| w.write_all(b"  "))
            }
        }
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `value` rendered as it appears at `depth` (a field of a result sits at depth 3).
fn rendered_at(value: &impl Serialize, depth: usize) -> std::io::Result<Box<RawValue>> {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, Pretty::at(depth));
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

/// A result as `CheckResult` serialises, its control's parts spliced in already rendered: the
/// same fields in the same order with the same omissions (`same_bytes_as_serde` holds it).
#[derive(Serialize)]
struct Row<'a> {
    control: &'a RawValue,
    title: &'a RawValue,
    family: &'a RawValue,
    status: crate::assessment::Status,
    severity: crate::library::Severity,
    resource: Option<&'a crate::assessment::ResourceRef>,
    policies: &'a [String],
    messages: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    unknown: &'a [String],
    determined: bool,
    frameworks: &'a RawValue,
    fingerprint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<&'a crate::assessment::WaiverRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attestation: Option<&'a crate::formats::inventory::Attestation>,
    basis: crate::basis::Basis,
    #[serde(skip_serializing_if = "<[crate::model::FactSource]>::is_empty")]
    sources: &'a [crate::model::FactSource],
}

impl<'a> Row<'a> {
    fn of(r: &'a CheckResult, parts: &'a ControlParts) -> Row<'a> {
        // Every field named: a field added to `CheckResult` does not compile here until the
        // row writes it too (the control's parts, `_` here, come from `parts`).
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
        Row {
            control: &parts.control,
            title: &parts.title,
            family: &parts.family,
            status: *status,
            severity: *severity,
            resource: resource.as_deref(),
            policies: r.policies(),
            messages: r.messages(),
            unknown: r.unknown(),
            determined: *determined,
            frameworks: &parts.frameworks,
            fingerprint: fingerprint.as_str(),
            waiver: waiver.as_deref(),
            attestation: attestation.as_deref(),
            basis: *basis,
            sources,
        }
    }
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
        // Two levels deep (the top-level object and its `results` array): each line of the
        // result comes out indented as in the whole document.
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, Pretty::at(2));
        Row::of(r, &current)
            .serialize(&mut ser)
            .map_err(std::io::Error::other)?;
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

    /// The formatter writes what serde's pretty formatter writes, at every depth (deeper than
    /// its one-copy indentation reaches too), for empty and non-empty arrays and objects.
    #[test]
    fn pretty_matches_serde_pretty_formatter() {
        let mut deep = serde_json::json!({"leaf": [1, {"a": []}, {}, "x\n\"y\""]});
        for i in 0..40 {
            deep = serde_json::json!({ format!("level{i}"): [deep, [], {}, null, true, 1.5] });
        }
        for depth in [0, 2, 3, 31, 33] {
            let mut expected = Vec::new();
            let mut pretty = serde_json::ser::PrettyFormatter::new();
            for _ in 0..depth {
                pretty.begin_object(&mut std::io::sink()).expect("sink");
            }
            let mut ser = serde_json::Serializer::with_formatter(&mut expected, pretty);
            deep.serialize(&mut ser).expect("serialises");
            let mut got = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(&mut got, Pretty::at(depth));
            deep.serialize(&mut ser).expect("serialises");
            assert!(got == expected, "depth {depth} differs");
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
