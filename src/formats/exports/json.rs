//! JSON helpers shared by the export parsers: records with their byte offsets, problems at a
//! record's location, and the few field shapes real APIs use.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::Problem;
use crate::source::SourceFile;

/// Parses the whole file as `T`, or a problem at the line and column serde names.
pub fn parse<'a, T: Deserialize<'a>>(file: &'a SourceFile) -> Result<T, Vec<Problem>> {
    serde_json::from_str(&file.text).map_err(|e| vec![super::super::json_problem(file, &e)])
}

/// Byte offset of a raw value inside the file's text (0 when it does not point into it).
pub fn offset_in(file: &SourceFile, raw: &RawValue) -> usize {
    let start = file.text.as_ptr() as usize;
    let at = raw.get().as_ptr() as usize;
    at.checked_sub(start)
        .filter(|o| *o <= file.text.len())
        .unwrap_or(0)
}

/// Decodes one record of a list, or a problem pointing at the record.
pub fn record<T: DeserializeOwned>(
    file: &SourceFile,
    raw: &RawValue,
    what: &str,
) -> Result<(T, usize), Problem> {
    let offset = offset_in(file, raw);
    serde_json::from_str::<T>(raw.get())
        .map(|v| (v, offset))
        .map_err(|e| {
            let inner = super::super::offset_of(raw.get(), e.line(), e.column());
            Problem::parse(
                &file.path,
                &file.text,
                offset + inner,
                0,
                format!(
                    "`{}` has {what} that is not of the expected shape: {}",
                    file.path,
                    super::super::strip_position(&e.to_string())
                ),
                "this record",
            )
            .with_help("see docs/sources.md for the fields vouch reads from this export")
        })
}

/// Decodes every record of a list, collecting every problem (one bad record does not hide
/// the others).
pub fn records<T: DeserializeOwned>(
    file: &SourceFile,
    raws: &[&RawValue],
    what: &str,
) -> Result<Vec<(T, usize)>, Vec<Problem>> {
    let mut out = Vec::with_capacity(raws.len());
    let mut problems = Vec::new();
    for raw in raws {
        match record(file, raw, what) {
            Ok(v) => out.push(v),
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A problem at the start of the file (the shape is wrong as a whole).
pub fn whole_file(file: &SourceFile, message: String, help: &str) -> Vec<Problem> {
    vec![Problem::parse(&file.path, &file.text, 0, 0, message, "this file").with_help(help)]
}

/// A timestamp as real exports write it: an RFC 3339 string, or epoch seconds (AWS CLI v1).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Stamp {
    Text(String),
    Epoch(f64),
}

impl Stamp {
    /// Minutes since the epoch, when the value is a time.
    pub fn minutes(&self) -> Option<i64> {
        match self {
            Stamp::Text(s) => super::time::minutes(s),
            Stamp::Epoch(secs) => {
                if secs.is_finite() && secs.abs() < 1e13 {
                    #[expect(
                        clippy::cast_possible_truncation,
                        reason = "bounded above, whole minutes wanted"
                    )]
                    Some((secs / 60.0).floor() as i64)
                } else {
                    None
                }
            }
        }
    }

    /// The day (since the epoch).
    pub fn day(&self) -> Option<i64> {
        self.minutes().map(|m| m.div_euclid(1440))
    }
}

/// The newest day among some optional stamps.
pub fn newest<'a>(stamps: impl Iterator<Item = Option<&'a Stamp>>) -> Option<i64> {
    stamps.flatten().filter_map(Stamp::day).max()
}
