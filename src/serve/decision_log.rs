//! The decision log: every decision of `vouch serve` appended as one JSON line, chained to the
//! previous line by SHA-256 — the record auditors ask for ("who was granted what, on which
//! basis").
//!
//! Each line is a JSON object whose last member is `"hash"`: the SHA-256 of the line's text
//! up to that member (the object closed with `}` instead), which includes `"prev"`, the hash
//! of the line before (64 zeros for the first). Changing, removing, inserting or reordering a
//! line breaks the chain at that line. The chain proves the log's integrity, not its origin:
//! anyone can write a new valid chain, so bundle the log (`vouch evidence bundle
//! --decision-log`) and sign the bundle to pin its head.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev` of the first line.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// What a line records, in this order (the hash follows).
#[derive(Debug, Clone, Serialize)]
pub struct Entry<'a> {
    pub seq: u64,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub time: String,
    pub prev: &'a str,
    /// The request as received (principal, action, resource, context, duration, as_of).
    pub request: &'a serde_json::Value,
    pub decision: &'a str,
    pub granted_by: &'a [String],
    /// Policy ids of the rules that denied.
    pub denied_by: Vec<&'a str>,
    pub missing_grant: Option<&'a str>,
    /// `sha256:` of every file the decision was based on.
    pub inventory_digest: &'a str,
    pub library_digest: &'a str,
    pub as_of: &'a str,
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The line for `entry`, without its newline, and its hash.
pub fn line_of(entry: &Entry<'_>) -> Result<(String, String), String> {
    let mut body = serde_json::to_string(entry).map_err(|e| e.to_string())?;
    let hash = sha256(body.as_bytes());
    body.pop(); // the closing brace
    body.push_str(",\"hash\":\"");
    body.push_str(&hash);
    body.push_str("\"}");
    Ok((body, hash))
}

/// Splits a line into the text its hash covers and the hash it states.
fn hashed_part(line: &str) -> Option<(String, &str)> {
    let at = line.rfind(",\"hash\":\"")?;
    let stated = line.get(at + 9..)?.strip_suffix("\"}")?;
    let mut covered = line.get(..at)?.to_owned();
    covered.push('}');
    Some((covered, stated))
}

/// Why a log does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    /// 1-based line number.
    pub line: usize,
    pub reason: String,
}

/// A verified log: how many decisions and the hash of the last line (the chain's head).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chain {
    pub entries: u64,
    pub head: String,
}

/// Verifies a whole log: every line's hash, every `prev`, every `seq`.
pub fn verify(reader: impl Read) -> Result<Chain, Break> {
    let mut prev = GENESIS.to_owned();
    let mut count = 0u64;
    for (i, line) in BufReader::new(reader).lines().enumerate() {
        let n = i + 1;
        let at = |reason: String| Break { line: n, reason };
        let line = line.map_err(|e| at(format!("cannot be read: {e}")))?;
        let (covered, stated) =
            hashed_part(&line).ok_or_else(|| at("has no `hash` as its last member".to_owned()))?;
        let computed = sha256(covered.as_bytes());
        if computed != stated {
            return Err(at(format!(
                "was changed: its hash is {computed}, it states {stated}"
            )));
        }
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| at(format!("is not a JSON object: {e}")))?;
        if value.get("prev").and_then(|p| p.as_str()) != Some(prev.as_str()) {
            return Err(at(format!(
                "does not follow the line before (its `prev` should be {prev}): a line was removed, inserted or reordered"
            )));
        }
        if value.get("seq").and_then(serde_json::Value::as_u64) != Some(count + 1) {
            return Err(at(format!(
                "has `seq` out of order (expected {})",
                count + 1
            )));
        }
        prev = stated.to_owned();
        count += 1;
    }
    Ok(Chain {
        entries: count,
        head: prev,
    })
}

/// Verifies the log at `path`.
pub fn verify_file(path: &Path) -> Result<Chain, Break> {
    let f = File::open(path).map_err(|e| Break {
        line: 0,
        reason: format!("the log cannot be opened: {e}"),
    })?;
    verify(f)
}

/// An open log, appended to in order.
#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
    file: File,
    prev: String,
    seq: u64,
}

impl Writer {
    /// Opens `path` for appending and continues its chain; a log that does not verify is not
    /// appended to (a new chain on a broken one would launder the break).
    pub fn open(path: &Path) -> Result<Writer, String> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open `{}`: {e}", path.display()))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let chain = verify(&mut file).map_err(|b| {
            format!(
                "`{}` does not verify: line {} {}",
                path.display(),
                b.line,
                b.reason
            )
        })?;
        Ok(Writer {
            path: path.to_owned(),
            file,
            prev: chain.head,
            seq: chain.entries,
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one decision; `fill` gets the sequence number and the previous hash.
    pub fn append(
        &mut self,
        make: impl FnOnce(u64, &str) -> Result<(String, String), String>,
    ) -> Result<(), String> {
        let (mut line, hash) = make(self.seq + 1, &self.prev)?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| format!("cannot append to `{}`: {e}", self.path.display()))?;
        self.seq += 1;
        self.prev = hash;
        Ok(())
    }

    /// Flushes to disk (called periodically and at shutdown).
    pub fn sync(&mut self) -> Result<(), String> {
        self.file
            .sync_data()
            .map_err(|e| format!("cannot sync `{}`: {e}", self.path.display()))
    }
}

