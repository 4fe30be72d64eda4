//! What a Terraform plan (`terraform show -json`) itself marks sensitive: `before`/`after`
//! against `before_sensitive`/`after_sensitive` (resource changes, drift, output changes),
//! `values` against `sensitive_values` (planned values, prior state, every module), outputs
//! with `sensitive: true`, and the values of variables the configuration declares sensitive
//! (root variables and the arguments of module calls).

use super::tree::{Kind, Node, Pick, mask_all};

/// Pairs of (value, its sensitivity mirror) that plans write side by side.
const MIRRORS: &[(&str, &str)] = &[
    ("before", "before_sensitive"),
    ("after", "after_sensitive"),
    ("values", "sensitive_values"),
];

/// True when the document looks like a plan or state in Terraform's JSON format.
pub fn is_plan(root: &Node) -> bool {
    root.get("format_version").is_some()
        && [
            "planned_values",
            "resource_changes",
            "prior_state",
            "values",
            "configuration",
        ]
        .iter()
        .any(|k| root.get(k).is_some())
}

/// Every value the plan marks sensitive.
pub fn pick(root: &Node, out: &mut Vec<Pick>) {
    mirrors(root, out, 0);
    sensitive_variables(root, out);
}

fn mirrors(node: &Node, out: &mut Vec<Pick>, depth: usize) {
    if depth > 256 {
        return;
    }
    match &node.kind {
        Kind::Map { entries, .. } => {
            for (value_key, mirror_key) in MIRRORS {
                if let (Some(v), Some(m)) = (node.get(value_key), node.get(mirror_key)) {
                    overlay(v, m, out, 0);
                }
            }
            entries.iter().for_each(|(_, v)| mirrors(v, out, depth + 1));
        }
        Kind::Seq(items) => items.iter().for_each(|v| mirrors(v, out, depth + 1)),
        _ => {}
    }
}

/// Masks the parts of `value` that `sensitive` (a mirror of its shape, `true` where
/// sensitive) marks.
fn overlay(value: &Node, sensitive: &Node, out: &mut Vec<Pick>, depth: usize) {
    if depth > 256 {
        mask_all(value, "terraform_sensitive", out);
        return;
    }
    match (&sensitive.kind, &value.kind) {
        (Kind::Bool(true), _) => mask_all(value, "terraform_sensitive", out),
        (Kind::Map { entries, .. }, Kind::Map { .. }) => {
            for (k, s) in entries {
                if let Some(v) = value.get(k) {
                    overlay(v, s, out, depth + 1);
                }
            }
        }
        (Kind::Seq(marks), Kind::Seq(items)) => {
            for (s, v) in marks.iter().zip(items) {
                overlay(v, s, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// The names of the variables a module declares sensitive.
fn sensitive_names(module: &Node) -> Vec<&str> {
    match module.get("variables").map(|v| &v.kind) {
        Some(Kind::Map { entries, .. }) => entries
            .iter()
            .filter(|(_, v)| matches!(v.get("sensitive").map(|s| &s.kind), Some(Kind::Bool(true))))
            .map(|(k, _)| k.as_str())
            .collect(),
        _ => Vec::new(),
    }
}

fn sensitive_variables(root: &Node, out: &mut Vec<Pick>) {
    let Some(module) = root.get("configuration").and_then(|c| c.get("root_module")) else {
        return;
    };
    if let Some(vars) = root.get("variables") {
        for name in sensitive_names(module) {
            if let Some(v) = vars.get(name) {
                mask_all(v, "terraform_sensitive", out);
            }
        }
    }
    module_calls(module, out, 0);
}

/// The arguments given to a module's sensitive variables, in every module call.
fn module_calls(module: &Node, out: &mut Vec<Pick>, depth: usize) {
    let Some(Kind::Map { entries, .. }) = module.get("module_calls").map(|m| &m.kind) else {
        return;
    };
    if depth > 64 {
        return;
    }
    for (_, call) in entries {
        let Some(child) = call.get("module") else {
            continue;
        };
        if let Some(exprs) = call.get("expressions") {
            for name in sensitive_names(child) {
                if let Some(e) = exprs.get(name) {
                    mask_all(e, "terraform_sensitive", out);
                }
            }
        }
        module_calls(child, out, depth + 1);
    }
}
