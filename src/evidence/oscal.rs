//! OSCAL 1.1 assessment results (`oscal/assessment-results.json`): one observation and one
//! finding per control, each finding linked to the framework requirements it evidences.
//!
//! UUIDs are derived (version 5 style, SHA-256 based) from stable content: the source commit,
//! the library digest and the assessment, so the same commit gives the same document.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::assessment::{Assessment, CheckResult, Status};
use crate::library::Library;

/// Where the document sits in a bundle.
pub const PATH: &str = "oscal/assessment-results.json";
/// The OSCAL version the document conforms to.
pub const OSCAL_VERSION: &str = "1.1.2";
/// Namespace of vouch's own properties.
pub const NS: &str = "urn:vouch-compliance:oscal";

/// A deterministic UUID (RFC 4122 layout, version 5 bits) from a seed and a name.
pub fn uuid(seed: &str, name: &str) -> String {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update([0]);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// What the document needs to know besides the assessment.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// Stable identity of the evaluated content (commit, library digest, assessment digest).
    pub seed: &'a str,
    /// Collection time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub collected_at: &'a str,
    /// The source commit, if any.
    pub commit: Option<&'a str>,
    /// SHA-256 (hex) of `assessment.json` in the bundle.
    pub assessment_sha256: &'a str,
}

fn prop(name: &str, value: &str) -> Value {
    json!({ "name": name, "ns": NS, "value": value })
}

fn href(path: &str) -> String {
    path.replace('%', "%25")
        .replace(' ', "%20")
        .replace('#', "%23")
}

/// The control's overall status across its results (fail and error dominate).
pub fn control_status(results: &[&CheckResult]) -> Status {
    let has = |s: Status| results.iter().any(|r| r.status == s);
    if has(Status::Error) {
        Status::Error
    } else if has(Status::Fail) {
        Status::Fail
    } else if has(Status::Waived) {
        Status::Waived
    } else if has(Status::Pass) {
        Status::Pass
    } else {
        Status::NotApplicable
    }
}

