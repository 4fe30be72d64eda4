//! Terraform type constraints applied to variable values, as Terraform converts a call argument
//! or a `.tfvars` value to the variable's declared `type`: primitive conversions (`"true"` to a
//! bool, `"5"` to a number, a number to a string) and object attributes declared
//! `optional(type, default)` filled in (with their default, or null) when the value lacks them.

use std::collections::BTreeMap;

use super::expr::{Expr, Part};
use super::raw::Raw;

/// Converts `v` to the type constraint `ty` (an expression such as
/// `list(object({ sid = optional(string), effect = optional(string, "Allow") }))`). What the
/// conversion does not know is left as it is; unknown values stay unknown.
pub fn convert(v: Raw, ty: &Expr) -> Raw {
    match (ty, v) {
        (_, v @ (Raw::Unknown(_) | Raw::Ref(_) | Raw::Null)) => v,
        (Expr::Var(t) | Expr::Str(t), v) => primitive(t, v),
        (Expr::Template(parts), v) => match parts.as_slice() {
            // Terraform's JSON syntax: `"type": "${list(string)}"` or `"type": "string"`.
            [Part::Interp(inner)] => convert(v, inner),
            [Part::Lit(t)] => primitive(t, v),
            _ => v,
        },
        (Expr::Call(name, args, _), v) => match (name.as_str(), args.as_slice(), v) {
            ("optional", [inner, ..], v) => convert(v, inner),
            ("list" | "set", [inner], Raw::List(items)) => {
                Raw::List(items.into_iter().map(|i| convert(i, inner)).collect())
            }
            ("map", [inner], Raw::Map(m)) => {
                Raw::Map(m.into_iter().map(|(k, x)| (k, convert(x, inner))).collect())
            }
            ("tuple", [Expr::Array(types)], Raw::List(items)) => Raw::List(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| match types.get(i) {
                        Some(t) => convert(x, t),
                        None => x,
                    })
                    .collect(),
            ),
            ("object", [Expr::Object(fields)], Raw::Map(mut m)) => {
                let mut out = BTreeMap::new();
                for (k, t) in fields {
                    let Some(name) = literal_key(k) else { continue };
                    let value = match m.remove(&name) {
                        Some(x) => convert(x, t),
                        None => optional_default(t),
                    };
                    out.insert(name, value);
                }
                // Attributes the type does not declare are dropped by Terraform's conversion;
                // kept here, they cannot change a verdict.
                out.extend(m);
                Raw::Map(out)
            }
            (_, _, v) => v,
        },
        (_, v) => v,
    }
}

/// The value an absent attribute takes: an `optional(type, default)`'s default, else null.
fn optional_default(t: &Expr) -> Raw {
    match t {
        Expr::Call(name, args, _) if name == "optional" => match args.as_slice() {
            [inner, default] => literal(default).map_or(Raw::Null, |d| convert(d, inner)),
            _ => Raw::Null,
        },
        _ => Raw::Null,
    }
}

fn literal_key(k: &Expr) -> Option<String> {
    match k {
        Expr::Str(s) | Expr::Var(s) => Some(s.clone()),
        _ => None,
    }
}

/// A literal expression's value (defaults in type constraints are literals).
fn literal(e: &Expr) -> Option<Raw> {
    Some(match e {
        Expr::Null => Raw::Null,
        Expr::Bool(b) => Raw::Bool(*b),
        Expr::Number(n) => Raw::Number(n.clone()),
        Expr::Str(s) => Raw::String(s.clone()),
        Expr::Template(parts) => match parts.as_slice() {
            [] => Raw::String(String::new()),
            [Part::Lit(s)] => Raw::String(s.clone()),
            _ => return None,
        },
        Expr::Array(items) => Raw::List(items.iter().map(literal).collect::<Option<_>>()?),
        Expr::Object(fields) => Raw::Map(
            fields
                .iter()
                .map(|(k, v)| Some((literal_key(k)?, literal(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// The primitive conversions.
fn primitive(t: &str, v: Raw) -> Raw {
    match (t, v) {
        ("bool", Raw::String(s)) => match s.as_str() {
            "true" => Raw::Bool(true),
            "false" => Raw::Bool(false),
            _ => Raw::String(s),
        },
        ("number", Raw::String(s)) => match s.trim().parse::<i64>() {
            Ok(n) => Raw::Number(n.into()),
            Err(_) => Raw::String(s),
        },
        ("string", Raw::Bool(b)) => Raw::String(b.to_string()),
        ("string", Raw::Number(n)) => Raw::String(n.to_string()),
        (_, v) => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> Expr {
        match hcl_edit::parser::parse_expr(src) {
            Ok(e) => Expr::from_hcl(&e),
            Err(e) => unreachable!("{e}"),
        }
    }

    #[test]
    fn optional_attributes_get_their_defaults() {
        let t = ty(
            r#"list(object({ sid = optional(string), effect = optional(string, "Allow"), actions = list(string) }))"#,
        );
        let v = Raw::List(vec![Raw::Map(BTreeMap::from([(
            "actions".to_owned(),
            Raw::List(vec![Raw::String("s3:GetObject".into())]),
        )]))]);
        let Raw::List(items) = convert(v, &t) else {
            unreachable!()
        };
        let Raw::Map(m) = &items[0] else {
            unreachable!()
        };
        assert_eq!(m.get("sid"), Some(&Raw::Null));
        assert_eq!(m.get("effect"), Some(&Raw::String("Allow".into())));
        assert_eq!(
            convert(Raw::String("true".into()), &ty("bool")),
            Raw::Bool(true)
        );
    }
}
