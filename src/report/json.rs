//! The assessment as pretty JSON, its results serialised in parallel.
//!
//! A large inventory's assessment holds 600,000 results (600 MB of JSON): serialising them one
//! after another was the longest serial step of a run. Each result is serialised on its own, in
//! windows, on every core, indented to its depth and written in order — byte for byte what
//! `serde_json::to_writer_pretty` writes for the whole value.
//!
//! Most of a result's bytes are values it shares with others (its control's title and
//! mappings, its resource's reference and fact sources): each distinct one is rendered once, at
//! the depth it appears at, and spliced into every result that holds it (`Shared`).

use std::io::Write;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::ser::{Formatter as _, PrettyFormatter};
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
        let shared = Shared::of(&a.results)?;
        out.write_all(b"[")?;
        for (w, window) in a.results.chunks(WINDOW).enumerate() {
            let parts: Vec<std::io::Result<Vec<u8>>> = window
                .par_chunks(256)
                .enumerate()
                .map(|(c, chunk)| render(chunk, w == 0 && c == 0, &shared))
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

/// A pretty formatter as it stands inside `depth` levels of the document (the top-level
/// object, the `results` array, …): what it writes is indented as in the whole document.
fn formatter_at(depth: usize) -> std::io::Result<PrettyFormatter<'static>> {
    let mut f = PrettyFormatter::new();
    for _ in 0..depth {
        f.begin_object(&mut std::io::sink())?;
    }
    Ok(f)
}

/// Which field a shared value fills.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Control,
    Title,
    Family,
    Frameworks,
    Resource,
    Sources,
}

/// The identity of a shared value: the field it fills and the address of its allocation
/// (every result holding it holds the same `Arc`, alive while the results are written). The
/// field is part of it: two empty values of different types may share one address.
type Key = (Field, usize);

fn key<T: ?Sized>(field: Field, a: &Arc<T>) -> Key {
    (field, Arc::as_ptr(a).cast::<u8>() as usize)
}

/// A value results share, to be rendered once.
#[derive(Clone, Copy)]
enum Part<'a> {
    Text(&'a str),
    Frameworks(&'a std::collections::BTreeMap<String, Vec<String>>),
    Resource(&'a crate::assessment::ResourceRef),
    Sources(&'a [crate::model::FactSource]),
}

/// A map keyed by addresses, hashed fast (the keys are not chosen by anyone's input).
type ByAddress<V> = std::collections::HashMap<Key, V, foldhash::fast::FixedState>;

/// Every distinct shared value of the results, rendered as it appears inside a result.
struct Shared {
    rendered: ByAddress<Box<RawValue>>,
}

impl Shared {
    fn of<'r>(results: &'r [CheckResult]) -> std::io::Result<Shared> {
        let distinct = results
            .par_chunks(8_192)
            .map(|chunk: &'r [CheckResult]| {
                let mut parts: ByAddress<Part<'r>> = ByAddress::default();
                let mut add = |k: Key, p: Part<'r>| {
                    parts.entry(k).or_insert(p);
                };
                // A control's parts repeat result after result: looked up once per run of them.
                let mut last_control = None;
                for r in chunk {
                    let control = key(Field::Control, &r.control);
                    if last_control != Some(control) {
                        last_control = Some(control);
                        add(control, Part::Text(&r.control));
                        // The three share one allocation: the field tells them apart.
                        let about = &r.about;
                        add(key(Field::Title, about), Part::Text(&about.title));
                        add(key(Field::Family, about), Part::Text(&about.family));
                        add(
                            key(Field::Frameworks, about),
                            Part::Frameworks(&about.frameworks),
                        );
                    }
                    if let Some(res) = &r.resource {
                        add(key(Field::Resource, res), Part::Resource(res));
                    }
                    if !r.sources.is_empty() {
                        add(key(Field::Sources, &r.sources), Part::Sources(&r.sources));
                    }
                }
                parts
            })
            .reduce(ByAddress::default, |mut a, b| {
                for (k, p) in b {
                    a.entry(k).or_insert(p);
                }
                a
            });
        // Fields of a result sit three levels deep: the document, `results`, the result.
        let rendered = distinct
            .into_par_iter()
            .map(|(k, part)| {
                let mut buf = Vec::new();
                let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter_at(3)?);
                match part {
                    Part::Text(t) => t.serialize(&mut ser),
                    Part::Frameworks(f) => f.serialize(&mut ser),
                    Part::Resource(r) => r.serialize(&mut ser),
                    Part::Sources(s) => s.serialize(&mut ser),
                }
                .map_err(std::io::Error::other)?;
                let text = String::from_utf8(buf).map_err(std::io::Error::other)?;
                Ok((
                    k,
                    RawValue::from_string(text).map_err(std::io::Error::other)?,
                ))
            })
            .collect::<std::io::Result<ByAddress<_>>>()?;
        Ok(Shared { rendered })
    }

    fn get<T: ?Sized>(&self, field: Field, a: &Arc<T>) -> Option<&RawValue> {
        self.rendered.get(&key(field, a)).map(|b| &**b)
    }
}

