//! The SaaS inventory: TOML files declaring the facts no infrastructure file shows (identity
//! provider, tenants and their isolation, datastores and backups, services and incidents,
//! integrations, audit-log sinks, people and their access). See docs/inventory.md.
//!
//! Each file is parsed on its own ([`parse`]); [`assemble`] merges them, checks that every
//! reference names something declared, and derives the cross-entity facts the policies need
//! (a tenant's datastores outside its residency, a datastore shared by tenants of different
//! residencies, a grant held by a deprovisioned user, …).

pub mod access;
mod chunked;
mod derive;
pub mod infra;
pub mod raw;
pub mod residency;

use std::sync::Arc;

use serde::Serialize;

use super::LoadContext;
use crate::error::Problem;
use crate::model::Resource;
use crate::source::SourceFile;

pub use access::AccessSettings;
pub use raw::RawInventory;

/// One parsed inventory file.
#[derive(Debug, Clone)]
pub struct InventoryFile {
    pub path: String,
    pub text: Arc<str>,
    pub raw: RawInventory,
    /// Line starts, for spans of many entries.
    pub lines: crate::lines::LineIndex,
}

/// A manual-control attestation declared in an inventory (read by the engine for manual controls).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Attestation {
    pub control: String,
    pub owner: String,
    pub evidence: String,
    /// The evidence file in the tree (path relative to the scanned root), if declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_file: Option<String>,
    /// `sha256:` of the evidence file, once it was found and read (see `basis`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_digest: Option<String>,
    pub date: String,
    pub expires: String,
    /// Days since 1970-01-01 of `expires`.
    #[serde(skip)]
    pub expires_days: i64,
    pub file: String,
    pub line: u32,
    /// Byte offset of its `[[attestation]]` table in the file.
    #[serde(skip)]
    pub offset: usize,
}

/// Parses one TOML file; `Ok(None)` when it declares none of the inventory kinds.
pub fn parse(file: &SourceFile, _ctx: &LoadContext) -> Result<Option<InventoryFile>, Vec<Problem>> {
    // Recognise by the kinds it declares, then parse once (a 50,000-entry inventory is megabytes).
    if !looks_like_inventory(&file.text) {
        return Ok(None);
    }
    let parsed = chunked::parse(&file.text);
    match parsed {
        Ok(raw) => Ok(Some(InventoryFile {
            path: file.path.clone(),
            text: Arc::clone(&file.text),
            raw,
            lines: crate::lines::LineIndex::new(&file.text),
        })),
        Err(e) => Err(vec![toml_problem(file, &e, "is not a valid inventory")]),
    }
}

/// True when a top-level table header (`[[tenant]]`, `[organization]`) or a top-level key
/// (`tenant = [...]`) names an inventory kind.
fn looks_like_inventory(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        if l.starts_with('[') {
            let name = l
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim();
            raw::KINDS.contains(&name)
        } else {
            l.split_once('=')
                .is_some_and(|(k, _)| raw::KINDS.contains(&k.trim()))
        }
    })
}

/// A toml error as a problem with its span.
pub fn toml_problem(file: &SourceFile, e: &toml::de::Error, what: &str) -> Problem {
    let (offset, len) = e.span().map_or((0, 0), |r| (r.start, r.len()));
    let message = crate::error::lowercase_first(e.message().trim());
    Problem::parse(
        &file.path,
        &file.text,
        offset,
        len,
        format!("`{}` {what}: {message}", file.path),
        "here",
    )
    .with_help("see docs/inventory.md for every kind and attribute")
}

/// Merges inventory files into resources and derives cross-entity facts.
pub fn assemble(files: &[Arc<InventoryFile>], ctx: &LoadContext) -> (Vec<Resource>, Vec<Problem>) {
    derive::Builder::new(files, ctx).build()
}

/// Inventory user id → e-mail (lowercased), for joins with identity-provider exports.
pub fn user_emails(files: &[Arc<InventoryFile>]) -> std::collections::HashMap<String, String> {
    files
        .iter()
        .flat_map(|f| f.raw.user.iter())
        .filter_map(|u| {
            let u = u.get_ref();
            u.email
                .as_ref()
                .map(|e| (u.id.clone(), e.trim().to_lowercase()))
        })
        .collect()
}

/// Every attestation declared in the inventory files, sorted.
pub fn attestations(files: &[Arc<InventoryFile>]) -> Vec<Attestation> {
    let mut out = Vec::new();
    for f in files {
        for a in &f.raw.attestation {
            let span = f.lines.span(&f.path, &f.text, a.span().start, 0);
            let v = a.get_ref();
            out.push(Attestation {
                control: v.control.clone(),
                owner: v.owner.clone(),
                evidence: v.evidence.clone(),
                evidence_file: v.evidence_file.clone(),
                evidence_digest: None,
                date: v.date.to_string(),
                expires: v.expires.to_string(),
                expires_days: crate::dates::toml_days(&v.expires).unwrap_or(i64::MIN),
                file: f.path.clone(),
                line: span.line,
                offset: a.span().start,
            });
        }
    }
    out.sort();
    out
}
