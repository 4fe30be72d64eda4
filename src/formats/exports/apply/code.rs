//! GitHub: the organisation's two-factor requirement and members without 2FA (onto the
//! `[[application]]` of GitHub, `github` unless vouch.toml declares another id), and branch
//! protection (onto the `[[repository]]` it protects).

use std::sync::Arc;

use super::super::{Content, ExportFile};
use super::Join;
use crate::error::Problem;
use crate::model::Value;

pub fn apply(j: &mut Join<'_>) {
    let exports: Vec<Arc<ExportFile>> = j.exports.to_vec();
    let app_of = |j: &Join<'_>, e: &ExportFile| {
        j.settings
            .file(&e.path)
            .and_then(|d| d.application.clone())
            .unwrap_or_else(|| "github".to_owned())
    };
    let mut org_requires: Option<(bool, &ExportFile)> = None;
    let mut no2fa: Option<(&ExportFile, &[(String, usize)])> = None;
    for e in &exports {
        match &e.content {
            Content::GithubOrg { two_factor_required, login } => match two_factor_required {
                Some(r) => org_requires = Some((*r, e)),
                None => j.problems.push(
                    Problem::parse(&e.path, &e.text, 0, 0,
                        format!("`{}`: the settings of GitHub organisation `{login}` do not include `two_factor_requirement_enabled`", e.path),
                        "this export")
                    .with_help("GitHub returns it only to organisation owners: export `GET /orgs/{org}` with an owner's token"),
                ),
            },
            Content::GithubNo2fa(members) => no2fa = Some((e, members)),
            Content::BranchProtection(p) => {
                let address = format!("repository:{}", p.repository);
                let Some(idx) = j.index.get(&("Saas::Repository".to_owned(), address.clone())).copied().or_else(|| {
                    // Repository ids are case-insensitive on GitHub.
                    j.of_type("Saas::Repository").into_iter().find(|i| j.resources.get(*i).is_some_and(|r| r.address.eq_ignore_ascii_case(&address)))
                }) else {
                    j.problems.push(
                        Problem::parse(&e.path, &e.text, 0, 0,
                            format!("`{}` protects repository `{}`, which no `[[repository]]` declares", e.path, p.repository),
                            "this export")
                        .with_help("declare the repository in the inventory (with `infrastructure = true` if it holds infrastructure code)"),
                    );
                    continue;
                };
                j.import(idx, "protected_default_branch", Value::Bool(true), e, 0, "protected");
                j.import(idx, "required_reviews", Value::Long(p.required_reviews), e, 0, &p.required_reviews.to_string());
                j.import(idx, "signed_commits", Value::Bool(p.signed_commits), e, 0, &p.signed_commits.to_string());
            }
            _ => {}
        }
    }
    let Some(first) = org_requires.map(|o| o.1).or(no2fa.map(|n| n.0)) else {
        return;
    };
    let app = app_of(j, first);
    let address = format!("application:{app}");
    let Some(idx) = j
        .index
        .get(&("Saas::Application".to_owned(), address))
        .copied()
    else {
        j.problems.push(
            Problem::parse(&first.path, &first.text, 0, 0,
                format!("`{}` is a GitHub export, but no `[[application]]` `{app}` is declared", first.path),
                "this export")
            .with_help("declare `[[application]] id = \"github\"` in the inventory, or name the application in `[[exports.file]]` of vouch.toml"),
        );
        return;
    };
    if let Some((required, e)) = org_requires {
        j.import(
            idx,
            "mfa_required",
            Value::Bool(required),
            e,
            0,
            &required.to_string(),
        );
    }
    match (no2fa, org_requires) {
        (Some((e, members)), _) => {
            let names: Vec<String> = members.iter().map(|m| m.0.clone()).collect();
            j.import(idx, "accounts_without_mfa", Value::string_set(names), e, 0, "");
            if let Some(r) = j.resources.get_mut(idx) {
                for (login, offset) in members {
                    let d = format!("`{login}` is a member of the GitHub organisation without two-factor authentication ({})", e.at(*offset));
                    r.facts_mut().explain("accounts_without_mfa", d);
                }
            }
        }
        (None, Some((true, e))) => {
            // GitHub removes members without 2FA when the organisation requires it.
            j.import(idx, "accounts_without_mfa", Value::Set(Vec::new()), e, 0, "");
        }
        (None, _) => j.set_unknown(idx, "accounts_without_mfa", "the GitHub organisation does not require 2FA and no `members?filter=2fa_disabled` export is in the tree".to_owned()),
    }
}
