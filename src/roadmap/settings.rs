//! The `[roadmap]` table of `vouch.toml`: default targets, the weight of each certification, and
//! the SOC 2 categories in scope.
//!
//! ```toml
//! [roadmap]
//! targets = ["soc2", "iso27001", "hipaa"]     # used when --target is not given
//! soc2_categories = ["security", "availability"]  # SOC 2 / SOC 3 scope (security is always in)
//!
//! [roadmap.weights]        # what each certification is worth to you, e.g. deals waiting on it
//! soc2 = 3
//! hipaa = 1
//! ```

use std::collections::BTreeMap;

use crate::error::Problem;
use crate::library::Library;

/// Frameworks a roadmap can target.
pub const TARGETS: &[&str] = &["soc2", "soc3", "iso27001", "hipaa", "ferpa"];

/// Targets when neither `--target` nor `[roadmap] targets` names any.
pub const DEFAULT_TARGETS: &[&str] = &["soc2", "iso27001", "hipaa"];

/// SOC 2 categories (trust services criteria) a report can cover.
pub const SOC2_CATEGORIES: &[&str] = &[
    "security",
    "availability",
    "processing-integrity",
    "confidentiality",
    "privacy",
];

/// The validated roadmap settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Target frameworks, in the order given (deduplicated).
    pub targets: Vec<String>,
    /// Weight of each target (1 when not configured).
    pub weights: BTreeMap<String, f64>,
    /// SOC 2 categories in scope (always includes `security`), in catalog order.
    pub soc2_categories: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            targets: DEFAULT_TARGETS.iter().map(|s| (*s).to_owned()).collect(),
            weights: BTreeMap::new(),
            soc2_categories: vec!["security".to_owned()],
        }
    }
}

impl Settings {
    /// The weight of a target (1 unless configured).
    pub fn weight(&self, framework: &str) -> f64 {
        self.weights.get(framework).copied().unwrap_or(1.0)
    }

    /// Settings from the `[roadmap]` table and the `--target` list (which wins over `targets`).
    /// Every problem is reported at once.
    pub fn from_config(
        table: Option<&toml::Table>,
        cli_targets: &[String],
    ) -> Result<Settings, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut settings = Settings::default();
        let empty = toml::Table::new();
        let table = table.unwrap_or(&empty);
        for key in table.keys() {
            if !["targets", "weights", "soc2_categories"].contains(&key.as_str()) {
                problems.push(
                    config_problem(format!("unknown key `roadmap.{key}`")).with_help(
                        "[roadmap] takes `targets`, `soc2_categories` and a `[roadmap.weights]` table",
                    ),
                );
            }
        }
        let configured = match table.get("targets") {
            None => Vec::new(),
            Some(v) => strings(v, "roadmap.targets", &mut problems),
        };
        let requested: Vec<String> = if cli_targets.is_empty() {
            configured
        } else {
            cli_targets
                .iter()
                .flat_map(|t| t.split(','))
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect()
        };
        if !requested.is_empty() {
            settings.targets.clear();
            for t in requested {
                if !TARGETS.contains(&t.as_str()) {
                    problems.push(unknown_framework(&t));
                } else if !settings.targets.contains(&t) {
                    settings.targets.push(t);
                }
            }
        }
        match table.get("weights") {
            None => {}
            Some(toml::Value::Table(w)) => {
                for (fw, v) in w {
                    if !TARGETS.contains(&fw.as_str()) {
                        problems.push(unknown_framework(fw));
                        continue;
                    }
                    let weight = match v {
                        toml::Value::Integer(i) => Some(*i as f64),
                        toml::Value::Float(f) => Some(*f),
                        _ => None,
                    };
                    match weight {
                        Some(x) if x.is_finite() && x >= 0.0 => {
                            settings.weights.insert(fw.clone(), x);
                        }
                        _ => problems.push(
                            config_problem(format!(
                                "`roadmap.weights.{fw}` must be a number of at least 0"
                            ))
                            .with_help("e.g. the number of deals waiting on the certification"),
                        ),
                    }
                }
            }
            Some(_) => problems.push(config_problem(
                "`roadmap.weights` must be a table (`[roadmap.weights]` with `soc2 = 3`)".into(),
            )),
        }
        if let Some(v) = table.get("soc2_categories") {
            let mut cats = strings(v, "roadmap.soc2_categories", &mut problems);
            cats.push("security".to_owned());
            for c in &cats {
                if !SOC2_CATEGORIES.contains(&c.as_str()) {
                    let close = crate::error::did_you_mean(c, SOC2_CATEGORIES)
                        .map_or_else(String::new, |d| d + " ");
                    problems.push(
                        config_problem(format!("unknown SOC 2 category `{c}`")).with_help(format!(
                            "{close}use any of: {}",
                            SOC2_CATEGORIES.join(", ")
                        )),
                    );
                }
            }
            settings.soc2_categories = SOC2_CATEGORIES
                .iter()
                .filter(|c| cats.iter().any(|x| x == *c))
                .map(|c| (*c).to_owned())
                .collect();
        }
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(problems)
        }
    }

    /// Checks that every target has a catalog in the library.
    pub fn check_catalogs(&self, lib: &Library) -> Vec<Problem> {
        self.targets
            .iter()
            .filter(|t| !lib.catalogs.frameworks.contains_key(*t))
            .map(|t| config_problem(format!("the library has no catalog for `{t}`")))
            .collect()
    }
}

fn config_problem(message: String) -> Problem {
    Problem::config(message, Some(crate::config::FILE_NAME))
}

fn unknown_framework(name: &str) -> Problem {
    let close = crate::error::did_you_mean(name, TARGETS).map_or_else(String::new, |d| d + " ");
    Problem::config(format!("unknown target framework `{name}`"), None)
        .with_help(format!("{close}use any of: {}", TARGETS.join(", ")))
}

fn strings(v: &toml::Value, key: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    let list = v.as_array().map(|a| {
        a.iter()
            .map(|x| x.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()
    });
    match list {
        Some(Some(l)) => l,
        _ => {
            problems.push(config_problem(format!("`{key}` must be a list of names")));
            Vec::new()
        }
    }
}
