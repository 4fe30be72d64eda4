//! `vouch evidence verify`: recompute every digest of a bundle, check that the manifest and
//! its signature are byte for byte their canonical form, that the bundle holds nothing else
//! (no link, device, duplicate, stray directory or trailing data; see [`super::read`]), and
//! check the signature.

use std::collections::BTreeSet;

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use super::manifest::{self, MANIFEST, Manifest, SIGNATURE};
use super::read::{ReadBundle, Rejected};
use super::sign::{self, SignatureFile};

/// The state of a bundle's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SignatureState {
    /// No signature, and none was required.
    Unsigned,
    /// A key was given but the bundle has no signature.
    Missing,
    /// Valid for the given key (`trusted`), or only for the key embedded in the signature.
    Valid { key_id: String, trusted: bool },
    /// The signature is valid but made by another key than the one given.
    WrongKey { key_id: String, expected: String },
    /// The signature does not verify, or does not sign this manifest.
    Invalid { reason: String },
}

/// The outcome of a verification.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Files listed in the manifest.
    pub files: usize,
    pub manifest_digest: String,
    /// Set when the manifest is unreadable or inconsistent (digest, order, duplicates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_problem: Option<String>,
    /// Files whose content differs from the manifest (digest or size).
    pub changed: Vec<String>,
    /// Files listed in the manifest but absent.
    pub missing: Vec<String>,
    /// Files present but not listed in the manifest.
    pub extra: Vec<String>,
    /// Directories that hold no file of the bundle (vouch never writes an empty directory).
    pub extra_directories: Vec<String>,
    /// Entries that are not plain files of the bundle: links, devices, duplicates, entries
    /// outside the archive's top directory, data after the archive.
    pub rejected: Vec<Rejected>,
    pub signature: SignatureState,
    /// The hash chain of a bundled `vouch serve` decision log, when the bundle carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_log: Option<crate::serve::decision_log::Verdict>,
}

impl Verification {
    /// True when every digest holds and the signature (if any, or required) is valid.
    pub fn holds(&self) -> bool {
        self.manifest_problem.is_none()
            && self.changed.is_empty()
            && self.missing.is_empty()
            && self.extra.is_empty()
            && self.extra_directories.is_empty()
            && self.rejected.is_empty()
            && matches!(
                self.signature,
                SignatureState::Unsigned | SignatureState::Valid { .. }
            )
            && self.decision_log.as_ref().is_none_or(|d| d.holds())
    }
}

/// Verifies a bundle against its manifest (and `key`, when given).
pub fn verify(bundle: &ReadBundle, key: Option<&VerifyingKey>) -> Verification {
    let files = &bundle.files;
    let mut v = Verification {
        files: 0,
        manifest_digest: String::new(),
        manifest_problem: None,
        changed: Vec::new(),
        missing: Vec::new(),
        extra: Vec::new(),
        extra_directories: bundle.directories.iter().cloned().collect(),
        rejected: bundle.rejected.clone(),
        signature: SignatureState::Unsigned,
        decision_log: None,
    };
    let parsed = files
        .get(MANIFEST)
        .ok_or_else(|| "the bundle has no manifest.json".to_owned())
        .and_then(|bytes| {
            serde_json::from_slice::<Manifest>(bytes)
                .map_err(|e| format!("manifest.json is not a valid manifest: {e}"))
        });
    let m = match parsed {
        Ok(m) => m,
        Err(problem) => {
            v.manifest_problem = Some(problem);
            v.extra = files
                .keys()
                .filter(|p| p.as_str() != MANIFEST && p.as_str() != SIGNATURE)
                .cloned()
                .collect();
            v.signature = SignatureState::Invalid {
                reason: "there is no manifest to check it against".to_owned(),
            };
            return v;
        }
    };
    v.files = m.files.len();
    v.manifest_digest = m.manifest_digest.clone();
    let recomputed = manifest::digest_of(&m.files);
    let sorted = m.files.windows(2).all(|w| w[0].path < w[1].path);
    if recomputed != m.manifest_digest {
        v.manifest_problem = Some(format!(
            "the manifest digest {} does not match its file list ({recomputed})",
            m.manifest_digest
        ));
    } else if !sorted {
        v.manifest_problem = Some("the manifest is not sorted or lists a file twice".to_owned());
    } else if let Some(bytes) = files.get(MANIFEST)
        && let Some(how) = not_canonical(bytes, &crate::report::to_json(&m))
    {
        v.manifest_problem = Some(format!("manifest.json is not in its canonical form: {how}"));
    }
    let mut listed = BTreeSet::new();
    for e in &m.files {
        listed.insert(e.path.as_str());
        match files.get(&e.path) {
            None => v.missing.push(e.path.clone()),
            Some(data) => {
                if data.len() as u64 != e.size || manifest::sha256_hex(data) != e.sha256 {
                    v.changed.push(e.path.clone());
                }
            }
        }
    }
    v.extra = files
        .keys()
        .filter(|p| {
            p.as_str() != MANIFEST && p.as_str() != SIGNATURE && !listed.contains(p.as_str())
        })
        .cloned()
        .collect();
    v.signature = signature_state(files, &m, key);
    v
}

