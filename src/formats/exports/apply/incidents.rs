//! Incidents and uptime: Statuspage and PagerDuty incidents become `Saas::Incident`s (one per
//! incident, `postmortem` imported where the export records it), and each `[[service]]` gets
//! `months_below_slo`: the months whose outage minutes, from the incidents of its components,
//! put its uptime below its `slo`.
//!
//! An incident's component belongs to the service whose id equals the component's name
//! (ignoring case, spaces, `-` and `_`), or the service that lists it in `components`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::super::{Content, ExportFile, IncidentRecord};
use super::Join;
use crate::model::{Resource, Value};

fn norm(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Minutes in the month of `day` (since the epoch) and its `YYYY-MM` label.
fn month_of(minute: i64) -> (String, i64, i64) {
    let day = minute.div_euclid(1440);
    let (y, m, _) = crate::dates::civil_from_days(day);
    let start = crate::dates::days_from_civil(y, m, 1);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let end = crate::dates::days_from_civil(ny, nm, 1);
    (format!("{y:04}-{m:02}"), start * 1440, end * 1440)
}

/// Outage minutes per month of one incident (split at month boundaries).
fn outage_by_month(i: &IncidentRecord, now: i64) -> Vec<(String, i64, i64)> {
    let (Some(start), true) = (i.started, i.outage) else {
        return Vec::new();
    };
    let end = i.resolved.unwrap_or(now).max(start);
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let (label, m_start, m_end) = month_of(at);
        let until = end.min(m_end);
        out.push((label, until - at, m_end - m_start));
        at = until;
        if out.len() > 120 {
            break;
        }
    }
    out
}

/// One month of a service: outage minutes, minutes in the month, the incidents behind them.
type Month = (i64, i64, Vec<String>);

pub fn apply(j: &mut Join<'_>) {
    let exports: Vec<Arc<ExportFile>> = j.exports.to_vec();
    let sources: Vec<&ExportFile> = exports
        .iter()
        .filter(|e| matches!(e.content, Content::Incidents(_)))
        .map(|e| &**e)
        .collect();
    if sources.is_empty() {
        return;
    }
    let services: Vec<(usize, String)> = j
        .of_type("Saas::Service")
        .into_iter()
        .filter_map(|i| {
            j.resources
                .get(i)
                .map(|r| (i, r.address.trim_start_matches("service:").to_owned()))
        })
        .collect();
    let service_of = |component: &str| {
        services
            .iter()
            .find(|(_, id)| norm(id) == norm(component))
            .map(|(i, id)| (*i, id.clone()))
    };
    let now = (j.as_of + 1) * 1440;
    // service index → month → (outage minutes, minutes in month, incidents)
    let mut outages: BTreeMap<usize, BTreeMap<String, Month>> = BTreeMap::new();
    for e in &sources {
        let Content::Incidents(list) = &e.content else {
            continue;
        };
        for i in list {
            let mine: Vec<(usize, String)> =
                i.components.iter().filter_map(|c| service_of(c)).collect();
            let address = format!("incident:{}", i.id);
            let span = e.span(i.offset);
            let existing = j
                .index
                .get(&("Saas::Incident".to_owned(), address.clone()))
                .copied();
            let idx = match existing {
                Some(idx) => idx,
                None => {
                    let minutes: i64 = outage_by_month(i, now).iter().map(|o| o.1).sum();
                    let mut r = Resource::new("Saas::Incident", address, span)
                        .with(
                            "service",
                            Value::str(
                                mine.first()
                                    .map_or_else(|| i.components.join(", "), |s| s.1.clone()),
                            ),
                        )
                        .with("downtime_minutes", Value::Long(minutes))
                        .with("contradictions", Value::Set(Vec::new()));
                    r.set("postmortem", Value::unknown(format!(
                        "the {} export does not record postmortems; declare `postmortem` on `[[incident]]` `{}`",
                        e.format.as_str(), i.id
                    )));
                    let s = j.source(e);
                    r.facts_mut().import("downtime_minutes", s.clone());
                    r.facts_mut().import("service", s);
                    j.push(r);
                    j.resources.len() - 1
                }
            };
            match &i.cause {
                Some(c) => j.import(idx, "cause", Value::str(c), e, i.offset, c),
                None if existing.is_none() => j.set_unknown(idx, "cause", format!(
                    "the {} export does not record a cause for `{}`; declare `cause` on `[[incident]]` `{}`",
                    e.format.as_str(), i.id, i.id
                )),
                None => {}
            }
            if let Some(pm) = i.postmortem {
                j.import(
                    idx,
                    "postmortem",
                    Value::Bool(pm),
                    e,
                    i.offset,
                    if pm { "recorded" } else { "none" },
                );
            }
            for (svc, _) in &mine {
                for (month, minutes, total) in outage_by_month(i, now) {
                    let slot = outages.entry(*svc).or_default().entry(month).or_insert((
                        0,
                        total,
                        Vec::new(),
                    ));
                    slot.0 += minutes;
                    slot.2
                        .push(format!("{} ({}, {minutes} min)", i.id, e.at(i.offset)));
                }
            }
        }
    }
    for (idx, _) in &services {
        let Some(r) = j.resources.get(*idx) else {
            continue;
        };
        let slo = match r.attrs.get("slo") {
            Some(Value::String(s)) => s.trim().trim_end_matches('%').parse::<f64>().ok(),
            _ => None,
        };
        let Some(slo) = slo else { continue };
        let mut below = Vec::new();
        let mut details = Vec::new();
        for (month, (down, total, list)) in outages.get(idx).into_iter().flatten() {
            #[expect(
                clippy::cast_precision_loss,
                reason = "minutes in a month fit an f64 exactly"
            )]
            let uptime = 100.0 * (1.0 - *down as f64 / (*total).max(1) as f64);
            if uptime < slo {
                below.push(month.clone());
                details.push(format!("{month}: uptime {uptime:.3} % is below the SLO of {slo} % ({down} minutes down: {})", list.join(", ")));
            }
        }
        for e in &sources {
            j.import(
                *idx,
                "months_below_slo",
                Value::string_set(below.clone()),
                e,
                0,
                "",
            );
        }
        if let Some(r) = j.resources.get_mut(*idx) {
            for d in details {
                r.facts_mut().explain("months_below_slo", d);
            }
        }
    }
}
