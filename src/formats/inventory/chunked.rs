//! Large inventories parsed in parallel: the file is cut at top-level `[[kind]]` headers and
//! each piece is parsed on its own, then the pieces are joined in order.
//!
//! A piece is parsed *in place*: the text before it is replaced by spaces, so every span the
//! parser reports is already an offset into the whole file (lexing megabytes of spaces costs
//! milliseconds). Whenever cutting could change the meaning of the file (a kind written as an
//! inline array, `[organization]` in two pieces, a piece that does not parse on its own) the
//! whole file is parsed at once instead, so the result and every error are exactly those of one
//! `toml::from_str`. Besides two cores, this bounds memory: the parser's intermediate document
//! is about 30 times the size of the text it holds.

use rayon::prelude::*;

use super::raw::{KINDS, RawInventory};

/// Below this size a file is parsed at once.
const PIECE: usize = 1 << 20;

/// Parses an inventory file, in pieces when it is large.
pub fn parse(text: &str) -> Result<RawInventory, toml::de::Error> {
    let cuts = cuts(text);
    if cuts.len() < 2 {
        return toml::from_str(text);
    }
    let pieces: Vec<Result<RawInventory, toml::de::Error>> = cuts
        .par_iter()
        .map(|range| {
            if range.start == 0 {
                toml::from_str(&text[range.clone()])
            } else {
                let mut padded = String::with_capacity(range.end);
                padded.extend(std::iter::repeat_n(' ', range.start));
                padded.push_str(&text[range.clone()]);
                toml::from_str(&padded)
            }
        })
        .collect();
    join(pieces).map_or_else(|| toml::from_str(text), Ok)
}

/// Byte ranges of the pieces: cut before `[[kind]]` header lines, about `PIECE` bytes apart.
/// One range (no cutting) when the file is small or uses a kind in inline form.
fn cuts(text: &str) -> Vec<std::ops::Range<usize>> {
    let whole: Vec<_> = std::iter::once(0..text.len()).collect();
    if text.len() < 2 * PIECE {
        return whole;
    }
    let mut starts = vec![0];
    let mut offset = 0;
    let mut in_root = true;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        in_root &= !trimmed.starts_with('[');
        if in_root
            && let Some((key, _)) = trimmed.split_once('=')
            && KINDS.contains(&key.trim())
        {
            // `grant = [...]` before any table: only the whole file says whether a later
            // `[[grant]]` may extend it.
            return whole;
        }
        if offset - starts[starts.len() - 1] >= PIECE && is_kind_header(trimmed) {
            starts.push(offset);
        }
        offset += line.len();
    }
    let mut ranges: Vec<_> = starts.windows(2).map(|w| w[0]..w[1]).collect();
    if let Some(&last) = starts.last() {
        ranges.push(last..text.len());
    }
    ranges
}

/// `[[grant]]` (a comment may follow), for a kind of the inventory.
fn is_kind_header(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("[[") else {
        return false;
    };
    let Some((name, after)) = rest.split_once("]]") else {
        return false;
    };
    let after = after.trim_start();
    KINDS.contains(&name.trim()) && (after.is_empty() || after.starts_with('#'))
}

