//! HCL expressions as the evaluator needs them: a small owned syntax tree converted from
//! hcl-edit's (which keeps decoration and spans the evaluator has no use for).

use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template};

/// An HCL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
    Array(Vec<Expr>),
    /// An object constructor: (key, value) pairs in source order.
    Object(Vec<(Expr, Expr)>),
    /// A string template.
    Template(Vec<Part>),
    /// A bare identifier (`var`, `local`, `aws_s3_bucket`, a `for` variable, …).
    Var(String),
    Traversal(Box<Expr>, Vec<Op>),
    /// A function call; `true` when the last argument is expanded (`f(xs...)`).
    Call(String, Vec<Expr>, bool),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    For(Box<ForExpr>),
    /// Something the evaluator does not attempt, with its kind (a namespaced provider function).
    Opaque(&'static str),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Eq,
    NotEq,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
}

/// A `for` expression: `[for k, v in coll : value if cond]` or `{for … : key => value...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForExpr {
    pub key_var: Option<String>,
    pub value_var: String,
    pub collection: Expr,
    /// Present for an object result.
    pub key: Option<Expr>,
    pub value: Expr,
    pub cond: Option<Expr>,
    /// `...` after the value: values with one key are grouped into lists.
    pub grouping: bool,
}

/// A template element.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String),
    Interp(Expr),
    /// `%{ if cond }…%{ else }…%{ endif }`
    If(Expr, Vec<Part>, Vec<Part>),
    /// `%{ for k, v in coll }…%{ endfor }`
    For {
        key_var: Option<String>,
        value_var: String,
        collection: Expr,
        body: Vec<Part>,
    },
}

/// A traversal step.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Attr(String),
    Index(Expr),
    /// `.*` (legacy attribute splat): the following attribute steps apply to each element.
    AttrSplat,
    /// `[*]`: every following step applies to each element.
    FullSplat,
}

