//! Framework catalogs (`controls/frameworks/*.toml`): SOC 2, SOC 3, ISO 27001:2022, HIPAA, FERPA.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One framework and its requirements, in catalog order.
#[derive(Debug, Clone, Serialize)]
pub struct Framework {
    pub id: String,
    pub name: String,
    pub version: String,
    /// The framework whose requirements this one reuses (SOC 3 → SOC 2).
    pub based_on: Option<String>,
    pub coverage: String,
    pub requirements: Vec<Requirement>,
}

/// One requirement of a framework.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Requirement {
    pub id: String,
    pub title: String,
    pub group: String,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Catalog kind (`clause`/`control`, `standard`/`implementation`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawCatalog {
    framework: RawFramework,
    #[serde(default)]
    requirement: Vec<RawRequirement>,
}

#[derive(Debug, Deserialize)]
struct RawFramework {
    id: String,
    name: String,
    version: String,
    based_on: Option<String>,
    coverage: String,
    expected_count: usize,
}

#[derive(Debug, Deserialize)]
struct RawRequirement {
    id: String,
    title: String,
    group: String,
    summary: String,
    #[serde(default)]
    aliases: Vec<String>,
    kind: Option<String>,
    parent: Option<String>,
    category: Option<String>,
}

impl Framework {
    /// Parses a catalog file and checks its declared count.
    pub fn parse(text: &str) -> Result<Framework, String> {
        let raw: RawCatalog = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        if raw.requirement.len() != raw.framework.expected_count {
            return Err(format!(
                "catalog `{}` declares {} requirements but lists {}",
                raw.framework.id,
                raw.framework.expected_count,
                raw.requirement.len()
            ));
        }
        Ok(Framework {
            id: raw.framework.id,
            name: raw.framework.name,
            version: raw.framework.version,
            based_on: raw.framework.based_on,
            coverage: raw.framework.coverage,
            requirements: raw
                .requirement
                .into_iter()
                .map(|r| Requirement {
                    id: r.id,
                    title: r.title,
                    group: r.group,
                    summary: r.summary,
                    aliases: r.aliases,
                    kind: r.kind,
                    parent: r.parent,
                    category: r.category,
                })
                .collect(),
        })
    }
}

/// Every framework, by id, with alias resolution.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalogs {
    pub frameworks: BTreeMap<String, Framework>,
}

impl Catalogs {
    /// The canonical id of `id` in `framework` (accepting aliases), if it exists.
    pub fn resolve(&self, framework: &str, id: &str) -> Option<&str> {
        let fw = self.frameworks.get(framework)?;
        fw.requirements
            .iter()
            .find(|r| r.id == id || r.aliases.iter().any(|a| a == id))
            .map(|r| r.id.as_str())
    }

    /// The framework whose requirement ids a mapping to `framework` uses (SOC 3 → SOC 2).
    pub fn base_of<'a>(&'a self, framework: &'a str) -> &'a str {
        self.frameworks
            .get(framework)
            .and_then(|f| f.based_on.as_deref())
            .unwrap_or(framework)
    }

    /// Display name of a framework (`SOC 2`), or the id.
    pub fn name<'a>(&'a self, framework: &'a str) -> &'a str {
        self.frameworks
            .get(framework)
            .map_or(framework, |f| f.name.as_str())
    }
}

/// Orders requirement ids as people read them: `A.5.3` before `A.5.23`, `CC6.2` before `CC6.10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(cb.iter()) {
        let ord = match (x, y) {
            ((true, xs), (true, ys)) => {
                let (xs, ys) = (xs.trim_start_matches('0'), ys.trim_start_matches('0'));
                xs.len().cmp(&ys.len()).then_with(|| xs.cmp(ys))
            }
            ((_, xs), (_, ys)) => xs.cmp(ys),
        };
        if ord != std::cmp::Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::natural_cmp;

    #[test]
    fn numbers_sort_by_value() {
        let mut ids = vec![
            "A.5.23",
            "A.5.3",
            "CC6.10",
            "CC6.2",
            "164.312(a)(2)(iv)",
            "164.308(a)(1)(ii)(A)",
        ];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            ids,
            vec![
                "164.308(a)(1)(ii)(A)",
                "164.312(a)(2)(iv)",
                "A.5.3",
                "A.5.23",
                "CC6.2",
                "CC6.10"
            ]
        );
    }
}
