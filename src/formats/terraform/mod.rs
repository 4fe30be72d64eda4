//! Terraform: configurations (`.tf`, `.tf.json`, `.tfvars`) evaluated per root, and plan JSON.
//!
//! Configuration files are parsed per file ([`hcl`], [`json_syntax`]) into blocks of
//! expressions; [`config`] groups them into module directories and finds the roots; [`eval`]
//! expands each root as Terraform does (module calls, `count`/`for_each` instances,
//! references, variables, functions) into [`raw::RawResource`]s, a value tree with unknown and
//! reference leaves. Plans ([`plan`]) produce the same raw resources. [`normalise`] turns them
//! into typed `Aws::*` resources, so the same configuration gives the same resources whether it
//! is read as HCL or as a plan.

pub(crate) mod config;
mod eval;
mod expr;
mod functions;
mod hcl;
mod json_syntax;
mod normalise;
mod plan;
pub mod raw;
mod types;

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::error::Problem;
use crate::model::{Resource, Span};
use crate::source::SourceFile;

pub use eval::{NotExpanded, Overrides};
pub use expr::Expr;

/// One parsed `.tf` file: its top-level blocks, before module-level normalisation.
#[derive(Debug, Clone, Default)]
pub struct TfFile {
    /// Path relative to the scanned root.
    pub path: String,
    /// Top-level blocks in file order.
    pub blocks: Vec<TfBlock>,
    /// Top-level assignments: the variable values of a `.tfvars` file.
    pub assignments: BTreeMap<String, Expr>,
    /// For `.terraform/modules/modules.json`: module key (`vpc`, `vpc.subnets`) → the
    /// directory `terraform init` installed it in, relative to the scanned root.
    pub installed: BTreeMap<String, String>,
}

impl TfFile {
    /// The module directory the file belongs to (`""` for the root).
    pub fn dir(&self) -> &str {
        self.path.rsplit_once('/').map_or("", |(d, _)| d)
    }

    /// The file's name, without its directory.
    pub fn name(&self) -> &str {
        self.path
            .rsplit_once('/')
            .map_or(self.path.as_str(), |(_, n)| n)
    }

    /// True for a variable-values file (`terraform.tfvars`, `prod.auto.tfvars`, `prod.tfvars`).
    pub fn is_tfvars(&self) -> bool {
        self.path.ends_with(".tfvars") || self.path.ends_with(".tfvars.json")
    }

    /// True for a values file Terraform loads by itself: `terraform.tfvars`, `*.auto.tfvars`.
    pub fn is_auto_tfvars(&self) -> bool {
        let n = self.name();
        n == "terraform.tfvars"
            || n == "terraform.tfvars.json"
            || n.ends_with(".auto.tfvars")
            || n.ends_with(".auto.tfvars.json")
    }
}

/// A top-level block (`resource "aws_s3_bucket" "logs" { … }`).
#[derive(Debug, Clone)]
pub struct TfBlock {
    /// `resource`, `data`, `variable`, `locals`, `module`, …
    pub kind: String,
    pub labels: Vec<String>,
    pub body: Body,
    pub span: Span,
}

/// A block body: attributes and nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Body {
    pub attrs: BTreeMap<String, Expr>,
    /// Nested blocks in order: (type, labels, body).
    pub blocks: Vec<(String, Vec<String>, Body)>,
}

/// True for the manifest of the modules `terraform init` installed.
pub fn is_modules_manifest(path: &str) -> bool {
    path == ".terraform/modules/modules.json" || path.ends_with("/.terraform/modules/modules.json")
}

/// Parses one configuration or values file (`.tf`, `.tfvars`, `.tf.json`, `.tfvars.json`), or
/// the installed-modules manifest.
pub fn parse_hcl(file: &SourceFile) -> Result<TfFile, Vec<Problem>> {
    if is_modules_manifest(&file.path) {
        return installed_modules(file);
    }
    if file.path.ends_with(".json") {
        json_syntax::parse(file)
    } else {
        hcl::parse(file)
    }
}

