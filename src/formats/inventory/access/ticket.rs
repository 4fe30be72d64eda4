//! Tickets: a request or grant names a change or incident ticket that must match the
//! organisation's `[access] ticket_pattern` (`vouch.toml`), so `-` or a lone zero-width space
//! is no ticket.

use std::sync::Arc;

use regex::Regex;

use super::identity::invisible_in;

/// The default: a letter or digit, then letters, digits and `._:/#-` (Jira `SEC-1042`,
/// ServiceNow `CHG0012345`, a ticket URL). Blanks and punctuation-only values never match.
pub const DEFAULT_TICKET_PATTERN: &str = r"[\p{L}\p{N}][\p{L}\p{N}._:/#-]*";

/// No ticket is longer (whatever the pattern): a longer value is not a reference to a ticket.
pub const MAX_TICKET_CHARS: usize = 200;

/// A compiled ticket pattern; it must match the whole ticket.
#[derive(Debug, Clone)]
pub struct TicketPattern {
    source: String,
    regex: Arc<Regex>,
}

/// What a ticket value is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketVerdict {
    /// None given (empty or white space).
    Missing,
    /// It contains an invisible character.
    Invisible,
    /// Given, but it does not match the pattern.
    NoMatch,
    Valid,
}

impl TicketPattern {
    /// Compiles `pattern`, anchored at both ends; the error is the regex crate's message.
    pub fn new(pattern: &str) -> Result<TicketPattern, String> {
        let regex = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| e.to_string())?;
        Ok(TicketPattern {
            source: pattern.to_owned(),
            regex: Arc::new(regex),
        })
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Judges one ticket value.
    pub fn judge(&self, ticket: &str) -> TicketVerdict {
        if invisible_in(ticket).is_some() {
            TicketVerdict::Invisible
        } else if ticket.trim().is_empty() {
            TicketVerdict::Missing
        } else if ticket.trim().chars().count() <= MAX_TICKET_CHARS
            && self.regex.is_match(ticket.trim())
        {
            TicketVerdict::Valid
        } else {
            TicketVerdict::NoMatch
        }
    }
}

impl Default for TicketPattern {
    #[expect(
        clippy::expect_used,
        reason = "a constant pattern, compiled by the tests below"
    )]
    fn default() -> Self {
        TicketPattern::new(DEFAULT_TICKET_PATTERN).expect("the default ticket pattern compiles")
    }
}

/// The organisation's access settings (`[access]` in `vouch.toml`).
#[derive(Debug, Clone, Default)]
pub struct AccessSettings {
    pub ticket_pattern: TicketPattern,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_accepts_tickets_and_rejects_blanks_and_punctuation() {
        let p = TicketPattern::default();
        assert_eq!(p.source(), DEFAULT_TICKET_PATTERN);
        for good in [
            "SEC-1042",
            "CHG0012345",
            "INC-7",
            "https://jira.example/browse/SEC-1",
        ] {
            assert_eq!(p.judge(good), TicketVerdict::Valid, "{good}");
        }
        assert_eq!(p.judge(""), TicketVerdict::Missing);
        assert_eq!(p.judge("   "), TicketVerdict::Missing);
        assert_eq!(p.judge("-"), TicketVerdict::NoMatch);
        assert_eq!(p.judge("..."), TicketVerdict::NoMatch);
        assert_eq!(p.judge("n/a please"), TicketVerdict::NoMatch);
        assert_eq!(p.judge("\u{200B}"), TicketVerdict::Invisible);
        assert_eq!(p.judge("SEC-1\u{200D}"), TicketVerdict::Invisible);
        assert_eq!(p.judge(&"A".repeat(201)), TicketVerdict::NoMatch);
    }

    #[test]
    fn a_custom_pattern_matches_whole_tickets_only() {
        let p = TicketPattern::new("SEC-[0-9]+").unwrap();
        assert_eq!(p.judge("SEC-12"), TicketVerdict::Valid);
        assert_eq!(p.judge("XSEC-12"), TicketVerdict::NoMatch);
        assert_eq!(p.judge("SEC-12x"), TicketVerdict::NoMatch);
        assert!(TicketPattern::new("SEC-(").is_err());
    }
}
