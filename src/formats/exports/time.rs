//! Timestamps of exports: RFC 3339 (`2026-11-24T06:00:00Z`, `…+00:00`, fractions) and plain
//! dates, to minutes since the epoch (UTC).

/// Minutes since 1970-01-01T00:00Z of an RFC 3339 date-time or a `YYYY-MM-DD` date.
pub fn minutes(s: &str) -> Option<i64> {
    let s = s.trim();
    let date = crate::dates::parse_date(s.get(..10)?)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(date * 1440);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let hour: i64 = rest.get(..2)?.parse().ok()?;
    let minute: i64 = rest.get(3..5)?.parse().ok()?;
    if rest.get(2..3)? != ":" || hour > 23 || minute > 59 {
        return None;
    }
    // Skip seconds and fractions; find the zone.
    let zone = rest[5..].trim_start_matches(|c: char| c.is_ascii_digit() || c == ':' || c == '.');
    let offset = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = match z.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let zh: i64 = z.get(1..3)?.parse().ok()?;
            let zm: i64 = z
                .get(3..)
                .map(|m| m.trim_start_matches(':'))
                .unwrap_or("0")
                .parse()
                .unwrap_or(0);
            sign * (zh * 60 + zm)
        }
    };
    Some(date * 1440 + hour * 60 + minute - offset)
}

/// The day (since the epoch) of a timestamp.
pub fn day(s: &str) -> Option<i64> {
    minutes(s).map(|m| m.div_euclid(1440))
}

#[cfg(test)]
mod tests {
    use super::minutes;

    #[test]
    fn reads_the_shapes_exports_use() {
        let day = crate::dates::parse_date("2026-11-24").unwrap_or(0) * 1440;
        assert_eq!(minutes("2026-11-24"), Some(day));
        assert_eq!(minutes("2026-11-24T06:30:00Z"), Some(day + 390));
        assert_eq!(minutes("2026-11-24T06:30:00.123456+00:00"), Some(day + 390));
        assert_eq!(minutes("2026-11-24T06:30:00.000Z"), Some(day + 390));
        assert_eq!(minutes("2026-11-24T06:30:00+02:00"), Some(day + 270));
        assert_eq!(minutes("2026-11-24T06:30:00-0130"), Some(day + 480));
        assert_eq!(minutes("not a date"), None);
        assert_eq!(minutes("2026-13-01"), None);
        assert_eq!(minutes("2026-11-24T25:00:00Z"), None);
    }
}
