//! The one tree every structured format is read into (JSON, YAML, HCL, TOML), with the byte
//! span of every node in its file, and the rules that pick which values to mask: by key path
//! (secret-named keys, Kubernetes `Secret` data, `name`/`value` pairs, `sensitive = true`
//! blocks, secret command-line flags) — so one set of rules holds in every syntax.

use std::ops::Range;

use super::keys::{is_secret_flag, is_secret_key};

/// A node and where it is in the file.
#[derive(Debug, Clone)]
pub struct Node {
    pub span: Range<usize>,
    pub kind: Kind,
}

/// What a node is.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A mapping, object, table or block body: (key, value) in file order. `labels` are an
    /// HCL block's labels (`resource "kubernetes_secret" "x"` has `kubernetes_secret`, `x`).
    Map {
        entries: Vec<(String, Node)>,
        labels: Vec<String>,
    },
    /// A sequence, array, or the arguments of a function call.
    Seq(Vec<Node>),
    /// A string literal (its decoded value).
    Str(String),
    /// A number or a date: a literal that may be a secret (a PIN).
    Num,
    Bool(bool),
    Null,
    /// An expression that is not a literal (a reference such as `var.db_password`): never a
    /// secret itself, left as it is so the bundle still shows where a value comes from.
    Opaque,
}

/// Why a value is masked (the `kind` of a redaction).
pub type Why = &'static str;

/// A value to mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub span: Range<usize>,
    pub why: Why,
    /// The decoded value, when it is a string (to mask it elsewhere too).
    pub value: Option<String>,
}

impl Node {
    /// The entry `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map { entries, .. } => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value, if a string.
    pub fn str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Every literal leaf under `node` (strings and numbers; booleans and null carry no secret).
pub fn mask_all(node: &Node, why: Why, out: &mut Vec<Pick>) {
    match &node.kind {
        Kind::Map { entries, .. } => entries.iter().for_each(|(_, v)| mask_all(v, why, out)),
        Kind::Seq(items) => items.iter().for_each(|v| mask_all(v, why, out)),
        Kind::Str(s) => {
            if !s.is_empty() && s != super::MASK {
                out.push(Pick {
                    span: node.span.clone(),
                    why,
                    value: Some(s.clone()),
                });
            }
        }
        Kind::Num => out.push(Pick {
            span: node.span.clone(),
            why,
            value: None,
        }),
        Kind::Bool(_) | Kind::Null | Kind::Opaque => {}
    }
}

/// Keys of a Kubernetes `Secret` (or Terraform `kubernetes_secret`) that hold its values.
const SECRET_DATA: &[&str] = &[
    "data",
    "stringData",
    "string_data",
    "binary_data",
    "binaryData",
];

/// Kubernetes `Secret` kinds and the Terraform resources that write one.
fn is_secret_object(map: &Node, labels: &[String]) -> bool {
    map.get("kind").and_then(Node::str) == Some("Secret")
        || labels
            .first()
            .is_some_and(|l| l == "kubernetes_secret" || l == "kubernetes_secret_v1")
}

/// Applies the key-path rules to a whole tree.
pub fn pick(root: &Node, out: &mut Vec<Pick>) {
    walk(root, out, 0);
}

/// Trees deeper than this are not walked further: everything below is masked instead.
const MAX_DEPTH: usize = 256;

fn walk(node: &Node, out: &mut Vec<Pick>, depth: usize) {
    if depth > MAX_DEPTH {
        mask_all(node, "too_deep", out);
        return;
    }
    match &node.kind {
        Kind::Map { entries, labels } => {
            let secret_object = is_secret_object(node, labels);
            // `sensitive = true` (a Terraform variable or output, in HCL or in a plan's
            // configuration): its value and default.
            let sensitive = matches!(
                node.get("sensitive").map(|n| &n.kind),
                Some(Kind::Bool(true))
            );
            // `{ name = "DB_PASSWORD", value = "…" }` in any key order (container env,
            // ECS container definitions, Terraform `environment` blocks).
            let named_secret = ["name", "key", "Name", "Key"]
                .iter()
                .filter_map(|k| node.get(k).and_then(Node::str))
                .any(is_secret_key);
            for (key, value) in entries {
                if is_secret_key(key) {
                    mask_all(value, "secret_attribute", out);
                } else if secret_object && SECRET_DATA.contains(&key.as_str()) {
                    mask_all(value, "kubernetes_secret", out);
                } else if sensitive && matches!(key.as_str(), "value" | "default") {
                    mask_all(value, "terraform_sensitive", out);
                } else if named_secret && matches!(key.as_str(), "value" | "Value") {
                    mask_all(value, "secret_attribute", out);
                } else {
                    walk(value, out, depth + 1);
                }
            }
        }
        Kind::Seq(items) => {
            // Command lines: `--password=…` and `--password …`.
            let mut after_flag = false;
            for item in items {
                if let Some(s) = item.str() {
                    if after_flag {
                        mask_all(item, "secret_argument", out);
                        after_flag = false;
                        continue;
                    }
                    if let Some((flag, _)) = s.split_once('=')
                        && flag.starts_with('-')
                        && is_secret_flag(flag)
                    {
                        mask_all(item, "secret_argument", out);
                        continue;
                    }
                    after_flag = s.starts_with('-') && is_secret_flag(s);
                    continue;
                }
                after_flag = false;
                walk(item, out, depth + 1);
            }
        }
        Kind::Str(_) | Kind::Num | Kind::Bool(_) | Kind::Null | Kind::Opaque => {}
    }
}
