//! SARIF 2.1.0 for code scanning (GitHub accepts it): one rule per control, results with
//! physical locations relative to the repository root (`%SRCROOT%`, declared in
//! `originalUriBaseIds`), partial fingerprints and baseline state; the invocation says whether
//! the run succeeded, with its problems as notifications and the change's edits to the policy
//! as configuration notifications.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::assessment::{CheckResult, Status};
use crate::gate::{GateRun, PolicySource};
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

/// Percent-encodes a path for a URI: unreserved characters and `/` stay as they are.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
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

/// A location in a file relative to the repository root.
fn location(file: &str, line: u32, column: u32) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri_path(file), "uriBaseId": "%SRCROOT%" },
            "region": { "startLine": line.max(1), "startColumn": column.max(1) }
        }
    })
}

/// One result; `None` for a result about no file (code scanning needs a location).
fn result(
    r: &CheckResult,
    index: &BTreeMap<&str, usize>,
    state: Option<&str>,
    note: Option<&str>,
) -> Option<Value> {
    let res = r.resource.as_ref().filter(|res| !res.file.is_empty())?;
    let mut message = format!("{}: {}", res.address, r.messages().join("; "));
    if !r.unknown().is_empty() {
        let _ = write!(
            message,
            " (not known statically: {})",
            r.unknown().join(", ")
        );
    }
    if let Some(note) = note {
        let _ = write!(message, " ({note})");
    }
    let mut loc = location(&res.file, res.line, res.column);
    if let Some(obj) = loc.as_object_mut() {
        obj.insert(
            "logicalLocations".to_owned(),
            json!([{ "name": res.address, "kind": "resource", "fullyQualifiedName": format!("{}::{}", res.entity_type, res.address) }]),
        );
    }
    // An undetermined failure is never ranked as a proven error.
    let level = match (r.status, r.determined, level(r.severity)) {
        (Status::Error, _, _) => "error",
        (_, false, "error") => "warning",
        (_, _, l) => l,
    };
    let mut result = json!({
        "ruleId": r.control,
        "ruleIndex": index.get(r.control.as_ref()).copied().unwrap_or(0),
        "level": level,
        "message": { "text": message },
        "locations": [loc],
        "partialFingerprints": { "vouch/v1": r.fingerprint },
        "properties": {
            "policies": r.policies(),
            "frameworks": r.about.frameworks,
            "severity": r.severity.as_str(),
            "determined": r.determined,
            "unknown": r.unknown(),
        },
    });
    let obj = result.as_object_mut()?;
    if let Some(state) = state {
        obj.insert("baselineState".to_owned(), json!(state));
    }
    if let Some(w) = &r.waiver {
        obj.insert(
            "suppressions".to_owned(),
            json!([{ "kind": "external", "status": "accepted", "justification": format!("{} (approved by {}, until {})", w.reason, w.approver, w.expires) }]),
        );
    }
    Some(result)
}

