//! Helm charts, rendered with `helm template` when Helm is installed.
//!
//! A chart (a directory with `Chart.yaml`) is rendered with its default values plus any
//! `--helm-values` files, as release `release-name` in namespace `default`, from the directory
//! on disk. Helm is looked up as `$VOUCH_HELM`, else `helm` on `PATH`. A chart that cannot be
//! rendered — Helm missing, Helm failing (say a dependency not vendored under `charts/`), a
//! symlink leaving the scanned tree, or a command that does not read a directory on disk (the
//! gate reads git objects) — is listed as not rendered with the reason, and counted; it is
//! never silent and never a run failure. Rendered objects point at the template that produced
//! them (Helm's `# Source:` lines).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::summary::NotRendered;
use super::tree::{Node, Origin, Pos, Value};
use super::units::{Chart, read_rendered};
use super::{load, objects_of};
use crate::error::Problem;
use crate::model::Resource;

/// The environment variable naming the `helm` binary to use.
pub const HELM_ENV: &str = "VOUCH_HELM";

/// How long one `helm template` may run.
const HELM_TIMEOUT: Duration = Duration::from_secs(120);

/// How charts are rendered.
#[derive(Debug, Clone, Default)]
pub struct HelmOptions {
    /// Values files given with `--helm-values`, applied to every chart after its defaults.
    pub values: Vec<PathBuf>,
}

/// What rendering the charts produced.
#[derive(Debug, Default)]
pub struct ChartsRendered {
    pub resources: Vec<Resource>,
    pub problems: Vec<Problem>,
    pub rendered: Vec<String>,
    pub not_rendered: Vec<NotRendered>,
}

/// One chart's resources and problems, or why it was not rendered.
type Rendering = Result<(Vec<Resource>, Vec<Problem>), String>;

/// The `helm` binary, if any.
fn helm_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(HELM_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("helm"))
        .find(|p| p.is_file())
}

/// Renders every chart under `root` (a directory on disk).
pub fn render_charts(charts: &[Chart], root: &Path, opts: &HelmOptions) -> ChartsRendered {
    let mut out = ChartsRendered::default();
    if charts.is_empty() {
        return out;
    }
    let missing: Vec<&PathBuf> = opts.values.iter().filter(|v| !v.is_file()).collect();
    if !missing.is_empty() {
        for v in &missing {
            out.problems.push(
                Problem::config(
                    format!("`--helm-values {}` is not a file", v.display()),
                    None,
                )
                .with_help("give the path of a Helm values file"),
            );
        }
        out.not_rendered = charts
            .iter()
            .map(|c| NotRendered {
                path: c.dir.clone(),
                reason: "a `--helm-values` file is missing".to_owned(),
            })
            .collect();
        return out;
    }
    let Some(helm) = helm_binary() else {
        out.not_rendered = charts
            .iter()
            .map(|c| NotRendered {
                path: c.dir.clone(),
                reason: format!(
                    "`helm` is not installed (install Helm 3, or set `{HELM_ENV}` to its path)"
                ),
            })
            .collect();
        return out;
    };
    let results: Vec<(String, Rendering)> = charts
        .par_iter()
        .map(|c| (c.dir.clone(), render_one(&helm, root, &c.dir, opts)))
        .collect();
    for (dir, r) in results {
        match r {
            Ok((resources, problems)) => {
                out.resources.extend(resources);
                out.problems.extend(problems);
                out.rendered.push(dir);
            }
            Err(reason) => out.not_rendered.push(NotRendered { path: dir, reason }),
        }
    }
    out
}

/// The first symlink under `dir` whose target leaves `root`, if any.
fn escaping_symlink(root: &Path, dir: &Path) -> Option<PathBuf> {
    let root = root.canonicalize().ok()?;
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path_is_symlink())
        .find(|e| {
            e.path()
                .canonicalize()
                .map_or(true, |t| !t.starts_with(&root))
        })
        .map(|e| e.path().to_path_buf())
}

