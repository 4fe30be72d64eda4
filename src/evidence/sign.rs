//! Ed25519 signing of the manifest digest, and the key files (PKCS#8 and SPKI PEM, readable by
//! OpenSSL).

use std::path::Path;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::{Problem, ProblemKind};

/// `manifest.sig`: who signed which digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureFile {
    pub algorithm: String,
    /// `sha256:` of the public key's DER (SPKI) encoding.
    pub key_id: String,
    /// The signer's public key (SPKI PEM), so a bundle can be checked without a key file; only
    /// `--key` proves who signed.
    pub public_key: String,
    /// The signed message: the manifest digest, as its ASCII text.
    pub manifest_digest: String,
    /// Lowercase hex of the 64-byte signature.
    pub signature: String,
}

fn key_problem(message: String) -> Problem {
    Problem::new(ProblemKind::Config, message)
}

/// A new key pair.
pub fn generate() -> SigningKey {
    SigningKey::generate(&mut rand_core::OsRng)
}

/// PKCS#8 PEM of a private key.
pub fn private_pem(key: &SigningKey) -> Result<String, Problem> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|s| s.to_string())
        .map_err(|e| key_problem(format!("cannot encode the private key: {e}")))
}

/// SPKI PEM of a public key.
pub fn public_pem(key: &VerifyingKey) -> Result<String, Problem> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| key_problem(format!("cannot encode the public key: {e}")))
}

/// `sha256:` over the DER encoding of a public key.
pub fn key_id(key: &VerifyingKey) -> String {
    match key.to_public_key_der() {
        Ok(der) => format!("sha256:{}", super::manifest::sha256_hex(der.as_bytes())),
        Err(_) => String::new(),
    }
}

/// Reads a private key file (PKCS#8 PEM).
pub fn read_private(path: &Path) -> Result<SigningKey, Problem> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Problem::io(path.display().to_string(), &e))?;
    SigningKey::from_pkcs8_pem(&text).map_err(|e| {
        key_problem(format!(
            "`{}` is not an ed25519 private key (PKCS#8 PEM): {e}",
            path.display()
        ))
        .with_help("make one with `vouch evidence keygen --out PREFIX`")
    })
}

/// Parses a public key (SPKI PEM).
pub fn parse_public(text: &str) -> Option<VerifyingKey> {
    VerifyingKey::from_public_key_pem(text.trim()).ok()
}

/// Reads a public key file (SPKI PEM).
pub fn read_public(path: &Path) -> Result<VerifyingKey, Problem> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Problem::io(path.display().to_string(), &e))?;
    parse_public(&text).ok_or_else(|| {
        key_problem(format!(
            "`{}` is not an ed25519 public key (SPKI PEM)",
            path.display()
        ))
    })
}

/// Signs a manifest digest.
pub fn sign(key: &SigningKey, manifest_digest: &str) -> Result<SignatureFile, Problem> {
    let public = key.verifying_key();
    let signature = key.sign(manifest_digest.as_bytes());
    Ok(SignatureFile {
        algorithm: "ed25519".to_owned(),
        key_id: key_id(&public),
        public_key: public_pem(&public)?,
        manifest_digest: manifest_digest.to_owned(),
        signature: hex::encode(signature.to_bytes()),
    })
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

/// True when `signature` (hex) is `key`'s ed25519 signature of `message`.
pub fn verify(key: &VerifyingKey, message: &str, signature: &str) -> bool {
    let Some(bytes) = unhex(signature) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(&bytes) else {
        return false;
    };
    key.verify(message.as_bytes(), &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_round_trips_through_pem() {
        let key = generate();
        let pem = private_pem(&key).unwrap();
        let again = SigningKey::from_pkcs8_pem(&pem).unwrap();
        let s = sign(&again, "sha256:abc").unwrap();
        let public = parse_public(&s.public_key).unwrap();
        assert!(verify(&public, "sha256:abc", &s.signature));
        assert!(!verify(&public, "sha256:abd", &s.signature));
        let other = generate();
        assert!(!verify(&other.verifying_key(), "sha256:abc", &s.signature));
    }
}