/// Builds the document.
pub fn assessment_results(a: &Assessment, lib: &Library, ctx: &Context<'_>) -> Value {
    let seed = ctx.seed;
    let mut by_control: BTreeMap<&str, Vec<&CheckResult>> = BTreeMap::new();
    for r in &a.results {
        by_control.entry(r.control.as_ref()).or_default().push(r);
    }
    // Back matter: the library (the assessment plan), the assessment, and the catalogs.
    let library_uuid = uuid(&a.provenance.library_digest, "library");
    let assessment_uuid = uuid(seed, "assessment.json");
    let mut resources = vec![
        json!({
            "uuid": library_uuid,
            "title": "vouch control library (the assessment plan: controls, Cedar policies, schema)",
            "props": [prop("library-digest", &a.provenance.library_digest)],
            "rlinks": [{ "href": "../library/" }]
        }),
        json!({
            "uuid": assessment_uuid,
            "title": "vouch assessment (every control on every resource)",
            "rlinks": [{
                "href": "../assessment.json",
                "media-type": "application/json",
                "hashes": [{ "algorithm": "SHA-256", "value": ctx.assessment_sha256 }]
            }]
        }),
    ];
    let mut catalog_uuid = BTreeMap::new();
    for (id, fw) in &lib.catalogs.frameworks {
        let u = uuid(&a.provenance.library_digest, &format!("catalog/{id}"));
        resources.push(json!({
            "uuid": u,
            "title": format!("{} {} catalog", fw.name, fw.version).trim().to_owned(),
            "props": [prop("framework", id)],
            "rlinks": [{ "href": format!("../library/controls/frameworks/{id}.toml") }]
        }));
        catalog_uuid.insert(id.clone(), u);
    }
    let mut observations = Vec::new();
    let mut findings = Vec::new();
    for (control, results) in &by_control {
        let Some(first) = results.first() else {
            continue;
        };
        let status = control_status(results);
        let obs_uuid = uuid(seed, &format!("observation/{control}"));
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for r in results {
            *counts.entry(r.status.as_str()).or_default() += 1;
        }
        let counted = counts
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ");
        let automated = lib.controls.get(*control).is_none_or(|c| c.automated);
        let mut evidence = Vec::new();
        for r in results {
            let mut text = match &r.resource {
                Some(res) => format!(
                    "{} `{}` ({}:{}): {}",
                    res.entity_type,
                    res.address,
                    res.file,
                    res.line,
                    r.status.as_str()
                ),
                None => format!("{}: {}", control, r.status.as_str()),
            };
            if !r.messages().is_empty() {
                text.push_str(" — ");
                text.push_str(&r.messages().join("; "));
            }
            let link = r.resource.as_ref().map_or_else(
                || "../assessment.json".to_owned(),
                |res| href(&format!("../inputs/{}", res.file)),
            );
            evidence.push(json!({
                "href": link,
                "description": text,
                "props": [prop("result-status", r.status.as_str()), prop("fingerprint", r.fingerprint.as_str())]
            }));
        }
        observations.push(json!({
            "uuid": obs_uuid,
            "title": format!("{control}: {}", first.about.title),
            "description": format!(
                "vouch evaluated control `{control}` ({} severity) with {}: {counted}.",
                first.severity.as_str(),
                if automated { "its Cedar policies on every resource it checks" } else { "the attestations of the inventory" }
            ),
            "props": [prop("control-id", control), prop("status", status.as_str())],
            "methods": [if automated { "TEST" } else { "EXAMINE" }],
            "relevant-evidence": evidence,
            "collected": ctx.collected_at
        }));
        let mut props = vec![
            prop("control-id", control),
            prop("status", status.as_str()),
            prop("severity", first.severity.as_str()),
        ];
        let mut links = Vec::new();
        for (fw, ids) in first.about.frameworks.iter() {
            for id in ids {
                let mut p = prop("framework-requirement", id);
                if let Some(obj) = p.as_object_mut() {
                    obj.insert("class".to_owned(), json!(fw));
                }
                props.push(p);
                if let Some(u) = catalog_uuid.get(fw) {
                    links.push(json!({
                        "href": format!("#{u}"),
                        "rel": "reference",
                        "text": format!("{} {id}", lib.catalogs.name(fw))
                    }));
                }
            }
        }
        let (state, reason) = match status {
            Status::Pass => ("satisfied", "pass"),
            Status::NotApplicable => ("satisfied", "other"),
            Status::Fail | Status::Error => ("not-satisfied", "fail"),
            Status::Waived => ("not-satisfied", "other"),
        };
        let mut finding = json!({
            "uuid": uuid(seed, &format!("finding/{control}")),
            "title": format!("{control}: {}", first.about.title),
            "description": format!("Control `{control}` is {} ({counted}).", status.as_str().replace('_', " ")),
            "props": props,
            "target": {
                "type": "objective-id",
                "target-id": control,
                "status": { "state": state, "reason": reason }
            },
            "related-observations": [{ "observation-uuid": obs_uuid }]
        });
        if !links.is_empty()
            && let Some(obj) = finding.as_object_mut()
        {
            obj.insert("links".to_owned(), Value::Array(links));
        }
        findings.push(finding);
    }
    let mut meta_props = vec![
        prop("tool-version", &a.provenance.version),
        prop("library-digest", &a.provenance.library_digest),
        prop("as-of", &a.provenance.as_of),
    ];
    if let Some(c) = ctx.commit {
        meta_props.push(prop("source-commit", c));
    }
    let mut result = json!({
        "uuid": uuid(seed, "result"),
        "title": "vouch automated assessment",
        "description": format!(
            "Every control of the vouch library evaluated against {} files ({} resources) as of {}.",
            a.summary.files, a.summary.resources, a.provenance.as_of
        ),
        "start": ctx.collected_at,
        "end": ctx.collected_at,
        "reviewed-controls": {
            "description": "The controls selected for this run.",
            "control-selections": [{ "include-all": {} }]
        }
    });
    if let Some(obj) = result.as_object_mut() {
        if !observations.is_empty() {
            obj.insert("observations".to_owned(), Value::Array(observations));
        }
        if !findings.is_empty() {
            obj.insert("findings".to_owned(), Value::Array(findings));
        }
    }
    json!({
        "assessment-results": {
            "uuid": uuid(seed, "document"),
            "metadata": {
                "title": "vouch assessment results",
                "last-modified": ctx.collected_at,
                "version": ctx.commit.map_or("uncommitted", |c| c.get(..12).unwrap_or(c)),
                "oscal-version": OSCAL_VERSION,
                "props": meta_props
            },
            "import-ap": { "href": format!("#{library_uuid}") },
            "results": [result],
            "back-matter": { "resources": resources }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::uuid;

    #[test]
    fn uuids_are_version_5_and_stable() {
        let u = uuid("seed", "x");
        assert_eq!(u, uuid("seed", "x"));
        assert_ne!(u, uuid("seed", "y"));
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
