//! Decisions remembered by facts: two resources of one type whose policy-visible facts are equal
//! get the same answer from the same policies, so Cedar is asked once per distinct set of facts.
//!
//! This holds only where nothing else can tell the two apart, and the memo is used only there:
//! - every policy of the type's set is *identity-blind*: its scope on `resource` is `is T` or
//!   none, and its conditions use `resource` only to read or test an attribute (`resource.x`,
//!   `resource has x`, `resource is T`), and name no entity literal;
//! - the resource has no parents and no attribute that refers to another entity (which a policy
//!   could dereference);
//! - the decision had no evaluation error (an error's text names the entity);
//! - the resource's entity shape is already known to conform to the schema.
//!
//! The key encodes what the policies can observe of the Cedar entity: the type, each attribute
//! they read with its value, each attribute they only test (`has`) by its presence, the names of
//! unknown attributes, and the address when a policy reads it.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::model::Value;

/// What a set of policies decided on one entity, with no evaluation error.
#[derive(Debug)]
pub(super) struct Decided {
    /// Ids of the policies that fired.
    pub fired: BTreeSet<String>,
    /// The request was denied and no policy fired (the base permit did not apply).
    pub no_decision: bool,
}

/// Facts key → decision, shared by the batches of one evaluation.
#[derive(Debug, Default)]
pub(super) struct Memo {
    decided: Mutex<super::FastMap<Vec<u8>, Arc<Decided>>>,
}

impl Memo {
    /// The decisions already known for `keys` (by position; `None` where unknown).
    pub fn lookup(&self, keys: &[Option<&[u8]>]) -> Vec<Option<Arc<Decided>>> {
        let decided = self.decided.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .map(|k| k.and_then(|k| decided.get(k).cloned()))
            .collect()
    }

    /// Remembers decisions (the first one stored for a key stays: all are equal).
    pub fn remember(&self, decisions: Vec<(Vec<u8>, Decided)>) {
        if decisions.is_empty() {
            return;
        }
        let mut decided = self.decided.lock().unwrap_or_else(|p| p.into_inner());
        for (key, d) in decisions {
            decided.entry(key).or_insert_with(|| Arc::new(d));
        }
    }
}

/// How a set's policies use an attribute of `resource`: only test that it is there
/// (`resource has x`), or read its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Use {
    Tested,
    Read,
}

/// Attribute → how the policies of a set use it.
pub(super) type Uses = HashMap<String, Use>;

/// Adds the attributes of `resource` a policy (its JSON form) tests or reads.
pub(super) fn attribute_uses(v: &serde_json::Value, out: &mut Uses) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, inner) in o {
                if (k == "." || k == "has")
                    && inner
                        .get("left")
                        .and_then(|l| l.get("Var"))
                        .and_then(|v| v.as_str())
                        == Some("resource")
                    && let Some(attr) = inner.get("attr").and_then(|a| a.as_str())
                {
                    let how = if k == "." { Use::Read } else { Use::Tested };
                    let known = out.entry(attr.to_owned()).or_insert(how);
                    if how == Use::Read {
                        *known = Use::Read;
                    }
                }
                attribute_uses(inner, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| attribute_uses(i, out)),
        _ => {}
    }
}

/// True when a policy (its JSON form) cannot tell two entities of one type apart except by
/// their attributes: see the module documentation.
pub(super) fn identity_blind(policy: &serde_json::Value) -> bool {
    let scope_blind = match policy.get("resource") {
        Some(scope) => match scope.get("op").and_then(|o| o.as_str()) {
            Some("All") => true,
            Some("is") => scope.get("in").is_none(),
            _ => false,
        },
        None => false,
    };
    scope_blind
        && policy
            .get("conditions")
            .is_some_and(|c| c.as_array().is_some() && condition_blind(c))
}

/// Walks a condition: `resource` may appear only as the object of an attribute read or test.
fn condition_blind(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(o) => {
            if o.contains_key("__entity") {
                return false; // an entity literal: its presence in a store is per batch
            }
            if o.get("Var").and_then(|v| v.as_str()) == Some("resource") {
                return false; // `resource` used as a value (`==`, `in`, `contains`, …)
            }
            o.iter().all(|(op, inner)| {
                let on_resource = inner
                    .get("left")
                    .and_then(|l| l.get("Var"))
                    .and_then(|v| v.as_str())
                    == Some("resource");
                let reads_attribute =
                    matches!(op.as_str(), "." | "has") || (op == "is" && inner.get("in").is_none());
                match inner.as_object() {
                    Some(fields) if on_resource && reads_attribute => fields
                        .iter()
                        .filter(|(k, _)| *k != "left")
                        .all(|(_, f)| condition_blind(f)),
                    _ => condition_blind(inner),
                }
            })
        }
        serde_json::Value::Array(items) => items.iter().all(condition_blind),
        _ => true,
    }
}

