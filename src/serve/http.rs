//! The HTTP layer: routing, bearer-token authentication, body size and time limits, problem
//! responses (RFC 9457), the decision-log writer and graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use tokio::sync::oneshot;

use super::decision_log::{self, Entry, Writer};
use super::log;
use super::metrics::{Metrics, Outcome};
use super::state::{Shared, Trigger};
use crate::access::{AccessRequest, Answer, RequestContext};
use crate::error::{Problem, ProblemKind};

/// Limits and credentials.
#[derive(Debug, Clone)]
pub struct Options {
    pub token: Option<String>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

/// `POST /v1/access/check`: the flags of `vouch access check` as JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    principal: String,
    action: String,
    resource: String,
    #[serde(default)]
    context: RequestContext,
    #[serde(default)]
    duration: Option<String>,
    /// `YYYY-MM-DD`; default: the server's date.
    #[serde(default)]
    as_of: Option<String>,
}

/// One decision to append, and where to say it was written.
struct LogJob {
    request: serde_json::Value,
    answer: Answer,
    inventory: String,
    library: String,
    done: oneshot::Sender<Result<(), String>>,
}

/// Everything a connection needs.
struct App {
    shared: Arc<Shared>,
    options: Options,
    metrics: Metrics,
    log: Option<mpsc::Sender<LogJob>>,
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    reply(status, "application/json", body)
}

/// An RFC 9457 problem response listing every problem with its help.
fn problem(status: StatusCode, problems: &[Problem]) -> Reply {
    let detail = problems
        .iter()
        .map(|p| p.message.clone())
        .collect::<Vec<_>>()
        .join("; ");
    let errors: Vec<serde_json::Value> = problems
        .iter()
        .map(|p| serde_json::json!({ "message": p.message, "help": p.help }))
        .collect();
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("error"),
        "status": status.as_u16(),
        "detail": detail,
        "errors": errors,
    });
    reply(
        status,
        "application/problem+json",
        crate::report::to_json(&body),
    )
}

fn one_problem(status: StatusCode, message: impl Into<String>, help: &str) -> Reply {
    problem(
        status,
        &[Problem::new(ProblemKind::Config, message).with_help(help)],
    )
}

