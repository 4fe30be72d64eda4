//! HCL expressions kept from parsing, and their evaluation to [`Raw`] values.
//!
//! Evaluation knows what a static reader can: literals, `var.x` (the default in the same module),
//! `local.x` (when it evaluates), references to resources (known to be set), `jsonencode` of a
//! literal, and a few pure functions. Everything else is [`Raw::Unknown`] with a reason.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Element, Template};

use super::raw::Raw;

/// An HCL expression, reduced to what evaluation needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
    Array(Vec<Expr>),
    Object(Vec<(Expr, Expr)>),
    /// A template: literal text and interpolations (`None` = a directive).
    Template(Vec<Part>),
    /// A bare identifier (`var`, `aws_s3_bucket`, …).
    Var(String),
    Traversal(Box<Expr>, Vec<Op>),
    Call(String, Vec<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// Something evaluation does not attempt (operators, `for` expressions), with its kind.
    Opaque(&'static str),
}

/// A template element.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String),
    Interp(Expr),
    Directive,
}

/// A traversal step.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Attr(String),
    Index(Expr),
    Splat,
}

impl Expr {
    /// Converts an hcl-edit expression (depth is bounded by the parser's nesting limit).
    pub fn from_hcl(e: &Expression) -> Expr {
        match e {
            Expression::Null(_) => Expr::Null,
            Expression::Bool(b) => Expr::Bool(*b.value()),
            Expression::Number(n) => {
                let n = n.value();
                Expr::Number(match n.as_i64() {
                    Some(i) => serde_json::Number::from(i),
                    None => match n.as_f64().and_then(serde_json::Number::from_f64) {
                        Some(f) => f,
                        None => return Expr::Opaque("number"),
                    },
                })
            }
            Expression::String(s) => Expr::Str(s.value().clone()),
            Expression::Array(a) => Expr::Array(a.iter().map(Expr::from_hcl).collect()),
            Expression::Object(o) => Expr::Object(
                o.iter()
                    .map(|(k, v)| {
                        let key = match k {
                            ObjectKey::Ident(i) => Expr::Str(i.value().to_string()),
                            ObjectKey::Expression(e) => match e {
                                Expression::Variable(v) => Expr::Str(v.value().to_string()),
                                other => Expr::from_hcl(other),
                            },
                        };
                        (key, Expr::from_hcl(v.expr()))
                    })
                    .collect(),
            ),
            Expression::StringTemplate(t) => Expr::Template(parts(t)),
            Expression::HeredocTemplate(h) => Expr::Template(parts(&h.template)),
            Expression::Parenthesis(p) => Expr::from_hcl(p.inner()),
            Expression::Variable(v) => Expr::Var(v.value().to_string()),
            Expression::Conditional(c) => Expr::Cond(
                Box::new(Expr::from_hcl(&c.cond_expr)),
                Box::new(Expr::from_hcl(&c.true_expr)),
                Box::new(Expr::from_hcl(&c.false_expr)),
            ),
            Expression::FuncCall(f) => {
                if f.name.is_namespaced() || f.args.expand_final() {
                    return Expr::Opaque("function call");
                }
                Expr::Call(
                    f.name.name.value().to_string(),
                    f.args.iter().map(Expr::from_hcl).collect(),
                )
            }
            Expression::Traversal(t) => Expr::Traversal(
                Box::new(Expr::from_hcl(&t.expr)),
                t.operators
                    .iter()
                    .map(|op| match op.value() {
                        TraversalOperator::GetAttr(i) => Op::Attr(i.value().to_string()),
                        TraversalOperator::Index(e) => Op::Index(Expr::from_hcl(e)),
                        TraversalOperator::LegacyIndex(i) => {
                            Op::Index(Expr::Number(serde_json::Number::from(*i.value())))
                        }
                        TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                            Op::Splat
                        }
                    })
                    .collect(),
            ),
            Expression::UnaryOp(u) => match u.operator.value() {
                UnaryOperator::Not => Expr::Not(Box::new(Expr::from_hcl(&u.expr))),
                UnaryOperator::Neg => match Expr::from_hcl(&u.expr) {
                    Expr::Number(n) => n
                        .as_i64()
                        .and_then(|i| i.checked_neg())
                        .map_or(Expr::Opaque("arithmetic"), |i| Expr::Number(i.into())),
                    _ => Expr::Opaque("arithmetic"),
                },
            },
            Expression::BinaryOp(_) => Expr::Opaque("operator expression"),
            Expression::ForExpr(_) => Expr::Opaque("`for` expression"),
        }
    }

    /// The reference text of a traversal (`aws_kms_key.k.arn`, `var.x`), when it is one.
    pub fn reference_text(&self) -> Option<String> {
        match self {
            Expr::Var(v) => Some(v.clone()),
            Expr::Traversal(root, ops) => {
                let mut s = root.reference_text()?;
                for op in ops {
                    match op {
                        Op::Attr(a) => {
                            s.push('.');
                            s.push_str(a);
                        }
                        Op::Splat => s.push_str("[*]"),
                        Op::Index(Expr::Number(n)) => s.push_str(&format!("[{n}]")),
                        Op::Index(Expr::Str(k)) => s.push_str(&format!("[{k:?}]")),
                        Op::Index(e) => {
                            let inner = e.reference_text().unwrap_or_else(|| "…".to_owned());
                            s.push_str(&format!("[{inner}]"));
                        }
                    }
                }
                Some(s)
            }
            _ => None,
        }
    }
}

