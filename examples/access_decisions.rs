//! Embedding vouch's access decisions in a Rust service, without HTTP.
//!
//! `cargo run --example access_decisions -- [PATH] [YYYY-MM-DD]` (default: the example company
//! in `examples/acme`, as of 2026-11-25). Load the tree once with [`Decider::load`], then call
//! [`Decider::decide`] for each request: the answer is the JSON of `vouch access check
//! --format json`, with each unmet condition in words. Reload (build a new `Decider`) when the
//! inventory changes; a `Decider` is `Send + Sync`, so share it behind an `Arc`.
#![allow(clippy::disallowed_macros, reason = "an example prints its answers")]

use std::path::PathBuf;
use std::process::ExitCode;

use vouch::access::{AccessRequest, Decider, RequestContext};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().unwrap_or_else(|| "examples/acme".to_owned()));
    let date = args.next().unwrap_or_else(|| "2026-11-25".to_owned());
    let Some(as_of) = vouch::dates::parse_date(&date) else {
        eprintln!("`{date}` is not a date (YYYY-MM-DD)");
        return ExitCode::from(2);
    };
    let decider = match Decider::load(&path, as_of) {
        Ok(d) => d,
        Err(problems) => {
            for p in problems {
                eprintln!("{}", p.message);
            }
            return ExitCode::from(2);
        }
    };
    let requests = [
        // An SRE asks for a four-hour production write, with MFA, a ticket and an approver.
        AccessRequest {
            principal: "jonas".to_owned(),
            action: "write".to_owned(),
            resource: "datastore:pg-shared-eu".to_owned(),
            context: RequestContext {
                mfa: true,
                ticket: "SEC-1200".to_owned(),
                approver: "olivia@acme.example".to_owned(),
            },
            duration: Some("4h".to_owned()),
        },
        // The same, approved by the requester under his email address.
        AccessRequest {
            principal: "jonas".to_owned(),
            action: "write".to_owned(),
            resource: "datastore:pg-shared-eu".to_owned(),
            context: RequestContext {
                mfa: true,
                ticket: "SEC-1200".to_owned(),
                approver: "JONAS@acme.example".to_owned(),
            },
            duration: Some("4h".to_owned()),
        },
    ];
    for request in &requests {
        match decider.decide(request) {
            Ok(answer) => {
                println!(
                    "{} {} {} {}: {}",
                    request.principal,
                    request.action,
                    request.resource,
                    request.context.approver,
                    answer.decision
                );
                for reason in &answer.denied_by {
                    println!("  - {} ({})", reason.message, reason.policy);
                }
            }
            Err(problems) => {
                for p in problems {
                    eprintln!("{} ({})", p.message, p.help.unwrap_or_default());
                }
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
