//! IAM wildcards: `*` matches any run of characters (including none, and `/` or `:`), `?`
//! matches exactly one. Matching is byte-wise; callers lowercase actions (action names are
//! case-insensitive) and leave ARNs as they are (ARNs are case-sensitive).

/// Patterns longer than this are compared only by their literal prefix in [`intersects`]
/// (hostile input must not make the quadratic check run for minutes).
const MAX_INTERSECT: usize = 4096;

/// True when `text` matches `pattern`.
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some(p);
                mark = t;
                p += 1;
            }
            Some(c) if *c == b'?' || Some(c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some(s) => {
                    p = s + 1;
                    mark += 1;
                    t = mark;
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|c| *c == b'*')
}

/// True when some text matches both patterns (each with `*` and `?`).
pub fn intersects(a: &[u8], b: &[u8]) -> bool {
    if a.len().saturating_mul(b.len()) > MAX_INTERSECT * 64 {
        let lit = |p: &[u8]| {
            p.iter()
                .position(|c| *c == b'*' || *c == b'?')
                .unwrap_or(p.len())
        };
        let n = lit(a).min(lit(b));
        return a[..n] == b[..n];
    }
    // reach[i][j]: a[..i] and b[..j] can be aligned (both consumed so far).
    let w = b.len() + 1;
    let mut reach = vec![false; (a.len() + 1) * w];
    reach[0] = true;
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            if !reach[i * w + j] {
                continue;
            }
            let (ca, cb) = (a.get(i), b.get(j));
            // A star may match nothing.
            if ca == Some(&b'*') {
                reach[(i + 1) * w + j] = true;
            }
            if cb == Some(&b'*') {
                reach[i * w + j + 1] = true;
            }
            match (ca, cb) {
                // A star absorbs one character (or star) of the other side and stays.
                (Some(b'*'), Some(_)) => {
                    reach[i * w + j + 1] = true;
                    if cb == Some(&b'*') {
                        reach[(i + 1) * w + j] = true;
                    }
                }
                (Some(_), Some(b'*')) => reach[(i + 1) * w + j] = true,
                (Some(x), Some(y)) if *x == b'?' || *y == b'?' || x == y => {
                    reach[(i + 1) * w + j + 1] = true;
                }
                _ => {}
            }
        }
    }
    reach[a.len() * w + b.len()]
}

/// True when the pattern has a wildcard.
pub fn has_wildcard(p: &str) -> bool {
    p.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        matches(p.as_bytes(), t.as_bytes())
    }

    fn x(a: &str, b: &str) -> bool {
        intersects(a.as_bytes(), b.as_bytes())
    }

    #[test]
    fn matching() {
        assert!(m("iam:pass*", "iam:passrole"));
        assert!(m("*", "iam:passrole"));
        assert!(m("iam:*role", "iam:passrole"));
        assert!(m("iam:p?ssrole", "iam:passrole"));
        assert!(m("s3:?*", "s3:getobject"));
        assert!(m("s3:**", "s3:getobject"));
        assert!(!m("s3:?*", "s3:"));
        assert!(!m("iam:pass", "iam:passrole"));
        assert!(!m("s3:*", "iam:passrole"));
        assert!(m("arn:aws:iam::*:role/*", "arn:aws:iam::1:role/a/b"));
        assert!(!m("arn:aws:iam::*:role/a", "arn:aws:iam::1:role/A"));
    }

    #[test]
    fn intersections() {
        assert!(x("role/*", "role/app-*"));
        assert!(x("*", "anything"));
        assert!(x("a*c", "ab*"));
        assert!(x("role/a?c", "role/*c"));
        assert!(!x("role/a*", "role/b*"));
        assert!(!x("user/*", "role/*"));
        assert!(x("", "*"));
        assert!(!x("", "?"));
        assert!(x("*a*", "*b*"));
        assert!(!x("a", "b"));
    }
}
