//! PagerDuty incidents: `GET /incidents?statuses[]=resolved&since=…&until=…` (REST API v2,
//! `{"incidents": […], "limit": …, "more": false}`, pages concatenated).
//!
//! Read: `id`, `incident_number`, `title`, `service.summary`, `urgency` (`high` is an outage),
//! `created_at`, `status` with `resolved_at` (or `last_status_change_at` once resolved). The
//! incidents API records no postmortem: a PagerDuty incident's postmortem is unknown unless the
//! inventory's `[[incident]]` with the same id declares it.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{self, Stamp};
use super::{Content, ExportFile, Format, IncidentRecord};
use crate::error::Problem;
use crate::source::SourceFile;

#[derive(Deserialize)]
struct List<'a> {
    #[serde(borrow)]
    incidents: Vec<&'a RawValue>,
    collected_at: Option<Stamp>,
}

#[derive(Deserialize)]
struct Incident {
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    urgency: String,
    service: Option<Service>,
    created_at: Option<Stamp>,
    resolved_at: Option<Stamp>,
    last_status_change_at: Option<Stamp>,
}

#[derive(Deserialize)]
struct Service {
    summary: String,
}

/// Parses a PagerDuty incidents export.
pub fn parse(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let list: List<'_> = json::parse(file)?;
    let recs: Vec<(Incident, usize)> =
        json::records(file, &list.incidents, "a PagerDuty incident")?;
    let newest = json::newest(
        recs.iter()
            .map(|(i, _)| i.last_status_change_at.as_ref().or(i.created_at.as_ref())),
    );
    let incidents = recs
        .into_iter()
        .map(|(i, offset)| {
            let resolved = i.resolved_at.as_ref().or_else(|| {
                (i.status == "resolved")
                    .then_some(i.last_status_change_at.as_ref())
                    .flatten()
            });
            IncidentRecord {
                id: i.id,
                title: i.title,
                components: i.service.into_iter().map(|s| s.summary).collect(),
                started: i.created_at.as_ref().and_then(Stamp::minutes),
                resolved: resolved.and_then(Stamp::minutes),
                outage: i.urgency == "high",
                postmortem: None,
                cause: None,
                offset,
            }
        })
        .collect();
    let declared = list.collected_at.as_ref().and_then(Stamp::day);
    Ok(ExportFile::new(
        file,
        Format::PagerdutyIncidents,
        Content::Incidents(incidents),
        declared,
        newest,
    ))
}
