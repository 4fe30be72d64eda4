//! The control library: control definitions (TOML), their Cedar policies, the schema and the
//! framework catalogs. The built-in library is embedded in the binary; an organisation adds its
//! own directories (each with `controls/` and `policies/`) through `vouch.toml`.
//!
//! Loading checks everything that is not Cedar: every control file parses, its file stem is its
//! id, ids are unique, every framework id it maps to exists in the catalogs. The engine then
//! parses and validates the policies against the schema.

pub mod catalog;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::error::{Problem, ProblemKind};
pub use catalog::{Catalogs, Framework};

static BUILTIN_CONTROLS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/controls");
static BUILTIN_POLICIES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/policies");

/// The built-in invariants of the loader, next to the schema: read by `--prove`, never
/// evaluated as controls.
pub const INVARIANTS_PATH: &str = "policies/invariants.cedar";

/// Frameworks a control may map to (SOC 3 is reported through SOC 2).
pub const MAPPABLE_FRAMEWORKS: &[&str] = &["soc2", "iso27001", "hipaa", "ferpa"];

/// How bad a failing control is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    #[default]
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a lowercase name.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// Where a library file comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Embedded in the binary.
    Builtin,
    /// An organisation's directory (path as configured).
    Custom(String),
}

/// A text file of the library (control, policy, schema, catalog, fixture).
#[derive(Debug, Clone)]
pub struct LibraryFile {
    /// Path relative to its library root (`controls/encryption/s3-encryption-at-rest.toml`).
    pub path: String,
    pub text: Arc<str>,
    pub origin: Origin,
}

impl LibraryFile {
    /// The path shown to users: `builtin:controls/…` or the custom directory joined.
    pub fn display_path(&self) -> String {
        match &self.origin {
            Origin::Builtin => format!("builtin:{}", self.path),
            Origin::Custom(dir) => format!("{}/{}", dir.trim_end_matches('/'), self.path),
        }
    }
}

/// A control definition.
#[derive(Debug, Clone, Serialize)]
pub struct Control {
    pub id: String,
    pub title: String,
    pub family: String,
    pub severity: Severity,
    /// Relative effort to implement or fix, 1 (an hour) to 13 (a project), for the roadmap.
    pub effort: u32,
    /// True when policies decide it; false for a manual control satisfied by attestations.
    pub automated: bool,
    pub description: String,
    pub rationale: String,
    pub remediation: String,
    /// Framework id → requirement ids (canonical, sorted).
    pub frameworks: BTreeMap<String, Vec<String>>,
    /// Where the definition lives.
    pub file: String,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControl {
    id: Spanned<String>,
    title: String,
    family: Spanned<String>,
    severity: Severity,
    effort: Spanned<u32>,
    #[serde(default = "yes")]
    automated: bool,
    description: String,
    #[serde(default)]
    rationale: String,
    remediation: String,
    #[serde(default)]
    frameworks: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
}

fn yes() -> bool {
    true
}

/// A loaded library (not yet compiled to Cedar).
#[derive(Debug, Clone, Default)]
pub struct Library {
    pub controls: BTreeMap<String, Control>,
    /// Every `.cedar` file except the schema, sorted by origin and path.
    pub policies: Vec<LibraryFile>,
    pub schema: Option<LibraryFile>,
    pub catalogs: Catalogs,
    /// Every file of the library (for evidence bundles and `vouch test`), sorted.
    pub files: Vec<LibraryFile>,
    /// `sha256:` over every file's path and content.
    pub digest: String,
}

impl Library {
    /// Loads the built-in library plus the custom directories.
    pub fn load(custom_dirs: &[std::path::PathBuf]) -> (Library, Vec<Problem>) {
        let mut files = Vec::new();
        collect_embedded(&BUILTIN_CONTROLS, "controls", &mut files);
        collect_embedded(&BUILTIN_POLICIES, "policies", &mut files);
        let mut problems = Vec::new();
        for dir in custom_dirs {
            collect_dir(dir, &mut files, &mut problems);
        }
        files.sort_by(|a, b| (&a.origin, &a.path).cmp(&(&b.origin, &b.path)));
        let (lib, mut more) = Library::from_files(files);
        problems.append(&mut more);
        (lib, problems)
    }

