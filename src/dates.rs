//! Calendar arithmetic for ages in days (restore tests, logins, grants), without a clock crate.

use toml::value::Datetime;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count (inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD` of a day count.
pub fn format_days(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses `YYYY-MM-DD` into a day count.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// The day count of a TOML date or date-time (its date part).
pub fn toml_days(dt: &Datetime) -> Option<i64> {
    let date = dt.date?;
    Some(days_from_civil(
        i64::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    ))
}

/// The longest duration a request may ask for: ten years, in hours. Anything longer is a
/// typo or an attack on the arithmetic, never a real access request.
pub const MAX_DURATION_HOURS: i64 = 10 * 366 * 24;

/// Why a duration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationError {
    /// Not a number with an optional unit (`m`, `h`, `d`, `w`).
    Malformed,
    /// Well formed, but longer than [`MAX_DURATION_HOURS`] (or beyond any integer).
    OutOfRange,
}

/// Parses `4h`, `2d`, `90m`, `1w` (or a bare number of hours) into whole hours, rounding up,
/// without ever overflowing: a number too large for the arithmetic, or a duration beyond
/// [`MAX_DURATION_HOURS`], is [`DurationError::OutOfRange`].
pub fn parse_duration_hours(s: &str) -> Result<i64, DurationError> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if num.is_empty() {
        return Err(DurationError::Malformed);
    }
    let per_hour: Option<i64> = match unit {
        "" | "h" => Some(1),
        "d" => Some(24),
        "w" => Some(24 * 7),
        "m" => None,
        _ => return Err(DurationError::Malformed),
    };
    // Digits only, so the only parse failure left is a number beyond u64.
    let n: u64 = num.parse().map_err(|_| DurationError::OutOfRange)?;
    let hours = match per_hour {
        Some(k) => i64::try_from(n).ok().and_then(|n| n.checked_mul(k)),
        None => i64::try_from(n.div_ceil(60)).ok(),
    };
    match hours {
        Some(h) if h <= MAX_DURATION_HOURS => Ok(h),
        _ => Err(DurationError::OutOfRange),
    }
}

/// Today (UTC) as a day count.
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs / 86_400).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for d in [-1000, 0, 59, 60, 11_016, 20_000, 30_000] {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
        }
        assert_eq!(format_days(20_417), "2025-11-25");
    }

    #[test]
    fn durations_never_overflow() {
        assert_eq!(parse_duration_hours("4h"), Ok(4));
        assert_eq!(parse_duration_hours("90m"), Ok(2));
        assert_eq!(parse_duration_hours("2d"), Ok(48));
        assert_eq!(parse_duration_hours("1w"), Ok(168));
        assert_eq!(parse_duration_hours("0"), Ok(0));
        assert_eq!(
            parse_duration_hours(&format!("{MAX_DURATION_HOURS}h")),
            Ok(MAX_DURATION_HOURS)
        );
        for s in [
            "9223372036854775807m",
            "9223372036854775807h",
            "9223372036854775807d",
            "18446744073709551615m",
            "99999999999999999999999w",
            "87841h",
        ] {
            assert_eq!(
                parse_duration_hours(s),
                Err(DurationError::OutOfRange),
                "{s}"
            );
        }
        for s in ["", "h", "-4h", "4 h", "soon", "4y"] {
            assert_eq!(
                parse_duration_hours(s),
                Err(DurationError::Malformed),
                "{s}"
            );
        }
    }

    #[test]
    fn parse_rejects_impossible_dates() {
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(
            parse_date("2026-11-25"),
            Some(days_from_civil(2026, 11, 25))
        );
    }
}
