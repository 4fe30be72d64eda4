//! How each result is known — its **basis** — and the provenance and age of the facts it read.
//!
//! - `configuration`: the resource comes from infrastructure files (Terraform, Kubernetes,
//!   IAM documents): what is deployed, read as code.
//! - `system_export`: a fact the control reads was imported from a system's export (SCIM, an
//!   identity provider, the HR roster, GitHub, AWS Backup, incidents).
//! - `configuration` too: an inventory fact the control reads was compared with the
//!   infrastructure code (`inventory-matches-infrastructure`).
//! - `declared`: everything the control reads was typed into the inventory by hand.
//! - `attestation`: a manual control attested with an evidence file in the tree (its SHA-256
//!   digest recorded, the file included in evidence bundles).
//! - `attestation_unverified`: a manual control attested by a link or a sentence only, or not
//!   attested at all.
//!
//! Which attributes a control reads comes from its policies' text (every attribute named after
//! `resource.` or `resource has`, and string literals such as `unknown.contains("x")`): a
//! superset, so a stale export is never missed. A result reading an imported fact whose export
//! is older than its `max_export_age_days` fails as stale.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::library::Library;
use crate::model::{FactOrigin, FactSource, Resource};

/// How a result is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Configuration,
    SystemExport,
    Attestation,
    Declared,
    AttestationUnverified,
}

impl Basis {
    /// Every basis, strongest first.
    pub const ALL: [Basis; 5] = [
        Basis::Configuration,
        Basis::SystemExport,
        Basis::Attestation,
        Basis::Declared,
        Basis::AttestationUnverified,
    ];

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Configuration => "configuration",
            Basis::SystemExport => "system_export",
            Basis::Attestation => "attestation",
            Basis::Declared => "declared",
            Basis::AttestationUnverified => "attestation_unverified",
        }
    }

    /// True when the basis is shown by something in the tree (counted by the headline
    /// readiness): configuration, a system export, or an attestation with its evidence file.
    pub fn shown(self) -> bool {
        matches!(
            self,
            Basis::Configuration | Basis::SystemExport | Basis::Attestation
        )
    }

    /// The weaker of two (a requirement is only as shown as its least-shown control).
    pub fn weakest(self, other: Basis) -> Basis {
        self.max(other)
    }
}

/// What each control's policies read and check.
#[derive(Debug, Clone, Default)]
pub struct Reads {
    /// Control id → attribute names its policies read.
    pub attrs: BTreeMap<String, BTreeSet<String>>,
    /// Control id → entity types its policies scope (`Saas::Tenant`, `Aws::S3Bucket`).
    pub types: BTreeMap<String, BTreeSet<String>>,
}

