//! Byte offsets of JSON values, for spans: serde_json keeps none. A single pass that skips
//! strings and nesting; it never fails (on malformed text it returns what it found).

/// Offsets of the values of `key` in the top-level object: each element's start when the value
/// is an array, the value's start when it is not.
pub fn top_level(text: &str, key: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Vec::new();
    }
    i += 1;
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b'"') => {}
            _ => return Vec::new(),
        }
        let (k_start, k_end) = (i + 1, string_end(b, i));
        let name = text
            .get(k_start..k_end.saturating_sub(1))
            .unwrap_or_default();
        i = skip_ws(b, k_end);
        if b.get(i) != Some(&b':') {
            return Vec::new();
        }
        i = skip_ws(b, i + 1);
        if name == key {
            return elements(b, i);
        }
        i = value_end(b, i);
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => i += 1,
            _ => return Vec::new(),
        }
    }
}

/// The starts of an array's elements (or the value's start when it is not an array).
fn elements(b: &[u8], start: usize) -> Vec<usize> {
    if b.get(start) != Some(&b'[') {
        return vec![start];
    }
    let mut out = Vec::new();
    let mut i = skip_ws(b, start + 1);
    if b.get(i) == Some(&b']') {
        return out;
    }
    while i < b.len() {
        out.push(i);
        i = skip_ws(b, value_end(b, i));
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            _ => break,
        }
    }
    out
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The offset just past the string starting at `i` (a `"`).
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while let Some(c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The offset just past the value starting at `i`.
fn value_end(b: &[u8], mut i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            while let Some(c) = b.get(i) {
                match c {
                    b'"' => {
                        i = string_end(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        _ => {
            while b.get(i).is_some_and(|c| !matches!(c, b',' | b'}' | b']')) {
                i += 1;
            }
            i
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_elements() {
        let t = r#"{"Version": "x", "Statement": [ {"a": "]}"}, {"b": [1, {"c": 2}]} ] }"#;
        let offs = top_level(t, "Statement");
        assert_eq!(offs.len(), 2);
        assert!(t[offs[0]..].starts_with(r#"{"a""#));
        assert!(t[offs[1]..].starts_with(r#"{"b""#));
        assert_eq!(top_level(t, "Version").len(), 1);
        assert!(top_level(t, "Nope").is_empty());
        assert!(top_level("[1]", "Statement").is_empty());
        assert!(top_level(r#"{"Statement": [{"#, "Statement").len() == 1);
    }
}