    /// The built-in files plus custom files already read (from a git tree), as one library.
    pub fn with_custom_files(mut custom: Vec<LibraryFile>) -> (Library, Vec<Problem>) {
        let mut files = Vec::new();
        collect_embedded(&BUILTIN_CONTROLS, "controls", &mut files);
        collect_embedded(&BUILTIN_POLICIES, "policies", &mut files);
        files.append(&mut custom);
        files.sort_by(|a, b| (&a.origin, &a.path).cmp(&(&b.origin, &b.path)));
        Library::from_files(files)
    }

    /// Builds a library from files (embedded or read from disk).
    pub fn from_files(files: Vec<LibraryFile>) -> (Library, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut lib = Library {
            digest: digest(&files),
            ..Library::default()
        };
        for f in &files {
            if let Some(name) = f
                .path
                .strip_prefix("controls/frameworks/")
                .and_then(|n| n.strip_suffix(".toml"))
            {
                match Framework::parse(&f.text) {
                    Ok(fw) if fw.id == name => {
                        lib.catalogs.frameworks.insert(fw.id.clone(), fw);
                    }
                    Ok(fw) => problems.push(library_problem(
                        f,
                        format!(
                            "catalog declares framework `{}` but its file is named `{name}`",
                            fw.id
                        ),
                    )),
                    Err(e) => {
                        problems.push(library_problem(f, format!("catalog does not load: {e}")))
                    }
                }
            }
        }
        for f in &files {
            if f.path == "policies/schema.cedarschema" {
                if f.origin == Origin::Builtin {
                    lib.schema = Some(f.clone());
                }
            } else if f.path == INVARIANTS_PATH && f.origin == Origin::Builtin {
                // The loader's invariants are for `--prove` (src/prove/), not a control.
            } else if f.path.starts_with("policies/") && f.path.ends_with(".cedar") {
                lib.policies.push(f.clone());
            } else if is_control_path(&f.path) {
                match parse_control(f, &lib.catalogs) {
                    Ok(c) => {
                        if let Some(prev) = lib.controls.get(&c.id) {
                            problems.push(library_problem(
                                f,
                                format!(
                                    "control `{}` is defined twice (also in `{}`)",
                                    c.id, prev.file
                                ),
                            ));
                        } else {
                            lib.controls.insert(c.id.clone(), c);
                        }
                    }
                    Err(mut ps) => problems.append(&mut ps),
                }
            }
        }
        if lib.schema.is_none() {
            problems.push(Problem::new(
                ProblemKind::Library,
                "the library has no `policies/schema.cedarschema`",
            ));
        }
        lib.files = files;
        (lib, problems)
    }

    /// Files of the fixtures of a control (`controls/<family>/<id>/<case>/…`).
    pub fn fixture_files(&self, control: &Control) -> Vec<&LibraryFile> {
        let prefix = format!("controls/{}/{}/", control.family, control.id);
        self.files
            .iter()
            .filter(|f| f.origin == control.origin && f.path.starts_with(&prefix))
            .collect()
    }
}

/// `controls/<family>/<id>.toml` (exactly two levels; fixtures live deeper).
fn is_control_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() == 3
        && parts[0] == "controls"
        && parts[1] != "frameworks"
        && parts[2].ends_with(".toml")
}

fn library_problem(f: &LibraryFile, message: String) -> Problem {
    Problem::new(ProblemKind::Library, message).in_file(&f.display_path())
}

fn span_problem<T>(f: &LibraryFile, at: &Spanned<T>, message: String, label: &str) -> Problem {
    let r = at.span();
    let mut p = Problem::parse(&f.display_path(), &f.text, r.start, r.len(), message, label);
    p.kind = ProblemKind::Library;
    p
}

