//! A Terraform configuration as declared: one [`ModuleDir`] per directory of `.tf` files, the
//! module calls between directories, and which directories are roots.
//!
//! **Roots.** A directory that another scanned directory calls as a local module (`source =
//! "../../"`) is evaluated only through its callers, with the arguments they pass; a directory
//! nobody calls is a root, evaluated with its variables' defaults and its `.tfvars`. So one
//! piece of code never yields two contradictory sets of findings (one with a caller's
//! `pub = true`, one with the module's `default = false`); a module called by two roots is
//! evaluated once per root, each result addressed within its root
//! (`module.db.aws_db_instance.this`). Directories under `.terraform/modules` (what `terraform
//! init` downloaded) are never roots.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::expr::Expr;
use super::{Body, TfBlock, TfFile};
use crate::model::Span;

/// A declared input variable.
#[derive(Debug, Clone, Copy)]
pub struct Variable<'a> {
    pub default: Option<&'a Expr>,
    /// The `type` constraint, for the conversions Terraform applies (`"true"` to a bool).
    pub ty: Option<&'a Expr>,
    /// `nullable = false`: a null argument takes the default.
    pub nullable: bool,
}

/// A `resource` or `data` block.
#[derive(Debug, Clone, Copy)]
pub struct Decl<'a> {
    pub data: bool,
    pub rtype: &'a str,
    pub name: &'a str,
    pub body: &'a Body,
    pub span: &'a Span,
}

impl Decl<'_> {
    /// `aws_s3_bucket.logs` or `data.aws_iam_policy_document.p` (no module path, no key).
    pub fn local_address(&self) -> String {
        if self.data {
            format!("data.{}.{}", self.rtype, self.name)
        } else {
            format!("{}.{}", self.rtype, self.name)
        }
    }
}

/// A `module` block.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub name: &'a str,
    pub body: &'a Body,
    pub span: &'a Span,
}

impl Call<'_> {
    /// The literal `source` (a non-literal source is rejected by Terraform).
    pub fn source(&self) -> Option<&str> {
        match self.body.attrs.get("source") {
            Some(Expr::Str(s)) => Some(s),
            Some(Expr::Template(parts)) => match parts.as_slice() {
                [super::expr::Part::Lit(s)] => Some(s),
                [] => Some(""),
                _ => None,
            },
            _ => None,
        }
    }
}

/// The declarations of one directory.
#[derive(Debug, Default)]
pub struct ModuleDir<'a> {
    pub dir: &'a str,
    pub variables: BTreeMap<&'a str, Variable<'a>>,
    pub locals: HashMap<&'a str, &'a Expr>,
    pub outputs: HashMap<&'a str, &'a Expr>,
    pub decls: Vec<Decl<'a>>,
    /// `(type, name)` → index in `decls`, managed and data separately.
    pub managed: HashMap<(&'a str, &'a str), usize>,
    pub data: HashMap<(&'a str, &'a str), usize>,
    pub calls: Vec<Call<'a>>,
    pub call_index: HashMap<&'a str, usize>,
    /// `.tfvars` files of the directory (applied when it is a root).
    pub tfvars: Vec<&'a TfFile>,
}

/// Where a module call's source lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A directory of the scanned configuration.
    Dir(String),
    /// Not on disk (or not readable): the reason.
    NotExpanded(String),
}

/// Every directory's declarations, and the installed-modules manifests found.
#[derive(Debug, Default)]
pub struct Config<'a> {
    pub dirs: BTreeMap<&'a str, ModuleDir<'a>>,
    /// `.terraform/modules/modules.json` per root directory: module key (`a.b`) → directory.
    pub installed: BTreeMap<String, BTreeMap<String, String>>,
}