/// Reads `.terraform/modules/modules.json`: `{"Modules": [{"Key": "vpc", "Dir":
/// ".terraform/modules/vpc", …}]}`, directories relative to the root that ran `terraform init`.
fn installed_modules(file: &SourceFile) -> Result<TfFile, Vec<Problem>> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        #[serde(rename = "Modules", default)]
        modules: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(rename = "Key")]
        key: String,
        #[serde(rename = "Dir")]
        dir: String,
    }
    let manifest: Manifest = serde_json::from_str(&file.text)
        .map_err(|e| vec![crate::formats::json_problem(file, &e)])?;
    let root = file
        .path
        .strip_suffix(".terraform/modules/modules.json")
        .unwrap_or("")
        .trim_end_matches('/');
    let mut installed = BTreeMap::new();
    for m in manifest.modules {
        if m.key.is_empty() {
            continue;
        }
        // `Dir` is relative to the root module's directory; one that leaves the tree is
        // left out (the call is then listed as not expanded).
        if let Some(dir) = config::join(root, m.dir.trim_start_matches("./")) {
            installed.insert(m.key, dir);
        }
    }
    Ok(TfFile {
        path: file.path.clone(),
        installed,
        ..TfFile::default()
    })
}

/// What evaluating the Terraform configurations of a tree did, for the run's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TerraformSummary {
    /// Root directories evaluated (a directory no scanned directory calls as a module).
    pub roots: Vec<String>,
    /// Module instances expanded (a call with `for_each` over three keys counts three).
    pub modules_expanded: usize,
    /// Module calls whose source is not on disk or not readable: listed, never silent.
    pub modules_not_expanded: Vec<NotExpanded>,
    /// `terraform show -json` plans read.
    #[serde(skip_serializing_if = "is_zero")]
    pub plans: usize,
    /// Managed resources of types no control reads, counted by type (`aws_cloudfront_distribution`:
    /// 3), in configurations and plans alike: evaluated by nothing, so never evidence of
    /// compliance.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub types_not_covered: std::collections::BTreeMap<String, usize>,
}

/// Resources counted by type (`aws_cloudfront_distribution`: 3).
pub type TypeCounts = std::collections::BTreeMap<String, usize>;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Evaluates every root of the configuration and normalises its resources as of a date (days
/// since 1970-01-01; IAM time conditions are judged on it).
pub fn evaluate(
    files: Vec<Arc<TfFile>>,
    overrides: &Overrides,
    as_of_days: Option<i64>,
) -> (Vec<Resource>, Vec<Problem>, TerraformSummary) {
    let roots = {
        let config = config::Config::new(&files);
        eval::evaluate_roots(&config, overrides)
    };
    // The parsed files are the largest thing held while evaluating: they go before the
    // normalised resources are built, so the two never coexist (peak memory).
    drop(files);
    let mut summary = TerraformSummary::default();
    let mut problems = Vec::new();
    let per_root: Vec<(String, Vec<raw::RawResource>)> = roots
        .into_iter()
        .map(|(root, out)| {
            summary.roots.push(root.clone());
            summary.modules_expanded += out.modules_expanded;
            summary.modules_not_expanded.extend(out.not_expanded);
            problems.extend(out.problems);
            normalise::types_not_read(&out.resources, &mut summary.types_not_covered);
            (root, out.resources)
        })
        .collect();
    // AWS policies are analysed against the IAM action catalog while normalising: it is read
    // now, beside the first resources, not while the parsed files are still held (peak memory)
    // nor by the first policy analysed while the other threads wait for it.
    let aws = per_root
        .iter()
        .any(|(_, raws)| raws.iter().any(|r| r.rtype.starts_with("aws_")));
    let (resources, ()) = rayon::join(
        || -> Vec<Vec<Resource>> {
            per_root
                .into_par_iter()
                .map(|(root, raws)| {
                    let mut out = normalise::normalise(&raws, as_of_days);
                    for r in &mut out {
                        root.clone_into(&mut r.scope);
                    }
                    out
                })
                .collect()
        },
        || {
            if aws {
                crate::iam::catalog::catalog();
            }
        },
    );
    summary.modules_not_expanded.sort();
    (resources.into_iter().flatten().collect(), problems, summary)
}

/// Reads a `terraform show -json` plan as of a date (see [`evaluate`]): its resources, and
/// the managed resources of types no control reads, counted by type.
pub fn parse_plan(
    file: &SourceFile,
    plan: &serde_json::Value,
    as_of_days: Option<i64>,
) -> Result<(Vec<Resource>, TypeCounts), Vec<Problem>> {
    let raws = plan::raw_resources(file, plan)?;
    let mut not_covered = std::collections::BTreeMap::new();
    normalise::types_not_read(&raws, &mut not_covered);
    let mut out = normalise::normalise(&raws, as_of_days);
    for r in &mut out {
        file.path.clone_into(&mut r.scope);
    }
    Ok((out, not_covered))
}
