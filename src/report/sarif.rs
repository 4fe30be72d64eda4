//! SARIF 2.1.0 for code scanning (GitHub accepts it): one rule per control, results with
//! physical locations, partial fingerprints and baseline state.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::assessment::{CheckResult, Status};
use crate::library::{Control, Library, Severity};

/// The `security-severity` GitHub uses to rank alerts (CVSS-like, 0–10).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// `s3-encryption-at-rest` → `S3EncryptionAtRest` (SARIF rule names are identifiers).
fn pascal(id: &str) -> String {
    id.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        })
        .collect()
}

fn rule(c: &Control, lib: &Library) -> Value {
    let mut tags = vec![
        "security".to_owned(),
        "compliance".to_owned(),
        c.family.clone(),
    ];
    for (fw, ids) in &c.frameworks {
        for id in ids {
            tags.push(format!("{fw}:{id}"));
        }
    }
    let mappings: Vec<String> = c
        .frameworks
        .iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(fw, ids)| format!("- {}: {}", lib.catalogs.name(fw), ids.join(", ")))
        .collect();
    json!({
        "id": c.id,
        "name": pascal(&c.id),
        "shortDescription": { "text": c.title },
        "fullDescription": { "text": c.description },
        "help": {
            "text": format!("{}\n\nHow to fix: {}", c.rationale, c.remediation),
            "markdown": format!("{}\n\n**How to fix:** {}\n\n**Frameworks:**\n{}", c.rationale, c.remediation, mappings.join("\n")),
        },
        "defaultConfiguration": { "level": level(c.severity) },
        "properties": {
            "tags": tags,
            "security-severity": security_severity(c.severity),
            "precision": "high",
            "problem.severity": match c.severity { Severity::Critical | Severity::High => "error", Severity::Medium => "warning", _ => "recommendation" },
        }
    })
}

/// Renders results as one SARIF run. `baseline` maps a fingerprint to its baseline state
/// (`new`, `unchanged`) when the results come from the gate.
pub fn render(
    results: &[&CheckResult],
    lib: &Library,
    baseline: &BTreeMap<String, &'static str>,
) -> String {
    let mut rule_ids: Vec<&str> = results.iter().map(|r| r.control.as_str()).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let index: BTreeMap<&str, usize> = rule_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    let rules: Vec<Value> = rule_ids
        .iter()
        .filter_map(|id| lib.controls.get(*id))
        .map(|c| rule(c, lib))
        .collect();
    let mut out = Vec::new();
    for r in results {
        // Code scanning needs a location: results about no file (manual controls) are left out.
        let Some(res) = &r.resource else { continue };
        if res.file.is_empty() {
            continue;
        }
        let message = format!("{}: {}", res.address, r.messages.join("; "));
        // An undetermined failure is never ranked as a proven error.
        let level = match (r.status, r.determined, level(r.severity)) {
            (Status::Error, _, _) => "error",
            (_, false, "error") => "warning",
            (_, _, l) => l,
        };
        let mut result = json!({
            "ruleId": r.control,
            "ruleIndex": index.get(r.control.as_str()).copied().unwrap_or(0),
            "level": level,
            "message": { "text": message },
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": { "uri": res.file, "uriBaseId": "%SRCROOT%" },
                    "region": { "startLine": res.line.max(1), "startColumn": res.column.max(1) }
                },
                "logicalLocations": [{ "name": res.address, "kind": "resource", "fullyQualifiedName": format!("{}::{}", res.entity_type, res.address) }]
            }],
            "partialFingerprints": { "vouch/v1": r.fingerprint },
            "properties": {
                "policies": r.policies,
                "frameworks": r.frameworks,
                "determined": r.determined,
                "unknown": r.unknown,
            },
        });
        if let Some(state) = baseline.get(&r.fingerprint)
            && let Some(obj) = result.as_object_mut()
        {
            obj.insert("baselineState".to_owned(), json!(state));
        }
        if let (Some(w), Some(obj)) = (&r.waiver, result.as_object_mut()) {
            obj.insert(
                "suppressions".to_owned(),
                json!([{ "kind": "external", "status": "accepted", "justification": format!("{} (approved by {}, until {})", w.reason, w.approver, w.expires) }]),
            );
        }
        out.push(result);
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "vouch",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/vouch-dev/vouch",
                "rules": rules,
            }},
            "automationDetails": { "id": "vouch/" },
            "columnKind": "unicodeCodePoints",
            "results": out,
        }]
    });
    super::to_json(&doc)
}
