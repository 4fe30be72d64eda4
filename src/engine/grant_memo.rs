//! Standing-grant decisions remembered by what the least-privilege forbids can observe.
//!
//! `check` re-evaluates every standing grant as the access request it answers (50,000 Cedar
//! requests on a large inventory). Most of those requests look alike to the forbids: an active
//! person with MFA, a ticket and an authorised approver, asking for a production datastore. Cedar
//! is asked once per distinct look, and the requests that look alike take its answer.
//!
//! Two requests look alike when one maps onto the other by renaming its strings injectively and
//! its integers in an order-preserving way, both renamings leaving every literal of the policies
//! as it is. Equality, ordering, boolean logic, conditionals, set membership and emptiness,
//! records and sets all give the same answer before and after such a renaming, so policies
//! built only from those decide both requests alike. [`Observer::of`] accepts a policy set only
//! when every policy:
//! - scopes `principal` and `resource` by type at most, and uses them only to read or test an
//!   attribute (never as a value, so neither identity nor group membership can be observed);
//! - uses only the operations above, with literals that are booleans, strings or integers (no
//!   arithmetic, `like`, tags, entity literals or extension functions);
//!
//! and the schema gives the access entities and the request context no extension type (an
//! `ipaddr` compares otherwise than its text). A request whose person or resource has an
//! unknown or entity-valued attribute the policies read is evaluated on its own.

use std::collections::BTreeSet;

use crate::model::{Resource, Value};

/// What a set of access forbids can observe of a request, when they observe it only through
/// operations that renamings preserve (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observer {
    /// Attributes of `principal` the policies read or test, sorted.
    principal: Vec<String>,
    /// Attributes of `resource` the policies read or test, sorted.
    resource: Vec<String>,
    /// String literals of the policies: kept as they are in a key.
    strings: BTreeSet<String>,
    /// Integer literals of the policies, sorted.
    longs: Vec<i64>,
}

