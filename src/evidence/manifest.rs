//! `manifest.json`: every file of a bundle with its SHA-256 and size, and one digest over them.
//!
//! The manifest digest is the SHA-256 of the `sha256sum` listing of the files in manifest order
//! (`<hex>  <path>\n` per file), so an auditor can recompute it with coreutils alone:
//! `jq -r '.files[].path' manifest.json | xargs sha256sum | sha256sum`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest's file name (not listed in itself).
pub const MANIFEST: &str = "manifest.json";
/// The signature's file name (not listed in the manifest it signs).
pub const SIGNATURE: &str = "manifest.sig";

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Path relative to the bundle, `/`-separated.
    pub path: String,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    pub size: u64,
}

/// The manifest of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    /// Every file except the manifest and its signature, sorted by path.
    pub files: Vec<Entry>,
    /// `sha256:` over the `sha256sum` listing of `files`.
    pub manifest_digest: String,
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The digest over a list of entries (in their order).
pub fn digest_of(files: &[Entry]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.sha256.as_bytes());
        h.update(b"  ");
        h.update(f.path.as_bytes());
        h.update(b"\n");
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

impl Manifest {
    /// The manifest of a bundle's files (a sorted map, so the order is fixed).
    pub fn build(files: &BTreeMap<String, Vec<u8>>) -> Manifest {
        let files: Vec<Entry> = files
            .iter()
            .map(|(path, data)| Entry {
                path: path.clone(),
                sha256: sha256_hex(data),
                size: data.len() as u64,
            })
            .collect();
        Manifest {
            schema_version: 1,
            manifest_digest: digest_of(&files),
            files,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_the_sha256sum_listing() {
        let mut files = BTreeMap::new();
        files.insert("b.txt".to_owned(), b"b".to_vec());
        files.insert("a.txt".to_owned(), b"a".to_vec());
        let m = Manifest::build(&files);
        assert_eq!(m.files[0].path, "a.txt");
        let listing = format!("{}  a.txt\n{}  b.txt\n", sha256_hex(b"a"), sha256_hex(b"b"));
        assert_eq!(
            m.manifest_digest,
            format!("sha256:{}", sha256_hex(listing.as_bytes()))
        );
    }
}
