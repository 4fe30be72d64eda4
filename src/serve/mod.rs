//! `vouch serve`: the access decision service, run next to the systems that ask (as OPA is).
//! The only HTTP and async part of vouch: HTTP/1.1 on tokio and hyper, calling the same
//! decision code as `vouch access check` ([`crate::access::Decider`]).
//!
//! Endpoints: `POST /v1/access/check`, `GET /v1/access/review`, `GET /v1/controls`,
//! `GET /healthz`, `GET /readyz`, `GET /metrics`. The tree is reloaded on SIGHUP, when a file
//! changes and when the date changes, atomically: a bad edit keeps the last good state served
//! and shows the problem on `/readyz` and in the log. Every decision can be appended to a
//! hash-chained decision log ([`decision_log`]). See docs/access.md.

pub mod decision_log;
mod http;
pub mod metrics;
pub mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::app::{exit, fail};
use crate::error::Problem;
use crate::report;

/// Options of `vouch serve`.
#[derive(Debug, Clone)]
pub struct ServeArgs {
    pub path: PathBuf,
    pub listen: String,
    /// A file holding the bearer token clients must send; required beyond loopback.
    pub token_file: Option<PathBuf>,
    /// Append every decision to this JSON Lines file, hash-chained.
    pub decision_log: Option<PathBuf>,
    /// Decide on this date instead of today (UTC).
    pub as_of: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest time to receive a request (headers and body), in milliseconds.
    pub request_timeout_ms: u64,
    /// How often the tree is checked for changes, in milliseconds.
    pub watch_interval_ms: u64,
}

/// Reads the bearer token: the file's content, trimmed; it must not be empty.
fn read_token(path: &std::path::Path) -> Result<String, Problem> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Problem::io(path.display().to_string(), &e))?;
    let token = text.trim().to_owned();
    if token.is_empty() || token.chars().any(char::is_whitespace) {
        return Err(Problem::config(
            format!(
                "`{}` holds no token (it must be one word, no spaces)",
                path.display()
            ),
            None,
        )
        .with_help("write a long random token into it, e.g. `openssl rand -hex 32 > token`"));
    }
    Ok(token)
}

/// Checks the options before anything is loaded: the address, the token rule, the date.
fn preflight(args: &ServeArgs) -> Result<(SocketAddr, Option<String>, Option<i64>), Vec<Problem>> {
    let mut problems = Vec::new();
    let addr: Option<SocketAddr> = match args.listen.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            problems.push(
                Problem::config(
                    format!("`--listen {}` is not an address and port", args.listen),
                    None,
                )
                .with_help("write it as 127.0.0.1:8181 or [::1]:8181"),
            );
            None
        }
    };
    let token = match &args.token_file {
        Some(p) => match read_token(p) {
            Ok(t) => Some(t),
            Err(e) => {
                problems.push(e);
                None
            }
        },
        None => None,
    };
    if let Some(a) = addr
        && !a.ip().is_loopback()
        && args.token_file.is_none()
    {
        problems.push(
            Problem::config(
                format!("`vouch serve` listens on `{a}`, beyond loopback, without a token"),
                None,
            )
            .with_help(
                "pass --token-file FILE (clients send `Authorization: Bearer <token>`), or listen on 127.0.0.1",
            ),
        );
    }
    let as_of = match &args.as_of {
        Some(s) => match crate::app::as_of_days(Some(s)) {
            Ok(d) => Some(d),
            Err(p) => {
                problems.push(p);
                None
            }
        },
        None => None,
    };
    if args.max_body_bytes == 0 || args.request_timeout_ms == 0 || args.watch_interval_ms == 0 {
        problems.push(Problem::config(
            "`--max-body-bytes`, `--request-timeout-ms` and `--watch-interval-ms` must be above 0",
            None,
        ));
    }
    problems.extend(crate::app::not_a_directory(&args.path));
    match addr {
        Some(a) if problems.is_empty() => Ok((a, token, as_of)),
        _ => Err(problems),
    }
}

/// Writes one line to the server's log (stderr), with the time.
pub fn log(line: &str) {
    report::emit_err(&format!(
        "{} vouch serve: {line}\n",
        crate::git::format_time(i64::try_from(state::now_secs()).unwrap_or(0))
    ));
}

/// `vouch serve`: runs until SIGINT or SIGTERM; exit 0 after a graceful shutdown, 2 when it
/// cannot start.
pub fn cmd(args: &ServeArgs) -> u8 {
    let (addr, token, fixed_as_of) = match preflight(args) {
        Ok(x) => x,
        Err(ps) => return fail(&ps),
    };
    let writer = match &args.decision_log {
        Some(p) => match decision_log::Writer::open(p) {
            Ok(w) => Some(w),
            Err(e) => {
                return fail(&[Problem::config(e, None).with_help(
                    "check the log with `vouch evidence verify FILE`; start a new log file if it was damaged",
                )]);
            }
        },
        None => None,
    };
    // The decision log may lie in the watched tree: its appends are no reason to reload.
    let ignore: Vec<std::path::PathBuf> = writer
        .as_ref()
        .and_then(|w| w.path().canonicalize().ok())
        .into_iter()
        .collect();
    let watch = state::Watch::before_load(
        &args.path,
        Duration::from_millis(args.watch_interval_ms),
        ignore,
    );
    let as_of = fixed_as_of.unwrap_or_else(crate::dates::today);
    let loaded = match state::load(&args.path, as_of) {
        Ok(s) => s,
        Err(ps) => return fail(&ps),
    };
    let shared = Arc::new(state::Shared::new(args.path.clone(), fixed_as_of, loaded));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .enable_time()
        .thread_name("vouch-serve")
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return fail(&[Problem::new(
                crate::error::ProblemKind::Io,
                format!("cannot start the server runtime: {e}"),
            )]);
        }
    };
    let options = http::Options {
        token,
        max_body_bytes: args.max_body_bytes,
        request_timeout: Duration::from_millis(args.request_timeout_ms),
    };
    match runtime.block_on(http::run(addr, shared, options, writer, watch)) {
        Ok(()) => exit::CLEAN,
        Err(e) => fail(&[Problem::new(crate::error::ProblemKind::Io, e)]),
    }
}
