//! Resources to Cedar entities, built directly (no JSON), one store per batch.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Entities, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression, Schema,
};

use crate::model::{Resource, Value};

/// A batch's entity store, the uid of each resource in it, and resources that were rejected.
pub struct Built {
    pub store: Entities,
    pub uids: Vec<(usize, EntityUid)>,
    pub rejected: Vec<(usize, String)>,
}

/// The Cedar value of a model value; `None` when it (or a part of it) is unknown.
fn expr(value: &Value) -> Option<RestrictedExpression> {
    match value {
        Value::Bool(b) => Some(RestrictedExpression::new_bool(*b)),
        Value::Long(n) => Some(RestrictedExpression::new_long(*n)),
        Value::String(s) => Some(RestrictedExpression::new_string(s.clone())),
        Value::Set(items) => {
            let items: Option<Vec<_>> = items.iter().map(expr).collect();
            items.map(RestrictedExpression::new_set)
        }
        Value::Record(fields) => {
            let fields: Option<Vec<_>> = fields
                .iter()
                .map(|(k, v)| expr(v).map(|e| (k.clone(), e)))
                .collect();
            fields.and_then(|f| RestrictedExpression::new_record(f).ok())
        }
        Value::Entity(r) => EntityTypeName::from_str(&r.entity_type).ok().map(|t| {
            RestrictedExpression::new_entity_uid(EntityUid::from_type_name_and_id(
                t,
                EntityId::new(&r.id),
            ))
        }),
        Value::Unknown(_) => None,
    }
}

/// The entity of a resource: its attributes, `address`, and `unknown` (names left out).
pub fn entity(resource: &Resource, uid: EntityUid) -> Result<Entity, String> {
    let mut attrs: HashMap<String, RestrictedExpression> =
        HashMap::with_capacity(resource.attrs.len() + 2);
    let mut unknown = Vec::new();
    for (name, value) in &resource.attrs {
        match expr(value) {
            Some(e) => {
                attrs.insert(name.clone(), e);
            }
            None => unknown.push(RestrictedExpression::new_string(name.clone())),
        }
    }
    attrs.insert(
        "address".to_owned(),
        RestrictedExpression::new_string(resource.address.clone()),
    );
    attrs.insert("unknown".to_owned(), RestrictedExpression::new_set(unknown));
    let parents: HashSet<EntityUid> = resource
        .parents
        .iter()
        .filter_map(|(ty, id)| {
            EntityTypeName::from_str(ty)
                .ok()
                .map(|t| EntityUid::from_type_name_and_id(t, EntityId::new(id)))
        })
        .collect();
    Entity::new(uid, attrs, parents).map_err(|e| e.to_string())
}

/// Builds one store for the resources at `chunk`, validated against the schema.
///
/// A resource whose entity does not conform to the schema (a loader bug or a hostile value) is
/// rejected with the reason, and the rest of the batch is still evaluated.
pub fn build_store(
    schema: &Schema,
    resources: &[Resource],
    chunk: &[usize],
    type_names: &HashMap<&str, Option<EntityTypeName>>,
) -> Built {
    let mut uids = Vec::with_capacity(chunk.len());
    let mut entities = Vec::with_capacity(chunk.len());
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
        match entity(r, uid.clone()) {
            Ok(e) => {
                uids.push((idx, uid));
                entities.push(e);
            }
            Err(e) => rejected.push((idx, format!("resource does not convert to an entity: {e}"))),
        }
    }
    match Entities::from_entities(entities, Some(schema)) {
        Ok(store) => Built {
            store,
            uids,
            rejected,
        },
        Err(_) => {
            // Rare: find the culprits one by one (rebuilding their entities), keep the rest.
            let mut good = Vec::new();
            let mut good_uids = Vec::new();
            for (idx, uid) in uids {
                let Ok(e) = entity(&resources[idx], uid.clone()) else {
                    continue;
                };
                match Entities::from_entities([e.clone()], Some(schema)) {
                    Ok(_) => {
                        good.push(e);
                        good_uids.push((idx, uid));
                    }
                    Err(err) => rejected.push((
                        idx,
                        format!(
                            "resource does not match the schema: {}",
                            crate::error::lowercase_first(&err.to_string())
                        ),
                    )),
                }
            }
            match Entities::from_entities(good, Some(schema)) {
                Ok(store) => Built {
                    store,
                    uids: good_uids,
                    rejected,
                },
                Err(err) => {
                    for (idx, _) in good_uids {
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
    }
}