/// Runs `helm template` on one chart and reads its output.
fn render_one(helm: &Path, root: &Path, dir: &str, opts: &HelmOptions) -> Rendering {
    let chart_dir = if dir.is_empty() {
        root.to_path_buf()
    } else {
        root.join(dir)
    };
    if let Some(link) = escaping_symlink(root, &chart_dir) {
        return Err(format!(
            "`{}` is a symlink leaving the scanned tree; vouch does not render a chart that reads outside it",
            link.strip_prefix(root).unwrap_or(&link).display()
        ));
    }
    let mut cmd = Command::new(helm);
    cmd.arg("template")
        .arg("release-name")
        .arg(&chart_dir)
        .arg("--namespace")
        .arg("default");
    for v in &opts.values {
        cmd.arg("--values").arg(v);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("`{}` could not be started: {e}", helm.display()))?;
    // Read both pipes while waiting, so a chatty Helm cannot block on a full pipe.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = stdout.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > HELM_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`helm template` took longer than {} s",
                    HELM_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("`helm template` failed: {e}")),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        let first = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no message");
        return Err(format!("`helm template` failed: {first}"));
    }
    Ok(read_output(root, dir, &stdout))
}

/// Reads `helm template` output: each document is attributed to the template Helm names in
/// its `# Source: <chart>/<path>` line, and points at the top of that template.
fn read_output(root: &Path, dir: &str, text: &str) -> (Vec<Resource>, Vec<Problem>) {
    let rendered = Origin::new(&format!("{dir}/(helm template output)"), Arc::from(text));
    let docs = load::documents(&rendered);
    let mut problems = docs.problems;
    let mut objects = Vec::new();
    for mut doc in docs.roots {
        let start = doc.pos.offset as usize;
        let source = source_of(text, start).map(|s| chart_path(dir, &s));
        let origin = match &source {
            Some(path) => {
                let template = std::fs::read_to_string(root.join(path)).unwrap_or_default();
                Origin::new(path, Arc::from(template))
            }
            None => Arc::clone(&rendered),
        };
        point_at_start(&mut doc, &origin);
        objects_of(doc, &origin, &mut objects, &mut problems);
    }
    let label = if dir.is_empty() { "." } else { dir };
    let (resources, more) = read_rendered(label, &objects);
    problems.extend(more);
    (resources, problems)
}

/// The `# Source:` line closest before `offset`.
fn source_of(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let line = before.lines().rev().find(|l| l.starts_with("# Source: "))?;
    Some(line.trim_start_matches("# Source: ").trim().to_owned())
}

/// `mychart/templates/x.yaml` (Helm names it from the chart's name) under the chart's
/// directory: `charts/web/templates/x.yaml`.
fn chart_path(dir: &str, source: &str) -> String {
    let inner = source.split_once('/').map_or(source, |(_, rest)| rest);
    if dir.is_empty() {
        inner.to_owned()
    } else {
        format!("{dir}/{inner}")
    }
}

/// Points every node at the start of `origin` (a template's lines are not the output's).
fn point_at_start(root: &mut Node, origin: &Arc<Origin>) {
    root.origin = Some(Arc::clone(origin));
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        n.pos = Pos::default();
        match &mut n.value {
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => {
                for e in entries.iter_mut() {
                    e.key_pos = Pos::default();
                    stack.push(&mut e.value);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{chart_path, source_of};

    #[test]
    fn sources_map_to_chart_files() {
        let text = "---\n# Source: web/templates/deploy.yaml\napiVersion: v1\n";
        assert_eq!(
            source_of(text, 40).as_deref(),
            Some("web/templates/deploy.yaml")
        );
        assert_eq!(
            chart_path("charts/web", "web/templates/deploy.yaml"),
            "charts/web/templates/deploy.yaml"
        );
        assert_eq!(chart_path("", "web/templates/a.yaml"), "templates/a.yaml");
    }
}
