//! `vouch access`: answer one access request (`check`), review every standing grant for least
//! privilege (`review`), and show what a change to grants or access policies allows or denies
//! (`diff`). Decisions come from the engine's access policies; this module only gathers the
//! inputs and explains the answer.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::app::{as_of_days, exit, fail};
use crate::assessment::{CheckResult, Selection, Status};
use crate::check::{self, CheckOptions};
use crate::engine::access::{AccessStore, RequestFacts};
use crate::engine::{self, Compiled};
use crate::error::{Problem, ProblemKind};
use crate::formats::{self, LoadContext};
use crate::library::Library;
use crate::model::Resource;
use crate::report::{self, Format, human};

/// Control families whose findings `review` reports.
pub const REVIEW_FAMILIES: &[&str] = &["access", "iam"];

/// Options of `vouch access check`.
#[derive(Debug, Clone)]
pub struct CheckArgs {
    pub path: PathBuf,
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// `key=value` pairs: `mfa=true`, `ticket=CHG-1`, `approver=bob`.
    pub context: Vec<String>,
    /// `4h`, `2d`, `30m`.
    pub duration: Option<String>,
    pub format: Format,
    pub as_of: Option<String>,
}

/// Why a policy decided, in words, with the control and requirements behind it.
#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    pub message: String,
    pub frameworks: BTreeMap<String, Vec<String>>,
}

/// The answer to one access request.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub schema_version: u32,
    pub decision: &'static str,
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub context: serde_json::Value,
    /// The grant permits that matched.
    pub granted_by: Vec<String>,
    /// The least-privilege rules that denied, with what is missing.
    pub denied_by: Vec<Reason>,
    /// Said when no grant gives the access at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_grant: Option<String>,
}

/// Parses `4h`, `2d`, `90m` (or a bare number of hours) into whole hours, rounding up.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().ok()?;
    match unit {
        "" | "h" => Some(n),
        "d" => n.checked_mul(24),
        "m" => Some((n + 59) / 60),
        "w" => n.checked_mul(24 * 7),
        _ => None,
    }
}

/// Loads the tree's resources and compiles the library (the access store is built from them).
fn load(path: &Path, as_of: i64) -> Result<(Vec<Resource>, Library, Compiled), Vec<Problem>> {
    let mut tree = check::read_tree(path);
    let loaded = formats::load(&tree.files, &LoadContext { as_of_days: as_of });
    tree.problems.extend(loaded.problems);
    match tree.compiled {
        Some(c) if tree.problems.is_empty() => Ok((loaded.resources, tree.library, c)),
        _ => Err(tree.problems),
    }
}

fn unknown(what: &str, name: &str, known: &[&str], hint: &str) -> Problem {
    let help = crate::error::did_you_mean(name, known).unwrap_or_else(|| hint.to_owned());
    Problem::new(ProblemKind::Config, format!("unknown {what} `{name}`")).with_help(help)
}

/// Builds the request facts from `--context` pairs and `--duration`.
fn facts(args: &CheckArgs) -> Result<RequestFacts, Vec<Problem>> {
    let mut f = RequestFacts::default();
    let mut problems = Vec::new();
    for pair in &args.context {
        let Some((k, v)) = pair.split_once('=') else {
            problems.push(Problem::config(
                format!("`--context {pair}` is not key=value"),
                None,
            ));
            continue;
        };
        match k.trim() {
            "mfa" => match v.trim() {
                "true" | "yes" => f.mfa = true,
                "false" | "no" => f.mfa = false,
                other => problems.push(Problem::config(
                    format!("`mfa={other}` must be true or false"),
                    None,
                )),
            },
            "ticket" => f.ticket = v.trim().to_owned(),
            "approver" => f.approver = v.trim().to_owned(),
            "duration" => match parse_duration(v) {
                Some(h) => f.duration_hours = h,
                None => problems.push(Problem::config(
                    format!("`duration={v}` is not a duration like 4h or 2d"),
                    None,
                )),
            },
            other => problems.push(
                Problem::config(format!("unknown context key `{other}`"), None)
                    .with_help("the access context has: mfa, ticket, approver, duration"),
            ),
        }
    }
    if let Some(d) = &args.duration {
        match parse_duration(d) {
            Some(h) => f.duration_hours = h,
            None => problems.push(Problem::config(
                format!("`--duration {d}` is not a duration like 4h or 2d"),
                None,
            )),
        }
    }
    if problems.is_empty() {
        Ok(f)
    } else {
        Err(problems)
    }
}

