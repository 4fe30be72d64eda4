//! HCL (`.tf`, `.tfvars`, one-line blocks, objects such as `tags = { password = … }`, function
//! arguments such as `jsonencode({ password = … })`, heredocs) read with hcl-edit — the parser
//! vouch reads Terraform with — into the redaction tree. References and other expressions that
//! are not literals stay visible; the literals inside them are still leaves.

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{BlockLabel, Body, Structure};
use hcl_edit::template::{Element, Template};

use super::tree::{Kind, Node};

/// Parses an HCL body; `None` when it is not valid HCL.
pub fn parse(text: &str) -> Option<Node> {
    let body = hcl_edit::parser::parse_body(text).ok()?;
    Some(body_node(&body, Vec::new(), 0..text.len(), 0))
}

fn body_node(body: &Body, labels: Vec<String>, span: std::ops::Range<usize>, depth: usize) -> Node {
    let entries = body
        .iter()
        .map(|s| match s {
            Structure::Attribute(a) => (a.key.value().to_string(), expr(&a.value, depth + 1)),
            Structure::Block(b) => {
                let labels = b
                    .labels
                    .iter()
                    .map(|l| match l {
                        BlockLabel::Ident(i) => i.value().to_string(),
                        BlockLabel::String(s) => s.value().clone(),
                    })
                    .collect();
                let span = b.span().unwrap_or(0..0);
                (
                    b.ident.value().to_string(),
                    body_node(&b.body, labels, span, depth + 1),
                )
            }
        })
        .collect();
    Node {
        span,
        kind: Kind::Map { entries, labels },
    }
}

/// Literal text in a template, or only interpolations (`"${var.x}"`: a reference).
fn has_literal(t: &Template) -> bool {
    t.iter().any(|e| match e {
        Element::Literal(l) => !l.value().trim().is_empty(),
        Element::Directive(_) => true,
        Element::Interpolation(_) => false,
    })
}

fn expr(e: &Expression, depth: usize) -> Node {
    let span = e.span().unwrap_or(0..0);
    if depth > 256 {
        // Deeper than any real configuration: mask it as one literal.
        return Node {
            span,
            kind: Kind::Str(String::new() + "(deep)"),
        };
    }
    let seq = |items: Vec<&Expression>| {
        Kind::Seq(items.into_iter().map(|x| expr(x, depth + 1)).collect())
    };
    let kind = match e {
        Expression::String(s) => Kind::Str(s.value().clone()),
        Expression::Number(_) => Kind::Num,
        Expression::Bool(b) => Kind::Bool(*b.value()),
        Expression::Null(_) => Kind::Null,
        Expression::Array(a) => seq(a.iter().collect()),
        Expression::Object(o) => Kind::Map {
            entries: o
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        ObjectKey::Ident(i) => i.value().to_string(),
                        ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                        ObjectKey::Expression(Expression::Variable(v)) => v.value().to_string(),
                        ObjectKey::Expression(_) => String::new(),
                    };
                    (key, expr(v.expr(), depth + 1))
                })
                .collect(),
            labels: Vec::new(),
        },
        Expression::StringTemplate(t) => {
            if has_literal(t) {
                Kind::Str(String::from("(template)"))
            } else {
                Kind::Opaque
            }
        }
        Expression::HeredocTemplate(h) => {
            if has_literal(&h.template) {
                Kind::Str(String::from("(heredoc)"))
            } else {
                Kind::Opaque
            }
        }
        Expression::FuncCall(f) => seq(f.args.iter().collect()),
        Expression::Parenthesis(p) => return expr(p.inner(), depth + 1),
        Expression::Conditional(c) => seq(vec![&c.cond_expr, &c.true_expr, &c.false_expr]),
        Expression::BinaryOp(b) => seq(vec![&b.lhs_expr, &b.rhs_expr]),
        Expression::UnaryOp(u) => seq(vec![&u.expr]),
        Expression::ForExpr(f) => {
            let mut items = vec![&f.intro.collection_expr, &f.value_expr];
            items.extend(f.key_expr.as_ref());
            seq(items)
        }
        Expression::Variable(_) | Expression::Traversal(_) => Kind::Opaque,
    };
    Node { span, kind }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_spans_and_references() {
        let t = "resource \"x\" \"y\" { password = \"p1\" }\nlocals {\n  a = jsonencode({ token = \"t1\" })\n  b = var.x\n  c = <<EOT\nline\nEOT\n}\n";
        let n = parse(t).unwrap();
        let r = n.get("resource").unwrap();
        assert_eq!(&t[r.get("password").unwrap().span.clone()], "\"p1\"");
        let l = n.get("locals").unwrap();
        let Kind::Seq(args) = &l.get("a").unwrap().kind else {
            panic!()
        };
        assert_eq!(&t[args[0].get("token").unwrap().span.clone()], "\"t1\"");
        assert!(matches!(l.get("b").unwrap().kind, Kind::Opaque));
        assert!(t[l.get("c").unwrap().span.clone()].contains("line"));
    }
}
