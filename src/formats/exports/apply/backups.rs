//! AWS Backup jobs against the inventory's datastores.
//!
//! A job belongs to the datastore whose id is the resource name of its ARN
//! (`arn:aws:rds:…:db:acme-pg-globex`), or its last `-`-separated part after a prefix
//! (`acme-pg-globex` ends with `-pg-globex`). A restore job belongs to the datastore of the
//! backup job that made its recovery point (or its `SourceResourceArn`).
//!
//! - `days_since_restore_test` comes from the newest `COMPLETED` restore job; with a restore
//!   export and none for a datastore, it is absent (no restore shown), whatever is declared.
//! - `failed_backup_jobs` lists the backup jobs in `FAILED`, `ABORTED`, `EXPIRED` or `PARTIAL`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::super::{BackupJob, Content, ExportFile, aws_backup};
use super::Join;
use crate::model::Value;

/// The resource name of an ARN (`…:db:name`, `…:table/name`, `…:volume/vol-1`).
fn name_of(arn: &str) -> &str {
    arn.rsplit([':', '/']).next().unwrap_or(arn)
}

/// The datastore id among `ids` that `arn` names.
fn datastore_of<'a>(arn: &str, ids: &'a [String]) -> Option<&'a String> {
    let name = name_of(arn);
    ids.iter()
        .find(|id| name == id.as_str())
        .or_else(|| ids.iter().find(|id| name.ends_with(&format!("-{id}"))))
}