/// Compares two byte strings in time independent of where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl App {
    fn authorized(&self, req: &Request<Incoming>) -> bool {
        let Some(token) = &self.options.token else {
            return true;
        };
        req.headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| same(given.trim().as_bytes(), token.as_bytes()))
    }

    async fn route(self: Arc<Self>, req: Request<Incoming>) -> Reply {
        let path = req.uri().path().to_owned();
        let method = req.method().clone();
        // Probes answer without a token (they say nothing about who may do what).
        match (&method, path.as_str()) {
            (&Method::GET, "/healthz") => return json(StatusCode::OK, "{\"status\":\"ok\"}\n"),
            (&Method::GET, "/readyz") => return self.readyz(),
            _ => {}
        }
        if !self.authorized(&req) {
            let mut r = one_problem(
                StatusCode::UNAUTHORIZED,
                "a bearer token is required",
                "send `Authorization: Bearer <token>` with the token of --token-file",
            );
            r.headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            if path == "/v1/access/check" {
                self.metrics.record(Outcome::Rejected, Duration::ZERO);
            }
            return r;
        }
        match (&method, path.as_str()) {
            (&Method::POST, "/v1/access/check") => self.check(req).await,
            (&Method::GET, "/v1/access/review") => {
                json(StatusCode::OK, self.shared.current().review.clone())
            }
            (&Method::GET, "/v1/controls") => {
                json(StatusCode::OK, self.shared.current().controls.clone())
            }
            (&Method::GET, "/metrics") => self.metrics(),
            (_, "/v1/access/check" | "/v1/access/review" | "/v1/controls" | "/metrics") => {
                one_problem(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("`{method} {path}` is not supported"),
                    "POST /v1/access/check; GET the others",
                )
            }
            _ => one_problem(
                StatusCode::NOT_FOUND,
                format!("no endpoint `{path}`"),
                "endpoints: POST /v1/access/check, GET /v1/access/review, GET /v1/controls, GET /healthz, GET /readyz, GET /metrics",
            ),
        }
    }

    fn readyz(&self) -> Reply {
        let h = self
            .shared
            .health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let current = self.shared.current();
        let body = serde_json::json!({
            "ready": h.problems.is_empty(),
            "inventory_digest": current.decider.digest(),
            "as_of": crate::dates::format_days(current.decider.as_of()),
            "loaded_at": crate::git::format_time(i64::try_from(current.loaded_at).unwrap_or(0)),
            "problems": h.problems,
        });
        let status = if h.problems.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        json(status, crate::report::to_json(&body))
    }

    fn metrics(&self) -> Reply {
        let h = self
            .shared
            .health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let current = self.shared.current();
        let as_of = crate::dates::format_days(current.decider.as_of());
        let text = self.metrics.render(
            (
                current.decider.digest(),
                &current.decider.library().digest,
                current.loaded_at,
                &as_of,
            ),
            super::state::now_secs(),
            h.problems.is_empty(),
            (h.reloads_ok, h.reloads_failed),
        );
        reply(StatusCode::OK, "text/plain; version=0.0.4", text)
    }

    async fn check(self: &Arc<Self>, req: Request<Incoming>) -> Reply {
        let started = Instant::now();
        let (reply, outcome) = self.check_inner(req).await;
        self.metrics.record(outcome, started.elapsed());
        reply
    }

    async fn check_inner(self: &Arc<Self>, req: Request<Incoming>) -> (Reply, Outcome) {
        let rejected = |r: Reply| (r, Outcome::Rejected);
        let limit = self.options.max_body_bytes;
        let body = match tokio::time::timeout(
            self.options.request_timeout,
            Limited::new(req.into_body(), limit).collect(),
        )
        .await
        {
            Err(_) => {
                return rejected(one_problem(
                    StatusCode::REQUEST_TIMEOUT,
                    "the request body did not arrive in time",
                    "send the whole body at once",
                ));
            }
            Ok(Err(e))
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return rejected(one_problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request body is larger than {limit} bytes"),
                    "an access request is a small JSON object",
                ));
            }
            Ok(Err(e)) => {
                return rejected(one_problem(
                    StatusCode::BAD_REQUEST,
                    format!("the request body could not be read: {e}"),
                    "send a JSON object",
                ));
            }
            Ok(Ok(b)) => b.to_bytes(),
        };
        let parsed: CheckBody = match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => {
                return rejected(one_problem(
                    StatusCode::BAD_REQUEST,
                    format!("the request is not an access request: {e}"),
                    r#"send {"principal": "…", "action": "read|write|admin", "resource": "kind:id", "context": {"mfa": true, "ticket": "…", "approver": "…"}, "duration": "4h", "as_of": "YYYY-MM-DD"}"#,
                ));
            }
        };
        let as_of = match parsed.as_of.as_deref() {
            None => self.shared.as_of(),
            Some(s) => match crate::dates::parse_date(s) {
                Some(d) => d,
                None => {
                    return rejected(one_problem(
                        StatusCode::BAD_REQUEST,
                        format!("`as_of` `{s}` is not a date"),
                        "write it as YYYY-MM-DD",
                    ));
                }
            },
        };
        let current = self.shared.current();
        let decider = if current.decider.as_of() == as_of {
            Arc::clone(&current.decider)
        } else {
            let shared = Arc::clone(&self.shared);
            match tokio::task::spawn_blocking(move || shared.decider_on(as_of)).await {
                Ok(Ok(d)) => d,
                Ok(Err(ps)) => {
                    return (
                        problem(StatusCode::SERVICE_UNAVAILABLE, &ps),
                        Outcome::Failed,
                    );
                }
                Err(e) => {
                    return (
                        one_problem(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            format!("the decision for {as_of} could not be prepared: {e}"),
                            "retry; the server log has the cause",
                        ),
                        Outcome::Failed,
                    );
                }
            }
        };
        let request = AccessRequest {
            principal: parsed.principal,
            action: parsed.action,
            resource: parsed.resource,
            context: parsed.context,
            duration: parsed.duration,
        };
        let answer = match decider.decide(&request) {
            Ok(a) => a,
            Err(ps) => {
                let bad_input = ps.iter().all(|p| p.kind == ProblemKind::Config);
                return if bad_input {
                    rejected(problem(StatusCode::BAD_REQUEST, &ps))
                } else {
                    (
                        problem(StatusCode::INTERNAL_SERVER_ERROR, &ps),
                        Outcome::Failed,
                    )
                };
            }
        };
        if let Some(log) = &self.log {
            let (done, wait) = oneshot::channel();
            let job = LogJob {
                request: serde_json::json!({
                    "principal": request.principal, "action": request.action,
                    "resource": request.resource,
                    "context": {
                        "mfa": request.context.mfa, "ticket": request.context.ticket,
                        "approver": request.context.approver,
                    },
                    "duration": request.duration, "as_of": parsed.as_of,
                }),
                answer: answer.clone(),
                inventory: decider.digest().to_owned(),
                library: decider.library().digest.clone(),
                done,
            };
            // A decision that cannot be recorded is not given.
            let written = match log.send(job) {
                Ok(()) => wait
                    .await
                    .unwrap_or_else(|_| Err("the decision log stopped".to_owned())),
                Err(_) => Err("the decision log stopped".to_owned()),
            };
            if let Err(e) = written {
                log_line(&format!("decision not recorded: {e}"));
                return (
                    one_problem(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("the decision could not be recorded in the decision log: {e}"),
                        "no decision is given unrecorded; check the log file and the disk",
                    ),
                    Outcome::Failed,
                );
            }
        }
        let outcome = if answer.allowed() {
            Outcome::Allow
        } else {
            Outcome::Deny
        };
        (
            json(StatusCode::OK, crate::report::to_json(&answer)),
            outcome,
        )
    }
}

