//! `vouch serve` with the real binary on an ephemeral loopback port, called over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{tree, vouch};

const INVENTORY: &str = r#"
[[tenant]]
id = "globex"
tier = "standard"
isolation = "shared"
residency = ["eu"]

[[resource]]
id = "aws_account:prod"
environment = "production"
classification = "customer_data"
tenants = ["globex"]

[[user]]
id = "ana"
email = "ana@acme.example"
status = "active"
last_login = 2026-06-25
mfa = true
region = "eu"
support_rotation = ["globex"]

[[user]]
id = "bob"
status = "active"
last_login = 2026-06-25
mfa = true
region = "us"

[[role]]
id = "admin"
privileged = true
actions = ["aws:AdministratorAccess"]

[[role]]
id = "access-approver"
approves = true

[[grant]]
user = "bob"
role = "access-approver"
resource = "*"
approved_by = "ana"
ticket = "SEC-1"
since = 2026-01-01
until = 2026-12-31
last_used = 2026-06-20

[[grant]]
user = "ana"
role = "admin"
resource = "aws_account:prod"
approved_by = "bob"
ticket = "CHG-1"
since = 2026-06-01
until = 2026-06-30
last_used = 2026-06-28
"#;

const AS_OF: &str = "2026-06-30";

/// A running server; killed when dropped.
struct Server {
    child: Child,
    addr: String,
    log: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("vouch")
}

/// Starts `vouch serve DIR --listen 127.0.0.1:0 …` and waits for its address.
fn serve(dir: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(bin())
        .arg("serve")
        .arg(dir)
        .args(["--listen", "127.0.0.1:0", "--as-of", AS_OF])
        .args(if extra.contains(&"--watch-interval-ms") {
            &[][..]
        } else {
            &["--watch-interval-ms", "200"][..]
        })
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) else {
            let _ = child.kill();
            let status = child.wait();
            panic!("the server did not start: {status:?}");
        };
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr = rest.split_whitespace().next().unwrap().to_owned();
            return Server {
                child,
                addr,
                log: rx,
            };
        }
    }
}

/// One HTTP/1.1 request; returns (status, body).
fn http(addr: &str, method: &str, path: &str, body: &str, token: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}

fn check(addr: &str, body: &serde_json::Value) -> (u16, String) {
    http(addr, "POST", "/v1/access/check", &body.to_string(), None)
}

