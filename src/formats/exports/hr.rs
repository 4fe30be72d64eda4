//! The HR roster: a CSV export of the HR system (Workday, BambooHR, Personio, HiBob, …), the
//! source of truth for who is employed and who has left.
//!
//! The file is read as a table here ([`read_table`]); its columns are mapped with
//! `[exports.hr_roster]` of `vouch.toml` (or the default names: `employee_id`, `email`,
//! `status`, `termination_date`, matched ignoring case, spaces and punctuation) when the
//! exports are applied ([`roster`]). A CSV without an e-mail and a status column is not a
//! roster and is skipped as unrecognised.

use super::Employee;
use super::settings::HrColumns;
use crate::error::Problem;
use crate::source::SourceFile;

/// A CSV file: its header and rows, each with its line and byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub fields: Vec<String>,
    pub line: u32,
    pub offset: usize,
}

/// Reads a CSV file (RFC 4180: quoted fields, embedded commas and newlines).
pub fn read_table(file: &SourceFile) -> Result<Table, Vec<Problem>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(file.text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|s| s.trim_start_matches('\u{feff}').trim().to_owned())
            .collect(),
        Err(e) => return Err(vec![csv_problem(file, &e)]),
    };
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for rec in reader.records() {
        match rec {
            Ok(r) => {
                let (line, offset) = r.position().map_or((0, 0), |p| {
                    (
                        u32::try_from(p.line()).unwrap_or(u32::MAX),
                        usize::try_from(p.byte()).unwrap_or(0),
                    )
                });
                rows.push(Row {
                    fields: r.iter().map(|f| f.trim().to_owned()).collect(),
                    line,
                    offset,
                });
            }
            Err(e) => problems.push(csv_problem(file, &e)),
        }
    }
    if problems.is_empty() {
        Ok(Table { header, rows })
    } else {
        Err(problems)
    }
}

fn csv_problem(file: &SourceFile, e: &csv::Error) -> Problem {
    let offset = e
        .position()
        .and_then(|p| usize::try_from(p.byte()).ok())
        .unwrap_or(0);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("a row has {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "a field is not valid UTF-8".to_owned(),
        _ => crate::error::lowercase_first(&e.to_string()),
    };
    Problem::parse(
        &file.path,
        &file.text,
        offset,
        0,
        format!("`{}` is not a valid CSV file: {message}", file.path),
        "this row",
    )
}

/// A header name reduced for matching: lowercase letters and digits only.
fn norm(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The index of the column named `wanted` (matched ignoring case and punctuation).
fn column(header: &[String], wanted: &str) -> Option<usize> {
    let w = norm(wanted);
    header.iter().position(|h| norm(h) == w)
}

/// Why a CSV is not read as a roster.
pub enum NotRoster {
    /// It lacks the columns a roster has: not ours.
    Unrecognised,
    /// It is a roster with problems (bad dates, unmapped statuses).
    Problems(Vec<Problem>),
}

/// Maps a table's columns to employees. `configured` is true when `vouch.toml` names the
/// columns (then a missing column is a problem, not an unrecognised file).
pub fn roster(
    file: &super::ExportFile,
    table: &Table,
    cols: &HrColumns,
    configured: bool,
) -> Result<Vec<Employee>, NotRoster> {
    let find = |name: &str| column(&table.header, name);
    let (Some(email), Some(status)) = (find(&cols.email), find(&cols.status)) else {
        if configured {
            let missing: Vec<&str> = [&cols.email, &cols.status]
                .into_iter()
                .filter(|c| find(c).is_none())
                .map(String::as_str)
                .collect();
            return Err(NotRoster::Problems(vec![
                Problem::parse(
                    &file.path,
                    &file.text,
                    0,
                    0,
                    format!(
                        "`{}` has no column `{}` of the HR roster",
                        file.path,
                        missing.join("`, `")
                    ),
                    "header",
                )
                .with_help(format!(
                    "its columns are: {}; map them in `[exports.hr_roster]` of vouch.toml",
                    table.header.join(", ")
                )),
            ]));
        }
        return Err(NotRoster::Unrecognised);
    };
    let id = find(&cols.employee_id);
    let end = find(&cols.termination_date);
    let mut out = Vec::with_capacity(table.rows.len());
    let mut problems = Vec::new();
    for row in &table.rows {
        let get = |i: Option<usize>| i.and_then(|i| row.fields.get(i)).map_or("", String::as_str);
        let status_value = get(Some(status));
        let state = if cols
            .active_statuses
            .iter()
            .any(|s| s.eq_ignore_ascii_case(status_value))
        {
            "employed"
        } else if cols
            .terminated_statuses
            .iter()
            .any(|s| s.eq_ignore_ascii_case(status_value))
        {
            "terminated"
        } else {
            problems.push(
                Problem::parse(&file.path, &file.text, row.offset, 0,
                    format!("`{}`: status `{status_value}` of `{}` is neither an active nor a terminated status", file.path, get(Some(email))),
                    "this row")
                .with_help("list it in `active_statuses` or `terminated_statuses` of `[exports.hr_roster]` in vouch.toml"),
            );
            continue;
        };
        let termination = match get(end) {
            "" => None,
            d => match super::time::day(d).or_else(|| us_date(d)) {
                Some(day) => Some(day),
                None => {
                    problems.push(
                        Problem::parse(
                            &file.path,
                            &file.text,
                            row.offset,
                            0,
                            format!(
                                "`{}`: termination date `{d}` of `{}` is not a date",
                                file.path,
                                get(Some(email))
                            ),
                            "this row",
                        )
                        .with_help("write dates as YYYY-MM-DD (or MM/DD/YYYY)"),
                    );
                    continue;
                }
            },
        };
        out.push(Employee {
            employee_id: get(id).to_owned(),
            email: get(Some(email)).to_lowercase(),
            status: state.to_owned(),
            termination,
            line: row.line,
            offset: row.offset,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(NotRoster::Problems(problems))
    }
}

/// `MM/DD/YYYY`, as US HR systems export dates.
fn us_date(s: &str) -> Option<i64> {
    let mut p = s.split('/');
    let (m, d, y) = (p.next()?, p.next()?, p.next()?);
    if p.next().is_some() {
        return None;
    }
    crate::dates::parse_date(&format!("{y}-{m:0>2}-{d:0>2}"))
}
