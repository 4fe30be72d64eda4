//! Parsers: from source files to [`Resource`]s. Knows nothing of controls.
//!
//! Each file is routed by its name and content to one parser. A file nobody recognises is
//! skipped and counted; a file that is recognised but malformed is a [`Problem`] with its span.
//! Parsing is per file (and parallel); a second, cross-file pass assembles what spans files
//! (a Terraform module is a directory; a Kubernetes namespace's network policies may live in
//! other files; inventory files merge).

pub mod exports;
pub mod iam;
pub mod inventory;
pub mod kubernetes;
pub mod terraform;

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::Problem;
use crate::model::Resource;
use crate::source::SourceFile;

/// Facts every parser may need about the run.
#[derive(Debug, Clone, Default)]
pub struct LoadContext {
    /// The evaluation date, as days since 1970-01-01 (UTC): ages are counted up to it.
    pub as_of_days: i64,
    /// `[access]` of `vouch.toml`: the ticket pattern grants are judged by.
    pub access: inventory::AccessSettings,
}

impl LoadContext {
    /// The context of a run on `as_of_days` under a configuration.
    pub fn new(as_of_days: i64, config: &crate::config::Config) -> LoadContext {
        LoadContext {
            as_of_days,
            access: config.access.clone(),
        }
    }
}

/// Which parser handled a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Inventory,
    Terraform,
    TerraformPlan,
    Kubernetes,
    IamPolicy,
    Config,
    /// A system export (SCIM, identity provider, HR roster, GitHub, AWS Backup, incidents).
    SystemExport,
}

/// The result of parsing one file, before the cross-file pass.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// Resources that need no cross-file assembly.
    Resources(FileKind, Vec<Resource>),
    /// A `terraform show -json` plan: its resources, and the managed resources of types no
    /// control reads, counted by type.
    Plan(Vec<Resource>, terraform::TypeCounts),
    /// A Terraform `.tf` file: normalised per module directory.
    Terraform(Arc<terraform::TfFile>),
    /// Kubernetes manifests: namespaces and network policies join across files.
    Kubernetes(Arc<kubernetes::K8sFile>),
    /// A SaaS inventory file: merged with the others, then derived facts are computed.
    Inventory(Arc<inventory::InventoryFile>),
    /// `vouch.toml` (read by the config layer, not a resource source).
    Config,
    /// The root `vouch.toml`'s `[exports]` settings (the rest is the config layer's).
    ExportSettings(Arc<exports::Settings>),
    /// A system export: joined with the inventory in the cross-file pass.
    Export(Arc<exports::ExportFile>),
    /// Not a format vouch reads.
    Unrecognised,
}

impl Parsed {
    /// The kind of file, or `None` when unrecognised.
    pub fn kind(&self) -> Option<FileKind> {
        match self {
            Parsed::Resources(k, _) => Some(*k),
            Parsed::Plan(..) => Some(FileKind::TerraformPlan),
            Parsed::Terraform(_) => Some(FileKind::Terraform),
            Parsed::Kubernetes(_) => Some(FileKind::Kubernetes),
            Parsed::Inventory(_) => Some(FileKind::Inventory),
            Parsed::Config | Parsed::ExportSettings(_) => Some(FileKind::Config),
            Parsed::Export(_) => Some(FileKind::SystemExport),
            Parsed::Unrecognised => None,
        }
    }
}

/// Everything loaded from a set of files.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every resource, sorted by (entity type, scope, address).
    pub resources: Vec<Resource>,
    /// Every problem met, sorted by file and line.
    pub problems: Vec<Problem>,
    /// Files read, by kind.
    pub files: BTreeMap<String, FileKind>,
    /// Candidate files no parser recognised (skipped, counted).
    pub unrecognised: Vec<String>,
    /// Manual-control attestations declared in the inventory.
    pub attestations: Vec<inventory::Attestation>,
    /// What the Kubernetes reader did (`None` when the tree holds no Kubernetes input).
    pub kubernetes: Option<kubernetes::KubernetesSummary>,
    /// Helm charts found, rendered only by [`render_charts`].
    pub charts: Vec<kubernetes::Chart>,
    /// What the Terraform evaluation did (roots, modules expanded and not expanded).
    pub terraform: terraform::TerraformSummary,
}