impl<'a> Config<'a> {
    /// Groups files by directory and indexes their blocks. Dot-files are not part of a
    /// configuration (Terraform ignores them) and are filtered out before this.
    pub fn new(files: &'a [std::sync::Arc<TfFile>]) -> Config<'a> {
        let mut dirs: BTreeMap<&str, ModuleDir<'a>> = BTreeMap::new();
        let mut installed = BTreeMap::new();
        for f in files {
            if super::is_modules_manifest(&f.path) {
                let root = f
                    .path
                    .strip_suffix(".terraform/modules/modules.json")
                    .unwrap_or("")
                    .trim_end_matches('/');
                installed.insert(root.to_owned(), f.installed.clone());
                continue;
            }
            let m = dirs.entry(f.dir()).or_insert_with(|| ModuleDir {
                dir: f.dir(),
                ..ModuleDir::default()
            });
            if f.is_tfvars() {
                m.tfvars.push(f);
                continue;
            }
            for b in &f.blocks {
                m.add(b);
            }
        }
        Config { dirs, installed }
    }

    /// Resolves a call's source from `dir`, for the root `root` (whose `.terraform/modules`
    /// manifest resolves registry and git sources).
    pub fn resolve(&self, root: &str, dir: &str, key: &str, source: Option<&str>) -> Source {
        let Some(source) = source else {
            return Source::NotExpanded("its `source` is not a literal string".to_owned());
        };
        if source.starts_with("./") || source.starts_with("../") || source == "." || source == ".."
        {
            return match join(dir, source) {
                Some(target) if self.dirs.contains_key(target.as_str()) => Source::Dir(target),
                Some(target) => Source::NotExpanded(format!(
                    "no Terraform files were read at `{}`",
                    if target.is_empty() { "." } else { &target }
                )),
                None => {
                    Source::NotExpanded("the source is outside the scanned directory".to_owned())
                }
            };
        }
        if let Some(target) = self.installed.get(root).and_then(|m| m.get(key)) {
            if self.dirs.contains_key(target.as_str()) {
                return Source::Dir(target.clone());
            }
            return Source::NotExpanded(format!(
                "`terraform init` installed it at `{target}`, but no Terraform files were read there"
            ));
        }
        Source::NotExpanded(
            "a registry or remote source that is not on disk (run `terraform init` so \
             `.terraform/modules` holds it)"
                .to_owned(),
        )
    }

    /// The root directories: those no other directory calls as a local module, and never
    /// a directory under `.terraform`. Directories that only call each other (a cycle) are
    /// roots too, so that nothing is silently left out.
    pub fn roots(&self) -> Vec<&'a str> {
        let mut called: BTreeSet<String> = BTreeSet::new();
        let mut edges: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (dir, m) in &self.dirs {
            for c in &m.calls {
                if let Source::Dir(target) = self.resolve(dir, dir, c.name, c.source())
                    && target != *dir
                {
                    called.insert(target.clone());
                    edges.entry(dir).or_default().push(target);
                }
            }
        }
        let installed = |d: &str| d.starts_with(".terraform/") || d.contains("/.terraform/");
        let has_config = |m: &ModuleDir<'_>| !m.decls.is_empty() || !m.calls.is_empty();
        let mut roots: Vec<&'a str> = self
            .dirs
            .iter()
            .filter(|(d, m)| !called.contains(**d) && !installed(d) && has_config(m))
            .map(|(d, _)| *d)
            .collect();
        // Anything not reachable from a root (a cycle of calls) becomes a root of its own.
        let mut reached: BTreeSet<String> = roots.iter().map(|r| (*r).to_owned()).collect();
        let mut stack: Vec<String> = reached.iter().cloned().collect();
        while let Some(d) = stack.pop() {
            for t in edges.get(d.as_str()).into_iter().flatten() {
                if reached.insert(t.clone()) {
                    stack.push(t.clone());
                }
            }
        }
        for (d, m) in &self.dirs {
            if !reached.contains(*d) && !installed(d) && has_config(m) {
                roots.push(d);
                reached.insert((*d).to_owned());
            }
        }
        roots.sort_unstable();
        roots
    }
}

impl<'a> ModuleDir<'a> {
    fn add(&mut self, b: &'a TfBlock) {
        match (b.kind.as_str(), b.labels.as_slice()) {
            ("variable", [name]) => {
                let nullable = !matches!(b.body.attrs.get("nullable"), Some(Expr::Bool(false)));
                self.variables.insert(
                    name,
                    Variable {
                        default: b.body.attrs.get("default"),
                        ty: b.body.attrs.get("type"),
                        nullable,
                    },
                );
            }
            ("locals", []) => {
                for (k, v) in &b.body.attrs {
                    self.locals.insert(k, v);
                }
            }
            ("output", [name]) => {
                if let Some(v) = b.body.attrs.get("value") {
                    self.outputs.insert(name, v);
                }
            }
            ("resource" | "data", [rtype, name]) => {
                let data = b.kind == "data";
                let index = if data {
                    &mut self.data
                } else {
                    &mut self.managed
                };
                index.insert((rtype.as_str(), name.as_str()), self.decls.len());
                self.decls.push(Decl {
                    data,
                    rtype,
                    name,
                    body: &b.body,
                    span: &b.span,
                });
            }
            ("module", [name]) => {
                self.call_index.insert(name, self.calls.len());
                self.calls.push(Call {
                    name,
                    body: &b.body,
                    span: &b.span,
                });
            }
            _ => {}
        }
    }
}

/// `dir` joined with a relative `source`, normalised; `None` when it leaves the scanned root.
pub fn join(dir: &str, source: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in source.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn joins_relative_sources() {
        assert_eq!(join("examples/complete", "../../").as_deref(), Some(""));
        assert_eq!(join("", "./modules/db").as_deref(), Some("modules/db"));
        assert_eq!(join("a", "../../x"), None);
        assert_eq!(join("a/b", "../c/./d").as_deref(), Some("a/c/d"));
    }
}
