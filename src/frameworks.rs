//! `vouch frameworks`: per framework, which controls evidence each requirement, and how much of
//! the framework the library covers (requirements with an automated control, with only manual
//! controls, with none). Also renders the generated documentation: `docs/coverage.md` and
//! `docs/controls.md` (kept fresh by `tests/frameworks.rs`).
//!
//! SOC 3 has no requirements of its own: it is resolved through the framework it is
//! `based_on` (SOC 2), whose mappings apply unchanged.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::error::{Problem, ProblemKind};
use crate::library::{Control, Framework, Library};
use crate::report::{self, Format};

/// The order frameworks are listed in; any other catalog follows, by id.
const ORDER: &[&str] = &["soc2", "soc3", "iso27001", "hipaa", "ferpa"];

/// How a requirement is covered by the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// At least one automated control maps to it.
    Automated,
    /// Only manual (attested) controls map to it.
    Manual,
    /// No control maps to it.
    None,
}

impl Coverage {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::Automated => "automated",
            Coverage::Manual => "manual",
            Coverage::None => "none",
        }
    }
}

/// The controls mapped to one requirement, split by kind (each sorted by id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequirementControls {
    pub automated: Vec<String>,
    pub manual: Vec<String>,
}

/// One requirement with its controls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementCoverage {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub controls: RequirementControls,
    pub coverage: Coverage,
}

/// A group of requirements, in catalog order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupCoverage {
    pub group: String,
    pub requirements: Vec<RequirementCoverage>,
}

/// Requirement counts by coverage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub requirements: usize,
    /// Requirements with at least one automated control.
    pub automated: usize,
    /// Requirements with manual controls only.
    pub manual_only: usize,
    /// Requirements no control maps to.
    pub none: usize,
}

/// One framework's coverage by the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameworkCoverage {
    pub id: String,
    pub name: String,
    pub version: String,
    /// The framework whose requirements (and mappings) this one uses (SOC 3 → SOC 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub based_on: Option<String>,
    /// What the catalog claims to list (`complete`, `partial`, `inherited`).
    pub catalog: String,
    pub counts: Counts,
    pub groups: Vec<GroupCoverage>,
}

/// Every framework of the library in listing order (soc2, soc3, iso27001, hipaa, ferpa, others).
pub fn framework_ids(lib: &Library) -> Vec<String> {
    let mut ids: Vec<String> = ORDER
        .iter()
        .filter(|id| lib.catalogs.frameworks.contains_key(**id))
        .map(|id| (*id).to_owned())
        .collect();
    ids.extend(
        lib.catalogs
            .frameworks
            .keys()
            .filter(|id| !ORDER.contains(&id.as_str()))
            .cloned(),
    );
    ids
}

/// The coverage of framework `id` (`None` when the library has no such catalog).
pub fn coverage(lib: &Library, id: &str) -> Option<FrameworkCoverage> {
    let fw = lib.catalogs.frameworks.get(id)?;
    let base_id = lib.catalogs.base_of(id);
    let base: &Framework = lib.catalogs.frameworks.get(base_id)?;
    // requirement id → controls, from the mappings to the base framework.
    let mut mapped: BTreeMap<&str, RequirementControls> = BTreeMap::new();
    for c in lib.controls.values() {
        for req in c.frameworks.get(base_id).into_iter().flatten() {
            let entry = mapped.entry(req.as_str()).or_default();
            if c.automated {
                entry.automated.push(c.id.clone());
            } else {
                entry.manual.push(c.id.clone());
            }
        }
    }
    let mut counts = Counts::default();
    let mut groups: Vec<GroupCoverage> = Vec::new();
    for r in &base.requirements {
        let controls = mapped.remove(r.id.as_str()).unwrap_or_default();
        let coverage = if !controls.automated.is_empty() {
            counts.automated += 1;
            Coverage::Automated
        } else if !controls.manual.is_empty() {
            counts.manual_only += 1;
            Coverage::Manual
        } else {
            counts.none += 1;
            Coverage::None
        };
        counts.requirements += 1;
        let req = RequirementCoverage {
            id: r.id.clone(),
            title: r.title.clone(),
            parent: r.parent.clone(),
            controls,
            coverage,
        };
        match groups.iter_mut().find(|g| g.group == r.group) {
            Some(g) => g.requirements.push(req),
            None => groups.push(GroupCoverage {
                group: r.group.clone(),
                requirements: vec![req],
            }),
        }
    }
    Some(FrameworkCoverage {
        id: fw.id.clone(),
        name: fw.name.clone(),
        version: fw.version.clone(),
        based_on: fw.based_on.clone(),
        catalog: fw.coverage.clone(),
        counts,
        groups,
    })
}