/// Routes one file to its parser.
pub fn parse_file(file: &SourceFile, ctx: &LoadContext) -> Result<Parsed, Vec<Problem>> {
    let name = file.file_name();
    let ext = file.extension();
    // Terraform ignores dot-files (`.example.tf`); so does vouch (they are listed as skipped).
    let terraform_name = matches!(ext.as_str(), "tf" | "tfvars")
        || name.ends_with(".tf.json")
        || name.ends_with(".tfvars.json")
        || terraform::is_modules_manifest(&file.path);
    if terraform_name {
        if name.starts_with('.') {
            return Ok(Parsed::Unrecognised);
        }
        return terraform::parse_hcl(file).map(|f| Parsed::Terraform(Arc::new(f)));
    }
    match ext.as_str() {
        "toml" if file.path == "vouch.toml" => {
            exports::Settings::parse(file).map(|s| Parsed::ExportSettings(Arc::new(s)))
        }
        "toml" if name == "vouch.toml" => Ok(Parsed::Config),
        "toml" => inventory::parse(file, ctx).map(|inv| match inv {
            Some(inv) => Parsed::Inventory(Arc::new(inv)),
            None => Parsed::Unrecognised,
        }),
        "yaml" | "yml" => Ok(kubernetes_file(file)),
        _ if kubernetes::KUSTOMIZATION_FILES.contains(&name) => Ok(kubernetes_file(file)),
        "json" => parse_json(file, ctx),
        "csv" => exports::parse_csv(file).map(|e| match e {
            Some(e) => Parsed::Export(Arc::new(e)),
            None => Parsed::Unrecognised,
        }),
        _ => Ok(Parsed::Unrecognised),
    }
}

/// A YAML (or JSON) file for the Kubernetes reader.
fn kubernetes_file(file: &SourceFile) -> Parsed {
    match kubernetes::parse(file) {
        Some(k) => Parsed::Kubernetes(Arc::new(k)),
        None => Parsed::Unrecognised,
    }
}

/// A `.json` file is a Terraform plan, an IAM policy document, a Kubernetes manifest, or
/// nothing of ours.
fn parse_json(file: &SourceFile, ctx: &LoadContext) -> Result<Parsed, Vec<Problem>> {
    let looks_like_plan = file.text.contains("\"format_version\"")
        && (file.text.contains("\"planned_values\"") || file.text.contains("\"resource_changes\""));
    let looks_like_iam = iam::looks_like(&file.text);
    if !looks_like_plan && !looks_like_iam {
        if file.text.contains("\"apiVersion\"") && file.text.contains("\"kind\"") {
            return Ok(kubernetes_file(file));
        }
        return exports::parse_json(file).map(|e| match e {
            Some(e) => Parsed::Export(Arc::new(e)),
            None => Parsed::Unrecognised,
        });
    }
    let value: serde_json::Value = match serde_json::from_str(&file.text) {
        Ok(v) => v,
        Err(e) => return Err(vec![json_problem(file, &e)]),
    };
    if looks_like_plan && value.get("format_version").is_some() {
        return terraform::parse_plan(file, &value, Some(ctx.as_of_days))
            .map(|(r, not_covered)| Parsed::Plan(r, not_covered));
    }
    if let Some(shape) = iam::shape(&value) {
        return iam::parse_file(file, &value, shape, Some(ctx.as_of_days))
            .map(|r| Parsed::Resources(FileKind::IamPolicy, r));
    }
    Ok(Parsed::Unrecognised)
}