fn parts(t: &Template) -> Vec<Part> {
    t.iter()
        .map(|el| match el {
            Element::Literal(s) => Part::Lit(s.value().clone()),
            Element::Interpolation(i) => Part::Interp(Expr::from_hcl(&i.expr)),
            Element::Directive(_) => Part::Directive,
        })
        .collect()
}

/// How deep `local` references may nest before evaluation gives up (cycles end here too).
const MAX_LOCAL_DEPTH: u32 = 32;

/// A module directory's variables and locals, for evaluating its expressions.
#[derive(Debug, Default)]
pub struct Env<'a> {
    /// Declared variables and their default (`None` = no default).
    pub vars: HashMap<&'a str, Option<&'a Expr>>,
    pub locals: HashMap<&'a str, &'a Expr>,
    /// Values from `.tfvars` files: `Ok` from a file Terraform loads by itself, `Err(why)` when
    /// only a `-var-file` would set it.
    pub assigned: HashMap<&'a str, Result<&'a Expr, String>>,
    cache: RefCell<HashMap<String, Raw>>,
}

impl<'a> Env<'a> {
    /// An environment from declared variables and locals.
    pub fn new(
        vars: HashMap<&'a str, Option<&'a Expr>>,
        locals: HashMap<&'a str, &'a Expr>,
    ) -> Self {
        Env {
            vars,
            locals,
            assigned: HashMap::new(),
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// Evaluates an expression.
    pub fn eval(&self, e: &Expr) -> Raw {
        self.eval_at(e, 0)
    }

    fn eval_at(&self, e: &Expr, depth: u32) -> Raw {
        match e {
            Expr::Null => Raw::Null,
            Expr::Bool(b) => Raw::Bool(*b),
            Expr::Number(n) => Raw::Number(n.clone()),
            Expr::Str(s) => Raw::String(s.clone()),
            Expr::Array(items) => Raw::List(items.iter().map(|i| self.eval_at(i, depth)).collect()),
            Expr::Object(fields) => {
                let mut m = BTreeMap::new();
                for (k, v) in fields {
                    match self.eval_at(k, depth).as_text() {
                        Some(key) => {
                            m.insert(key, self.eval_at(v, depth));
                        }
                        None => return Raw::Unknown("an object key is computed".to_owned()),
                    }
                }
                Raw::Map(m)
            }
            Expr::Template(parts) => self.template(parts, depth),
            Expr::Var(name) => Raw::Unknown(format!("`{name}` is not a value")),
            Expr::Traversal(root, ops) => self.traversal(e, root, ops, depth),
            Expr::Call(name, args) => self.call(name, args, depth),
            Expr::Cond(c, t, f) => match self.eval_at(c, depth) {
                Raw::Bool(true) => self.eval_at(t, depth),
                Raw::Bool(false) => self.eval_at(f, depth),
                Raw::Unknown(why) => Raw::Unknown(why),
                _ => Raw::Unknown("the condition is not known statically".to_owned()),
            },
            Expr::Not(inner) => match self.eval_at(inner, depth) {
                Raw::Bool(b) => Raw::Bool(!b),
                Raw::Unknown(why) => Raw::Unknown(why),
                _ => Raw::Unknown("the negated value is not known statically".to_owned()),
            },
            Expr::Opaque(kind) => Raw::Unknown(format!("the value is a {kind}")),
        }
    }

    fn template(&self, parts: &[Part], depth: u32) -> Raw {
        let mut out = String::new();
        for p in parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Directive => {
                    return Raw::Unknown("the string uses a template directive".to_owned());
                }
                Part::Interp(e) => match self.eval_at(e, depth) {
                    Raw::Ref(r) => {
                        out.push_str("${");
                        out.push_str(&r);
                        out.push('}');
                    }
                    Raw::Unknown(why) => return Raw::Unknown(why),
                    v => match v.as_text() {
                        Some(s) => out.push_str(&s),
                        None => {
                            return Raw::Unknown(
                                "a template interpolates a value that is not a string".to_owned(),
                            );
                        }
                    },
                },
            }
        }
        Raw::String(out)
    }

