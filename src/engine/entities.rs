//! Resources to Cedar entities, built directly (no JSON), one store per batch.
//!
//! Schema conformance is checked by Cedar, once per entity *shape* (entity type, attribute
//! names and value types, parent types): every entity of one shape conforms or fails alike, so
//! a store of thousands of grants pays for a handful of checks, not one per attribute per
//! entity. Ids enter the shape only where conformance depends on them (action entities and
//! enumerated entity types).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Mutex;

use rayon::prelude::*;

use cedar_policy::{
    Entities, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression, Schema,
    SchemaFragment,
};

use crate::model::{Resource, Value};

/// A batch's entity store, the uid of each resource in it, and resources that were rejected.
pub struct Built {
    pub store: Entities,
    pub uids: Vec<(usize, EntityUid)>,
    pub rejected: Vec<(usize, String)>,
}

/// A store built from candidates: the keys of the entities in it, and the rejected ones.
struct Stored<K> {
    store: Result<Entities, String>,
    kept: Vec<K>,
    rejected: Vec<(K, String)>,
}

/// Schema conformance, checked by Cedar once per entity shape and remembered.
pub struct Conformance {
    /// Entity types whose ids decide conformance: actions and enumerated types.
    id_sensitive: HashSet<String>,
    /// The schema's action entities, added to every store (Cedar adds them only when it checks
    /// the whole store against the schema).
    actions: Vec<Entity>,
    /// Attribute names some policy of the library reads (any name a policy mentions); `None`
    /// when a policy file could not be read for names: then entities keep every attribute.
    read: Option<HashSet<String>>,
    /// The schema's entity type names, parsed once.
    type_names: HashMap<String, EntityTypeName>,
    /// Shape → conforms.
    verdicts: Mutex<super::FastMap<Shape, bool>>,
}

impl std::fmt::Debug for Conformance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conformance")
            .field("id_sensitive", &self.id_sensitive)
            .finish_non_exhaustive()
    }
}