impl Reads {
    /// Reads every policy file of the library.
    pub fn of(lib: &Library) -> Reads {
        let mut reads = Reads::default();
        for f in &lib.policies {
            for stmt in statements(&f.text) {
                let Some(control) = annotation(stmt, "@control") else {
                    continue;
                };
                let attrs = reads.attrs.entry(control.clone()).or_default();
                for prefix in ["resource.", "resource has "] {
                    for (i, _) in stmt.match_indices(prefix) {
                        let word: String = stmt[i + prefix.len()..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if !word.is_empty() {
                            attrs.insert(word);
                        }
                    }
                }
                let body = stmt.find("when").map_or("", |i| &stmt[i..]);
                for lit in literals(body) {
                    attrs.insert(lit);
                }
                if let Some(i) = stmt.find("resource is ") {
                    let ty: String = stmt[i + "resource is ".len()..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    reads.types.entry(control).or_default().insert(ty);
                }
            }
        }
        reads
    }

    /// True when every type the control checks is an inventory type (`Saas::`, `Access::`).
    pub fn inventory_only(&self, control: &str) -> bool {
        self.types.get(control).is_some_and(|ts| {
            !ts.is_empty()
                && ts
                    .iter()
                    .all(|t| t.starts_with("Saas::") || t.starts_with("Access::"))
        })
    }
}

/// The statements of a policy file (split at `;` outside string literals and comments).
fn statements(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut in_str, mut escaped, mut in_comment) = (0, false, false, false);
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match (*b, in_str, in_comment) {
            (b'\n', _, true) => in_comment = false,
            (_, _, true) => {}
            (b'\\', true, _) => {
                escaped = !escaped;
                continue;
            }
            (b'"', true, _) if !escaped => in_str = false,
            (b'"', false, _) => in_str = true,
            (b'/', false, _) if bytes.get(i + 1) == Some(&b'/') => in_comment = true,
            (b';', false, _) => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        escaped = false;
    }
    out
}

/// The string argument of an annotation (`@control("x")`).
fn annotation(stmt: &str, name: &str) -> Option<String> {
    let i = stmt.find(&format!("{name}(\""))?;
    let rest = &stmt[i + name.len() + 2..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// String literals of a text (no escapes needed: attribute names have none).
fn literals(text: &str) -> Vec<String> {
    text.split('"')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_owned())
        .filter(|s| s.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect()
}

/// The provenance of one result.
#[derive(Debug, Clone, Default)]
pub struct Annotation {
    pub basis: Option<Basis>,
    /// The sources of the facts the control read (declared and imported), sorted; shared by
    /// every result of the resource that reads no imported fact.
    pub sources: std::sync::Arc<[FactSource]>,
    /// Explanations of the derived facts the control read (both sides of a disagreement).
    pub details: Vec<String>,
    /// Why the result fails as stale (one sentence per stale export it read).
    pub stale: Vec<String>,
}

/// The basis, sources, details and staleness of `control` on `resource`. `declared` keeps the
/// resource's declared sources once built: the results of a resource that read no imported
/// fact share that one list (a large inventory has ten results per entity).
pub fn annotate(
    reads: &BTreeSet<String>,
    resource: &Resource,
    declared: &std::sync::OnceLock<std::sync::Arc<[FactSource]>>,
) -> Annotation {
    let Some(facts) = resource.facts.as_deref() else {
        return Annotation {
            basis: Some(Basis::Configuration),
            ..Annotation::default()
        };
    };
    let mut used: BTreeSet<usize> = BTreeSet::new();
    for (attr, from) in &facts.imported {
        if reads.contains(attr) {
            used.extend(from.iter().copied());
        }
    }
    let origin_used = |o: FactOrigin| {
        used.iter()
            .any(|i| facts.sources.get(*i).is_some_and(|s| s.origin == o))
    };
    let basis = if origin_used(FactOrigin::Imported) {
        Basis::SystemExport
    } else if origin_used(FactOrigin::Configuration) {
        Basis::Configuration
    } else {
        Basis::Declared
    };
    let sorted = |keep: &dyn Fn(usize, &FactSource) -> bool| -> std::sync::Arc<[FactSource]> {
        let mut sources: Vec<FactSource> = facts
            .sources
            .iter()
            .enumerate()
            .filter(|(i, s)| keep(*i, s))
            .map(|(_, s)| s.clone())
            .collect();
        sources.sort();
        sources.dedup();
        sources.into()
    };
    let sources = if origin_used(FactOrigin::Imported) || origin_used(FactOrigin::Configuration) {
        sorted(&|i, s| s.origin == FactOrigin::Declared || used.contains(&i))
    } else {
        std::sync::Arc::clone(
            declared.get_or_init(|| sorted(&|_, s| s.origin == FactOrigin::Declared)),
        )
    };
    let stale = sources
        .iter()
        .filter(|s| s.stale)
        .map(|s| {
            let max = s.max_age_days;
            match (&s.collected_at, s.age_days) {
                (Some(at), Some(age)) => format!(
                    "stale: the {} export `{}` was taken on {at}, {age} days ago{}; export it again",
                    s.format,
                    s.file,
                    max.map(|m| format!(", over its maximum age of {m} days")).unwrap_or_default()
                ),
                _ => format!(
                    "stale: when the {} export `{}` was taken is not known; add `collected_at` to the file or to `[[exports.file]]` in vouch.toml",
                    s.format, s.file
                ),
            }
        })
        .collect();
    let details = facts
        .details
        .iter()
        .filter(|(attr, _)| reads.contains(*attr))
        .flat_map(|(_, v)| v.iter().cloned())
        .collect();
    Annotation {
        basis: Some(basis),
        sources,
        details,
        stale,
    }
}

/// Finds each attestation's evidence file under `root` (never outside it, symlinks included),
/// records its SHA-256 digest and returns the files' bytes (for evidence bundles). A declared
/// evidence file that is missing, outside the tree or too big is a problem at the attestation.
pub fn resolve_evidence(
    root: &std::path::Path,
    attestations: &mut [crate::formats::inventory::Attestation],
) -> (
    Vec<crate::error::Problem>,
    BTreeMap<String, std::sync::Arc<[u8]>>,
) {
    use sha2::{Digest, Sha256};
    let mut problems = Vec::new();
    let mut files = BTreeMap::new();
    let Ok(canonical_root) = root.canonicalize() else {
        return (problems, files);
    };
    for a in attestations.iter_mut() {
        let Some(rel) = a.evidence_file.clone() else {
            continue;
        };
        let read = || -> Result<Vec<u8>, String> {
            let p = std::path::Path::new(&rel);
            if p.is_absolute()
                || p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(
                    "it must be a path inside the scanned tree, relative to its root".to_owned(),
                );
            }
            let target = canonical_root.join(p).canonicalize().map_err(|e| {
                format!(
                    "it cannot be read: {}",
                    crate::error::lowercase_first(&e.to_string())
                )
            })?;
            if !target.starts_with(&canonical_root) {
                return Err("it leads outside the scanned tree".to_owned());
            }
            let meta = std::fs::metadata(&target).map_err(|e| e.to_string())?;
            if !meta.is_file() {
                return Err("it is not a file".to_owned());
            }
            if meta.len() > crate::source::MAX_FILE_BYTES {
                return Err(format!(
                    "it is larger than {} MiB",
                    crate::source::MAX_FILE_BYTES / (1024 * 1024)
                ));
            }
            std::fs::read(&target).map_err(|e| e.to_string())
        };
        match read() {
            Ok(bytes) => {
                a.evidence_digest = Some(format!("sha256:{}", hex::encode(Sha256::digest(&bytes))));
                files.insert(rel.replace('\\', "/"), std::sync::Arc::from(bytes));
            }
            Err(why) => {
                let mut p = crate::error::Problem::config(
                    format!("the attestation of `{}` names evidence file `{rel}`, but {why}", a.control),
                    Some(&a.file),
                )
                .with_help("put the evidence (a signed report, a PDF export) in the repository and name its path from the root");
                p.line = Some(a.line);
                problems.push(p);
            }
        }
    }
    (problems, files)
}

/// What a run could verify, in plain words for the closing summary: how many results rest on
/// configuration, exports and evidence files, how many only on declarations, and which
/// organisation controls were not evaluated.
pub fn coverage_words(a: &crate::assessment::Assessment) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let get = |b: Basis| a.summary.by_basis.get(&b).copied().unwrap_or(0);
    let shown: usize = Basis::ALL
        .iter()
        .filter(|b| b.shown())
        .map(|b| get(*b))
        .sum();
    let unshown = get(Basis::Declared) + get(Basis::AttestationUnverified);
    if shown + unshown > 0 {
        let _ = writeln!(
            out,
            "verified: {} from configuration, {} from system exports, {} attestations with evidence files; not verified: {} on declared facts only, {} on attestations without evidence",
            get(Basis::Configuration),
            get(Basis::SystemExport),
            get(Basis::Attestation),
            get(Basis::Declared),
            get(Basis::AttestationUnverified),
        );
    }
    if shown == 0 {
        let _ = writeln!(
            out,
            "{}",
            if unshown == 0 {
                "nothing was verified: no configuration, system export or evidence file was found in this tree"
            } else {
                "nothing was verified: every result rests on declarations or on attestations without evidence files (add configuration, system exports or `evidence_file`s; docs/sources.md)"
            }
        );
    }
    if let Some(n) = &a.not_evaluated {
        let _ = writeln!(out, "{}; {}", n.reason, n.help);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Basis, literals, statements};

    #[test]
    fn statements_split_outside_strings_and_comments() {
        let text = "@id(\"a;b\")\n// c; d\nforbid (principal, action, resource) when { resource.x };\n@id(\"e\") permit(principal, action, resource);";
        let s = statements(text);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].contains("resource.x"));
        assert_eq!(
            literals("when { resource.unknown.contains(\"orphan_accounts\") && x == \"a b\" }"),
            ["orphan_accounts"]
        );
    }

    #[test]
    fn the_weakest_basis_wins_and_only_shown_ones_count() {
        assert_eq!(
            Basis::Configuration.weakest(Basis::Declared),
            Basis::Declared
        );
        assert_eq!(
            Basis::Attestation.weakest(Basis::SystemExport),
            Basis::Attestation
        );
        let shown: Vec<Basis> = Basis::ALL.into_iter().filter(|b| b.shown()).collect();
        assert_eq!(
            shown,
            [
                Basis::Configuration,
                Basis::SystemExport,
                Basis::Attestation
            ]
        );
    }
}