pub fn apply(j: &mut Join<'_>) {
    let exports: Vec<Arc<ExportFile>> = j.exports.to_vec();
    let backups: Vec<&ExportFile> = exports
        .iter()
        .filter(|e| matches!(e.content, Content::BackupJobs(_)))
        .map(|e| &**e)
        .collect();
    let restores: Vec<&ExportFile> = exports
        .iter()
        .filter(|e| matches!(e.content, Content::RestoreJobs(_)))
        .map(|e| &**e)
        .collect();
    if backups.is_empty() && restores.is_empty() {
        return;
    }
    let stores = j.of_type("Saas::Datastore");
    let ids: Vec<String> = stores
        .iter()
        .filter_map(|i| j.resources.get(*i))
        .map(|r| r.address.trim_start_matches("datastore:").to_owned())
        .collect();
    let idx_of: HashMap<&str, usize> = ids
        .iter()
        .map(String::as_str)
        .zip(stores.iter().copied())
        .collect();

    // Backup jobs per datastore; recovery points to their datastore.
    let mut jobs: BTreeMap<&str, Vec<(&ExportFile, &BackupJob)>> = BTreeMap::new();
    let mut point_of: HashMap<&str, &str> = HashMap::new();
    for e in &backups {
        let Content::BackupJobs(list) = &e.content else {
            continue;
        };
        for job in list {
            let Some(ds) = job
                .resource_arn
                .as_deref()
                .and_then(|a| datastore_of(a, &ids))
            else {
                continue;
            };
            if let Some(p) = job.recovery_point_arn.as_deref() {
                point_of.insert(p, ds.as_str());
            }
            jobs.entry(ds.as_str()).or_default().push((e, job));
        }
    }
    let mut last_restore: BTreeMap<&str, (i64, &ExportFile, &BackupJob)> = BTreeMap::new();
    for e in &restores {
        let Content::RestoreJobs(list) = &e.content else {
            continue;
        };
        for job in list.iter().filter(|j| j.state == "COMPLETED") {
            let ds = job
                .resource_arn
                .as_deref()
                .and_then(|a| datastore_of(a, &ids).map(String::as_str))
                .or_else(|| {
                    job.recovery_point_arn
                        .as_deref()
                        .and_then(|p| point_of.get(p).copied())
                });
            let (Some(ds), Some(day)) = (ds, job.completed.or(job.created)) else {
                continue;
            };
            let slot = last_restore.entry(ds).or_insert((day, e, job));
            if day > slot.0 {
                *slot = (day, e, job);
            }
        }
    }

    let mut failed_restores: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for e in &restores {
        let Content::RestoreJobs(list) = &e.content else {
            continue;
        };
        for job in list
            .iter()
            .filter(|j| j.state != "COMPLETED" && j.state != "RUNNING" && j.state != "PENDING")
        {
            let ds = job
                .resource_arn
                .as_deref()
                .and_then(|a| datastore_of(a, &ids).map(String::as_str))
                .or_else(|| {
                    job.recovery_point_arn
                        .as_deref()
                        .and_then(|p| point_of.get(p).copied())
                });
            if let Some(ds) = ds {
                failed_restores.entry(ds).or_default().push(format!(
                    "restore job `{}` of `{ds}` {} on {}{} ({})",
                    job.job_id,
                    job.state.to_ascii_lowercase(),
                    job.created
                        .map_or_else(|| "an unknown day".to_owned(), crate::dates::format_days),
                    job.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default(),
                    e.at(job.offset)
                ));
            }
        }
    }
    for id in &ids {
        let Some(&idx) = idx_of.get(id.as_str()) else {
            continue;
        };
        if let (Some(list), Some(r)) = (failed_restores.get(id.as_str()), j.resources.get_mut(idx))
        {
            for d in list {
                r.facts_mut().explain("days_since_restore_test", d.clone());
            }
        }
        if let Some(first) = backups.first() {
            let mine = jobs.get(id.as_str()).map_or(&[][..], Vec::as_slice);
            let failed: Vec<String> = mine
                .iter()
                .filter(|(_, b)| aws_backup::failed(&b.state))
                .map(|(_, b)| b.job_id.clone())
                .collect();
            let details: Vec<String> = mine
                .iter()
                .filter(|(_, b)| aws_backup::failed(&b.state))
                .map(|(e, b)| {
                    format!(
                        "backup job `{}` of `{id}` {} on {}{} ({})",
                        b.job_id,
                        b.state.to_ascii_lowercase(),
                        b.created
                            .map_or_else(|| "an unknown day".to_owned(), crate::dates::format_days),
                        b.message
                            .as_deref()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default(),
                        e.at(b.offset)
                    )
                })
                .collect();
            let (source_file, offset) = mine.first().map_or((*first, 0), |(e, b)| (*e, b.offset));
            j.import(
                idx,
                "failed_backup_jobs",
                Value::string_set(failed),
                source_file,
                offset,
                "",
            );
            let declared_enabled = j
                .resources
                .get(idx)
                .is_some_and(|r| r.attrs.get("backup_enabled") == Some(&Value::Bool(true)));
            if let Some(r) = j.resources.get_mut(idx) {
                for d in details {
                    r.facts_mut().explain("failed_backup_jobs", d);
                }
                if declared_enabled && mine.is_empty() {
                    let text = format!(
                        "`backup` is declared enabled ({}:{}) but no backup job of `{id}` is in {}",
                        r.span.file, r.span.line, first.path
                    );
                    r.facts_mut().explain("contradictions", text);
                    super::contradiction(r, "backup_enabled");
                }
            }
        }
        if let Some(first) = restores.first() {
            match last_restore.get(id.as_str()) {
                Some((day, e, job)) => {
                    let days = (j.as_of - day).max(0);
                    let when = crate::dates::format_days(*day);
                    j.import(
                        idx,
                        "days_since_restore_test",
                        Value::Long(days),
                        e,
                        job.offset,
                        &format!("restored {when}"),
                    );
                    if let Some(r) = j.resources.get_mut(idx) {
                        r.facts_mut().explain(
                            "days_since_restore_test",
                            format!(
                                "the last completed restore job of `{id}` is `{}` on {when} ({})",
                                job.job_id,
                                e.at(job.offset)
                            ),
                        );
                    }
                }
                None => {
                    let s = j.source(first);
                    if let Some(r) = j.resources.get_mut(idx) {
                        let declared = r.attrs.remove("days_since_restore_test");
                        if let Some(Value::Long(d)) = declared {
                            let text = format!(
                                "a restore test {d} days ago is declared ({}:{}) but no completed restore job of `{id}` is in {}",
                                r.span.file, r.span.line, first.path
                            );
                            r.facts_mut().explain("contradictions", text);
                            super::contradiction(r, "days_since_restore_test");
                        }
                        r.facts_mut().explain(
                            "days_since_restore_test",
                            format!("no completed restore job of `{id}` is in {}", first.path),
                        );
                        r.facts_mut().import("days_since_restore_test", s);
                    }
                }
            }
        }
    }
}
