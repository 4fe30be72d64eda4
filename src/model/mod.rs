//! The typed model every parser produces and the engine consumes: resources, values and spans.
//!
//! A [`Resource`] is format-neutral: its `entity_type` names a Cedar entity type declared in
//! `policies/schema.cedarschema` (`Aws::S3Bucket`, `K8s::Workload`, `Saas::Tenant`, …) and its
//! attributes are already normalised to the shape that type declares. Nothing here knows about
//! Cedar itself; the engine converts a resource into an entity.

use std::collections::BTreeMap;

use serde::Serialize;

mod attrs;

pub use attrs::{Attrs, Name};

/// Where a resource (or a finding about it) comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct Span {
    /// Path relative to the scanned root, always with `/` separators.
    pub file: String,
    /// 1-based line of the start of the resource.
    pub line: u32,
    /// 1-based column of the start of the resource.
    pub column: u32,
    /// Byte offset of the start of the resource in the file.
    #[serde(skip)]
    pub offset: usize,
    /// Length in bytes of the resource's text (0 when not known).
    #[serde(skip)]
    pub len: usize,
}

impl Span {
    /// A span starting at `offset` in `text`, with its line and column computed (for one span;
    /// many spans into one text share a [`crate::lines::LineIndex`]).
    pub fn at(file: &str, text: &str, offset: usize, len: usize) -> Self {
        crate::lines::LineIndex::new(text).span(file, text, offset, len)
    }

    /// A span pointing at the first line of a file (used for whole-file resources).
    pub fn file_start(file: &str) -> Self {
        Span {
            file: file.to_owned(),
            line: 1,
            column: 1,
            offset: 0,
            len: 0,
        }
    }
}

/// An attribute value, typed as Cedar will see it.
///
/// `Unknown` is a value that a static file cannot know (a variable without a default, a value
/// computed at apply time). It is never converted into a Cedar value: the engine leaves the
/// attribute out and lists its name in the entity's `unknown` set, so no control can read it as
/// compliant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Long(i64),
    String(String),
    Set(Vec<Value>),
    Record(BTreeMap<String, Value>),
    /// A reference to another entity: (entity type, id). Boxed: it is the only variant wider
    /// than a string, and a large inventory holds millions of values.
    Entity(Box<EntityRef>),
    /// Why the value cannot be known statically.
    Unknown(UnknownValue),
}

// A large inventory holds millions of values: a `Value` stays within 32 bytes.
const _: () = assert!(
    std::mem::size_of::<Value>() <= 32,
    "a Value stays within 32 bytes"
);

/// A reference to another entity (Cedar entity uid), e.g. a user holding a grant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EntityRef {
    #[serde(rename = "type")]
    pub entity_type: String,
    pub id: String,
}

/// The reason a value is unknown, kept for the explanation of a finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UnknownValue {
    pub unknown: String,
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// An unknown value with its reason.
    pub fn unknown(reason: impl Into<String>) -> Self {
        Value::Unknown(UnknownValue {
            unknown: reason.into(),
        })
    }

    /// A set of strings, sorted and deduplicated.
    pub fn string_set<I, S>(items: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut v: Vec<String> = items.into_iter().map(Into::into).collect();
        v.sort();
        v.dedup();
        Value::Set(v.into_iter().map(Value::String).collect())
    }

    /// A set of entity references of one type, sorted and deduplicated.
    pub fn entity_set<I, S>(entity_type: &str, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut v: Vec<String> = ids.into_iter().map(Into::into).collect();
        v.sort();
        v.dedup();
        Value::Set(
            v.into_iter()
                .map(|id| {
                    Value::Entity(Box::new(EntityRef {
                        entity_type: entity_type.to_owned(),
                        id,
                    }))
                })
                .collect(),
        )
    }

    /// A set of longs, sorted and deduplicated.
    pub fn long_set<I: IntoIterator<Item = i64>>(items: I) -> Self {
        let mut v: Vec<i64> = items.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        Value::Set(v.into_iter().map(Value::Long).collect())
    }

    /// True when this value (or anything inside it) is unknown.
    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown(_) => true,
            Value::Set(items) => items.iter().any(Value::is_unknown),
            Value::Record(fields) => fields.values().any(Value::is_unknown),
            _ => false,
        }
    }
}

/// One thing that controls are evaluated against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    /// Stable, human address: `aws_s3_bucket.logs`, `overlays/prod: Deployment/payments/api`,
    /// `tenant:acme`. Unique together with `scope`.
    pub address: String,
    /// Disambiguates equal addresses from different roots (the Terraform module directory, or
    /// empty). Part of the resource's identity and of a finding's fingerprint.
    pub scope: String,
    /// The Cedar entity type, namespace-qualified (`Aws::S3Bucket`).
    pub entity_type: String,
    /// Attributes in the shape the schema declares for `entity_type`.
    pub attrs: Attrs,
    /// Other resources this one belongs to (Cedar parents), as `(entity_type, id)`.
    pub parents: Vec<(String, String)>,
    /// Where it was declared.
    pub span: Span,
    /// Where an attribute's deciding value was written, when not at `span` (a Kustomize patch
    /// that set it): a finding about that attribute points there.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attr_spans: BTreeMap<String, Span>,
    /// Where its facts come from (declared or imported) and why derived facts hold; `None` for
    /// configuration files, whose span says it all (boxed: most resources have none).
    #[serde(skip)]
    pub facts: Option<Box<Facts>>,
    /// Why it is not known whether the resource exists (a Terraform block whose `count` or
    /// `for_each` is unknown), or `None` when it does. A finding on it is never determined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence: Option<String>,
    /// An orphan child (a security-group rule, a public access block, … whose parent is not in
    /// the evaluated configuration) evaluated on its own: only the controls that read one of
    /// its attributes apply to it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// Lines explaining a finding, by control id (the paths, statements and policies behind an
    /// IAM finding): appended to that control's messages when it fails on this resource.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, Vec<String>>,
}

