//! GitHub: organisation settings (`GET /orgs/{org}`, read as an owner so that
//! `two_factor_requirement_enabled` is present), members without two-factor authentication
//! (`GET /orgs/{org}/members?filter=2fa_disabled`, saved under a name containing
//! `2fa_disabled`) and branch protection (`GET /repos/{owner}/{repo}/branches/{branch}/protection`).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{self, Stamp};
use super::{BranchProtection, Content, ExportFile, Format};
use crate::error::Problem;
use crate::source::SourceFile;

#[derive(Deserialize)]
struct Org {
    login: String,
    two_factor_requirement_enabled: Option<bool>,
    updated_at: Option<Stamp>,
    collected_at: Option<Stamp>,
}

#[derive(Deserialize)]
struct Member {
    login: String,
}

#[derive(Deserialize)]
struct Enabled {
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
struct Reviews {
    #[serde(default)]
    required_approving_review_count: i64,
}

#[derive(Deserialize)]
struct Protection {
    url: Option<String>,
    required_pull_request_reviews: Option<Reviews>,
    required_signatures: Option<Enabled>,
    enforce_admins: Option<Enabled>,
    /// Added by export scripts when `url` was dropped: `owner/name`.
    repository: Option<String>,
    branch: Option<String>,
    collected_at: Option<Stamp>,
}

/// Parses `GET /orgs/{org}`.
pub fn parse_org(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let org: Org = json::parse(file)?;
    let declared = org.collected_at.as_ref().and_then(Stamp::day);
    let newest = org.updated_at.as_ref().and_then(Stamp::day);
    Ok(ExportFile::new(
        file,
        Format::GithubOrganization,
        Content::GithubOrg {
            login: org.login,
            two_factor_required: org.two_factor_requirement_enabled,
        },
        declared,
        newest,
    ))
}

/// Parses `GET /orgs/{org}/members?filter=2fa_disabled`.
pub fn parse_members(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let raws: Vec<&RawValue> = json::parse(file)?;
    let recs: Vec<(Member, usize)> = json::records(file, &raws, "a GitHub member")?;
    let members = recs
        .into_iter()
        .map(|(m, o)| (m.login.to_lowercase(), o))
        .collect();
    Ok(ExportFile::new(
        file,
        Format::GithubMembersWithout2fa,
        Content::GithubNo2fa(members),
        None,
        None,
    ))
}

/// `owner/name` and the branch from a protection URL
/// (`https://api.github.com/repos/{owner}/{repo}/branches/{branch}/protection`).
fn repo_of(url: &str) -> Option<(String, String)> {
    let rest = url.split("/repos/").nth(1)?;
    let mut parts = rest.splitn(4, '/');
    let owner = parts.next()?;
    let name = parts.next()?;
    if parts.next()? != "branches" {
        return None;
    }
    let branch = parts.next()?.strip_suffix("/protection")?;
    Some((format!("{owner}/{name}"), branch.to_owned()))
}

/// Parses branch protection JSON.
pub fn parse_protection(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let p: Protection = json::parse(file)?;
    let from_url = p.url.as_deref().and_then(repo_of);
    let Some((repository, branch)) = p
        .repository
        .clone()
        .map(|r| (r, p.branch.clone().unwrap_or_else(|| "main".to_owned())))
        .or(from_url)
    else {
        return Err(json::whole_file(
            file,
            format!(
                "`{}`: branch protection does not say which repository it protects",
                file.path
            ),
            "keep the `url` the API returns (…/repos/{owner}/{repo}/branches/{branch}/protection), or add `\"repository\": \"owner/name\"`",
        ));
    };
    let declared = p.collected_at.as_ref().and_then(Stamp::day);
    Ok(ExportFile::new(
        file,
        Format::GithubBranchProtection,
        Content::BranchProtection(BranchProtection {
            repository: repository.to_lowercase(),
            branch,
            required_reviews: p
                .required_pull_request_reviews
                .map_or(0, |r| r.required_approving_review_count),
            signed_commits: p.required_signatures.is_some_and(|s| s.enabled),
            enforce_admins: p.enforce_admins.is_some_and(|s| s.enabled),
        }),
        declared,
        None,
    ))
}
