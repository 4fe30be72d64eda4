//! Escaping of untrusted text (file names, addresses) before it reaches a terminal or a table.

use std::borrow::Cow;

/// A name as it is safe to print: control characters (a newline, a carriage return, the escape
/// that starts a terminal sequence, C1 controls), Unicode line and paragraph separators and
/// bidirectional overrides are written as Rust-style escapes (`\n`, `\u{1b}`), and a backslash
/// as `\\` so the escaped form is unambiguous. Ordinary names come back borrowed and unchanged.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c == '\\'
        || c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn control_characters_are_escaped_and_plain_names_borrowed() {
        assert!(matches!(
            escape("infra/main.tf"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(escape("a\nb.tf"), "a\\nb.tf");
        assert_eq!(escape("x\u{1b}[31mred.tf"), "x\\u{1b}[31mred.tf");
        assert_eq!(escape("tab\there\r"), "tab\\there\\r");
        assert_eq!(escape("back\\slash\n"), "back\\\\slash\\n");
        assert_eq!(escape("rtl\u{202e}fdp.tf"), "rtl\\u{202e}fdp.tf");
        assert_eq!(escape("caf\u{e9}.tf"), "caf\u{e9}.tf");
    }
}
