//! A resource's attributes: a small map kept sorted by name in one vector, its names mostly
//! static strings.
//!
//! A large inventory holds tens of thousands of resources of thirty attributes each. A
//! `BTreeMap<String, Value>` spent about 4 KB on each (its nodes, plus a heap string per name);
//! one sorted vector with borrowed names takes under half of that, and the few names built at
//! run time (Terraform's) are owned.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::Value;

/// An attribute's name: a literal of the code that derives it, or one read from a file.
pub type Name = Cow<'static, str>;

/// Attributes by name, iterated in name order (as the `BTreeMap` it replaces was).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attrs {
    entries: Vec<(Name, Value)>,
}

impl Attrs {
    /// No attributes.
    pub const fn new() -> Self {
        Attrs {
            entries: Vec::new(),
        }
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| (**k).cmp(name))
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.position(name).ok().map(|i| &self.entries[i].1)
    }

    /// The value of `name`, to change it in place.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.position(name).ok().map(|i| &mut self.entries[i].1)
    }

    /// True when `name` is set.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets `name`, returning the value it replaces.
    pub fn insert(&mut self, name: impl Into<Name>, value: Value) -> Option<Value> {
        let name = name.into();
        match self.position(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (name, value));
                None
            }
        }
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.position(name).ok().map(|i| self.entries.remove(i).1)
    }

    /// How many attributes are set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when none is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Gives back the room left by inserting one by one (a resource is built once, then read).
    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
    }

    /// Names and values, in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// Names, in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.entries.iter().map(|(k, _)| &**k)
    }

    /// Values, in their names' order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl std::ops::Index<&str> for Attrs {
    type Output = Value;

    /// The value of a name known to be set (panics otherwise, as a map's index does).
    #[expect(
        clippy::panic,
        reason = "indexing a map by a missing key panics, as BTreeMap's does"
    )]
    fn index(&self, name: &str) -> &Value {
        match self.get(name) {
            Some(v) => v,
            None => panic!("attribute `{name}` is not set"),
        }
    }
}

impl<'a> IntoIterator for &'a Attrs {
    type Item = (&'a str, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Name, Value)>,
        fn(&'a (Name, Value)) -> (&'a str, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }
}

impl IntoIterator for Attrs {
    type Item = (Name, Value);
    type IntoIter = std::vec::IntoIter<(Name, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Into<Name>> FromIterator<(K, Value)> for Attrs {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut out = Attrs::new();
        out.extend(iter);
        out
    }
}

impl<K: Into<Name>> Extend<(K, Value)> for Attrs {
    /// Adds every pair (a later value of a name replaces an earlier one, as `insert` does), in
    /// one sort rather than one shifting insert each.
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        self.entries
            .extend(iter.into_iter().map(|(k, v)| (k.into(), v)));
        // Stable: of equal names, the one added last comes last.
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
        self.entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            same
        });
    }
}

impl Serialize for Attrs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(&**k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::{Attrs, Value};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Any sequence of inserts and removes leaves what a `BTreeMap` would hold, in order.
        #[test]
        fn behaves_as_a_sorted_map(ops in proptest::collection::vec(("[a-e]{1,2}", any::<i64>(), any::<bool>()), 0..64)) {
            let mut attrs = Attrs::new();
            let mut map = BTreeMap::new();
            for (name, n, remove) in ops {
                if remove {
                    prop_assert_eq!(attrs.remove(&name), map.remove(&name));
                } else {
                    prop_assert_eq!(attrs.insert(name.clone(), Value::Long(n)), map.insert(name.clone(), Value::Long(n)));
                }
                prop_assert_eq!(attrs.get(&name), map.get(&name));
                prop_assert_eq!(attrs.contains_key(&name), map.contains_key(&name));
            }
            prop_assert_eq!(attrs.len(), map.len());
            let ours: Vec<(&str, &Value)> = attrs.iter().collect();
            let theirs: Vec<(&str, &Value)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
            prop_assert_eq!(ours, theirs);
            prop_assert_eq!(serde_json::to_string(&attrs).unwrap(), serde_json::to_string(&map).unwrap());
        }

        /// Extending by many pairs at once (names repeated) gives what inserting them in turn gives.
        #[test]
        fn extending_is_inserting_in_turn(start in proptest::collection::vec(("[a-e]{1,2}", any::<i64>()), 0..16), more in proptest::collection::vec(("[a-e]{1,2}", any::<i64>()), 0..64)) {
            let mut one_by_one: Attrs = Attrs::new();
            for (k, n) in start.iter().chain(&more) {
                one_by_one.insert(k.clone(), Value::Long(*n));
            }
            let mut extended: Attrs = start.into_iter().map(|(k, n)| (k, Value::Long(n))).collect();
            extended.extend(more.into_iter().map(|(k, n)| (k, Value::Long(n))));
            prop_assert_eq!(extended, one_by_one);
        }
    }
}