fn log_line(s: &str) {
    log(s);
}

/// The decision-log writer: one thread appends in order; the data is synced to disk at least
/// once a second and at shutdown.
fn spawn_writer(mut writer: Writer) -> (mpsc::Sender<LogJob>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<LogJob>();
    let handle = std::thread::spawn(move || {
        let mut dirty = false;
        loop {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(job) => {
                    let time = crate::git::format_time(
                        i64::try_from(super::state::now_secs()).unwrap_or(0),
                    );
                    let a = &job.answer;
                    let result = writer.append(|seq, prev| {
                        decision_log::line_of(&Entry {
                            seq,
                            time,
                            prev,
                            request: &job.request,
                            decision: a.decision,
                            granted_by: &a.granted_by,
                            denied_by: a.denied_by.iter().map(|r| r.policy.as_str()).collect(),
                            missing_grant: a.missing_grant.as_deref(),
                            inventory_digest: &job.inventory,
                            library_digest: &job.library,
                            as_of: &a.as_of,
                        })
                    });
                    dirty |= result.is_ok();
                    let _ = job.done.send(result);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if dirty {
                        if let Err(e) = writer.sync() {
                            log(&e);
                        }
                        dirty = false;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    if let Err(e) = writer.sync() {
                        log(&e);
                    }
                    return;
                }
            }
        }
    });
    (tx, handle)
}

/// Serves until SIGINT or SIGTERM, then stops accepting, lets requests in flight finish (10 s
/// at most) and syncs the decision log.
pub async fn run(
    addr: SocketAddr,
    shared: Arc<Shared>,
    options: Options,
    writer: Option<Writer>,
    watch: super::state::Watch,
) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on `{addr}`: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let mut hangup =
        signal(SignalKind::hangup()).map_err(|e| format!("cannot watch SIGHUP: {e}"))?;
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot watch SIGINT: {e}"))?;

    let (log_tx, log_thread) = match writer {
        Some(w) => {
            let (tx, handle) = spawn_writer(w);
            (Some(tx), Some(handle))
        }
        None => (None, None),
    };
    let app = Arc::new(App {
        shared: Arc::clone(&shared),
        options,
        metrics: Metrics::default(),
        log: log_tx,
    });

    // The watcher reloads on SIGHUP, on a file change and when the date changes.
    let (trigger_tx, trigger_rx) = mpsc::channel::<Trigger>();
    let watched = Arc::clone(&shared);
    let watcher = std::thread::spawn(move || {
        super::state::watch(&watched, watch, &trigger_rx, |t, outcome| {
            let digest = watched.current().decider.digest().to_owned();
            match outcome {
                Ok(()) => log(&format!("reloaded ({t:?}): serving {digest}")),
                Err(problems) => log(&format!(
                    "reload failed ({t:?}), still serving {digest}: {}",
                    problems.join("; ")
                )),
            }
        });
    });

    let current = shared.current();
    let (users, grants) = current.decider.counts();
    log(&format!(
        "listening on http://{local} ({users} users, {grants} grants, inventory {}, as of {})",
        current.decider.digest(),
        crate::dates::format_days(current.decider.as_of())
    ));
    drop(current);

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let header_timeout = app.options.request_timeout;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        log(&format!("accept failed: {e}"));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = Arc::clone(&app);
                let service = service_fn(move |req| {
                    let app = Arc::clone(&app);
                    async move { Ok::<_, Infallible>(app.route(req).await) }
                });
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = hangup.recv() => {
                log("SIGHUP: reloading");
                let _ = trigger_tx.send(Trigger::Signal);
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    log("shutting down: finishing requests in flight");
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        log("requests still in flight after 10 s were dropped");
    }
    drop(trigger_tx);
    drop(app);
    if let Some(h) = log_thread {
        let _ = h.join();
    }
    let _ = watcher.join();
    log("stopped");
    Ok(())
}
