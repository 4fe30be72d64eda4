//! `vouch access`: answer one access request (`check`), review every standing grant for least
//! privilege (`review`), and show what a change to grants or access policies allows or denies
//! (`diff`). Decisions come from the engine's access policies; this module only gathers the
//! inputs and explains the answer.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

pub mod decider;

pub use decider::{AccessRequest, Answer, Decider, Reason, RequestContext, parse_duration};

use crate::app::{as_of_days, exit, fail};
use crate::assessment::{CheckResult, Selection, Status};
use crate::check::{self, CheckOptions};
use crate::engine;
use crate::engine::access::{AccessStore, RequestFacts};
use crate::error::{Problem, ProblemKind};
use crate::library::Library;
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

/// The request of `vouch access check`, from its flags.
fn request_of(args: &CheckArgs) -> Result<AccessRequest, Vec<Problem>> {
    let mut req = AccessRequest {
        principal: args.principal.clone(),
        action: args.action.clone(),
        resource: args.resource.clone(),
        context: RequestContext::default(),
        duration: args.duration.clone(),
    };
    let mut problems = Vec::new();
    // How the duration was given, for messages: `--duration 4h` or `duration=4h`.
    let mut duration_shown = args.duration.as_ref().map(|d| format!("--duration {d}"));
    for pair in &args.context {
        let Some((k, v)) = pair.split_once('=') else {
            problems.push(
                Problem::config(format!("`--context {pair}` is not key=value"), None)
                    .with_help("e.g. --context mfa=true --context ticket=CHG-1"),
            );
            continue;
        };
        match k.trim() {
            "mfa" => match v.trim() {
                "true" | "yes" => req.context.mfa = true,
                "false" | "no" => req.context.mfa = false,
                other => problems.push(Problem::config(
                    format!("`mfa={other}` must be true or false"),
                    None,
                )),
            },
            "ticket" => v.clone_into(&mut req.context.ticket),
            "approver" => v.clone_into(&mut req.context.approver),
            "duration" if args.duration.is_none() => {
                req.duration = Some(v.to_owned());
                duration_shown = Some(format!("duration={v}"));
            }
            "duration" => problems.push(Problem::config(
                "the duration is given twice (`--duration` and `--context duration=`)",
                None,
            )),
            other => problems.push(
                Problem::config(format!("unknown context key `{other}`"), None).with_help(
                    crate::error::did_you_mean(other, &["mfa", "ticket", "approver", "duration"])
                        .unwrap_or_else(|| {
                            "the access context has: mfa, ticket, approver, duration".to_owned()
                        }),
                ),
            ),
        }
    }
    if let (Some(d), Some(shown)) = (&req.duration, &duration_shown) {
        use crate::dates::{DurationError, MAX_DURATION_HOURS};
        match crate::dates::parse_duration_hours(d) {
            Ok(_) => {}
            Err(DurationError::Malformed) => problems.push(
                Problem::config(
                    format!("`{shown}` is not a duration like 4h or 2d"),
                    None,
                )
                .with_help("write a whole number with m, h, d or w: 90m, 4h, 2d, 1w"),
            ),
            Err(DurationError::OutOfRange) => problems.push(
                Problem::config(format!("`{shown}` is out of range"), None).with_help(
                    format!(
                        "a request lasts at most {MAX_DURATION_HOURS}h (ten years); ask for 4h, 2d or 1w"
                    ),
                ),
            ),
        }
    }
    if problems.is_empty() {
        Ok(req)
    } else {
        Err(problems)
    }
}

/// `vouch access check`: exit 0 allow, 1 deny, 2 error.
pub fn check_cmd(args: &CheckArgs) -> u8 {
    let (request, as_of) = match (
        request_of(args),
        crate::app::preflight(Vec::new(), args.as_of.as_deref(), &args.path),
    ) {
        (Ok(r), Ok(d)) => (r, d),
        (r, d) => {
            let mut ps = r.err().unwrap_or_default();
            ps.extend(d.err().unwrap_or_default());
            return fail(&ps);
        }
    };
    let decider = match Decider::load(&args.path, as_of) {
        Ok(d) => d,
        Err(ps) => return fail(&ps),
    };
    let answer = match decider.decide(&request) {
        Ok(a) => a,
        Err(ps) => return fail(&ps),
    };
    match args.format {
        Format::Json => report::emit(&report::to_json(&answer)),
        Format::Human => report::emit(&render_answer(&answer, decider.library())),
    }
    if answer.allowed() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    }
}