impl Conformance {
    /// Reads the schema's enumerated entity types and action entities, and the attribute names
    /// the policies can read.
    pub fn new<'a>(
        schema: &Schema,
        schema_text: &str,
        policy_texts: impl Iterator<Item = &'a str>,
    ) -> Result<Conformance, String> {
        // Every word and string literal of the policy files: a superset of the attribute
        // names read (`.attr`, `has attr`, `["attr"]`), whatever the syntax.
        let mut names = HashSet::new();
        let mut known = true;
        for text in policy_texts {
            known &= words(text, &mut names);
        }
        let read = known.then_some(names);
        let mut id_sensitive: HashSet<String> = schema
            .actions()
            .map(|a| a.type_name().to_string())
            .collect();
        // Enumerated entity types are declared with `enum`: without the word, there are none
        // (and the schema need not be parsed a second time).
        let json = if schema_text.contains("enum") {
            let (fragment, _) =
                SchemaFragment::from_cedarschema_str(schema_text).map_err(|e| e.to_string())?;
            fragment.to_json_value().map_err(|e| e.to_string())?
        } else {
            serde_json::Value::Null
        };
        for (namespace, body) in json.as_object().into_iter().flatten() {
            let types = body.get("entityTypes").and_then(|t| t.as_object());
            for (name, def) in types.into_iter().flatten() {
                if def.get("enum").is_some() {
                    id_sensitive.insert(if namespace.is_empty() {
                        name.clone()
                    } else {
                        format!("{namespace}::{name}")
                    });
                }
            }
        }
        let actions = schema
            .action_entities()
            .map_err(|e| e.to_string())?
            .iter()
            .cloned()
            .collect();
        let type_names = schema
            .entity_types()
            .map(|t| (t.to_string(), t.clone()))
            .collect();
        Ok(Conformance {
            id_sensitive,
            actions,
            read,
            type_names,
            verdicts: Mutex::new(super::FastMap::default()),
        })
    }

    /// Builds one store from candidate entities (built with [`Attrs::Read`]): those whose
    /// shape conforms are kept, the others are returned with Cedar's reason. `complete` builds
    /// a candidate's entity with every attribute, for Cedar's check.
    fn store<K>(
        &self,
        schema: &Schema,
        candidates: Vec<(K, Entity, Shape)>,
        complete: impl Fn(&K) -> Result<Entity, String>,
    ) -> Stored<K> {
        let unseen: Vec<(&[u8], &K)> = {
            let verdicts = self.verdicts.lock().unwrap_or_else(|p| p.into_inner());
            let mut seen = HashSet::new();
            candidates
                .iter()
                .filter(|(_, _, shape)| {
                    !verdicts.contains_key(shape.as_slice()) && seen.insert(shape.as_slice())
                })
                .map(|(key, _, shape)| (shape.as_slice(), key))
                .collect()
        };
        let checked: Vec<(Shape, bool)> = unseen
            .into_iter()
            .map(|(shape, key)| {
                let ok = complete(key).and_then(|e| conforms(schema, &e)).is_ok();
                (shape.to_vec(), ok)
            })
            .collect();
        let verdict_of: HashMap<&[u8], bool> = {
            let mut verdicts = self.verdicts.lock().unwrap_or_else(|p| p.into_inner());
            verdicts.extend(checked);
            candidates
                .iter()
                .map(|(_, _, s)| (s.as_slice(), verdicts.get(s).copied().unwrap_or(false)))
                .collect()
        };
        let mut keys = Vec::with_capacity(candidates.len());
        let mut good = Vec::with_capacity(candidates.len() + self.actions.len());
        let mut rejected = Vec::new();
        let conforming: Vec<bool> = candidates
            .iter()
            .map(|(_, _, s)| verdict_of.get(s.as_slice()).copied().unwrap_or(false))
            .collect();
        for ((key, entity, _), conforms_by_shape) in candidates.into_iter().zip(conforming) {
            if conforms_by_shape {
                keys.push(key);
                good.push(entity);
                continue;
            }
            // A failing shape: ask Cedar about this entity, for its own message.
            match complete(&key).and_then(|e| conforms(schema, &e)) {
                Ok(()) => {
                    keys.push(key);
                    good.push(entity);
                }
                Err(reason) => rejected.push((key, reason)),
            }
        }
        good.extend(self.actions.iter().cloned());
        Stored {
            store: Entities::from_entities(good, None).map_err(|e| e.to_string()),
            kept: keys,
            rejected,
        }
    }
}

/// Collects every identifier-like word of a policy file (strings and comments included) and
/// the content of every string literal. `false` when a literal cannot be read here (an escape
/// other than `\"` and `\\`, or no closing quote): the names read are then not known.
fn words(text: &str, out: &mut HashSet<String>) -> bool {
    for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if !word.is_empty() {
            out.insert(word.to_owned());
        }
    }
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.as_str().starts_with('/') => {
                // A comment: to the end of the line.
                let rest = chars.as_str();
                chars = rest[rest.find('\n').unwrap_or(rest.len())..].chars();
            }
            '"' => {
                let mut literal = String::new();
                loop {
                    match chars.next() {
                        None => return false,
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => literal.push(e),
                            _ => return false,
                        },
                        Some(d) => literal.push(d),
                    }
                }
                out.insert(literal);
            }
            _ => {}
        }
    }
    true
}

/// Cedar's schema-conformance check of one entity.
fn conforms(schema: &Schema, entity: &Entity) -> Result<(), String> {
    Entities::from_entities([entity.clone()], Some(schema))
        .map(|_| ())
        .map_err(|e| {
            format!(
                "resource does not match the schema: {}",
                crate::error::lowercase_first(&e.to_string())
            )
        })
}

/// An entity's shape: entity type, attribute names and value types, parent types, as bytes.
type Shape = Vec<u8>;

/// Appends a length-prefixed token, so no name can fake the shape's structure.
fn token(shape: &mut Shape, s: &str) {
    shape.extend_from_slice(&(s.len() as u64).to_le_bytes());
    shape.extend_from_slice(s.as_bytes());
}

