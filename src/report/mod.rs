//! The one output layer: renders an assessment (or a library listing) in the chosen format.
//! Only this module and `main.rs` write to stdout.

pub mod gate;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use std::io::Write;

use serde::Serialize;

/// Output formats of `vouch check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

/// Deterministic pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => format!("{{\"error\": \"cannot serialise output: {e}\"}}\n"),
    }
}

/// Streams an assessment as pretty JSON to stdout, its results serialised in parallel.
pub fn emit_assessment_json(a: &mut crate::assessment::Assessment) {
    let out = std::io::stdout().lock();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
    let _ = json::write_assessment(a, &mut w);
    let _ = w.flush();
}

/// Streams a value as pretty JSON to stdout (no intermediate string: large assessments stay
/// out of memory).
pub fn emit_json<T: Serialize>(value: &T) {
    let out = std::io::stdout().lock();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
    if serde_json::to_writer_pretty(&mut w, value).is_ok() {
        let _ = w.write_all(b"\n");
    }
    let _ = w.flush();
}

/// Streams what `write` writes to stdout, buffered; a closed pipe (`| head`) ends it quietly.
pub fn emit_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    let out = std::io::stdout().lock();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
    let _ = write(&mut w);
    let _ = w.flush();
}

/// Writes text to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes text to stderr.
pub fn emit_err(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Writes a file atomically: a temporary file next to it, then a rename. A missing parent
/// directory is created (`--out reports/2026/roadmap.html` works on a fresh clone).
pub fn write_atomic(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.vouch-tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