/// Every framework's coverage, in listing order.
pub fn all(lib: &Library) -> Vec<FrameworkCoverage> {
    framework_ids(lib)
        .iter()
        .filter_map(|id| coverage(lib, id))
        .collect()
}

use crate::app::fail;

/// The library for `path`: built-in plus the custom directories of its `vouch.toml`.
fn load(path: &Path) -> Result<Library, Vec<Problem>> {
    crate::app::library_files_only(path)
}

/// Percentage of `n` in `total`, rounded down.
fn pct(n: usize, total: usize) -> usize {
    (n * 100).checked_div(total).unwrap_or(0)
}

/// `vouch frameworks list`.
pub fn list(path: &Path, format: Format) -> u8 {
    let lib = match load(path) {
        Ok(lib) => lib,
        Err(problems) => return fail(&problems),
    };
    let all = all(&lib);
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Row<'a> {
                id: &'a str,
                name: &'a str,
                version: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                based_on: Option<&'a str>,
                catalog: &'a str,
                counts: Counts,
            }
            let rows: Vec<Row<'_>> = all
                .iter()
                .map(|f| Row {
                    id: &f.id,
                    name: &f.name,
                    version: &f.version,
                    based_on: f.based_on.as_deref(),
                    catalog: &f.catalog,
                    counts: f.counts,
                })
                .collect();
            report::emit(&report::to_json(
                &serde_json::json!({ "schema_version": 1, "frameworks": rows }),
            ));
        }
        Format::Human => {
            let mut out = String::new();
            let name_w = all
                .iter()
                .map(|f| f.name.chars().count())
                .max()
                .unwrap_or(0)
                .max(4);
            let _ = writeln!(
                out,
                "{:9}  {:name_w$}  {:>12}  {:>9}  {:>11}  {:>4}",
                "id", "name", "requirements", "automated", "manual only", "none"
            );
            for f in &all {
                let c = f.counts;
                let via = f
                    .based_on
                    .as_deref()
                    .map_or_else(String::new, |b| format!("  (through {b})"));
                let _ = writeln!(
                    out,
                    "{:9}  {:name_w$}  {:>12}  {:>9}  {:>11}  {:>4}{via}",
                    f.id, f.name, c.requirements, c.automated, c.manual_only, c.none
                );
            }
            let _ = writeln!(
                out,
                "\n`vouch frameworks show ID` lists the controls of every requirement"
            );
            report::emit(&out);
        }
    }
    crate::app::exit::CLEAN
}

/// `vouch frameworks show ID`.
pub fn show(path: &Path, id: &str, format: Format) -> u8 {
    let lib = match load(path) {
        Ok(lib) => lib,
        Err(problems) => return fail(&problems),
    };
    let Some(fw) = coverage(&lib, id) else {
        let known = framework_ids(&lib);
        let names: Vec<&str> = known.iter().map(String::as_str).collect();
        let close = crate::error::did_you_mean(id, &names).map_or_else(String::new, |d| d + " ");
        let p = Problem::new(ProblemKind::Config, format!("unknown framework `{id}`"))
            .with_help(format!("{close}use one of: {}", known.join(", ")));
        return fail(&[p]);
    };
    match format {
        Format::Json => report::emit(&report::to_json(&serde_json::json!({
            "schema_version": 1,
            "framework": fw,
        }))),
        Format::Human => report::emit(&render_show(&fw)),
    }
    crate::app::exit::CLEAN
}

