//! Which names name a secret: keys (`password`, `clientSecret`, `DB_PASSWORD`), command-line
//! flags (`--db-password`), and URL query parameters (`token`, `X-Amz-Signature`, `sig`).

/// Lowercase snake case of a key (`clientSecret` → `client_secret`), quotes stripped.
fn normalise_key(key: &str) -> String {
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(if c == '-' || c == '.' {
            '_'
        } else {
            c.to_ascii_lowercase()
        });
    }
    out
}

/// Words that make a key secret.
const WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "private_key",
    "privatekey",
    "access_key",
    "accesskey",
    "api_key",
    "apikey",
    "credential",
    "connection_string",
    "webhook_url",
    "auth_key",
    "signing_key",
    "encryption_key",
    "session_key",
];

/// Last words that make such a key name something about the secret, not the secret (the
/// name, ARN, path or length of a secret).
const NOT: &[&str] = &[
    "name",
    "names",
    "arn",
    "arns",
    "ref",
    "id",
    "ids",
    "path",
    "file",
    "version",
    "type",
    "kind",
    "length",
    "policy",
    "enabled",
    "count",
    "hours",
    "days",
    "minutes",
    "seconds",
    "ttl",
    "rotation",
    "reference",
    "provider",
    "generator",
    "store",
    "mount",
    "selector",
    "env",
];

/// True for keys that name a secret value (and not, say, the name or ARN of a secret).
pub fn is_secret_key(key: &str) -> bool {
    let k = normalise_key(key);
    if !WORDS.iter().any(|w| k.contains(w)) {
        return false;
    }
    let last = k.rsplit('_').next().unwrap_or(&k);
    !NOT.contains(&last)
}

/// True for a command-line flag (`--password`, `-db-password`, `--api-key=…`) that takes a
/// secret.
pub fn is_secret_flag(flag: &str) -> bool {
    let name = flag.trim_start_matches('-');
    let name = name.split('=').next().unwrap_or(name);
    !name.is_empty() && is_secret_key(name)
}

/// True for URL query parameters that carry a credential (API tokens, pre-signed URL and SAS
/// signatures).
pub fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    is_secret_key(&n)
        || matches!(
            n.as_str(),
            "sig"
                | "signature"
                | "x-amz-signature"
                | "x-amz-credential"
                | "x-amz-security-token"
                | "x-goog-signature"
                | "x-goog-credential"
                | "code"
                | "key"
                | "auth"
                | "sv"
                | "se"
                | "sp"
                | "access_token"
                | "id_token"
                | "refresh_token"
                | "client_secret"
                | "apikey"
                | "api_key"
                | "pass"
                | "pwd"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_and_their_names() {
        for k in [
            "password",
            "master_password",
            "clientSecret",
            "DB_PASSWORD",
            "api-key",
            "aws_secret_access_key",
            "githubToken",
            "slack_webhook_url",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "secret_name",
            "secretArn",
            "password_length",
            "token_ttl",
            "kms_key_id",
            "name",
            "secretKeyRef",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
        assert!(is_secret_flag("--db-password"));
        assert!(is_secret_flag("--api-key=x"));
        assert!(!is_secret_flag("--port"));
        assert!(is_secret_param("X-Amz-Signature") && is_secret_param("token"));
        assert!(!is_secret_param("page"));
    }
}
