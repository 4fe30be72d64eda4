//! TOML (the inventory, `vouch.toml`, any `.toml`) read with the toml crate's spanned document
//! into the redaction tree. Comments are not values; the credential patterns and the
//! `password = …` rule of [`super::patterns`] cover them.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::tree::{Kind, Node};

/// Parses a TOML document; `None` when it is not valid TOML.
pub fn parse(text: &str) -> Option<Node> {
    let root = DeTable::parse(text).ok()?;
    Some(table(root.get_ref(), 0..text.len(), 0))
}

fn table(t: &DeTable<'_>, span: std::ops::Range<usize>, depth: usize) -> Node {
    Node {
        span,
        kind: Kind::Map {
            entries: t
                .iter()
                .map(|(k, v)| (k.get_ref().to_string(), value(v, depth + 1)))
                .collect(),
            labels: Vec::new(),
        },
    }
}

fn value(v: &Spanned<DeValue<'_>>, depth: usize) -> Node {
    let span = v.span();
    let kind = match v.get_ref() {
        _ if depth > 256 => Kind::Str("(deep)".to_owned()),
        DeValue::String(s) => Kind::Str(s.to_string()),
        DeValue::Integer(_) | DeValue::Float(_) | DeValue::Datetime(_) => Kind::Num,
        DeValue::Boolean(b) => Kind::Bool(*b),
        DeValue::Array(a) => Kind::Seq(a.iter().map(|x| value(x, depth + 1)).collect()),
        DeValue::Table(t) => return table(t, span, depth),
    };
    Node { span, kind }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_tables_arrays_and_strings() {
        let t = "[db]\npassword = \"p1\"\n[[tenant]]\nid = 'a'\nkeys = [\"k1\", 2]\nml = \"\"\"\nx\n\"\"\"\n";
        let n = parse(t).unwrap();
        assert_eq!(
            &t[n.get("db").unwrap().get("password").unwrap().span.clone()],
            "\"p1\""
        );
        let Kind::Seq(tenants) = &n.get("tenant").unwrap().kind else {
            panic!()
        };
        let Kind::Seq(keys) = &tenants[0].get("keys").unwrap().kind else {
            panic!()
        };
        assert_eq!(&t[keys[0].span.clone()], "\"k1\"");
        assert!(t[tenants[0].get("ml").unwrap().span.clone()].starts_with("\"\"\""));
    }
}