fn render_show(fw: &FrameworkCoverage) -> String {
    let mut out = String::new();
    let c = fw.counts;
    let _ = writeln!(out, "{} ({})", fw.name, fw.version);
    if let Some(b) = &fw.based_on {
        let _ = writeln!(
            out,
            "uses the requirements and control mappings of `{b}` unchanged"
        );
    }
    let _ = writeln!(
        out,
        "{} requirements: {} with an automated control, {} with only manual controls, {} with none",
        c.requirements, c.automated, c.manual_only, c.none
    );
    let id_w = fw
        .groups
        .iter()
        .flat_map(|g| g.requirements.iter())
        .map(|r| r.id.len())
        .max()
        .unwrap_or(0);
    for g in &fw.groups {
        let _ = writeln!(out, "\n{}", g.group);
        for r in &g.requirements {
            let _ = writeln!(
                out,
                "  {:id_w$}  {:9}  {}",
                r.id,
                r.coverage.as_str(),
                r.title
            );
            if !r.controls.automated.is_empty() {
                let _ = writeln!(
                    out,
                    "  {:id_w$}             automated: {}",
                    "",
                    r.controls.automated.join(", ")
                );
            }
            if !r.controls.manual.is_empty() {
                let _ = writeln!(
                    out,
                    "  {:id_w$}             manual:    {}",
                    "",
                    r.controls.manual.join(", ")
                );
            }
        }
    }
    out
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn code_list(ids: &[String]) -> String {
    if ids.is_empty() {
        "—".to_owned()
    } else {
        ids.iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `docs/coverage.md`: per framework, the requirement counts and every requirement's controls.
pub fn render_coverage_md(lib: &Library) -> String {
    let all = all(lib);
    let mut out = String::new();
    out.push_str("<!-- Generated from the control library by `vouch::frameworks::render_coverage_md`; do not edit.\n     Regenerate with `VOUCH_BLESS=1 cargo test --test frameworks`. -->\n\n");
    out.push_str("# Framework coverage\n\n");
    out.push_str(
        "How much of each framework the built-in library evidences. A requirement counts as\n\
         **automated** when at least one automated control (a Cedar policy over configuration)\n\
         maps to it, **manual** when only manual controls (satisfied by an `[[attestation]]` in\n\
         the inventory) do, and **none** when no control does. A mapping means the control is\n\
         evidence for the requirement, not that it satisfies it alone. `vouch frameworks show ID`\n\
         prints the same data.\n\n",
    );
    let total_auto = lib.controls.values().filter(|c| c.automated).count();
    let _ = writeln!(
        out,
        "The library has {} controls: {} automated and {} manual.\n",
        lib.controls.len(),
        total_auto,
        lib.controls.len() - total_auto
    );
    out.push_str("| framework | requirements | automated | manual only | none | catalog |\n");
    out.push_str("| --- | ---: | ---: | ---: | ---: | --- |\n");
    for f in &all {
        let c = f.counts;
        let catalog = match &f.based_on {
            Some(b) => format!("{} (requirements of `{b}`)", f.catalog),
            None => f.catalog.clone(),
        };
        let _ = writeln!(
            out,
            "| {} (`{}`) | {} | {} ({}%) | {} ({}%) | {} ({}%) | {} |",
            cell(&f.name),
            f.id,
            c.requirements,
            c.automated,
            pct(c.automated, c.requirements),
            c.manual_only,
            pct(c.manual_only, c.requirements),
            c.none,
            pct(c.none, c.requirements),
            cell(&catalog)
        );
    }
    for f in all.iter().filter(|f| f.based_on.is_none()) {
        let c = f.counts;
        let _ = writeln!(out, "\n## {} (`{}`)\n", f.name, f.id);
        let _ = writeln!(out, "{}.", f.version);
        let via: Vec<&str> = all
            .iter()
            .filter(|o| o.based_on.as_deref() == Some(f.id.as_str()))
            .map(|o| o.name.as_str())
            .collect();
        if !via.is_empty() {
            let _ = writeln!(
                out,
                "{} uses these requirements and mappings unchanged.",
                via.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "\n{} requirements: {} automated, {} manual only, {} none.",
            c.requirements, c.automated, c.manual_only, c.none
        );
        for g in &f.groups {
            let _ = writeln!(out, "\n### {}\n", g.group);
            out.push_str(
                "| id | requirement | coverage | automated controls | manual controls |\n",
            );
            out.push_str("| --- | --- | --- | --- | --- |\n");
            for r in &g.requirements {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    cell(&r.id),
                    cell(&r.title),
                    r.coverage.as_str(),
                    code_list(&r.controls.automated),
                    code_list(&r.controls.manual)
                );
            }
        }
    }
    out
}

/// Markdown anchor of a heading made of a control id (GitHub style: lowercase, `-` kept).
fn anchor(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Text of a control field as Markdown: paragraphs kept, a TOML snippet (a paragraph starting
/// with `[`) fenced.
fn prose(text: &str) -> String {
    let mut out = String::new();
    for (i, para) in text.split("\n\n").enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let para = para.trim_matches('\n');
        if para.starts_with('[') {
            let _ = writeln!(out, "```toml\n{para}\n```");
        } else {
            let _ = writeln!(out, "{para}");
        }
    }
    out
}

/// Controls sorted by family, then id.
fn by_family(lib: &Library) -> Vec<&Control> {
    let mut controls: Vec<&Control> = lib.controls.values().collect();
    controls.sort_by(|a, b| (&a.family, &a.id).cmp(&(&b.family, &b.id)));
    controls
}

/// `docs/controls.md`: one section per control (what, why, mappings, how to fix), by family.
pub fn render_controls_md(lib: &Library) -> String {
    let controls = by_family(lib);
    let mut out = String::new();
    out.push_str("<!-- Generated from the control library by `vouch::frameworks::render_controls_md`; do not edit.\n     Regenerate with `VOUCH_BLESS=1 cargo test --test frameworks`. -->\n\n");
    out.push_str("# Controls\n\n");
    let auto = controls.iter().filter(|c| c.automated).count();
    let _ = writeln!(
        out,
        "{} controls: {} automated (a Cedar policy decides them from configuration) and {} manual\n\
         (satisfied by a current `[[attestation]]` in the inventory; a missing or expired one fails).\n\
         Framework coverage is in [coverage.md](coverage.md).\n",
        controls.len(),
        auto,
        controls.len() - auto
    );
    // Index: one line per family.
    let mut index: Vec<(&str, Vec<String>)> = Vec::new();
    for c in &controls {
        let link = format!("[`{}`](#{})", c.id, anchor(&c.id));
        match index.last_mut() {
            Some((f, links)) if *f == c.family => links.push(link),
            _ => index.push((c.family.as_str(), vec![link])),
        }
    }
    for (f, links) in &index {
        let _ = writeln!(out, "- **{f}**: {}", links.join(" · "));
    }
    let mut family = "";
    for c in &controls {
        if c.family != family {
            family = &c.family;
            let _ = writeln!(out, "\n## {family}");
        }
        let _ = writeln!(out, "\n### {}\n", c.id);
        let _ = writeln!(out, "**{}**\n", c.title);
        let _ = writeln!(
            out,
            "family `{}` · severity `{}` · effort {} · {}\n",
            c.family,
            c.severity.as_str(),
            c.effort,
            if c.automated {
                "automated"
            } else {
                "manual (attestation)"
            }
        );
        out.push_str(&prose(&c.description));
        if !c.rationale.is_empty() {
            out.push_str("\n**Why.** ");
            out.push_str(&prose(&c.rationale));
        }
        out.push_str("\n**Mappings.**\n\n");
        for fw in ORDER {
            if let Some(ids) = c.frameworks.get(*fw) {
                let _ = writeln!(out, "- {}: {}", lib.catalogs.name(fw), ids.join(", "));
            } else if lib.catalogs.base_of(fw) != *fw
                && c.frameworks.contains_key(lib.catalogs.base_of(fw))
            {
                let base = lib.catalogs.base_of(fw);
                let _ = writeln!(
                    out,
                    "- {}: through {}",
                    lib.catalogs.name(fw),
                    lib.catalogs.name(base)
                );
            }
        }
        for (fw, ids) in c
            .frameworks
            .iter()
            .filter(|(fw, _)| !ORDER.contains(&fw.as_str()))
        {
            let _ = writeln!(out, "- {}: {}", lib.catalogs.name(fw), ids.join(", "));
        }
        out.push_str("\n**How to fix.** ");
        out.push_str(&prose(&c.remediation));
    }
    out
}