impl Conformance {
    /// The entity type name of `name`, parsed once for the schema's types.
    fn type_name(&self, name: &str) -> Option<EntityTypeName> {
        match self.type_names.get(name) {
            Some(t) => Some(t.clone()),
            None => EntityTypeName::from_str(name).ok(),
        }
    }

    /// Appends the shape of a model value; false when it (or a part of it) is unknown, which
    /// is exactly when [`Conformance::expr`] gives `None`.
    fn shape_of(&self, value: &Value, shape: &mut Shape) -> bool {
        match value {
            Value::Bool(_) => shape.push(b'b'),
            Value::Long(_) => shape.push(b'l'),
            Value::String(_) => shape.push(b's'),
            Value::Set(items) => {
                // Distinct element shapes, sorted (sets are usually of one shape).
                let mut elements: Vec<Shape> = Vec::new();
                let mut element = Shape::new();
                for item in items {
                    element.clear();
                    if !self.shape_of(item, &mut element) {
                        return false;
                    }
                    if !elements.contains(&element) {
                        elements.push(element.clone());
                    }
                }
                elements.sort_unstable();
                shape.push(b'[');
                for element in elements {
                    shape.extend_from_slice(&(element.len() as u64).to_le_bytes());
                    shape.extend_from_slice(&element);
                }
                shape.push(b']');
            }
            Value::Record(fields) => {
                shape.push(b'{');
                for (k, v) in fields {
                    token(shape, k);
                    if !self.shape_of(v, shape) {
                        return false;
                    }
                }
                shape.push(b'}');
            }
            Value::Entity(r) => {
                if !self.type_names.contains_key(&r.entity_type)
                    && EntityTypeName::from_str(&r.entity_type).is_err()
                {
                    return false;
                }
                shape.push(b'E');
                token(shape, &r.entity_type);
                if self.id_sensitive.contains(&r.entity_type) {
                    token(shape, &r.id);
                }
            }
            Value::Unknown(_) => return false,
        }
        true
    }

    /// The Cedar value of a model value; `None` when it (or a part of it) is unknown.
    fn expr(&self, value: &Value) -> Option<RestrictedExpression> {
        match value {
            Value::Bool(b) => Some(RestrictedExpression::new_bool(*b)),
            Value::Long(n) => Some(RestrictedExpression::new_long(*n)),
            Value::String(s) => Some(RestrictedExpression::new_string(s.clone())),
            Value::Set(items) => {
                let items: Option<Vec<_>> = items.iter().map(|v| self.expr(v)).collect();
                items.map(RestrictedExpression::new_set)
            }
            Value::Record(fields) => {
                let fields: Option<Vec<_>> = fields
                    .iter()
                    .map(|(k, v)| self.expr(v).map(|e| (k.clone(), e)))
                    .collect();
                fields.and_then(|f| RestrictedExpression::new_record(f).ok())
            }
            Value::Entity(r) => self.type_name(&r.entity_type).map(|t| {
                RestrictedExpression::new_entity_uid(EntityUid::from_type_name_and_id(
                    t,
                    EntityId::new(&r.id),
                ))
            }),
            Value::Unknown(_) => None,
        }
    }
}

/// A resource's memo key and the shape of its complete entity (see [`super::memo`]).
pub struct Probe {
    pub key: Vec<u8>,
    shape: Shape,
}

