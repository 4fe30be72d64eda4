//! Statuspage incidents: `GET /v1/pages/{page_id}/incidents` (an array) or the public
//! `GET /api/v2/incidents.json` (`{"page": …, "incidents": […]}`).
//!
//! Read: `id`, `name`, `impact` (`major` and `critical` are outages; `minor` and `none` are
//! degradations that do not count against uptime), `started_at` (else `created_at`),
//! `resolved_at`, `components[].name`, and `postmortem_body` / `postmortem_published_at`.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{self, Stamp};
use super::{Content, ExportFile, Format, IncidentRecord};
use crate::error::Problem;
use crate::source::SourceFile;

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    incidents: Vec<&'a RawValue>,
    collected_at: Option<Stamp>,
}

#[derive(Deserialize)]
struct Incident {
    id: String,
    name: String,
    #[serde(default)]
    impact: String,
    started_at: Option<Stamp>,
    created_at: Option<Stamp>,
    resolved_at: Option<Stamp>,
    updated_at: Option<Stamp>,
    #[serde(default)]
    components: Vec<Component>,
    postmortem_body: Option<String>,
    postmortem_published_at: Option<Stamp>,
}

#[derive(Deserialize)]
struct Component {
    name: String,
}

/// Parses a Statuspage incidents export.
pub fn parse(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let (raws, declared) = if file.text.trim_start().starts_with('[') {
        (json::parse::<Vec<&RawValue>>(file)?, None)
    } else {
        let page: Page<'_> = json::parse(file)?;
        (
            page.incidents,
            page.collected_at.as_ref().and_then(Stamp::day),
        )
    };
    let recs: Vec<(Incident, usize)> = json::records(file, &raws, "a Statuspage incident")?;
    let newest = json::newest(recs.iter().map(|(i, _)| i.updated_at.as_ref()));
    let incidents = recs
        .into_iter()
        .map(|(i, offset)| {
            let body = i
                .postmortem_body
                .as_deref()
                .is_some_and(|b| !b.trim().is_empty());
            IncidentRecord {
                id: i.id,
                title: i.name,
                components: i.components.into_iter().map(|c| c.name).collect(),
                started: i
                    .started_at
                    .as_ref()
                    .or(i.created_at.as_ref())
                    .and_then(Stamp::minutes),
                resolved: i.resolved_at.as_ref().and_then(Stamp::minutes),
                outage: matches!(i.impact.as_str(), "major" | "critical"),
                postmortem: Some(body || i.postmortem_published_at.is_some()),
                cause: i.postmortem_body.filter(|b| !b.trim().is_empty()),
                offset,
            }
        })
        .collect();
    Ok(ExportFile::new(
        file,
        Format::StatuspageIncidents,
        Content::Incidents(incidents),
        declared,
        newest,
    ))
}