/// `vouch access check`: exit 0 allow, 1 deny, 2 error.
pub fn check_cmd(args: &CheckArgs) -> u8 {
    let as_of = match as_of_days(args.as_of.as_deref()) {
        Ok(d) => d,
        Err(p) => return fail(&[p]),
    };
    let request = match facts(args) {
        Ok(f) => f,
        Err(ps) => return fail(&ps),
    };
    let (resources, library, compiled) = match load(&args.path, as_of) {
        Ok(x) => x,
        Err(ps) => return fail(&ps),
    };
    let store = match AccessStore::build(&compiled, &resources) {
        Ok(s) => s,
        Err(e) => {
            return fail(&[Problem::new(
                ProblemKind::Evaluation,
                format!("the access entities do not load: {e}"),
            )]);
        }
    };
    let user = if args.principal.starts_with("user:") {
        args.principal.clone()
    } else {
        format!("user:{}", args.principal)
    };
    let mut problems = Vec::new();
    if !store.has_user(&user) {
        let names: Vec<&str> = store
            .user_ids()
            .into_iter()
            .map(|u| u.trim_start_matches("user:"))
            .collect();
        problems.push(unknown(
            "principal",
            &args.principal,
            &names,
            "principals are the `[[user]]` ids of the inventory",
        ));
    }
    if !crate::engine::access::ACTIONS.contains(&args.action.as_str()) {
        problems.push(unknown(
            "action",
            &args.action,
            crate::engine::access::ACTIONS,
            "actions are read, write and admin",
        ));
    }
    if !store.has_resource(&args.resource) {
        problems.push(unknown(
            "resource",
            &args.resource,
            &store.resource_ids(),
            "resources are `<kind>:<id>`, e.g. `datastore:pg-globex`",
        ));
    }
    if !problems.is_empty() {
        return fail(&problems);
    }
    let decision = match store.explain(&compiled, &user, &args.action, &args.resource, &request) {
        Ok(d) => d,
        Err(e) => {
            return fail(&[Problem::new(
                ProblemKind::Evaluation,
                format!("the request could not be evaluated: {e}"),
            )]);
        }
    };
    if !decision.errors.is_empty() {
        return fail(&[Problem::new(
            ProblemKind::Evaluation,
            format!(
                "policies could not be evaluated: {}",
                decision.errors.join(", ")
            ),
        )]);
    }
    let denied_by: Vec<Reason> = decision
        .forbids
        .iter()
        .map(|id| {
            let info = compiled.access().policy(id);
            let control = info.and_then(|i| i.control.clone());
            let frameworks = control
                .as_ref()
                .and_then(|c| library.controls.get(c))
                .map(|c| c.frameworks.clone())
                .unwrap_or_default();
            Reason {
                policy: id.clone(),
                control,
                message: info.map(|i| i.message.clone()).unwrap_or_default(),
                frameworks,
            }
        })
        .collect();
    let missing_grant = decision.permits.is_empty().then(|| {
        format!(
            "no grant gives `{}` `{}` on `{}`",
            args.principal, args.action, args.resource
        )
    });
    let answer = Answer {
        schema_version: 1,
        decision: if decision.allowed { "allow" } else { "deny" },
        principal: args.principal.clone(),
        action: args.action.clone(),
        resource: args.resource.clone(),
        context: serde_json::json!({
            "mfa": request.mfa, "ticket": request.ticket, "approver": request.approver,
            "duration_hours": request.duration_hours,
        }),
        granted_by: decision.permits.clone(),
        denied_by,
        missing_grant,
    };
    match args.format {
        Format::Json => report::emit_json(&answer),
        Format::Human => report::emit(&render_answer(&answer, &library)),
    }
    if decision.allowed {
        exit::CLEAN
    } else {
        exit::FINDINGS
    }
}

fn render_answer(a: &Answer, lib: &Library) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} {} {}",
        a.decision.to_uppercase(),
        a.principal,
        a.action,
        a.resource
    );
    if !a.granted_by.is_empty() {
        let but = if a.denied_by.is_empty() { "" } else { ", but:" };
        let _ = writeln!(out, "  a grant applies ({}){but}", a.granted_by.join(", "));
    }
    if let Some(m) = &a.missing_grant {
        let _ = writeln!(out, "  ✗ {m}");
    }
    for r in &a.denied_by {
        let _ = writeln!(out, "  ✗ {} ({})", r.message, r.policy);
        if let Some(c) = &r.control {
            let fws: Vec<String> = r
                .frameworks
                .iter()
                .map(|(fw, ids)| format!("{} {}", lib.catalogs.name(fw), ids.join(", ")))
                .collect();
            let _ = writeln!(out, "      control {c}: {}", fws.join(" · "));
        }
    }
    out
}