impl Conformance {
    /// The memo key and shape of a resource whose decision rests on its own facts alone: no
    /// parents and no attribute referring to another entity; `None` otherwise. The key holds
    /// what its type's policies can observe of [`entity`]'s entity (`reads`: the values they
    /// read, the presence of those they only test) and the names of its unknown attributes;
    /// the shape is what [`entity`] computes.
    pub fn probe(&self, resource: &Resource, reads: &super::memo::Uses) -> Option<Probe> {
        use super::memo::Use;
        if !resource.parents.is_empty() {
            return None;
        }
        let mut key = Vec::with_capacity(64);
        super::memo::token(&mut key, &resource.entity_type);
        let mut shape = Shape::with_capacity(24 * resource.attrs.len() + 48);
        token(&mut shape, &resource.entity_type);
        let mut any_unknown = false;
        for (name, value) in &resource.attrs {
            let mark = shape.len();
            token(&mut shape, name);
            // Without entity references, a value is known exactly when Cedar can hold it.
            if self.shape_of(value, &mut shape) {
                if contains_entity(value) {
                    return None;
                }
                match reads.get(name) {
                    Some(Use::Read) => {
                        key.push(b'k');
                        super::memo::token(&mut key, name);
                        super::memo::encode(value, &mut key)?;
                    }
                    // Only `has` sees it: its presence is all that counts.
                    Some(Use::Tested) => {
                        key.push(b'h');
                        super::memo::token(&mut key, name);
                    }
                    None => {}
                }
            } else {
                if contains_entity(value) {
                    return None;
                }
                shape.truncate(mark);
                any_unknown = true;
                key.push(b'u');
                super::memo::token(&mut key, name);
            }
        }
        shape.extend_from_slice(if any_unknown { b"|u1" } else { b"|u0" });
        shape.extend_from_slice(b"|p");
        if reads.get("address") == Some(&Use::Read) {
            key.push(b'a');
            super::memo::token(&mut key, &resource.address);
        }
        Some(Probe { key, shape })
    }

    /// True when entities of the probe's shape are already known to conform to the schema.
    pub fn known_to_conform(&self, probe: &Probe) -> bool {
        let verdicts = self.verdicts.lock().unwrap_or_else(|p| p.into_inner());
        verdicts.get(&probe.shape).copied() == Some(true)
    }
}

/// True when a value is or holds a reference to another entity.
fn contains_entity(value: &Value) -> bool {
    match value {
        Value::Entity(_) => true,
        Value::Set(items) => items.iter().any(contains_entity),
        Value::Record(fields) => fields.values().any(contains_entity),
        _ => false,
    }
}

/// Which attributes an entity carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Attrs {
    /// Every attribute: what the schema's conformance check needs.
    All,
    /// Only those some policy names: the rest cannot change a decision, and each attribute
    /// costs Cedar an evaluation when the entity is built.
    Read,
}

/// The entity of a resource (its attributes, `address`, and `unknown`: the names of the
/// attributes left out because their value is unknown) and the shape of its complete form.
pub fn entity(
    resource: &Resource,
    uid: EntityUid,
    conformance: &Conformance,
    which: Attrs,
) -> Result<(Entity, Shape), String> {
    let keep = |name: &str| {
        which == Attrs::All || conformance.read.as_ref().is_none_or(|r| r.contains(name))
    };
    let mut shape = Shape::with_capacity(24 * resource.attrs.len() + 48);
    token(&mut shape, &resource.entity_type);
    let mut attrs: HashMap<String, RestrictedExpression> =
        HashMap::with_capacity(resource.attrs.len() + 2);
    let mut unknown = Vec::new();
    for (name, value) in &resource.attrs {
        let mark = shape.len();
        token(&mut shape, name);
        let known = conformance.shape_of(value, &mut shape);
        if known && !keep(name) {
            continue; // known, but no policy reads it
        }
        match conformance.expr(value).filter(|_| known) {
            Some(e) => {
                attrs.insert(name.to_owned(), e);
            }
            None => {
                shape.truncate(mark);
                unknown.push(RestrictedExpression::new_string(name.to_owned()));
            }
        }
    }
    // `address` is always a string; `unknown` is a set of strings, empty or not.
    shape.extend_from_slice(if unknown.is_empty() { b"|u0" } else { b"|u1" });
    if keep("address") {
        attrs.insert(
            "address".to_owned(),
            RestrictedExpression::new_string(resource.address.clone()),
        );
    }
    if keep("unknown") {
        attrs.insert("unknown".to_owned(), RestrictedExpression::new_set(unknown));
    }
    let mut parent_shapes: Vec<Shape> = Vec::new();
    let mut parents: HashSet<EntityUid> = HashSet::with_capacity(resource.parents.len());
    for (ty, id) in &resource.parents {
        let Some(t) = conformance.type_name(ty) else {
            continue;
        };
        let mut p = Shape::new();
        token(&mut p, ty);
        if conformance.id_sensitive.contains(ty) {
            token(&mut p, id);
        }
        if !parent_shapes.contains(&p) {
            parent_shapes.push(p);
        }
        parents.insert(EntityUid::from_type_name_and_id(t, EntityId::new(id)));
    }
    parent_shapes.sort_unstable();
    shape.extend_from_slice(b"|p");
    for p in parent_shapes {
        shape.extend_from_slice(&p);
    }
    let entity = Entity::new(uid, attrs, parents).map_err(|e| e.to_string())?;
    Ok((entity, shape))
}