/// A serde_json error as a problem pointing at the line and column it names.
pub fn json_problem(file: &SourceFile, e: &serde_json::Error) -> Problem {
    let offset = offset_of(&file.text, e.line(), e.column());
    Problem::parse(
        &file.path,
        &file.text,
        offset,
        0,
        format!(
            "`{}` is not valid JSON: {}",
            file.path,
            strip_position(&e.to_string())
        ),
        "here",
    )
}

/// Byte offset of a 1-based line and column (clamped to the text).
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = column.saturating_sub(1);
            return offset
                + l.char_indices()
                    .nth(col)
                    .map_or(l.trim_end_matches('\n').len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

/// Drops the " at line X column Y" suffix some parsers add (the code frame shows it).
pub fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Parses every file (in parallel), then runs the cross-file passes.
pub fn load(files: &[SourceFile], ctx: &LoadContext) -> Loaded {
    load_with(files, ctx, &terraform::Overrides::default())
}

/// [`load`] with Terraform variable values given from outside the tree (`--var-file`, `--var`).
pub fn load_with(
    files: &[SourceFile],
    ctx: &LoadContext,
    terraform_vars: &terraform::Overrides,
) -> Loaded {
    let parsed: Vec<(String, Result<Parsed, Vec<Problem>>)> = files
        .par_iter()
        .map(|f| (f.path.clone(), parse_file(f, ctx)))
        .collect();
    assemble_with(parsed, ctx, terraform_vars)
}

/// The cross-file pass over already-parsed files (the gate calls it with cached parses).
pub fn assemble(parsed: Vec<(String, Result<Parsed, Vec<Problem>>)>, ctx: &LoadContext) -> Loaded {
    assemble_with(parsed, ctx, &terraform::Overrides::default())
}

/// [`assemble`] with Terraform variable values given from outside the tree.
pub fn assemble_with(
    parsed: Vec<(String, Result<Parsed, Vec<Problem>>)>,
    ctx: &LoadContext,
    terraform_vars: &terraform::Overrides,
) -> Loaded {
    let mut loaded = Loaded::default();
    let mut tf_files = Vec::new();
    let mut k8s_files = Vec::new();
    let mut inventories = Vec::new();
    let mut export_files = Vec::new();
    let mut export_settings = None;
    let mut plans = 0;
    let mut plan_not_covered: BTreeMap<String, usize> = BTreeMap::new();
    for (path, result) in parsed {
        match result {
            Err(problems) => {
                loaded.problems.extend(problems);
            }
            Ok(p) => {
                // Kubernetes files count once their units are known (unused YAML is not ours).
                if let Some(kind) = p.kind().filter(|k| *k != FileKind::Kubernetes) {
                    loaded.files.insert(path.clone(), kind);
                }
                match p {
                    Parsed::Resources(_, rs) => loaded.resources.extend(rs),
                    Parsed::Plan(rs, not_covered) => {
                        loaded.resources.extend(rs);
                        plans += 1;
                        for (ty, n) in not_covered {
                            *plan_not_covered.entry(ty).or_default() += n;
                        }
                    }
                    Parsed::Terraform(f) => tf_files.push(f),
                    Parsed::Kubernetes(f) => k8s_files.push(f),
                    Parsed::Inventory(f) => inventories.push(f),
                    Parsed::Config => {}
                    Parsed::ExportSettings(s) => export_settings = Some(s),
                    Parsed::Export(e) => export_files.push(e),
                    Parsed::Unrecognised => loaded.unrecognised.push(path),
                }
            }
        }
    }
    let (tf, tf_problems, tf_summary) =
        terraform::evaluate(tf_files, terraform_vars, Some(ctx.as_of_days));
    loaded.resources.extend(tf);
    loaded.problems.extend(tf_problems);
    loaded.terraform = tf_summary;
    loaded.terraform.plans = plans;
    for (ty, n) in plan_not_covered {
        *loaded.terraform.types_not_covered.entry(ty).or_default() += n;
    }
    let k8s = kubernetes::assemble(&k8s_files);
    loaded.resources.extend(k8s.resources);
    loaded.problems.extend(k8s.problems);
    for f in k8s.files {
        loaded.files.insert(f, FileKind::Kubernetes);
    }
    loaded.unrecognised.extend(k8s.unrecognised);
    loaded.kubernetes = k8s.summary;
    loaded.charts = k8s.charts;
    loaded.attestations = inventory::attestations(&inventories);
    let (inv, inv_problems) = inventory::assemble(&inventories, ctx);
    loaded.resources.extend(inv);
    loaded.problems.extend(inv_problems);
    // IAM users and roles join the review of the inventory person they belong to.
    crate::iam::people::link(&mut loaded.resources);
    let settings = export_settings.unwrap_or_default();
    export_files.sort_by(|a, b| a.path.cmp(&b.path));
    let applied = exports::apply::apply(
        &export_files,
        &settings,
        ctx.as_of_days,
        &mut loaded.resources,
        inventory::user_emails(&inventories),
    );
    loaded.problems.extend(applied.problems);
    for path in applied.unrecognised {
        loaded.files.remove(&path);
        loaded.unrecognised.push(path);
    }
    let infra_problems = inventory::infra::crosscheck(&inventories, &mut loaded.resources);
    loaded.problems.extend(infra_problems);

    {
        use rayon::prelude::*;
        // Built attribute by attribute, a resource's attributes hold spare room: a large
        // inventory's resources would keep megabytes of it through the whole run.
        loaded
            .resources
            .par_iter_mut()
            .with_min_len(256)
            .for_each(|r| r.attrs.shrink_to_fit());
    }
    loaded.resources.sort_by(|a, b| {
        (&a.entity_type, &a.scope, &a.address).cmp(&(&b.entity_type, &b.scope, &b.address))
    });
    // Two declarations of one resource: keep the first, and say where the second is, unless a
    // parser already reported it (the inventory checks its own ids).
    let mut duplicates = Vec::new();
    loaded.resources.dedup_by(|later, first| {
        let same = later.entity_type == first.entity_type && later.id() == first.id();
        if same {
            duplicates.push((later.address.clone(), later.span.clone()));
        }
        same
    });
    for (address, span) in duplicates {
        let already = loaded
            .problems
            .iter()
            .any(|p| p.file.as_deref() == Some(span.file.as_str()) && p.line == Some(span.line));
        if !already {
            let mut p = Problem::new(
                crate::error::ProblemKind::Parse,
                format!(
                    "`{address}` is declared more than once; the first declaration is evaluated"
                ),
            )
            .in_file(&span.file);
            p.line = Some(span.line);
            loaded.problems.push(p);
        }
    }
    loaded
        .problems
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    loaded.unrecognised.sort();
    loaded
}

/// Renders the Helm charts of a tree read from `root` on disk (with `helm`, when installed)
/// and adds their resources; charts that cannot be rendered are listed as not rendered.
pub fn render_charts(loaded: &mut Loaded, root: &std::path::Path, helm: &kubernetes::HelmOptions) {
    if loaded.charts.is_empty() {
        return;
    }
    let out = kubernetes::render_charts(&loaded.charts, root, helm);
    loaded.resources.extend(out.resources);
    loaded.resources.sort_by(|a, b| {
        (&a.entity_type, &a.scope, &a.address).cmp(&(&b.entity_type, &b.scope, &b.address))
    });
    loaded.problems.extend(out.problems);
    loaded
        .problems
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    if let Some(summary) = loaded.kubernetes.as_mut() {
        summary.charts_rendered = out.rendered;
        summary.charts_rendered.sort();
        summary.charts_not_rendered = out.not_rendered;
        summary.charts_not_rendered.sort();
        summary.units += summary.charts_rendered.len();
        summary.workloads = loaded
            .resources
            .iter()
            .filter(|r| r.entity_type == "K8s::Workload")
            .count();
    }
}