/// Options of `vouch access review`.
#[derive(Debug, Clone)]
pub struct ReviewArgs {
    pub path: PathBuf,
    pub format: Format,
    pub as_of: Option<String>,
}

/// The review: every non-passing result of the access and IAM controls.
#[derive(Debug, Serialize)]
pub struct Review {
    pub schema_version: u32,
    pub as_of: String,
    pub grants: usize,
    pub users: usize,
    pub findings: Vec<CheckResult>,
    /// Findings per control, sorted.
    pub by_control: BTreeMap<String, usize>,
}

/// `vouch access review`: exit 0 no findings, 1 findings, 2 error.
pub fn review_cmd(args: &ReviewArgs) -> u8 {
    let as_of = match as_of_days(args.as_of.as_deref()) {
        Ok(d) => d,
        Err(p) => return fail(&[p]),
    };
    // The organisation's own access controls (custom library directories) are reviewed too.
    let library = match crate::app::library_files_only(&args.path) {
        Ok(l) => l,
        Err(ps) => return fail(&ps),
    };
    let controls: Vec<String> = library
        .controls
        .values()
        .filter(|c| REVIEW_FAMILIES.contains(&c.family.as_str()) && c.automated)
        .map(|c| c.id.clone())
        .collect();
    let opts = CheckOptions {
        root: check::root_of(&args.path),
        as_of_days: as_of,
        selection: Selection {
            frameworks: Vec::new(),
            controls,
            findings_only: true,
        },
        terraform: check::TerraformInputs::default(),
    };
    let run = check::run(&opts);
    let review = review_of(&run, as_of);
    match args.format {
        Format::Json => report::emit_json(&review),
        Format::Human => {
            let mut shown = run.assessment.clone();
            shown
                .results
                .retain(|r| matches!(r.status, Status::Fail | Status::Error));
            let text = human::render(
                &shown,
                &run.library,
                &run.sources,
                crate::library::Severity::Info,
                human::Style { color: false },
            );
            let frames = text.split("checked ").next().unwrap_or_default().to_owned();
            let mut out = frames;
            let _ = writeln!(
                out,
                "access review as of {}: {} users, {} grants",
                review.as_of, review.users, review.grants
            );
            for (c, n) in &review.by_control {
                let _ = writeln!(out, "  {n:4}  {c}");
            }
            let _ = writeln!(out, "{} findings", review.findings.len());
            report::emit(&out);
        }
    }
    if !run.problems.is_empty() {
        report::emit_err(&human::render_problems(
            &run.problems,
            human::Style::stderr(),
        ));
    }
    if run.assessment.run_failed() {
        exit::FAILED
    } else if review.findings.is_empty() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    }
}

/// Builds the review from a check run restricted to the review families.
pub fn review_of(run: &check::CheckRun, as_of: i64) -> Review {
    let findings: Vec<CheckResult> = run
        .assessment
        .results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Error))
        .cloned()
        .collect();
    let mut by_control = BTreeMap::new();
    for f in &findings {
        *by_control.entry(f.control.clone()).or_insert(0) += 1;
    }
    Review {
        schema_version: 1,
        as_of: crate::dates::format_days(as_of),
        grants: run
            .resources
            .iter()
            .filter(|r| r.entity_type == crate::engine::access::GRANT_TYPE)
            .count(),
        users: run
            .resources
            .iter()
            .filter(|r| r.entity_type == crate::engine::access::USER_TYPE)
            .count(),
        findings,
        by_control,
    }
}

/// Options of `vouch access diff`.
#[derive(Debug, Clone)]
pub struct DiffArgs {
    pub path: PathBuf,
    pub base: String,
    pub format: Format,
    pub as_of: Option<String>,
}

/// One request whose answer changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    pub principal: String,
    pub action: String,
    pub resource: String,
}

/// The effect of a change on access.
#[derive(Debug, Serialize)]
pub struct AccessDiff {
    pub schema_version: u32,
    pub base: String,
    /// The request every pair is asked with: the best case (MFA, ticket, an approver, 4 hours),
    /// so differences come from grants and policies, not from the request.
    pub request: serde_json::Value,
    pub requests_compared: usize,
    pub newly_allowed: Vec<Change>,
    pub newly_denied: Vec<Change>,
}

