//! AWS Backup: `aws backup list-backup-jobs --output json` and
//! `aws backup list-restore-jobs --output json` (pages concatenated).
//!
//! Backup jobs: `BackupJobId`, `ResourceArn`, `ResourceName`, `RecoveryPointArn`, `State`
//! (`COMPLETED`; `FAILED`, `ABORTED`, `EXPIRED` and `PARTIAL` are failures), `StatusMessage`,
//! `CreationDate`. Restore jobs: `RestoreJobId`, `RecoveryPointArn` (joined to the backup job
//! that made it, for the datastore), `SourceResourceArn` when present, `Status`,
//! `CompletionDate`. Dates are RFC 3339 (CLI v2) or epoch seconds (CLI v1).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{self, Stamp};
use super::{BackupJob, Content, ExportFile, Format};
use crate::error::Problem;
use crate::source::SourceFile;

#[derive(Deserialize)]
struct BackupList<'a> {
    #[serde(rename = "BackupJobs", borrow)]
    jobs: Vec<&'a RawValue>,
    collected_at: Option<Stamp>,
}

#[derive(Deserialize)]
struct RestoreList<'a> {
    #[serde(rename = "RestoreJobs", borrow)]
    jobs: Vec<&'a RawValue>,
    collected_at: Option<Stamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Backup {
    backup_job_id: String,
    resource_arn: Option<String>,
    recovery_point_arn: Option<String>,
    state: String,
    status_message: Option<String>,
    creation_date: Option<Stamp>,
    completion_date: Option<Stamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Restore {
    restore_job_id: String,
    recovery_point_arn: Option<String>,
    source_resource_arn: Option<String>,
    status: String,
    status_message: Option<String>,
    creation_date: Option<Stamp>,
    completion_date: Option<Stamp>,
}

/// Parses `list-backup-jobs` output.
pub fn parse_backup_jobs(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let list: BackupList<'_> = json::parse(file)?;
    let recs: Vec<(Backup, usize)> = json::records(file, &list.jobs, "a backup job")?;
    let newest = json::newest(recs.iter().map(|(j, _)| j.creation_date.as_ref()));
    let jobs = recs
        .into_iter()
        .map(|(j, offset)| BackupJob {
            job_id: j.backup_job_id,
            resource_arn: j.resource_arn,
            recovery_point_arn: j.recovery_point_arn,
            state: j.state.to_ascii_uppercase(),
            message: j.status_message.filter(|m| !m.trim().is_empty()),
            created: j.creation_date.as_ref().and_then(Stamp::day),
            completed: j.completion_date.as_ref().and_then(Stamp::day),
            offset,
        })
        .collect();
    let declared = list.collected_at.as_ref().and_then(Stamp::day);
    Ok(ExportFile::new(
        file,
        Format::AwsBackupJobs,
        Content::BackupJobs(jobs),
        declared,
        newest,
    ))
}

/// Parses `list-restore-jobs` output.
pub fn parse_restore_jobs(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let list: RestoreList<'_> = json::parse(file)?;
    let recs: Vec<(Restore, usize)> = json::records(file, &list.jobs, "a restore job")?;
    let newest = json::newest(recs.iter().map(|(j, _)| j.creation_date.as_ref()));
    let jobs = recs
        .into_iter()
        .map(|(j, offset)| BackupJob {
            job_id: j.restore_job_id,
            resource_arn: j.source_resource_arn,
            recovery_point_arn: j.recovery_point_arn,
            state: j.status.to_ascii_uppercase(),
            message: j.status_message.filter(|m| !m.trim().is_empty()),
            created: j.creation_date.as_ref().and_then(Stamp::day),
            completed: j.completion_date.as_ref().and_then(Stamp::day),
            offset,
        })
        .collect();
    let declared = list.collected_at.as_ref().and_then(Stamp::day);
    Ok(ExportFile::new(
        file,
        Format::AwsRestoreJobs,
        Content::RestoreJobs(jobs),
        declared,
        newest,
    ))
}

/// True for a job state that means the backup was not taken.
pub fn failed(state: &str) -> bool {
    matches!(state, "FAILED" | "ABORTED" | "EXPIRED" | "PARTIAL")
}
