//! Reading `terraform show -json` output into raw resources.
//!
//! Values come from `planned_values` (child modules included); `resource_changes[].change
//! .after_unknown` marks what is known only after apply; the `configuration` section says which
//! attributes were written and what they reference. A value unknown at plan time that the
//! configuration sets from a resource becomes a reference (as in HCL); one the configuration
//! does not set at all takes the provider's default (as in HCL); anything else stays unknown.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value as Json};

use super::raw::{Lines, Raw, RawResource};
use crate::error::Problem;
use crate::source::SourceFile;

/// What the configuration says about a value.
#[derive(Debug, Clone, Copy)]
enum Cfg<'a> {
    /// No configuration for this resource.
    NoInfo,
    /// The configuration of a resource or nested block: attribute → expression or blocks.
    Block(&'a Map<String, Json>),
    /// A list of nested block configurations.
    Blocks(&'a [Json]),
    /// An attribute expression (`constant_value` / `references`).
    Expr(&'a Map<String, Json>),
    /// The enclosing block is configured and does not set this value.
    NotSet,
}

impl<'a> Cfg<'a> {
    fn of(v: Option<&'a Json>) -> Cfg<'a> {
        match v {
            None => Cfg::NotSet,
            Some(Json::Array(a)) => Cfg::Blocks(a),
            Some(Json::Object(o))
                if o.contains_key("references") || o.contains_key("constant_value") =>
            {
                Cfg::Expr(o)
            }
            Some(Json::Object(o)) => Cfg::Block(o),
            Some(_) => Cfg::NoInfo,
        }
    }

    fn key(self, k: &str) -> Cfg<'a> {
        match self {
            Cfg::Block(m) => Cfg::of(m.get(k)),
            Cfg::Blocks(list) => match list.first() {
                Some(Json::Object(m)) => Cfg::of(m.get(k)),
                _ => Cfg::NoInfo,
            },
            other => other,
        }
    }

    fn index(self, i: usize) -> Cfg<'a> {
        match self {
            Cfg::Blocks(list) => match list.get(i) {
                Some(Json::Object(m)) => Cfg::Block(m),
                _ => Cfg::NoInfo,
            },
            other => other,
        }
    }
}

/// Resource references of an expression, with the module prefix (`var.`, `local.` and the like
/// are not resources).
fn references(expr: &Map<String, Json>, prefix: &str) -> Vec<String> {
    expr.get("references")
        .and_then(Json::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(Json::as_str)
                .filter(|r| {
                    let root = r.split(['.', '[']).next().unwrap_or("");
                    !matches!(
                        root,
                        "var"
                            | "local"
                            | "count"
                            | "each"
                            | "path"
                            | "terraform"
                            | "self"
                            | "module"
                    )
                })
                .map(|r| format!("{prefix}{r}"))
                .collect()
        })
        .unwrap_or_default()
}

const AFTER_APPLY: &str = "the value is known only after apply";

/// Merges planned values, unknown markers and configuration into a raw value.
fn merge(v: Option<&Json>, unknown: Option<&Json>, cfg: Cfg<'_>, prefix: &str) -> Raw {
    if unknown == Some(&Json::Bool(true)) {
        return match cfg {
            Cfg::NotSet => Raw::Null,
            Cfg::Expr(e) => references(e, prefix)
                .into_iter()
                .next()
                .map_or_else(|| Raw::Unknown(AFTER_APPLY.to_owned()), Raw::Ref),
            _ => Raw::Unknown(AFTER_APPLY.to_owned()),
        };
    }
    match v {
        Some(Json::Object(o)) => {
            let mut m = BTreeMap::new();
            for (k, x) in o {
                m.insert(
                    k.clone(),
                    merge(Some(x), unknown.and_then(|u| u.get(k)), cfg.key(k), prefix),
                );
            }
            if let Some(Json::Object(u)) = unknown {
                for (k, x) in u {
                    if !m.contains_key(k) {
                        m.insert(k.clone(), merge(None, Some(x), cfg.key(k), prefix));
                    }
                }
            }
            Raw::Map(m)
        }
        Some(Json::Array(a)) => Raw::List(
            a.iter()
                .enumerate()
                .map(|(i, x)| {
                    merge(
                        Some(x),
                        unknown.and_then(|u| u.get(i)),
                        cfg.index(i),
                        prefix,
                    )
                })
                .collect(),
        ),
        Some(x) => Raw::from_json(x),
        None => match unknown {
            Some(Json::Object(_) | Json::Array(_)) => {
                merge(Some(&Json::Object(Map::new())), unknown, cfg, prefix)
            }
            _ => Raw::Null,
        },
    }
}