impl Expr {
    /// Converts an hcl-edit expression (depth is bounded by the parser's nesting limit).
    pub fn from_hcl(e: &Expression) -> Expr {
        match e {
            Expression::Null(_) => Expr::Null,
            Expression::Bool(b) => Expr::Bool(*b.value()),
            Expression::Number(n) => {
                let n = n.value();
                match n.as_i64() {
                    Some(i) => Expr::Number(serde_json::Number::from(i)),
                    None => match n.as_f64().and_then(serde_json::Number::from_f64) {
                        Some(f) => Expr::Number(f),
                        None => Expr::Opaque("number out of range"),
                    },
                }
            }
            Expression::String(s) => Expr::Str(s.value().clone()),
            Expression::Array(a) => Expr::Array(a.iter().map(Expr::from_hcl).collect()),
            Expression::Object(o) => Expr::Object(
                o.iter()
                    .map(|(k, v)| {
                        let key = match k {
                            ObjectKey::Ident(i) => Expr::Str(unmark(i.value())),
                            // `{ (var.k) = 1 }` and `{ "k" = 1 }` are expressions; a bare
                            // identifier is a literal key, as in Terraform.
                            ObjectKey::Expression(Expression::Variable(v)) => {
                                Expr::Str(unmark(v.value()))
                            }
                            ObjectKey::Expression(Expression::String(s)) => {
                                Expr::Str(unmark(s.value()))
                            }
                            ObjectKey::Expression(other) => Expr::from_hcl(other),
                        };
                        (key, Expr::from_hcl(v.expr()))
                    })
                    .collect(),
            ),
            Expression::StringTemplate(t) => template(t),
            // The parser has already removed an indented heredoc's (`<<-`) common indent.
            Expression::HeredocTemplate(h) => Expr::Template(parts(&h.template)),
            Expression::Parenthesis(p) => Expr::from_hcl(p.inner()),
            Expression::Variable(v) => Expr::Var(v.value().to_string()),
            Expression::Conditional(c) => Expr::Cond(
                Box::new(Expr::from_hcl(&c.cond_expr)),
                Box::new(Expr::from_hcl(&c.true_expr)),
                Box::new(Expr::from_hcl(&c.false_expr)),
            ),
            Expression::FuncCall(f) => {
                if f.name.is_namespaced() {
                    return Expr::Opaque("provider function");
                }
                Expr::Call(
                    f.name.name.value().to_string(),
                    f.args.iter().map(Expr::from_hcl).collect(),
                    f.args.expand_final(),
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
                        TraversalOperator::AttrSplat(_) => Op::AttrSplat,
                        TraversalOperator::FullSplat(_) => Op::FullSplat,
                    })
                    .collect(),
            ),
            Expression::UnaryOp(u) => {
                let inner = Box::new(Expr::from_hcl(&u.expr));
                match u.operator.value() {
                    UnaryOperator::Not => Expr::Not(inner),
                    UnaryOperator::Neg => Expr::Neg(inner),
                }
            }
            Expression::BinaryOp(b) => {
                let op = match b.operator.value() {
                    BinaryOperator::Eq => BinOp::Eq,
                    BinaryOperator::NotEq => BinOp::NotEq,
                    BinaryOperator::LessEq => BinOp::LessEq,
                    BinaryOperator::GreaterEq => BinOp::GreaterEq,
                    BinaryOperator::Less => BinOp::Less,
                    BinaryOperator::Greater => BinOp::Greater,
                    BinaryOperator::Plus => BinOp::Add,
                    BinaryOperator::Minus => BinOp::Sub,
                    BinaryOperator::Mul => BinOp::Mul,
                    BinaryOperator::Div => BinOp::Div,
                    BinaryOperator::Mod => BinOp::Mod,
                    BinaryOperator::And => BinOp::And,
                    BinaryOperator::Or => BinOp::Or,
                };
                Expr::Binary(
                    op,
                    Box::new(Expr::from_hcl(&b.lhs_expr)),
                    Box::new(Expr::from_hcl(&b.rhs_expr)),
                )
            }
            Expression::ForExpr(f) => Expr::For(Box::new(ForExpr {
                key_var: f.intro.key_var.as_ref().map(|k| k.value().to_string()),
                value_var: f.intro.value_var.value().to_string(),
                collection: Expr::from_hcl(&f.intro.collection_expr),
                key: f.key_expr.as_ref().map(Expr::from_hcl),
                value: Expr::from_hcl(&f.value_expr),
                cond: f.cond.as_ref().map(|c| Expr::from_hcl(&c.expr)),
                grouping: f.grouping,
            })),
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
                        Op::AttrSplat => s.push_str(".*"),
                        Op::FullSplat => s.push_str("[*]"),
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

    /// Parses a string of Terraform's JSON syntax: a template whose `${…}` parts are
    /// expressions (`"${var.x}"` alone is the expression itself, not its string form).
    pub fn from_json_string(s: &str) -> Result<Expr, String> {
        if !s.contains("${") && !s.contains("%{") {
            return Ok(Expr::Str(s.to_owned()));
        }
        match hcl_edit::parser::parse_template(s) {
            Ok(t) => Ok(Expr::Template(parts(&t))),
            Err(e) => Err(e.message().trim().to_owned()),
        }
    }
}

/// An object key without the mark the parser gave a repeated key (see
/// `hcl::DUPLICATE_KEY_MARK`): `{ a = 1, a = 2 }` keeps both, in order, and the later wins.
fn unmark(key: &str) -> String {
    if let Some(rest) = key.strip_prefix(super::hcl::DUPLICATE_KEY_MARK)
        && let Some((n, original)) = rest.split_once('_')
        && n.chars().all(|c| c.is_ascii_digit())
    {
        return original.to_owned();
    }
    key.to_owned()
}

fn template(t: &hcl_edit::template::StringTemplate) -> Expr {
    Expr::Template(t.iter().filter_map(element).collect())
}

fn parts(t: &Template) -> Vec<Part> {
    t.iter().filter_map(element).collect()
}

fn element(el: &Element) -> Option<Part> {
    Some(match el {
        Element::Literal(s) => Part::Lit(s.value().clone()),
        Element::Interpolation(i) => Part::Interp(Expr::from_hcl(&i.expr)),
        Element::Directive(d) => match d.as_ref() {
            Directive::If(i) => Part::If(
                Expr::from_hcl(&i.if_expr.cond_expr),
                parts(&i.if_expr.template),
                i.else_expr
                    .as_ref()
                    .map(|e| parts(&e.template))
                    .unwrap_or_default(),
            ),
            Directive::For(f) => Part::For {
                key_var: f.for_expr.key_var.as_ref().map(|k| k.value().to_string()),
                value_var: f.for_expr.value_var.value().to_string(),
                collection: Expr::from_hcl(&f.for_expr.collection_expr),
                body: parts(&f.for_expr.template),
            },
        },
    })
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
    fn converts_every_kind() {
        assert!(matches!(expr("a + 1"), Expr::Binary(BinOp::Add, _, _)));
        assert!(matches!(expr("[for x in y : x]"), Expr::For(_)));
        assert!(matches!(expr("-x"), Expr::Neg(_)));
        assert!(matches!(expr("f(xs...)"), Expr::Call(_, _, true)));
        assert_eq!(
            expr("a.b[0].*.c").reference_text().as_deref(),
            Some("a.b[0].*.c")
        );
        assert!(matches!(
            expr("\"%{ if x }y%{ endif }\""),
            Expr::Template(p) if matches!(p.as_slice(), [Part::If(..)])
        ));
        assert_eq!(
            Expr::from_json_string("plain").ok(),
            Some(Expr::Str("plain".into()))
        );
        assert!(matches!(
            Expr::from_json_string("${var.x}"),
            Ok(Expr::Template(p)) if matches!(p.as_slice(), [Part::Interp(_)])
        ));
    }
}
