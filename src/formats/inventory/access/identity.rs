//! Who a name means: people's ids and emails compared after Unicode NFKC normalisation and case
//! folding, with invisible characters rejected (a zero-width space must not make `priya` and
//! `pri​ya` two people, nor hide a self-approval).

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

/// A name that cannot identify anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadName {
    /// Empty or only white space.
    Blank,
    /// Only punctuation and symbols (`-`, `.`, `…`): no letter or digit.
    NoLetters,
    /// It contains a character that shows nothing (zero-width, bidi control, …): `U+200B`.
    Invisible(char),
}

impl BadName {
    /// In words, for messages.
    pub fn describe(&self) -> String {
        match self {
            BadName::Blank => "it is blank".to_owned(),
            BadName::NoLetters => "it has no letter or digit".to_owned(),
            BadName::Invisible(c) => {
                format!(
                    "it contains the invisible character U+{:04X}",
                    u32::from(*c)
                )
            }
        }
    }
}

/// True for characters that render as nothing or reorder text: Unicode's default-ignorable
/// code points (zero-width spaces and joiners, soft hyphen, bidi controls, variation
/// selectors, tags, …) and control characters other than ordinary white space.
pub fn is_invisible(c: char) -> bool {
    if c.is_control() {
        return !matches!(c, '\t' | '\n' | '\r');
    }
    matches!(u32::from(c),
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5
        | 0x180B..=0x180F | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F
        | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// The first invisible character of `s`, if any.
pub fn invisible_in(s: &str) -> Option<char> {
    s.chars().find(|c| is_invisible(*c))
}

/// The comparable form of a person's id or email: NFKC, case folded, NFKC again (so `PRIYA`,
/// `ｐｒｉｙａ` and `priya` are one name), trimmed. A name with an invisible character, a blank
/// one or one without any letter or digit identifies nobody.
pub fn fold(name: &str) -> Result<String, BadName> {
    if let Some(c) = invisible_in(name) {
        return Err(BadName::Invisible(c));
    }
    let nfkc: String = name.trim().nfkc().collect();
    let folded: String = caseless::default_case_fold_str(&nfkc).nfkc().collect();
    let folded = folded.trim().to_owned();
    if folded.is_empty() {
        Err(BadName::Blank)
    } else if !folded.chars().any(char::is_alphanumeric) {
        Err(BadName::NoLetters)
    } else {
        Ok(folded)
    }
}

/// What a name given as a person (an approver) resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// No name was given (empty or white space).
    Nobody,
    /// The name cannot identify anyone.
    Bad(BadName),
    /// No person goes by this name.
    Unknown,
    /// Several people go by it (one's id is another's email): nobody can be told apart.
    Ambiguous(Vec<String>),
    /// The id of the one person it names.
    Person(String),
}

/// People by every name they go by: their id and their email, folded.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    by_name: HashMap<String, Vec<String>>,
}

impl Directory {
    /// Adds the person `id` under each of `names` (names that fold to nothing are skipped).
    pub fn add<'a>(&mut self, id: &str, names: impl IntoIterator<Item = &'a str>) {
        for name in names {
            if let Ok(folded) = fold(name) {
                let ids = self.by_name.entry(folded).or_default();
                if !ids.iter().any(|i| i == id) {
                    ids.push(id.to_owned());
                }
            }
        }
    }

    /// The person `name` means.
    pub fn resolve(&self, name: &str) -> Resolved {
        match fold(name) {
            Err(BadName::Blank) => Resolved::Nobody,
            Err(bad) => Resolved::Bad(bad),
            Ok(folded) => match self.by_name.get(&folded).map(Vec::as_slice) {
                None | Some([]) => Resolved::Unknown,
                Some([one]) => Resolved::Person(one.clone()),
                Some(many) => {
                    let mut ids = many.to_vec();
                    ids.sort();
                    Resolved::Ambiguous(ids)
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_name_fold_together() {
        for spelling in [
            "priya",
            "PRIYA",
            " Priya ",
            "ｐｒｉｙａ",
            "PRİYA".replace('İ', "I").as_str(),
        ] {
            assert_eq!(fold(spelling).as_deref(), Ok("priya"), "{spelling}");
        }
        assert_eq!(
            fold("Priya@Acme.Example").as_deref(),
            Ok("priya@acme.example")
        );
        assert_eq!(fold("STRAẞE").as_deref(), Ok("strasse"));
    }

    #[test]
    fn invisible_blank_and_punctuation_names_identify_nobody() {
        assert_eq!(fold("pri\u{200B}ya"), Err(BadName::Invisible('\u{200B}')));
        assert_eq!(fold("\u{200B}"), Err(BadName::Invisible('\u{200B}')));
        assert_eq!(fold("priya\u{202E}"), Err(BadName::Invisible('\u{202E}')));
        assert_eq!(fold("ma\u{00AD}ria"), Err(BadName::Invisible('\u{00AD}')));
        assert_eq!(fold("   "), Err(BadName::Blank));
        assert_eq!(fold("."), Err(BadName::NoLetters));
        assert_eq!(fold("-"), Err(BadName::NoLetters));
        assert!(fold("josé").is_ok());
    }

    #[test]
    fn a_directory_resolves_ids_and_emails_in_any_spelling() {
        let mut d = Directory::default();
        d.add("priya", ["priya", "priya@acme.example"]);
        d.add("maria", ["maria", "maria@acme.example"]);
        for name in ["PRIYA", "Priya@ACME.example", "ｐｒｉｙａ"] {
            assert_eq!(
                d.resolve(name),
                Resolved::Person("priya".to_owned()),
                "{name}"
            );
        }
        assert_eq!(d.resolve(""), Resolved::Nobody);
        assert_eq!(d.resolve("nobody"), Resolved::Unknown);
        assert_eq!(d.resolve("."), Resolved::Bad(BadName::NoLetters));
        assert_eq!(
            d.resolve("pri\u{200B}ya"),
            Resolved::Bad(BadName::Invisible('\u{200B}'))
        );
        d.add("mallory", ["maria@acme.example"]);
        assert_eq!(
            d.resolve("maria@acme.example"),
            Resolved::Ambiguous(vec!["mallory".to_owned(), "maria".to_owned()])
        );
    }
}