/// How `bytes` differ from the canonical text vouch writes for what they parse to (trailing
/// bytes, another layout, fields it does not write), or `None` when they are that text.
fn not_canonical(bytes: &[u8], canonical: &str) -> Option<String> {
    let c = canonical.as_bytes();
    if bytes == c {
        return None;
    }
    Some(if bytes.len() > c.len() && bytes.starts_with(c) {
        format!("{} bytes after its end", bytes.len() - c.len())
    } else {
        "it was rewritten (layout, spacing or fields differ from what vouch writes)".to_owned()
    })
}

fn signature_state(
    files: &super::bundle::Files,
    m: &Manifest,
    key: Option<&VerifyingKey>,
) -> SignatureState {
    let Some(bytes) = files.get(SIGNATURE) else {
        return if key.is_some() {
            SignatureState::Missing
        } else {
            SignatureState::Unsigned
        };
    };
    let sig: SignatureFile = match serde_json::from_slice(bytes) {
        Ok(s) => s,
        Err(e) => {
            return SignatureState::Invalid {
                reason: format!("manifest.sig is not readable: {e}"),
            };
        }
    };
    if let Some(how) = not_canonical(bytes, &crate::report::to_json(&sig)) {
        return SignatureState::Invalid {
            reason: format!("manifest.sig is not in its canonical form: {how}"),
        };
    }
    if sig.algorithm != "ed25519" {
        return SignatureState::Invalid {
            reason: format!("unsupported algorithm `{}`", sig.algorithm),
        };
    }
    if sig.manifest_digest != m.manifest_digest {
        return SignatureState::Invalid {
            reason: format!(
                "the signature is over {}, not this manifest ({})",
                sig.manifest_digest, m.manifest_digest
            ),
        };
    }
    let embedded = sign::parse_public(&sig.public_key);
    match key {
        Some(k) => {
            if sign::verify(k, &m.manifest_digest, &sig.signature) {
                SignatureState::Valid {
                    key_id: sign::key_id(k),
                    trusted: true,
                }
            } else if embedded
                .as_ref()
                .is_some_and(|e| e != k && sign::verify(e, &m.manifest_digest, &sig.signature))
            {
                SignatureState::WrongKey {
                    key_id: sig.key_id.clone(),
                    expected: sign::key_id(k),
                }
            } else {
                SignatureState::Invalid {
                    reason: "the signature does not verify with the given key".to_owned(),
                }
            }
        }
        None => match embedded {
            Some(e) if sign::verify(&e, &m.manifest_digest, &sig.signature) => {
                if sign::key_id(&e) == sig.key_id {
                    SignatureState::Valid {
                        key_id: sig.key_id.clone(),
                        trusted: false,
                    }
                } else {
                    SignatureState::Invalid {
                        reason: "the key id does not match the embedded public key".to_owned(),
                    }
                }
            }
            Some(_) => SignatureState::Invalid {
                reason: "the signature does not verify".to_owned(),
            },
            None => SignatureState::Invalid {
                reason: "manifest.sig has no readable public key".to_owned(),
            },
        },
    }
}

/// Human report of a verification (names escaped: an archive's entry names are anyone's).
pub fn render(bundle: &str, v: &Verification) -> String {
    use crate::report::text::escape;
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "bundle {}", escape(bundle));
    if let Some(p) = &v.manifest_problem {
        let _ = writeln!(s, "  manifest: {p}");
    } else {
        let _ = writeln!(
            s,
            "  manifest: {} files, digest {}",
            v.files, v.manifest_digest
        );
    }
    for (label, list) in [
        ("changed", &v.changed),
        ("missing", &v.missing),
        ("extra", &v.extra),
        ("extra directory", &v.extra_directories),
    ] {
        for p in list {
            let _ = writeln!(s, "  {label}: {}", escape(p));
        }
    }
    for r in &v.rejected {
        let _ = writeln!(s, "  rejected: {} ({})", escape(&r.path), r.reason);
    }
    let sig = match &v.signature {
        SignatureState::Unsigned => "unsigned (pass --key to require a signature)".to_owned(),
        SignatureState::Missing => {
            "missing: a key was given but the bundle is not signed".to_owned()
        }
        SignatureState::Valid {
            key_id,
            trusted: true,
        } => format!("valid, by the given key {key_id}"),
        SignatureState::Valid {
            key_id,
            trusted: false,
        } => format!("valid for the key it carries ({key_id}); pass --key to check who signed"),
        SignatureState::WrongKey { key_id, expected } => {
            format!("made by another key ({key_id}), not the given key ({expected})")
        }
        SignatureState::Invalid { reason } => format!("BAD: {reason}"),
    };
    let _ = writeln!(s, "  signature: {sig}");
    if let Some(d) = &v.decision_log {
        let _ = writeln!(s, "  decision log: {}", d.describe());
    }
    let _ = writeln!(
        s,
        "{}",
        if v.holds() {
            "verified: every file matches the manifest"
        } else {
            "NOT VERIFIED: the bundle was changed or is incomplete"
        }
    );
    s
}