/// Joins parsed pieces in order; `None` when a piece failed or `[organization]` is in two.
fn join(pieces: Vec<Result<RawInventory, toml::de::Error>>) -> Option<RawInventory> {
    let mut all = RawInventory::default();
    for piece in pieces {
        let p = piece.ok()?;
        if p.organization.is_some() {
            if all.organization.is_some() {
                return None;
            }
            all.organization = p.organization;
        }
        all.identity_provider.extend(p.identity_provider);
        all.application.extend(p.application);
        all.tier.extend(p.tier);
        all.tenant.extend(p.tenant);
        all.datastore.extend(p.datastore);
        all.search_cluster.extend(p.search_cluster);
        all.service.extend(p.service);
        all.incident.extend(p.incident);
        all.integration.extend(p.integration);
        all.audit_log.extend(p.audit_log);
        all.repository.extend(p.repository);
        all.user.extend(p.user);
        all.group.extend(p.group);
        all.role.extend(p.role);
        all.grant.extend(p.grant);
        all.separation_of_duties.extend(p.separation_of_duties);
        all.attestation.extend(p.attestation);
        all.resource.extend(p.resource);
    }
    Some(all)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    /// An inventory of about 3.5 MB: users and grants, cut into several pieces.
    fn big(extra_at_end: &str) -> String {
        let mut text = String::from("[organization]\nname = \"acme\"\n\n");
        for g in 0..25_000 {
            let _ = writeln!(
                text,
                "[[user]]\nid = \"u{g}\"\nstatus = \"active\"\nmfa = true\n\n[[grant]]\nuser = \"u{g}\"\nrole = \"reader\"\nresource = \"datastore:d{}\"\nsince = 2026-01-01\n",
                g % 7
            );
        }
        text.push_str(extra_at_end);
        text
    }

    #[test]
    fn pieces_give_the_whole_files_result_and_spans() {
        let text = big("");
        assert!(cuts(&text).len() >= 3, "the test file must be cut");
        let whole: RawInventory = toml::from_str(&text).unwrap();
        let pieces = parse(&text).unwrap();
        assert_eq!(format!("{whole:?}"), format!("{pieces:?}"));
        let spans = |r: &RawInventory| -> Vec<_> {
            r.grant
                .iter()
                .map(|g| (g.span(), g.get_ref().role.span()))
                .collect()
        };
        assert_eq!(spans(&whole), spans(&pieces));
        assert_eq!(pieces.user.len(), 25_000);
        assert!(pieces.organization.is_some());
    }

    #[test]
    fn an_error_in_a_late_piece_is_the_whole_files_error() {
        let text = big("[[grant]]\nuser = \"u1\"\nrole = 7\n");
        let whole = toml::from_str::<RawInventory>(&text).unwrap_err();
        let pieces = parse(&text).unwrap_err();
        assert_eq!(whole.span(), pieces.span());
        assert_eq!(whole.message(), pieces.message());
        assert!(pieces.span().unwrap().start > 2 * PIECE);
    }

    #[test]
    fn what_only_the_whole_file_can_judge_is_judged_whole() {
        // `[organization]` twice, in different pieces: a duplicate table.
        let text = big("[organization]\nname = \"other\"\n");
        assert!(parse(&text).is_err());
        assert_eq!(
            parse(&text).unwrap_err().message(),
            toml::from_str::<RawInventory>(&text).unwrap_err().message()
        );
        // A kind written inline at the top, then extended as an array of tables.
        let text = format!(
            "grant = [{{ user = \"u0\", role = \"reader\", resource = \"x\" }}]\n{}",
            big("")
        );
        assert_eq!(cuts(&text).len(), 1);
        assert!(parse(&text).is_err());
    }

    #[test]
    fn a_header_inside_a_multi_line_string_is_not_a_cut() {
        let text = big("").replace(
            "since = 2026-01-01\n",
            "since = 2026-01-01\nticket = \"\"\"\n[[grant]]\n\"\"\"\n",
        );
        let whole: RawInventory = toml::from_str(&text).unwrap();
        assert_eq!(
            whole.grant[5].get_ref().ticket.as_deref(),
            Some("[[grant]]\n")
        );
        assert_eq!(format!("{whole:?}"), format!("{:?}", parse(&text).unwrap()));
    }

    #[test]
    fn only_kind_headers_at_a_line_start_are_cut_points() {
        assert!(is_kind_header("[[grant]]"));
        assert!(is_kind_header("[[ grant ]] # a comment"));
        assert!(!is_kind_header("[[grant.condition]]"));
        assert!(!is_kind_header("[organization]"));
        assert!(!is_kind_header("[[unknown_kind]]"));
        assert!(!is_kind_header("[[grant]] x = 1"));
    }
}