    fn traversal(&self, whole: &Expr, root: &Expr, ops: &[Op], depth: u32) -> Raw {
        let text = || whole.reference_text().unwrap_or_default();
        let (base, rest) = match root {
            Expr::Var(name) => match name.as_str() {
                "var" => match ops.split_first() {
                    Some((Op::Attr(v), rest)) => (self.var(v), rest),
                    _ => return Raw::Unknown("a malformed variable reference".to_owned()),
                },
                "local" => match ops.split_first() {
                    Some((Op::Attr(l), rest)) => (self.local(l, depth), rest),
                    _ => return Raw::Unknown("a malformed local reference".to_owned()),
                },
                "module" => {
                    return Raw::Unknown(format!("`{}` is a module output", text()));
                }
                "count" | "each" | "self" | "path" | "terraform" => {
                    return Raw::Unknown(format!("`{}` is known only per instance", text()));
                }
                _ => return Raw::Ref(text()),
            },
            other => (self.eval_at(other, depth), ops),
        };
        self.apply(base, rest, depth)
    }

    fn apply(&self, mut v: Raw, ops: &[Op], depth: u32) -> Raw {
        for op in ops {
            v = match (v, op) {
                (Raw::Unknown(why), _) => return Raw::Unknown(why),
                (Raw::Ref(r), Op::Attr(a)) => Raw::Ref(format!("{r}.{a}")),
                (Raw::Map(mut m), Op::Attr(a)) => match m.remove(a) {
                    Some(x) => x,
                    None => return Raw::Unknown(format!("the object has no attribute `{a}`")),
                },
                (v, Op::Index(i)) => match (v, self.eval_at(i, depth)) {
                    (Raw::List(mut l), key) => {
                        match super::raw::number(&key).and_then(|n| usize::try_from(n).ok()) {
                            Some(n) if n < l.len() => l.swap_remove(n),
                            _ => return Raw::Unknown("the list index is not known".to_owned()),
                        }
                    }
                    (Raw::Map(mut m), key) => match key.as_text().and_then(|k| m.remove(&k)) {
                        Some(x) => x,
                        None => return Raw::Unknown("the map key is not known".to_owned()),
                    },
                    _ => return Raw::Unknown("an index into a value not known".to_owned()),
                },
                _ => return Raw::Unknown("a traversal into a value not known".to_owned()),
            };
        }
        v
    }

    fn var(&self, name: &str) -> Raw {
        match (self.vars.get(name), self.assigned.get(name)) {
            (Some(_), Some(Ok(value))) => Env::default().eval(value),
            (Some(_), Some(Err(why))) => Raw::Unknown(why.clone()),
            (declared, _) => match declared {
                Some(Some(default)) => Env::default().eval(default),
                Some(None) => Raw::Unknown(format!("variable `{name}` has no default")),
                None => Raw::Unknown(format!("variable `{name}` is not declared in this module")),
            },
        }
    }