/// `vouch access check` with the same request, stdout as text.
fn cli(dir: &Path, body: &serde_json::Value) -> String {
    let mut c = vouch();
    c.args(["access", "check"]).arg(dir).args([
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--principal",
        body["principal"].as_str().unwrap(),
        "--action",
        body["action"].as_str().unwrap(),
        "--resource",
        body["resource"].as_str().unwrap(),
    ]);
    if let Some(ctx) = body["context"].as_object() {
        for (k, v) in ctx {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            c.args(["--context", &format!("{k}={v}")]);
        }
    }
    if let Some(d) = body["duration"].as_str() {
        c.args(["--duration", d]);
    }
    String::from_utf8(c.output().unwrap().stdout).unwrap()
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn decisions_over_http_equal_the_cli_s() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let server = serve(dir.path(), &[]);
    let requests = [
        serde_json::json!({"principal": "ana", "action": "write", "resource": "aws_account:prod",
            "context": {"mfa": true, "ticket": "CHG-9", "approver": "bob"}, "duration": "4h"}),
        serde_json::json!({"principal": "ana", "action": "write", "resource": "aws_account:prod",
            "context": {"mfa": false, "ticket": "-", "approver": "ANA@acme.example"}}),
        serde_json::json!({"principal": "bob", "action": "read", "resource": "tenant:globex"}),
        serde_json::json!({"principal": "ana", "action": "admin", "resource": "tenant:globex"}),
    ];
    for body in &requests {
        let (status, answer) = check(&server.addr, body);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer, cli(dir.path(), body), "{body}");
    }
    let (_, allow) = check(&server.addr, &requests[0]);
    assert!(allow.contains("\"decision\": \"allow\""), "{allow}");
    let (_, deny) = check(&server.addr, &requests[1]);
    assert!(
        deny.contains("access-no-self-approval") && deny.contains("ticket-format"),
        "{deny}"
    );

    // Unknown ids: 400 with a problem body and the suggestion.
    let (status, body) = check(
        &server.addr,
        &serde_json::json!({"principal": "anna", "action": "read", "resource": "tenant:globx"}),
    );
    assert_eq!(status, 400, "{body}");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], 400);
    assert!(
        body.contains("unknown principal `anna`") && body.contains("`ana`"),
        "{body}"
    );
    assert!(body.contains("`tenant:globex`"), "{body}");
    // Not an access request at all.
    let (status, _) = http(
        &server.addr,
        "POST",
        "/v1/access/check",
        "{\"who\": 1}",
        None,
    );
    assert_eq!(status, 400);
    // Too large.
    let big = format!("{{\"principal\": \"{}\"}}", "a".repeat(70_000));
    let (status, _) = http(&server.addr, "POST", "/v1/access/check", &big, None);
    assert_eq!(status, 413);

    // The other endpoints.
    let (status, body) = http(&server.addr, "GET", "/healthz", "", None);
    assert_eq!((status, body.contains("ok")), (200, true));
    let (status, body) = http(&server.addr, "GET", "/readyz", "", None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(&server.addr, "GET", "/v1/controls", "", None);
    assert_eq!(status, 200);
    assert!(body.contains("access-approver-authorized"));
    let (status, body) = http(&server.addr, "GET", "/v1/access/review", "", None);
    assert_eq!(status, 200);
    let review: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(review["users"], 2);
    let (status, body) = http(&server.addr, "GET", "/metrics", "", None);
    assert_eq!(status, 200);
    assert!(
        body.contains("vouch_access_decisions_total{outcome=\"allow\"} 2"),
        "{body}"
    );
    assert!(
        body.contains("vouch_access_decisions_total{outcome=\"deny\"} 4"),
        "{body}"
    );
    assert!(
        body.contains("vouch_access_decision_duration_seconds_count"),
        "{body}"
    );
    assert!(
        body.contains("vouch_inventory_info{digest=\"sha256:"),
        "{body}"
    );
    assert!(body.contains("vouch_inventory_age_seconds"), "{body}");
    let (status, _) = http(&server.addr, "GET", "/nope", "", None);
    assert_eq!(status, 404);
    let (status, _) = http(&server.addr, "GET", "/v1/access/check", "", None);
    assert_eq!(status, 405);
}

#[test]
fn a_broken_reload_keeps_serving_the_last_good_state_and_reports_not_ready() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let server = serve(dir.path(), &[]);
    let ask =
        serde_json::json!({"principal": "ana", "action": "read", "resource": "aws_account:prod"});
    let (_, before) = check(&server.addr, &ask);
    assert!(before.contains("\"allow\""), "{before}");

    // A bad edit: the file no longer parses.
    std::fs::write(
        dir.path().join("inventory.toml"),
        format!("{INVENTORY}\n[[user]\nid = "),
    )
    .unwrap();
    wait_until("not ready", || {
        http(&server.addr, "GET", "/readyz", "", None).0 == 503
    });
    let (_, body) = http(&server.addr, "GET", "/readyz", "", None);
    assert!(body.contains("inventory.toml"), "{body}");
    let (status, during) = check(&server.addr, &ask);
    assert_eq!(
        (status, during.as_str()),
        (200, before.as_str()),
        "the old state is still served"
    );
    let mut log = Vec::new();
    wait_until("the failure logged", || {
        log.extend(server.log.try_iter());
        log.iter()
            .any(|l| l.contains("reload failed") && l.contains("inventory.toml"))
    });

    // Fixed, with Ana's grant removed: ready again, and the answer follows the new state.
    let fixed = INVENTORY.replace(
        "user = \"ana\"\nrole = \"admin\"",
        "user = \"bob\"\nrole = \"admin\"",
    );
    std::fs::write(dir.path().join("inventory.toml"), fixed).unwrap();
    wait_until("ready again", || {
        http(&server.addr, "GET", "/readyz", "", None).0 == 200
    });
    let (_, after) = check(&server.addr, &ask);
    assert!(after.contains("\"deny\""), "{after}");
}