/// The configuration address of a planned address (instance keys dropped).
fn config_address(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let (mut depth, mut quoted) = (0usize, false);
    for c in address.chars() {
        match c {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Collects configuration expressions by configuration address.
fn configs<'a>(module: &'a Json, prefix: &str, out: &mut HashMap<String, &'a Map<String, Json>>) {
    for r in module
        .get("resources")
        .and_then(Json::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        if let (Some(addr), Some(Json::Object(e))) = (
            r.get("address").and_then(Json::as_str),
            r.get("expressions"),
        ) {
            out.insert(format!("{prefix}{addr}"), e);
        }
    }
    if let Some(calls) = module.get("module_calls").and_then(Json::as_object) {
        for (name, call) in calls {
            if let Some(m) = call.get("module") {
                configs(m, &format!("{prefix}module.{name}."), out);
            }
        }
    }
}

/// Byte offsets of each `"address": "<addr>"` in the text (first occurrence), in one pass.
fn address_offsets(text: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for (at, _) in text.match_indices("\"address\"") {
        let rest = text.get(at + 9..).unwrap_or("").trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let rest = rest.trim_start();
        if !rest.starts_with('"') {
            continue;
        }
        let bytes = rest.as_bytes();
        let mut i = 1;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        if let Some(Ok(addr)) = rest.get(..=i).map(serde_json::from_str::<String>) {
            out.entry(addr).or_insert(at);
        }
    }
    out
}

/// The plan's shape problems and its raw resources.
struct Reader<'a> {
    file: &'a SourceFile,
    lines: Lines,
    offsets: HashMap<String, usize>,
    unknowns: HashMap<&'a str, &'a Json>,
    configs: HashMap<String, &'a Map<String, Json>>,
    problems: Vec<Problem>,
    seen: HashSet<String>,
    out: Vec<RawResource>,
}

impl<'a> Reader<'a> {
    fn problem(&mut self, key: &str, message: &str) {
        let needle = format!("\"{key}\"");
        let offset = self.file.text.find(&needle).unwrap_or(0);
        self.problems.push(Problem::parse(
            &self.file.path,
            &self.file.text,
            offset,
            needle.len(),
            format!(
                "`{}` is not a valid Terraform plan: {message}",
                self.file.path
            ),
            "here",
        ));
    }

    fn module(&mut self, module: &'a Json, depth: usize) {
        if depth > 64 {
            self.problem("child_modules", "modules nest more than 64 levels deep");
            return;
        }
        let Some(obj) = module.as_object() else {
            self.problem("child_modules", "a module is not an object");
            return;
        };
        match obj.get("resources") {
            None => {}
            Some(Json::Array(rs)) => {
                for r in rs {
                    self.resource(r);
                }
            }
            Some(_) => self.problem("resources", "`resources` must be an array"),
        }
        match obj.get("child_modules") {
            None => {}
            Some(Json::Array(ms)) => {
                for m in ms {
                    self.module(m, depth + 1);
                }
            }
            Some(_) => self.problem("child_modules", "`child_modules` must be an array"),
        }
    }

    fn resource(&mut self, r: &'a Json) {
        let (Some(address), Some(rtype), Some(name)) = (
            r.get("address").and_then(Json::as_str),
            r.get("type").and_then(Json::as_str),
            r.get("name").and_then(Json::as_str),
        ) else {
            self.problem(
                "resources",
                "a resource has no string `address`, `type` and `name`",
            );
            return;
        };
        if !self.seen.insert(address.to_owned()) {
            return;
        }
        let data = r.get("mode").and_then(Json::as_str) == Some("data");
        let tail = if data {
            format!("data.{rtype}.{name}")
        } else {
            format!("{rtype}.{name}")
        };
        let prefix = address
            .rfind(&tail)
            .map_or("", |i| &address[..i])
            .to_owned();
        let values = match r.get("values") {
            None | Some(Json::Null) => None,
            Some(v @ Json::Object(_)) => Some(v),
            Some(_) => {
                self.problem("values", "a resource's `values` must be an object");
                return;
            }
        };
        let cfg = self
            .configs
            .get(&config_address(address))
            .map_or(Cfg::NoInfo, |m| Cfg::Block(m));
        let unknown = self.unknowns.get(address).copied();
        let empty = Json::Object(Map::new());
        let attrs = match merge(Some(values.unwrap_or(&empty)), unknown, cfg, &prefix) {
            Raw::Map(m) => m,
            _ => BTreeMap::new(),
        };
        let mut refs = BTreeMap::new();
        if let Cfg::Block(m) = cfg {
            for (k, e) in m {
                if let Some(e) = e.as_object() {
                    let found = references(e, &prefix);
                    if !found.is_empty() {
                        refs.insert(k.clone(), found);
                    }
                }
            }
        }
        let offset = self.offsets.get(address).copied().unwrap_or(0);
        let span = self.lines.span(&self.file.path, &self.file.text, offset, 0);
        self.out.push(RawResource {
            rtype: rtype.to_owned(),
            address: address.to_owned(),
            data,
            attrs,
            refs,
            span,
            presence: None,
        });
    }
}

/// The raw resources of a plan.
pub fn raw_resources(file: &SourceFile, plan: &Json) -> Result<Vec<RawResource>, Vec<Problem>> {
    let mut reader = Reader {
        file,
        lines: Lines::new(&file.text),
        offsets: address_offsets(&file.text),
        unknowns: HashMap::new(),
        configs: HashMap::new(),
        problems: Vec::new(),
        seen: HashSet::new(),
        out: Vec::new(),
    };
    if !plan.is_object() {
        reader.problem("format_version", "the plan is not a JSON object");
        return Err(reader.problems);
    }
    match plan.get("resource_changes") {
        None | Some(Json::Null) => {}
        Some(Json::Array(changes)) => {
            for c in changes {
                if let (Some(addr), Some(u)) = (
                    c.get("address").and_then(Json::as_str),
                    c.get("change").and_then(|ch| ch.get("after_unknown")),
                ) {
                    reader.unknowns.insert(addr, u);
                }
            }
        }
        Some(_) => reader.problem("resource_changes", "`resource_changes` must be an array"),
    }
    if let Some(root) = plan.get("configuration").and_then(|c| c.get("root_module")) {
        configs(root, "", &mut reader.configs);
    }
    match plan.get("planned_values") {
        Some(Json::Object(pv)) => match pv.get("root_module") {
            None => {}
            Some(root) => reader.module(root, 0),
        },
        Some(_) => reader.problem("planned_values", "`planned_values` must be an object"),
        None => reader.problem("format_version", "the plan has no `planned_values`"),
    }
    if let Some(root) = plan
        .get("prior_state")
        .and_then(|s| s.get("values"))
        .and_then(|v| v.get("root_module"))
    {
        // Data sources read during planning (policy documents) live in the prior state.
        let mut prior = Reader {
            file,
            lines: Lines::new(""),
            offsets: HashMap::new(),
            unknowns: HashMap::new(),
            configs: HashMap::new(),
            problems: Vec::new(),
            seen: HashSet::new(),
            out: Vec::new(),
        };
        prior.module(root, 0);
        for r in prior.out.into_iter().filter(|r| r.data) {
            if reader.seen.insert(r.address.clone()) {
                reader.out.push(r);
            }
        }
    }
    if reader.problems.is_empty() {
        Ok(reader.out)
    } else {
        Err(reader.problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_addresses_drop_keys() {
        assert_eq!(
            config_address("module.m[\"a.b\"].aws_s3_bucket.b[0]"),
            "module.m.aws_s3_bucket.b"
        );
    }

    #[test]
    fn finds_address_offsets() {
        let text = "{\"address\": \"a.b\",\n \"address\":\"c[\\\"k\\\"].d\"}";
        let o = address_offsets(text);
        assert_eq!(o.get("a.b"), Some(&1));
        assert_eq!(o.get("c[\"k\"].d"), Some(&20));
    }
}