/// A request's context, as the key sees it: each field's name with its value (see
/// `RequestFacts::observed`).
pub type ContextFields = [(&'static str, Value); 10];

impl Observer {
    /// The observer of `policies` (their JSON forms), or `None` when some policy can observe
    /// more than renamings preserve. `schema_access`: the JSON form of the schema's access
    /// namespace.
    pub fn of<'p>(
        policies: impl IntoIterator<Item = &'p serde_json::Value>,
        schema_access: &serde_json::Value,
    ) -> Option<Observer> {
        if has_extension_type(schema_access) {
            return None;
        }
        let mut seen = Seen::default();
        for p in policies {
            for var in ["principal", "resource"] {
                let scope = p.get(var)?;
                match scope.get("op").and_then(|o| o.as_str()) {
                    Some("All") => {}
                    Some("is") if scope.get("in").is_none() => {}
                    _ => return None,
                }
            }
            for condition in p.get("conditions")?.as_array()? {
                seen.expr(condition.get("body")?)?;
            }
        }
        let mut longs: Vec<i64> = seen.longs.into_iter().collect();
        longs.sort_unstable();
        Some(Observer {
            principal: seen.principal.into_iter().collect(),
            resource: seen.resource.into_iter().collect(),
            strings: seen.strings,
            longs,
        })
    }

    /// The key of a request: equal keys, equal decisions. `None` when the request must be
    /// evaluated on its own (an attribute read is unknown or refers to an entity).
    pub fn key(
        &self,
        action: &str,
        principal: &Resource,
        resource: &Resource,
        context: &ContextFields,
    ) -> Option<Vec<u8>> {
        let mut observed: Vec<Option<&Value>> =
            Vec::with_capacity(self.principal.len() + self.resource.len() + context.len());
        // Entities carry their address (read as a string), and which of their attributes are
        // unknown (not kept in a key).
        let reads_address = |names: &[String]| names.iter().any(|n| n == "address");
        let address_p = reads_address(&self.principal).then(|| Value::str(&principal.address));
        let address_r = reads_address(&self.resource).then(|| Value::str(&resource.address));
        for (names, entity, address) in [
            (&self.principal, principal, &address_p),
            (&self.resource, resource, &address_r),
        ] {
            for name in names {
                let value = match name.as_str() {
                    "address" => address.as_ref(),
                    "unknown" => return None,
                    _ => entity.attrs.get(name),
                };
                observed.push(value);
            }
        }
        observed.extend(context.iter().map(|(_, v)| Some(v)));
        let mut key = Encoder::new(self);
        for value in observed.iter().flatten() {
            key.collect_longs(value)?;
        }
        key.rank_longs();
        key.out.extend_from_slice(action.as_bytes());
        key.out.push(0);
        for value in &observed {
            match value {
                Some(v) => {
                    key.out.push(b'p');
                    key.encode(v);
                }
                None => key.out.push(b'a'),
            }
        }
        Some(key.out)
    }
}

/// What the walk over a policy has seen.
#[derive(Default)]
struct Seen {
    principal: BTreeSet<String>,
    resource: BTreeSet<String>,
    strings: BTreeSet<String>,
    longs: BTreeSet<i64>,
}

impl Seen {
    /// Walks one expression of the policy JSON form; `None` when it uses anything renamings do
    /// not preserve.
    fn expr(&mut self, e: &serde_json::Value) -> Option<()> {
        let node = e.as_object()?;
        let (op, inner) = node.iter().next().filter(|_| node.len() == 1)?;
        match op.as_str() {
            "Value" => self.literal(inner),
            // `principal` and `resource` as values are caught by their parents below; the
            // context is observed whole, and the action is part of the key.
            "Var" => match inner.as_str()? {
                "context" | "action" => Some(()),
                _ => None,
            },
            "." | "has" => {
                let left = inner.get("left")?;
                let attr = inner.get("attr")?.as_str()?;
                match left.get("Var").and_then(|v| v.as_str()) {
                    Some("principal") => {
                        self.principal.insert(attr.to_owned());
                        Some(())
                    }
                    Some("resource") => {
                        self.resource.insert(attr.to_owned());
                        Some(())
                    }
                    _ => self.expr(left),
                }
            }
            "is" => {
                if inner.get("in").is_some() {
                    return None;
                }
                let left = inner.get("left")?;
                match left.get("Var").and_then(|v| v.as_str()) {
                    // The type of `principal` and `resource` is fixed for access requests.
                    Some("principal" | "resource") => Some(()),
                    _ => self.expr(left),
                }
            }
            "!" | "isEmpty" => self.expr(inner.get("arg")?),
            "==" | "!=" | "<" | "<=" | ">" | ">=" | "&&" | "||" | "contains" | "containsAll"
            | "containsAny" => {
                self.expr(inner.get("left")?)?;
                self.expr(inner.get("right")?)
            }
            "if-then-else" => {
                self.expr(inner.get("if")?)?;
                self.expr(inner.get("then")?)?;
                self.expr(inner.get("else")?)
            }
            "Set" => inner.as_array()?.iter().try_for_each(|i| self.expr(i)),
            "Record" => inner.as_object()?.values().try_for_each(|i| self.expr(i)),
            // Arithmetic, `like`, `in`, tags, slots, unknowns and extension functions.
            _ => None,
        }
    }

    /// A literal: booleans, strings and integers (and sets and records of them).
    fn literal(&mut self, v: &serde_json::Value) -> Option<()> {
        match v {
            serde_json::Value::Bool(_) => Some(()),
            serde_json::Value::String(s) => {
                self.strings.insert(s.clone());
                Some(())
            }
            serde_json::Value::Number(n) => {
                self.longs.insert(n.as_i64()?);
                Some(())
            }
            serde_json::Value::Array(items) => items.iter().try_for_each(|i| self.literal(i)),
            // `__entity` and `__extn` escapes, and records (whose keys could be either).
            _ => None,
        }
    }
}

/// True when a schema namespace (its JSON form) names an extension type anywhere.
fn has_extension_type(v: &serde_json::Value) -> bool {
    const EXTENSIONS: [&str; 4] = ["ipaddr", "decimal", "datetime", "duration"];
    match v {
        serde_json::Value::Object(o) => {
            let named = |k: &str| {
                o.get(k).and_then(|n| n.as_str()).is_some_and(|n| {
                    let base = n.rsplit("::").next().unwrap_or(n);
                    EXTENSIONS.contains(&base)
                })
            };
            o.get("type").and_then(|t| t.as_str()) == Some("Extension")
                || named("name")
                || named("type")
                || o.values().any(has_extension_type)
        }
        serde_json::Value::Array(items) => items.iter().any(has_extension_type),
        serde_json::Value::String(s) => {
            let base = s.rsplit("::").next().unwrap_or(s);
            EXTENSIONS.contains(&base)
        }
        _ => false,
    }
}

/// Builds one key: strings renamed by first appearance, integers by rank, literals kept.
struct Encoder<'o, 'v> {
    observer: &'o Observer,
    /// Every integer of the request that is not a literal, then (after `rank_longs`) those and
    /// the literals, sorted and distinct.
    ranks: Vec<i64>,
    /// The request's strings that are not literals, in order of first appearance: a string's
    /// place here is its new name (a request holds a dozen: a list beats a hash map).
    strings: Vec<&'v str>,
    out: Vec<u8>,
}

impl<'o, 'v> Encoder<'o, 'v> {
    fn new(observer: &'o Observer) -> Encoder<'o, 'v> {
        Encoder {
            observer,
            ranks: Vec::new(),
            strings: Vec::new(),
            out: Vec::with_capacity(128),
        }
    }

    /// Collects the request's integers; `None` for a value no key may hold.
    fn collect_longs(&mut self, v: &Value) -> Option<()> {
        match v {
            Value::Long(n) => {
                self.ranks.push(*n);
                Some(())
            }
            Value::Bool(_) | Value::String(_) => Some(()),
            Value::Set(items) => items.iter().try_for_each(|i| self.collect_longs(i)),
            Value::Record(fields) => fields.values().try_for_each(|i| self.collect_longs(i)),
            Value::Entity(_) | Value::Unknown(_) => None,
        }
    }

    /// Sorts the request's integers with the literals: an integer's place among them is what
    /// every comparison sees of it.
    fn rank_longs(&mut self) {
        self.ranks.extend_from_slice(&self.observer.longs);
        self.ranks.sort_unstable();
        self.ranks.dedup();
    }

    fn encode(&mut self, v: &'v Value) {
        match v {
            Value::Bool(b) => self.out.push(if *b { b'T' } else { b'F' }),
            Value::Long(n) => {
                if self.observer.longs.binary_search(n).is_ok() {
                    self.out.push(b'L');
                    self.out.extend_from_slice(&n.to_le_bytes());
                } else {
                    let rank = self.ranks.binary_search(n).unwrap_or_default();
                    self.out.push(b'l');
                    self.out.extend_from_slice(&(rank as u64).to_le_bytes());
                }
            }
            Value::String(s) => {
                if self.observer.strings.contains(s.as_str()) {
                    self.out.push(b'S');
                    super::memo::token(&mut self.out, s);
                } else {
                    let id = match self.strings.iter().position(|known| *known == s.as_str()) {
                        Some(at) => at,
                        None => {
                            self.strings.push(s);
                            self.strings.len() - 1
                        }
                    };
                    self.out.push(b's');
                    self.out.extend_from_slice(&(id as u64).to_le_bytes());
                }
            }
            Value::Set(items) => {
                self.out.push(b'[');
                self.out
                    .extend_from_slice(&(items.len() as u64).to_le_bytes());
                for i in items {
                    self.encode(i);
                }
            }
            Value::Record(fields) => {
                self.out.push(b'{');
                self.out
                    .extend_from_slice(&(fields.len() as u64).to_le_bytes());
                for (k, i) in fields {
                    super::memo::token(&mut self.out, k);
                    self.encode(i);
                }
            }
            // Refused by `collect_longs` before any encoding.
            Value::Entity(_) | Value::Unknown(_) => self.out.push(b'?'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observer(texts: &[&str]) -> Option<Observer> {
        let jsons: Vec<serde_json::Value> = texts
            .iter()
            .map(|t| {
                cedar_policy::Policy::parse(None, *t)
                    .expect("policy parses")
                    .to_json()
                    .expect("policy to json")
            })
            .collect();
        Observer::of(&jsons, &serde_json::json!({}))
    }

    const HEAD: &str = "forbid (principal is Access::User, action, resource is Access::Resource)";

    #[test]
    fn attribute_reads_comparisons_and_sets_are_observable() {
        let o = observer(&[&format!(
            r#"{HEAD} when {{ principal.status == "active" && principal has days && principal.days > principal.bound && resource.zones.contains("eu") && !principal.rotations.containsAll(resource.tenants) && (context.hours <= 0 || context.hours > 2160) && (if context.mfa then 1 else 2) == 1 }};"#
        )])
        .expect("observable");
        assert_eq!(o.principal, ["bound", "days", "rotations", "status"]);
        assert_eq!(o.resource, ["tenants", "zones"]);
        assert_eq!(
            o.strings.iter().map(String::as_str).collect::<Vec<_>>(),
            ["active", "eu"]
        );
        assert_eq!(o.longs, [0, 1, 2, 2160]);
    }

    #[test]
    fn identity_arithmetic_patterns_and_extensions_are_not() {
        for condition in [
            r#"principal == Access::User::"a""#,
            r#"principal in Access::Group::"g""#,
            "resource.readers.contains(principal)",
            "context.hours + 1 > 2",
            "-context.hours < 2",
            r#"context.ticket like "SEC-*""#,
            r#"ip("10.0.0.1").isLoopback()"#,
            r#"principal.hasTag("x")"#,
            r#"Access::User::"a".status == "x""#,
        ] {
            assert_eq!(
                observer(&[&format!("{HEAD} when {{ {condition} }};")]),
                None,
                "{condition}"
            );
        }
        assert_eq!(
            observer(&[
                r#"forbid (principal in Access::Group::"g", action, resource is Access::Resource);"#
            ]),
            None
        );
    }

    #[test]
    fn a_schema_with_extension_types_turns_it_off() {
        let jsons = [cedar_policy::Policy::parse(None, format!("{HEAD};"))
            .expect("parses")
            .to_json()
            .expect("json")];
        let schema = serde_json::json!({"entityTypes": {"User": {"shape": {"type": "Record",
            "attributes": {"ip": {"type": "Extension", "name": "ipaddr"}}}}}});
        assert_eq!(Observer::of(&jsons, &schema), None);
        let schema = serde_json::json!({"entityTypes": {"User": {"shape": {"type": "Record",
            "attributes": {"ip": {"type": "EntityOrCommon", "name": "ipaddr"}}}}}});
        assert_eq!(Observer::of(&jsons, &schema), None);
        let plain = serde_json::json!({"entityTypes": {"User": {"shape": {"type": "Record",
            "attributes": {"login": {"type": "String"}}}}}});
        assert!(Observer::of(&jsons, &plain).is_some());
    }

    fn user(attrs: &[(&'static str, Value)]) -> Resource {
        let mut r = Resource::new(
            "Access::User",
            "user:x".to_owned(),
            crate::model::Span::default(),
        );
        for (k, v) in attrs {
            r.set(*k, v.clone());
        }
        r
    }

    fn context(ticket: &str, hours: i64) -> ContextFields {
        let mut c: ContextFields = std::array::from_fn(|_| ("", Value::Bool(false)));
        c[0] = ("ticket", Value::String(ticket.to_owned()));
        c[1] = ("duration_hours", Value::Long(hours));
        c
    }

    /// Keys are equal exactly when a renaming maps one request onto the other.
    #[test]
    fn keys_see_what_renamings_preserve() {
        let o = observer(&[&format!(
            r#"{HEAD} when {{ principal.login == context.ticket && principal.days > 90 && context.duration_hours > principal.days && context.ticket != "" }};"#
        )])
        .expect("observable");
        let res = Resource::new(
            "Access::Resource",
            "datastore:a".to_owned(),
            crate::model::Span::default(),
        );
        let key = |login: &str, days: i64, ticket: &str, hours: i64| {
            o.key(
                "read",
                &user(&[("login", Value::str(login)), ("days", Value::Long(days))]),
                &res,
                &context(ticket, hours),
            )
            .expect("a key")
        };
        // Other names, the same pattern: alike.
        assert_eq!(key("alice", 10, "SEC-1", 5), key("bob", 20, "SEC-2", 7));
        // The login equal to the ticket, or not.
        assert_ne!(key("alice", 10, "alice", 5), key("alice", 10, "SEC-1", 5));
        // Either side of a literal.
        assert_ne!(key("alice", 10, "SEC-1", 5), key("alice", 100, "SEC-1", 5));
        // The order of two of the request's own integers.
        assert_ne!(key("alice", 10, "SEC-1", 5), key("alice", 10, "SEC-1", 50));
        // Equal to a literal is not merely near it.
        assert_ne!(key("alice", 90, "SEC-1", 5), key("alice", 89, "SEC-1", 5));
        assert_ne!(key("alice", 10, "", 5), key("alice", 10, "x", 5));
        // Another action.
        let u = user(&[("login", Value::str("a")), ("days", Value::Long(1))]);
        assert_ne!(
            o.key("read", &u, &res, &context("t", 1)),
            o.key("write", &u, &res, &context("t", 1))
        );
        // An unknown attribute read: evaluated on its own.
        let unknown = user(&[
            ("login", Value::unknown("not exported")),
            ("days", Value::Long(1)),
        ]);
        assert_eq!(o.key("read", &unknown, &res, &context("t", 1)), None);
    }
}