/// Appends an unambiguous encoding of a value; `None` if it refers to an entity (a policy could
/// read through the reference, so the value alone does not decide).
pub(super) fn encode(value: &Value, out: &mut Vec<u8>) -> Option<()> {
    match value {
        Value::Bool(b) => out.extend_from_slice(if *b { b"T" } else { b"F" }),
        Value::Long(n) => {
            out.push(b'l');
            out.extend_from_slice(&n.to_le_bytes());
        }
        Value::String(s) => {
            out.push(b's');
            token(out, s);
        }
        Value::Set(items) => {
            out.push(b'[');
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for item in items {
                encode(item, out)?;
            }
        }
        Value::Record(fields) => {
            out.push(b'{');
            out.extend_from_slice(&(fields.len() as u64).to_le_bytes());
            for (k, v) in fields {
                token(out, k);
                encode(v, out)?;
            }
        }
        Value::Entity(_) => return None,
        // Never part of an entity: unknown attributes enter the key by name only.
        Value::Unknown(_) => out.push(b'?'),
    }
    Some(())
}

/// A length-prefixed string.
pub(super) fn token(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blind(text: &str) -> bool {
        let p = cedar_policy::Policy::parse(None, text).expect("policy parses");
        identity_blind(&p.to_json().expect("policy to json"))
    }

    #[test]
    fn attribute_reads_are_blind_to_identity() {
        assert!(blind(
            r#"forbid (principal, action, resource is Aws::S3Bucket)
               when { resource has versioning && !resource.versioning && resource is Aws::S3Bucket };"#
        ));
        assert!(blind(
            r#"forbid (principal, action, resource) when { resource.tags.contains("x") };"#
        ));
    }

    #[test]
    fn identity_and_hierarchy_tests_are_not() {
        for text in [
            r#"forbid (principal, action, resource == Aws::S3Bucket::"logs");"#,
            r#"forbid (principal, action, resource in Aws::S3Bucket::"logs");"#,
            r#"forbid (principal, action, resource is Aws::S3Bucket in Aws::S3Bucket::"a");"#,
            r#"forbid (principal, action, resource) when { resource == Aws::S3Bucket::"logs" };"#,
            r#"forbid (principal, action, resource) when { resource in Aws::S3Bucket::"logs" };"#,
            r#"forbid (principal, action, resource) when { [resource].contains(principal) };"#,
            r#"forbid (principal, action, resource) when { Aws::S3Bucket::"a".versioning };"#,
            r#"forbid (principal, action, resource) when { resource is Aws::S3Bucket in Aws::S3Bucket::"a" };"#,
        ] {
            assert!(!blind(text), "{text}");
        }
    }

    #[test]
    fn a_test_of_presence_is_told_from_a_read_of_the_value() {
        let uses = |text: &str| {
            let p = cedar_policy::Policy::parse(None, text).expect("policy parses");
            let mut out = Uses::new();
            attribute_uses(&p.to_json().expect("policy to json"), &mut out);
            out
        };
        let u = uses(
            r#"forbid (principal, action, resource)
               when { resource has ticket && resource has approver && resource.approver == "x" };"#,
        );
        assert_eq!(u.get("ticket"), Some(&Use::Tested));
        assert_eq!(u.get("approver"), Some(&Use::Read));
        assert_eq!(u.len(), 2);
    }

    #[test]
    fn encodings_tell_values_apart() {
        let enc = |v: &Value| {
            let mut out = Vec::new();
            encode(v, &mut out).map(|()| out)
        };
        let values = [
            Value::Bool(true),
            Value::Bool(false),
            Value::Long(1),
            Value::String("1".into()),
            Value::String(String::new()),
            Value::Set(vec![]),
            Value::Set(vec![Value::String("a".into())]),
            Value::Set(vec![Value::String("a".into()), Value::String("b".into())]),
            Value::Set(vec![Value::String("ab".into())]),
            Value::Record(Default::default()),
        ];
        let encoded: BTreeSet<Vec<u8>> = values.iter().filter_map(enc).collect();
        assert_eq!(encoded.len(), values.len());
        let reference = Value::Entity(Box::new(crate::model::EntityRef {
            entity_type: "Aws::S3Bucket".into(),
            id: "a".into(),
        }));
        assert_eq!(enc(&reference), None);
        assert_eq!(enc(&Value::Set(vec![reference])), None);
    }
}