#[test]
fn sighup_reloads() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    // A long watch interval: only the signal can reload in time.
    let server = serve(dir.path(), &["--watch-interval-ms", "600000"]);
    let ask = serde_json::json!({"principal": "bob", "action": "admin", "resource": "aws_account:sandbox"});
    let (status, _) = check(&server.addr, &ask);
    assert_eq!(status, 400, "no such resource yet");
    let more = format!(
        "{INVENTORY}\n[[resource]]\nid = \"aws_account:sandbox\"\nenvironment = \"development\"\nclassification = \"internal\"\n"
    );
    std::fs::write(dir.path().join("inventory.toml"), more).unwrap();
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    wait_until("reloaded", || check(&server.addr, &ask).0 == 200);
}

#[test]
fn the_decision_log_is_chained_and_a_tampered_line_fails_verification() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let log = dir.path().join("decisions.jsonl");
    let mut server = serve(dir.path(), &["--decision-log", log.to_str().unwrap()]);
    for principal in ["ana", "bob", "ana"] {
        let (status, _) = check(
            &server.addr,
            &serde_json::json!({"principal": principal, "action": "read", "resource": "aws_account:prod",
                "context": {"ticket": "CHG-3"}}),
        );
        assert_eq!(status, 200);
    }
    // Graceful shutdown on SIGTERM: exit 0, the log synced.
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["request"]["principal"], "ana");
    assert_eq!(lines[1]["decision"], "deny");
    assert_eq!(lines[1]["denied_by"][0], "access-eu-data-eu-support/region");
    assert!(
        lines[2]["inventory_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(lines[2]["prev"], lines[1]["hash"]);

    let verify = |path: &Path| {
        vouch()
            .args(["evidence", "verify"])
            .arg(path)
            .output()
            .unwrap()
    };
    let ok = verify(&log);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );

    // The log travels in an evidence bundle, and the bundle verifies it.
    let bundle = dir.path().join("bundle");
    let out = vouch()
        .args(["evidence", "bundle"])
        .arg(dir.path())
        .arg("--out")
        .arg(&bundle)
        .args(["--as-of", AS_OF, "--decision-log"])
        .arg(&log)
        .env("VOUCH_COLLECTION_TIME", "2026-06-30T12:00:00Z")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(bundle.join("decisions/decision-log.jsonl").is_file());
    let out = verify(&bundle);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("3 decisions, chain intact"), "{stdout}");

    // One tampered line: the chain breaks there.
    let tampered = text.replacen("\"decision\":\"deny\"", "\"decision\":\"allow\"", 1);
    assert_ne!(tampered, text);
    std::fs::write(&log, &tampered).unwrap();
    let bad = verify(&log);
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("line 2"), "{stdout}");

    // A server does not append to a broken chain.
    let out = Command::new(bin())
        .arg("serve")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0", "--decision-log"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not verify"));
}

#[test]
fn a_token_is_required_when_configured_and_beyond_loopback() {
    let dir = tree(&[("inventory.toml", INVENTORY), ("token", "s3cret-token\n")]);
    let token = dir.path().join("token");
    let server = serve(dir.path(), &["--token-file", token.to_str().unwrap()]);
    let body =
        serde_json::json!({"principal": "ana", "action": "read", "resource": "aws_account:prod"})
            .to_string();
    let (status, text) = http(&server.addr, "POST", "/v1/access/check", &body, None);
    assert_eq!(status, 401, "{text}");
    let (status, _) = http(
        &server.addr,
        "POST",
        "/v1/access/check",
        &body,
        Some("wrong"),
    );
    assert_eq!(status, 401);
    let (status, _) = http(&server.addr, "GET", "/metrics", "", None);
    assert_eq!(status, 401);
    let (status, text) = http(
        &server.addr,
        "POST",
        "/v1/access/check",
        &body,
        Some("s3cret-token"),
    );
    assert_eq!(status, 200, "{text}");
    // Probes need no token.
    assert_eq!(http(&server.addr, "GET", "/healthz", "", None).0, 200);

    // Beyond loopback without a token: refused.
    let out = Command::new(bin())
        .arg("serve")
        .arg(dir.path())
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("beyond loopback") && stderr.contains("--token-file"),
        "{stderr}"
    );
}