    fn local(&self, name: &str, depth: u32) -> Raw {
        if let Some(v) = self.cache.borrow().get(name) {
            return v.clone();
        }
        if depth >= MAX_LOCAL_DEPTH {
            return Raw::Unknown(format!(
                "local `{name}` refers to itself or nests too deeply"
            ));
        }
        let v = match self.locals.get(name) {
            Some(e) => self.eval_at(e, depth + 1),
            None => Raw::Unknown(format!("local `{name}` is not declared in this module")),
        };
        self.cache.borrow_mut().insert(name.to_owned(), v.clone());
        v
    }

    fn call(&self, name: &str, args: &[Expr], depth: u32) -> Raw {
        let vals: Vec<Raw> = args.iter().map(|a| self.eval_at(a, depth)).collect();
        let unknown = || Raw::Unknown(format!("the value is computed by `{name}(…)`"));
        match (name, vals.as_slice()) {
            ("jsonencode", [v]) => match v.to_json() {
                Ok(j) => Raw::String(j.to_string()),
                Err(why) => Raw::Unknown(why),
            },
            ("jsondecode", [Raw::String(s)]) => serde_json::from_str::<serde_json::Value>(s)
                .map_or_else(|_| unknown(), |j| Raw::from_json(&j)),
            ("tostring" | "tolist" | "toset" | "tomap" | "tonumber" | "tobool", [v]) => {
                if v.has_unknown() {
                    v.unknown_reason().map_or_else(unknown, Raw::Unknown)
                } else {
                    v.clone()
                }
            }
            ("lower", [Raw::String(s)]) => Raw::String(s.to_lowercase()),
            ("upper", [Raw::String(s)]) => Raw::String(s.to_uppercase()),
            ("concat", lists) if lists.iter().all(|l| matches!(l, Raw::List(_))) => Raw::List(
                lists
                    .iter()
                    .flat_map(|l| match l {
                        Raw::List(items) => items.clone(),
                        _ => Vec::new(),
                    })
                    .collect(),
            ),
            ("merge", maps) if maps.iter().all(|m| matches!(m, Raw::Map(_))) => {
                let mut out = BTreeMap::new();
                for m in maps {
                    if let Raw::Map(m) = m {
                        out.extend(m.clone());
                    }
                }
                Raw::Map(out)
            }
            _ => match vals.iter().find_map(Raw::unknown_reason) {
                Some(why) => Raw::Unknown(why),
                None => unknown(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(src: &str) -> Expr {
        match hcl_edit::parser::parse_expr(src) {
            Ok(e) => Expr::from_hcl(&e),
            Err(e) => unreachable!("{e}"),
        }
    }

    #[test]
    fn evaluates_what_is_static() {
        let default = expr("\"AES256\"");
        let local = expr("{ a = var.algo, b = aws_kms_key.k.arn }");
        let env = Env::new(
            HashMap::from([("algo", Some(&default)), ("nodef", None)]),
            HashMap::from([("cfg", &local)]),
        );
        assert_eq!(env.eval(&expr("local.cfg.a")), Raw::String("AES256".into()));
        assert_eq!(
            env.eval(&expr("local.cfg.b")),
            Raw::Ref("aws_kms_key.k.arn".into())
        );
        assert_eq!(
            env.eval(&expr("var.nodef")),
            Raw::Unknown("variable `nodef` has no default".into())
        );
        assert_eq!(
            env.eval(&expr("jsonencode({ Version = \"2012-10-17\" })")),
            Raw::String("{\"Version\":\"2012-10-17\"}".into())
        );
        assert_eq!(
            env.eval(&expr("\"arn:${var.algo}:x\"")),
            Raw::String("arn:AES256:x".into())
        );
        assert!(matches!(env.eval(&expr("file(\"x\")")), Raw::Unknown(_)));
        assert!(matches!(env.eval(&expr("1 + 2")), Raw::Unknown(_)));
    }
}