/// A result as `CheckResult` serialises, its shared values spliced in already rendered: the
/// same fields in the same order with the same omissions (`same_bytes_as_serde` holds it).
#[derive(Serialize)]
struct Row<'a> {
    control: &'a RawValue,
    title: &'a RawValue,
    family: &'a RawValue,
    status: crate::assessment::Status,
    severity: crate::library::Severity,
    resource: &'a RawValue,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    sources: Option<&'a RawValue>,
}

/// The rendered parts of the control of the previous result (results come in runs of one
/// control): its id, title, family and mappings, with the keys they were looked up by.
#[derive(Default)]
struct LastControl<'a> {
    seen: Option<([Key; 4], [&'a RawValue; 4])>,
}

impl<'a> LastControl<'a> {
    fn parts(&mut self, r: &CheckResult, shared: &'a Shared) -> Option<[&'a RawValue; 4]> {
        let keys = [
            key(Field::Control, &r.control),
            key(Field::Title, &r.about),
            key(Field::Family, &r.about),
            key(Field::Frameworks, &r.about),
        ];
        match self.seen {
            Some((seen, parts)) if seen == keys => Some(parts),
            _ => {
                let mut parts = [RawValue::NULL; 4];
                for (part, k) in parts.iter_mut().zip(keys) {
                    *part = shared.rendered.get(&k)?;
                }
                self.seen = Some((keys, parts));
                Some(parts)
            }
        }
    }
}

impl<'a> Row<'a> {
    /// The row of `r`, or `None` when one of its shared values was not rendered.
    fn of(r: &'a CheckResult, shared: &'a Shared, last: &mut LastControl<'a>) -> Option<Row<'a>> {
        let [control_part, title_part, family_part, frameworks_part] = last.parts(r, shared)?;
        // Every field named: a field added to `CheckResult` does not compile here until the
        // row writes it too (the control's parts, `_` here, come from `last`).
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
        Some(Row {
            control: control_part,
            title: title_part,
            family: family_part,
            status: *status,
            severity: *severity,
            resource: match resource {
                Some(res) => shared.get(Field::Resource, res)?,
                None => RawValue::NULL,
            },
            policies: r.policies(),
            messages: r.messages(),
            unknown: r.unknown(),
            determined: *determined,
            frameworks: frameworks_part,
            fingerprint: fingerprint.as_str(),
            waiver: waiver.as_deref(),
            attestation: attestation.as_deref(),
            basis: *basis,
            sources: if sources.is_empty() {
                None
            } else {
                Some(shared.get(Field::Sources, sources)?)
            },
        })
    }
}

/// Results as array elements: each after `,` (but the very first) and a newline, indented.
fn render(chunk: &[CheckResult], first: bool, shared: &Shared) -> std::io::Result<Vec<u8>> {
    // Results take about a kilobyte each: room for a little more, so the buffer rarely grows.
    let mut buf = Vec::with_capacity(chunk.len() * 1_280);
    let mut last = LastControl::default();
    for (i, r) in chunk.iter().enumerate() {
        buf.extend_from_slice(if first && i == 0 { b"\n" } else { b",\n" });
        buf.extend_from_slice(INDENT);
        // serde's pretty formatter, two levels deep (the top-level object and its `results`
        // array): each line of the result comes out indented as in the whole document.
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter_at(2)?);
        match Row::of(r, shared, &mut last) {
            Some(row) => row.serialize(&mut ser),
            None => r.serialize(&mut ser),
        }
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
    use std::collections::BTreeMap;

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

    /// The same with shared values spliced in: resources, sources, controls' parts, and every
    /// optional field present and absent.
    #[test]
    fn shared_values_spliced_give_the_same_bytes_as_serde() {
        for n in [1, 12, 3 * WINDOW + 17] {
            assert_same_as_serde(assessment(varied(n)), &format!("{n} varied results"));
        }
    }
}