/// How a fact is known: declared by hand, or imported from a system's export.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FactSource {
    /// `declared` (an inventory TOML file), `imported` (a system export) or `configuration`
    /// (a Terraform file the inventory was compared with).
    pub origin: FactOrigin,
    /// The export format (`scim`, `okta_users`, …) or `inventory`. The strings are shared
    /// (`Arc`): every result reading a fact carries its source, and a large inventory has
    /// hundreds of thousands of results from one file.
    pub format: std::sync::Arc<str>,
    pub file: std::sync::Arc<str>,
    pub line: u32,
    /// `sha256:` of the export file (imported facts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<std::sync::Arc<str>>,
    /// When the export was taken (`YYYY-MM-DD`), from the file or its declared `collected_at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<std::sync::Arc<str>>,
    /// Days from `collected_at` to the run's date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_days: Option<i64>,
    /// The `max_export_age_days` of its kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age_days: Option<i64>,
    /// The export is older than its `max_export_age_days` (or its age is not known): controls
    /// reading it fail as stale.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stale: bool,
}

/// Declared by hand, imported from a system, or read from the infrastructure code (a fact
/// derived by comparing the inventory with its Terraform resource).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactOrigin {
    Declared,
    Imported,
    Configuration,
}

/// The provenance of a resource's facts (see `formats::exports`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    /// Every source of the resource's facts, each once, in the order first met.
    pub sources: Vec<FactSource>,
    /// Attribute name → indexes in `sources` of the exports it was imported or derived from
    /// (attributes not listed are declared).
    pub imported: BTreeMap<String, Vec<usize>>,
    /// Attribute name → sentences explaining its value (both sides of a disagreement, the
    /// accounts behind an orphan count), shown with a finding of a control that reads it.
    pub details: BTreeMap<String, Vec<String>>,
}

impl Facts {
    /// Adds a source (once) and returns its index.
    pub fn source(&mut self, s: FactSource) -> usize {
        if let Some(i) = self.sources.iter().position(|x| *x == s) {
            return i;
        }
        // Most resources have one source: no room for four (a large inventory has 60,000).
        self.sources.reserve_exact(1);
        self.sources.push(s);
        self.sources.len() - 1
    }

    /// Records that `attr` was imported from (or derived with) `source`.
    pub fn import(&mut self, attr: &str, source: FactSource) {
        let i = self.source(source);
        let from = self.imported.entry(attr.to_owned()).or_default();
        if !from.contains(&i) {
            from.push(i);
        }
    }

    /// Adds an explanation of `attr`.
    pub fn explain(&mut self, attr: &str, text: impl Into<String>) {
        self.details
            .entry(attr.to_owned())
            .or_default()
            .push(text.into());
    }
}

impl Resource {
    /// A resource with no attributes yet.
    pub fn new(entity_type: &str, address: impl Into<String>, span: Span) -> Self {
        Resource {
            address: address.into(),
            scope: String::new(),
            entity_type: entity_type.to_owned(),
            attrs: Attrs::new(),
            parents: Vec::new(),
            span,
            attr_spans: BTreeMap::new(),
            facts: None,
            presence: None,
            partial: false,
            notes: BTreeMap::new(),
        }
    }

    /// The provenance of its facts, created on first use.
    pub fn facts_mut(&mut self) -> &mut Facts {
        self.facts.get_or_insert_with(Box::default)
    }

    /// The identity of the resource across the whole scan (`scope` + `address`).
    pub fn id(&self) -> String {
        if self.scope.is_empty() {
            self.address.clone()
        } else {
            format!("{}//{}", self.scope, self.address)
        }
    }

    /// Sets an attribute (builder style).
    pub fn with(mut self, name: impl Into<Name>, value: Value) -> Self {
        self.attrs.insert(name, value);
        self
    }

    /// Sets an attribute.
    pub fn set(&mut self, name: impl Into<Name>, value: Value) {
        self.attrs.insert(name, value);
    }

    /// Names of the attributes whose value is unknown, sorted.
    pub fn unknown_attrs(&self) -> Vec<String> {
        self.attrs
            .iter()
            .filter(|(_, v)| v.is_unknown())
            .map(|(k, _)| k.to_owned())
            .collect()
    }
}

/// Drops the resources' attributes (in parallel: a large inventory holds millions of values),
/// keeping what results are built from: identity, spans, facts and notes.
pub fn release_attributes(resources: &mut [Resource]) {
    use rayon::prelude::*;
    resources
        .par_iter_mut()
        .with_min_len(256)
        .for_each(|r| drop(std::mem::take(&mut r.attrs)));
}

#[cfg(test)]
mod tests {
    use super::Span;
    use crate::lines::LineIndex;

    #[test]
    fn spans_count_lines_and_characters() {
        let text = "a\nbé\n\nccc\n";
        let at = |offset| {
            let s = Span::at("f", text, offset, 0);
            (s.line, s.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(2), (2, 1));
        assert_eq!(at(5), (2, 3), "é is one column");
        assert_eq!(at(4), (2, 2), "inside é moves back to its start");
        assert_eq!(at(6), (3, 1));
        assert_eq!(at(9), (4, 3));
        assert_eq!(at(100), (5, 1), "clamped to the end");
        let idx = LineIndex::new(text);
        assert_eq!(idx.span("f", text, 7, 0), Span::at("f", text, 7, 0));
    }
}