fn parse_control(f: &LibraryFile, catalogs: &Catalogs) -> Result<Control, Vec<Problem>> {
    let raw: RawControl = toml::from_str(&f.text).map_err(|e| {
        let (offset, len) = e.span().map_or((0, 0), |r| (r.start, r.len()));
        let mut p = Problem::parse(
            &f.display_path(),
            &f.text,
            offset,
            len,
            format!(
                "control `{}` does not load: {}",
                f.path,
                crate::error::lowercase_first(e.message().trim())
            ),
            "here",
        )
        .with_help("see CONTRIBUTING.md, \"Add a control\", for every field");
        p.kind = ProblemKind::Library;
        vec![p]
    })?;
    let mut problems = Vec::new();
    let parts: Vec<&str> = f.path.split('/').collect();
    let stem = parts[2].trim_end_matches(".toml");
    if raw.id.get_ref() != stem {
        problems.push(span_problem(
            f,
            &raw.id,
            format!(
                "control id `{}` differs from its file name `{stem}`",
                raw.id.get_ref()
            ),
            "id",
        ));
    }
    if raw.family.get_ref() != parts[1] {
        problems.push(span_problem(
            f,
            &raw.family,
            format!(
                "control family `{}` differs from its directory `{}`",
                raw.family.get_ref(),
                parts[1]
            ),
            "family",
        ));
    }
    if !(1..=13).contains(raw.effort.get_ref()) {
        problems.push(span_problem(
            f,
            &raw.effort,
            "effort must be between 1 and 13".to_owned(),
            "effort",
        ));
    }
    let mut frameworks = BTreeMap::new();
    for (fw, ids) in &raw.frameworks {
        if !MAPPABLE_FRAMEWORKS.contains(&fw.get_ref().as_str()) {
            problems.push(
                span_problem(
                    f,
                    fw,
                    format!("unknown framework `{}`", fw.get_ref()),
                    "framework",
                )
                .with_help(format!("map to one of: {}", MAPPABLE_FRAMEWORKS.join(", "))),
            );
            continue;
        }
        let mut canonical = Vec::new();
        for id in ids {
            match catalogs.resolve(fw.get_ref(), id.get_ref()) {
                Some(c) => canonical.push(c.to_owned()),
                None => problems.push(
                    span_problem(
                        f,
                        id,
                        format!(
                            "`{}` is not a requirement of `{}`",
                            id.get_ref(),
                            fw.get_ref()
                        ),
                        "not in the catalog",
                    )
                    .with_help(format!(
                        "see controls/frameworks/{}.toml for valid ids",
                        fw.get_ref()
                    )),
                ),
            }
        }
        canonical.sort_by(|a, b| catalog::natural_cmp(a, b));
        canonical.dedup();
        frameworks.insert(fw.get_ref().clone(), canonical);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Control {
        id: raw.id.into_inner(),
        title: raw.title,
        family: raw.family.into_inner(),
        severity: raw.severity,
        effort: raw.effort.into_inner(),
        automated: raw.automated,
        description: raw.description.trim().to_owned(),
        rationale: raw.rationale.trim().to_owned(),
        remediation: raw.remediation.trim().to_owned(),
        frameworks,
        file: f.display_path(),
        origin: f.origin.clone(),
    })
}

fn collect_embedded(dir: &Dir<'_>, root: &str, out: &mut Vec<LibraryFile>) {
    for entry in dir.entries() {
        if let Some(d) = entry.as_dir() {
            collect_embedded(d, root, out);
        } else if let Some(file) = entry.as_file()
            && let Some(text) = file.contents_utf8()
        {
            let rel = file.path().to_string_lossy().replace('\\', "/");
            out.push(LibraryFile {
                path: format!("{root}/{rel}"),
                text: Arc::from(text),
                origin: Origin::Builtin,
            });
        }
    }
}

/// Reads a custom library directory (`<dir>/controls/**`, `<dir>/policies/**`).
fn collect_dir(dir: &Path, out: &mut Vec<LibraryFile>, problems: &mut Vec<Problem>) {
    let origin = Origin::Custom(dir.display().to_string());
    let mut found = false;
    for sub in ["controls", "policies"] {
        let root = dir.join(sub);
        if !root.is_dir() {
            continue;
        }
        found = true;
        for entry in walkdir::WalkDir::new(&root)
            .follow_links(false)
            .sort_by_file_name()
        {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    problems.push(Problem::walk(root.display().to_string(), e.to_string()));
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(dir) else {
                continue;
            };
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            match std::fs::read_to_string(entry.path()) {
                Ok(text) => out.push(LibraryFile {
                    path: rel,
                    text: Arc::from(text),
                    origin: origin.clone(),
                }),
                Err(e) => problems.push(Problem::io(entry.path().display().to_string(), &e)),
            }
        }
    }
    if !found {
        problems.push(
            Problem::config(
                format!("library directory `{}` has neither `controls/` nor `policies/`", dir.display()),
                Some("vouch.toml"),
            )
            .with_help("a custom library directory holds `controls/<family>/<id>.toml` and `policies/**/*.cedar`"),
        );
    }
}

/// `sha256:<hex>` over the sorted (origin, path, content) of every file.
fn digest(files: &[LibraryFile]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.display_path().as_bytes());
        h.update([0]);
        h.update(f.text.as_bytes());
        h.update([0]);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}