/// `vouch access diff --base REV`: exit 0 no change, 1 access changed, 2 error.
pub fn diff_cmd(args: &DiffArgs) -> u8 {
    let as_of = match as_of_days(args.as_of.as_deref()) {
        Ok(d) => d,
        Err(p) => return fail(&[p]),
    };
    let (base_resources, base_library, base_info) =
        match crate::gate::resources_at_merge_base(&args.path, &args.base, as_of) {
            Ok(x) => x,
            Err(ps) => return fail(&ps),
        };
    let base_compiled = match engine::compile(&base_library) {
        Ok(c) => c,
        Err(ps) => return fail(&ps),
    };
    let (head_resources, _, head_compiled) = match load(&args.path, as_of) {
        Ok(x) => x,
        Err(ps) => return fail(&ps),
    };
    let (base_store, head_store) = match (
        AccessStore::build(&base_compiled, &base_resources),
        AccessStore::build(&head_compiled, &head_resources),
    ) {
        (Ok(b), Ok(h)) => (b, h),
        (Err(e), _) | (_, Err(e)) => {
            return fail(&[Problem::new(
                ProblemKind::Evaluation,
                format!("the access entities do not load: {e}"),
            )]);
        }
    };
    let users: Vec<&str> = base_store
        .user_ids()
        .into_iter()
        .filter(|u| head_store.has_user(u))
        .collect();
    let resources: Vec<&str> = base_store
        .resource_ids()
        .into_iter()
        .filter(|r| head_store.has_resource(r))
        .collect();
    let request = RequestFacts {
        mfa: true,
        ticket: "CHANGE".to_owned(),
        duration_hours: 4,
        approver: "(reviewer)".to_owned(),
    };
    let mut newly_allowed = Vec::new();
    let mut newly_denied = Vec::new();
    let mut compared = 0;
    let mut problems = Vec::new();
    for u in &users {
        for action in crate::engine::access::ACTIONS {
            for r in &resources {
                compared += 1;
                let b = base_store.decide(&base_compiled, u, action, r, &request);
                let h = head_store.decide(&head_compiled, u, action, r, &request);
                match (b, h) {
                    (Ok(b), Ok(h)) if b.allowed != h.allowed => {
                        let c = Change {
                            principal: u.trim_start_matches("user:").to_owned(),
                            action: (*action).to_owned(),
                            resource: (*r).to_owned(),
                        };
                        if h.allowed {
                            newly_allowed.push(c)
                        } else {
                            newly_denied.push(c)
                        }
                    }
                    (Ok(_), Ok(_)) => {}
                    (Err(e), _) | (_, Err(e)) => {
                        problems.push(Problem::new(ProblemKind::Evaluation, e))
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        problems.truncate(5);
        return fail(&problems);
    }
    let diff = AccessDiff {
        schema_version: 1,
        base: base_info.short_id,
        request: serde_json::json!({ "mfa": true, "ticket": "CHANGE", "approver": "(reviewer)", "duration_hours": 4 }),
        requests_compared: compared,
        newly_allowed,
        newly_denied,
    };
    match args.format {
        Format::Json => report::emit_json(&diff),
        Format::Human => {
            let mut out = String::new();
            let _ = writeln!(
                out,
                "access changes against base {} ({} requests compared)",
                diff.base, diff.requests_compared
            );
            for c in &diff.newly_allowed {
                let _ = writeln!(
                    out,
                    "  + {} may now {} {}",
                    c.principal, c.action, c.resource
                );
            }
            for c in &diff.newly_denied {
                let _ = writeln!(
                    out,
                    "  - {} may no longer {} {}",
                    c.principal, c.action, c.resource
                );
            }
            let _ = writeln!(
                out,
                "{} newly allowed, {} newly denied",
                diff.newly_allowed.len(),
                diff.newly_denied.len()
            );
            report::emit(&out);
        }
    }
    if diff.newly_allowed.is_empty() && diff.newly_denied.is_empty() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_round_up_to_hours() {
        assert_eq!(parse_duration("4h"), Some(4));
        assert_eq!(parse_duration("2d"), Some(48));
        assert_eq!(parse_duration("30m"), Some(1));
        assert_eq!(parse_duration("6"), Some(6));
        assert_eq!(parse_duration("soon"), None);
    }
}