/// Builds one store (users, groups, access resources) for many access decisions, from
/// `(resource, uid)` pairs; any entity that does not conform to the schema is an error.
pub fn store_of(
    schema: &Schema,
    conformance: &Conformance,
    members: &[(&Resource, EntityUid)],
) -> Result<Entities, String> {
    let candidates = members
        .par_iter()
        .enumerate()
        .map(|(i, (r, uid))| {
            entity(r, uid.clone(), conformance, Attrs::Read).map(|(e, shape)| (i, e, shape))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let complete = |i: &usize| {
        let (r, uid) = &members[*i];
        entity(r, uid.clone(), conformance, Attrs::All).map(|(e, _)| e)
    };
    let stored = conformance.store(schema, candidates, complete);
    if let Some((_, reason)) = stored.rejected.into_iter().next() {
        return Err(reason);
    }
    stored.store
}

/// Builds one store for the resources at `chunk`.
///
/// A resource whose entity does not conform to the schema (a loader bug or a hostile value) is
/// rejected with the reason, and the rest of the batch is still evaluated.
pub fn build_store(
    schema: &Schema,
    conformance: &Conformance,
    resources: &[Resource],
    chunk: &[usize],
    type_names: &super::FastMap<&str, Option<EntityTypeName>>,
) -> Built {
    let mut candidates = Vec::with_capacity(chunk.len());
    let mut rejected = Vec::new();
    for &idx in chunk {
        let r = &resources[idx];
        let Some(Some(ty)) = type_names.get(r.entity_type.as_str()) else {
            rejected.push((
                idx,
                format!("`{}` is not an entity type of the schema", r.entity_type),
            ));
            continue;
        };
        let uid = EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(r.id()));
        match entity(r, uid.clone(), conformance, Attrs::Read) {
            Ok((e, shape)) => candidates.push(((idx, uid), e, shape)),
            Err(e) => rejected.push((idx, format!("resource does not convert to an entity: {e}"))),
        }
    }
    let complete = |(idx, uid): &(usize, EntityUid)| {
        entity(&resources[*idx], uid.clone(), conformance, Attrs::All).map(|(e, _)| e)
    };
    let Stored {
        store,
        kept: uids,
        rejected: not_conforming,
    } = conformance.store(schema, candidates, complete);
    rejected.extend(not_conforming.into_iter().map(|((idx, _), r)| (idx, r)));
    match store {
        Ok(store) => Built {
            store,
            uids,
            rejected,
        },
        Err(err) => {
            // Rare (two resources with one uid): nothing in this batch can be trusted.
            for (idx, _) in uids {
                rejected.push((idx, format!("entity store failed: {err}")));
            }
            Built {
                store: Entities::empty(),
                uids: Vec::new(),
                rejected,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_a_policy_can_name_is_kept() {
        let mut read = HashSet::new();
        let known = words(
            r#"// a 12" disk: a lone quote in a comment
forbid (principal, action, resource is Aws::S3Bucket)
when { resource.public_read && !(resource has "odd name") && resource["a\"b"] == 1 };"#,
            &mut read,
        );
        assert!(known);
        for name in ["public_read", "odd name", "a\"b", "resource", "S3Bucket"] {
            assert!(read.contains(name), "{name} missing from {read:?}");
        }
        assert!(!read.contains("versioning"));
        // An escape this scan does not decode: the names are not known, nothing is dropped.
        assert!(!words(
            r#"when { resource has "\u{61}pprover" };"#,
            &mut read
        ));
        assert!(!words(r#"when { resource has "unterminated };"#, &mut read));
    }
}