/// The gate's SARIF: the head's findings (new, unchanged, waived) plus the base findings a
/// failed head run could not re-evaluate (kept as unchanged, so code scanning never closes
/// them on a failed run).
pub fn gate(run: &GateRun) -> String {
    let report = &run.report;
    let lib = &run.head.library;
    let mut states: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &report.new {
        states.insert(r.fingerprint.as_str(), "new");
    }
    for r in &report.existing {
        states.insert(r.fingerprint.as_str(), "unchanged");
    }
    let shown: Vec<&CheckResult> = run
        .head
        .assessment
        .results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Error | Status::Waived))
        .chain(report.kept.iter())
        .collect();
    let mut rule_ids: Vec<&str> = shown.iter().map(|r| r.control.as_ref()).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .filter_map(|id| lib.controls.get(*id))
        .map(|c| rule(c, lib))
        .collect();
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r["id"].as_str().map(|id| (id, i)))
        .collect();
    let mut results = Vec::new();
    for r in run
        .head
        .assessment
        .results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Error | Status::Waived))
    {
        let state = states.get(r.fingerprint.as_str()).copied();
        results.extend(result(r, &index, state, None));
    }
    for r in &report.kept {
        results.extend(result(
            r,
            &index,
            Some("unchanged"),
            Some("kept from the base: the head could not be re-evaluated"),
        ));
    }

    let problem_notes: Vec<Value> = run
        .problems
        .iter()
        .map(|p| {
            let mut text = p.message.clone();
            if let Some(help) = &p.help {
                let _ = write!(text, " (help: {help})");
            }
            let mut n = json!({
                "level": "error",
                "message": { "text": text },
                "descriptor": { "id": format!("vouch/{}", serde_json::to_value(p.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) },
            });
            if let (Some(file), Some(obj)) = (&p.file, n.as_object_mut()) {
                obj.insert(
                    "locations".to_owned(),
                    json!([location(file, p.line.unwrap_or(1), 1)]),
                );
            }
            n
        })
        .collect();
    let config_file = if report.path.is_empty() {
        crate::config::FILE_NAME.to_owned()
    } else {
        format!("{}/{}", report.path, crate::config::FILE_NAME)
    };
    let mut config_notes: Vec<Value> = Vec::new();
    if report.policy.trust_head_config {
        config_notes.push(json!({
            "level": "warning",
            "message": { "text": "--trust-head-config: the head's vouch.toml and custom controls were applied, not the base's" },
            "descriptor": { "id": "vouch/trust-head-config" },
        }));
    }
    for c in &report.policy.changes {
        let applied = match report.policy.source {
            PolicySource::Base => "not applied until merged: the gate applies the base's policy",
            PolicySource::Head => "applied (--trust-head-config)",
        };
        let mut text = format!("this change {} ({applied})", c.description);
        if !c.hides.is_empty() {
            let what: Vec<String> = c
                .hides
                .iter()
                .take(20)
                .map(|h| {
                    format!(
                        "{} on {}",
                        h.control,
                        h.resource
                            .as_ref()
                            .map_or("(organisation)", |r| r.address.as_str())
                    )
                })
                .collect();
            let more = c.hides.len().saturating_sub(what.len());
            let _ = write!(
                text,
                "; it would hide {} finding(s): {}{}",
                c.hides.len(),
                what.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
        let mut n = json!({
            "level": if c.weakens { "warning" } else { "note" },
            "message": { "text": text },
            "descriptor": { "id": format!("vouch/policy/{}", c.kind) },
        });
        if let (Some(line), Some(obj)) = (c.line, n.as_object_mut()) {
            obj.insert(
                "locations".to_owned(),
                json!([location(&config_file, line, 1)]),
            );
        }
        config_notes.push(n);
    }

    let mut run_obj = json!({
        "tool": { "driver": {
            "name": "vouch",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "automationDetails": { "id": "vouch/" },
        "invocations": [{
            "executionSuccessful": !run.failed(),
            "toolExecutionNotifications": problem_notes,
            "toolConfigurationNotifications": config_notes,
        }],
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {
            "verdict": report.verdict,
            "policySource": report.policy.source,
            "trustHeadConfig": report.policy.trust_head_config,
            "scannedPath": report.path,
        },
    });
    if let (Some(root), Some(obj)) = (&run.repository_root, run_obj.as_object_mut()) {
        let mut uri = format!("file://{}", uri_path(&root.display().to_string()));
        if !uri.ends_with('/') {
            uri.push('/');
        }
        obj.insert(
            "originalUriBaseIds".to_owned(),
            json!({ "%SRCROOT%": { "uri": uri, "description": { "text": "the repository root" } } }),
        );
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run_obj],
    });
    super::to_json(&doc)
}

#[cfg(test)]
mod tests {
    use super::uri_path;

    #[test]
    fn paths_are_percent_encoded_for_uris() {
        assert_eq!(uri_path("infra/acme/main.tf"), "infra/acme/main.tf");
        assert_eq!(uri_path("a b/c#d%.tf"), "a%20b/c%23d%25.tf");
        assert_eq!(uri_path("é.tf"), "%C3%A9.tf");
    }
}
