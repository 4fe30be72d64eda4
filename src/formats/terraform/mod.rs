//! Terraform: `.tf` files (HCL) normalised per module directory, and plan JSON.
//!
//! Both readers produce [`raw::RawResource`]s (a value tree with unknown and reference leaves);
//! [`normalise`] turns them into typed `Aws::*` resources, so the same configuration gives the
//! same resources whether it is read as HCL or as a plan.

mod expr;
mod hcl;
mod normalise;
mod plan;
pub mod raw;

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::error::Problem;
use crate::model::{Resource, Span};
use crate::source::SourceFile;

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
        self.path.ends_with(".tfvars")
    }

    /// True for a values file Terraform loads by itself: `terraform.tfvars`, `*.auto.tfvars`.
    pub fn is_auto_tfvars(&self) -> bool {
        self.name() == "terraform.tfvars" || self.name().ends_with(".auto.tfvars")
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

/// Parses one `.tf` or `.tfvars` file.
pub fn parse_hcl(file: &SourceFile) -> Result<TfFile, Vec<Problem>> {
    hcl::parse(file)
}

/// Normalises every module directory (folds split S3 resources, resolves variables).
pub fn normalise_modules(files: &[Arc<TfFile>]) -> (Vec<Resource>, Vec<Problem>) {
    let mut modules: BTreeMap<&str, Vec<&TfFile>> = BTreeMap::new();
    for f in files {
        modules.entry(f.dir()).or_default().push(f);
    }
    let per_module: Vec<Vec<Resource>> = modules
        .into_par_iter()
        .map(|(dir, files)| {
            let raws = hcl::raw_resources(&files);
            let mut out = normalise::normalise(&raws);
            for r in &mut out {
                dir.clone_into(&mut r.scope);
            }
            out
        })
        .collect();
    (per_module.into_iter().flatten().collect(), Vec::new())
}

/// Reads a `terraform show -json` plan.
pub fn parse_plan(
    file: &SourceFile,
    plan: &serde_json::Value,
) -> Result<Vec<Resource>, Vec<Problem>> {
    let raws = plan::raw_resources(file, plan)?;
    let mut out = normalise::normalise(&raws);
    for r in &mut out {
        file.path.clone_into(&mut r.scope);
    }
    Ok(out)
}
