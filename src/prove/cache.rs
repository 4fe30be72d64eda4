//! Proved results, remembered by digest: a query whose inputs (the question, the environment,
//! the schema, the policies and invariants involved, the compiler and solver versions) have
//! been proved once is not asked again. Only proofs are kept: a failure is recomputed so its
//! counterexample is always shown.
//!
//! The cache is a directory of empty files named by digest (`$VOUCH_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/vouch`, else `~/.cache/vouch`, then `proofs/v1/`), each created through a
//! temporary file and a rename, so concurrent runs never see a half-written entry. A cache that
//! cannot be written only costs time.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// Bumped whenever what a digest covers changes.
const FORMAT: &str = "vouch-prove-v1";

/// The symbolic compiler's version (pinned in Cargo.toml).
const SYMCC: &str = "cedar-policy-symcc 0.8.1";

/// Where proved digests live, if anywhere.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
    /// Digest of what every query of a run shares (schema, solver).
    shared: String,
}

fn root() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("VOUCH_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("vouch")))
        .or_else(|| var("HOME").map(|h| h.join(".cache").join("vouch")))
}

impl Cache {
    /// The cache for a run with this schema and solver; `disabled` keeps nothing.
    pub fn open(disabled: bool, schema: &str, solver: &str) -> Cache {
        let mut h = Sha256::new();
        for part in [FORMAT, SYMCC, solver, schema] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        Cache {
            dir: if disabled {
                None
            } else {
                root().map(|r| r.join("proofs").join("v1"))
            },
            shared: hex::encode(h.finalize()),
        }
    }

    /// The digest of one query.
    pub fn key(&self, parts: &[&str]) -> String {
        let mut h = Sha256::new();
        h.update(self.shared.as_bytes());
        for part in parts {
            h.update([0]);
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let (prefix, rest) = key.split_at(key.len().min(2));
        Some(dir.join(prefix).join(rest))
    }

    /// True when this query was proved before.
    pub fn proved(&self, key: &str) -> bool {
        self.path(key).is_some_and(|p| p.is_file())
    }

    /// Remembers a proof (best effort: a cache that cannot be written only costs time).
    pub fn remember(&self, key: &str) {
        let Some(path) = self.path(key) else { return };
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let tmp = dir.join(format!(".{key}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, FORMAT).is_ok() && std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}