/// Where an evidence bundle carries a decision log.
pub const BUNDLE_PATH: &str = "decisions/decision-log.jsonl";

/// True for a path `vouch evidence verify` should read as a decision log: a `.jsonl` file.
pub fn is_log(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e == "jsonl")
}

/// The chain of a log, as `vouch evidence verify` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Verdict {
    Intact { entries: u64, head: String },
    Broken { line: usize, reason: String },
}

impl Verdict {
    pub fn holds(&self) -> bool {
        matches!(self, Verdict::Intact { .. })
    }

    /// In words.
    pub fn describe(&self) -> String {
        match self {
            Verdict::Intact { entries, head } => {
                format!("{entries} decisions, chain intact, head {head}")
            }
            Verdict::Broken { line, reason } => format!("BROKEN at line {line}: it {reason}"),
        }
    }
}

impl From<Result<Chain, Break>> for Verdict {
    fn from(r: Result<Chain, Break>) -> Self {
        match r {
            Ok(c) => Verdict::Intact {
                entries: c.entries,
                head: c.head,
            },
            Err(b) => Verdict::Broken {
                line: b.line,
                reason: b.reason,
            },
        }
    }
}

/// The chain of the decision log a bundle carries, if it carries one.
pub fn verify_in_bundle(files: &std::collections::BTreeMap<String, Vec<u8>>) -> Option<Verdict> {
    files
        .get(BUNDLE_PATH)
        .map(|bytes| Verdict::from(verify(bytes.as_slice())))
}

/// Reads a log for a bundle; a log whose chain does not hold is not bundled.
pub fn read_verified(path: &Path) -> Result<Vec<u8>, crate::error::Problem> {
    let bytes = std::fs::read(path)
        .map_err(|e| crate::error::Problem::io(path.display().to_string(), &e))?;
    verify(bytes.as_slice()).map_err(|b| {
        crate::error::Problem::config(
            format!(
                "the decision log `{}` does not verify: line {} {}",
                path.display(),
                b.line,
                b.reason
            ),
            None,
        )
        .with_help("a broken log cannot be carried as evidence; keep it aside and start a new one")
    })?;
    Ok(bytes)
}

/// `vouch evidence verify LOG.jsonl`: exit 0 when the chain holds, 1 when it is broken.
pub fn cmd_verify(path: &Path, format: crate::report::Format) -> u8 {
    let verdict = Verdict::from(verify_file(path));
    match format {
        crate::report::Format::Json => {
            crate::report::emit(&crate::report::to_json(&serde_json::json!({
                "schema_version": 1,
                "decision_log": path.display().to_string(),
                "verified": verdict.holds(),
                "result": verdict,
            })))
        }
        crate::report::Format::Human => crate::report::emit(&format!(
            "decision log {}\n  {}\n{}\n",
            path.display(),
            verdict.describe(),
            if verdict.holds() {
                "verified: every line is chained to the one before"
            } else {
                "NOT VERIFIED: the log was changed"
            }
        )),
    }
    if verdict.holds() {
        crate::app::exit::CLEAN
    } else {
        crate::app::exit::FINDINGS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(seq: u64, prev: &'a str, req: &'a serde_json::Value) -> Entry<'a> {
        Entry {
            seq,
            time: "2026-11-25T10:00:00Z".to_owned(),
            prev,
            request: req,
            decision: "allow",
            granted_by: &[],
            denied_by: Vec::new(),
            missing_grant: None,
            inventory_digest: "sha256:ab",
            library_digest: "sha256:cd",
            as_of: "2026-11-25",
        }
    }

    fn log(n: u64) -> Vec<String> {
        let req = serde_json::json!({"principal": "ana"});
        let mut prev = GENESIS.to_owned();
        let mut lines = Vec::new();
        for seq in 1..=n {
            let (line, hash) = line_of(&entry(seq, &prev, &req)).unwrap();
            lines.push(line);
            prev = hash;
        }
        lines
    }

    #[test]
    fn an_intact_chain_verifies_and_any_change_breaks_it() {
        let lines = log(3);
        let text = lines.join("\n") + "\n";
        assert_eq!(verify(text.as_bytes()).unwrap().entries, 3);
        let tampered = text.replacen("\"allow\"", "\"deny\"", 1);
        assert_eq!(verify(tampered.as_bytes()).unwrap_err().line, 1);
        let dropped = format!("{}\n{}\n", lines[0], lines[2]);
        assert_eq!(verify(dropped.as_bytes()).unwrap_err().line, 2);
        let swapped = format!("{}\n{}\n{}\n", lines[1], lines[0], lines[2]);
        assert_eq!(verify(swapped.as_bytes()).unwrap_err().line, 1);
        assert_eq!(verify(&b""[..]).unwrap().entries, 0);
    }
}