/// The answer in words, for a terminal.
pub fn render_answer(a: &Answer, lib: &Library) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} {} {} (as of {})",
        a.decision.to_uppercase(),
        a.principal,
        a.action,
        a.resource,
        a.as_of
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
    /// IAM users and roles that belong to a person of the inventory (their findings are here).
    pub iam_principals: usize,
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
        keep_attributes: true,
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
                "access review as of {}: {} users, {} grants, {} IAM users and roles of people",
                review.as_of, review.users, review.grants, review.iam_principals
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
    let code = if run.assessment.run_failed() {
        exit::FAILED
    } else if review.findings.is_empty() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    };
    // The process ends with this command: a large inventory's run is not worth freeing.
    std::mem::forget((run, review));
    code
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
        *by_control.entry(f.control.to_string()).or_insert(0) += 1;
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
        iam_principals: crate::iam::people::joined(&run.resources),
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
    /// Also prove the access policies of both sides (`--prove`).
    pub prove: bool,
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
    /// `enumeration`: the requests below were asked of both sides one by one (data changes:
    /// grants, people, resources); `proof` holds what was proved of the policies.
    pub method: String,
    /// The request every pair is asked with: the best case (MFA, ticket, an approver, 4 hours),
    /// so differences come from grants and policies, not from the request.
    pub request: serde_json::Value,
    pub requests_compared: usize,
    pub newly_allowed: Vec<Change>,
    pub newly_denied: Vec<Change>,
    /// `--prove`: the access policies proved for every request the schema allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<crate::prove::DiffProof>,
}

/// The request every pair is asked with in a diff: MFA, a valid ticket, an approver who may
/// approve (and is nobody's own), four hours.
fn best_case() -> RequestFacts {
    let approver = "(an authorised approver)".to_owned();
    RequestFacts {
        mfa: true,
        ticket: "CHANGE".to_owned(),
        ticket_valid: true,
        duration_hours: 4,
        approver_user: approver.clone(),
        approver,
        approver_invisible: false,
        approver_active_known: true,
        approver_active: true,
        approver_authorized: true,
    }
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
    let (head_resources, head_compiled) = match decider::load(&args.path, as_of) {
        Ok(l) => (l.loaded.resources, l.compiled),
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
    let request = best_case();
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
    let proof = if args.prove {
        let invariants = match crate::prove::diff_invariants(&args.path, &args.base) {
            Ok(i) => i,
            Err(ps) => return fail(&ps),
        };
        let head_library = match crate::app::library_files_only(&args.path) {
            Ok(l) => l,
            Err(ps) => return fail(&ps),
        };
        match crate::prove::access_diff(
            &base_library,
            &head_library,
            &invariants,
            &crate::prove::Options {
                require_solver: true,
                ..crate::prove::Options::default()
            },
        ) {
            Ok(p) => Some(p),
            Err(ps) => return fail(&ps),
        }
    } else {
        None
    };
    let diff = AccessDiff {
        schema_version: 1,
        base: base_info.short_id,
        method: "enumeration".to_owned(),
        request: serde_json::json!({
            "mfa": true, "ticket": request.ticket, "approver": request.approver,
            "duration_hours": request.duration_hours,
        }),
        requests_compared: compared,
        newly_allowed,
        newly_denied,
        proof,
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
            if diff.proof.is_some() {
                let _ = writeln!(
                    out,
                    "data changes (grants, people, resources), by enumeration of the requests on both sides:"
                );
            }
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
            if let Some(p) = &diff.proof {
                out.push_str(&crate::prove::render_diff(p));
            }
            report::emit(&out);
        }
    }
    if diff.newly_allowed.is_empty()
        && diff.newly_denied.is_empty()
        && diff
            .proof
            .as_ref()
            .is_none_or(crate::prove::DiffProof::holds)
    {
        exit::CLEAN
    } else {
        exit::FINDINGS
    }
}
