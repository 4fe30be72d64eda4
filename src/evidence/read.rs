//! Reading a bundle for `verify`, exactly: a directory or a `.tar.gz` becomes its files, plus
//! everything that a bundle written by vouch never has — links, devices, entries outside the
//! one top directory, duplicates, directories no file needs, bytes after the archive — each
//! reported, never silently dropped or followed. Decompression is capped in size and ratio, so
//! a gzip bomb costs bounded memory and ends in a clear error.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::Path;

use serde::Serialize;

use super::bundle::Files;
use crate::error::Problem;

/// The most a bundle may hold, decompressed (all its files together).
pub const MAX_BUNDLE_BYTES: u64 = 1 << 30;
/// The largest compressed archive read.
pub const MAX_ARCHIVE_BYTES: u64 = 1 << 30;
/// Decompressed bytes allowed per compressed byte, past [`RATIO_FLOOR`]: bundles are JSON and
/// text, which compress about 5 to 20 times; a bomb compresses a thousand times.
pub const MAX_RATIO: u64 = 100;
/// Decompressed bytes always allowed, whatever the ratio (small archives of repetitive text).
pub const RATIO_FLOOR: u64 = 64 << 20;

/// An entry of the bundle that vouch never writes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Rejected {
    /// The entry's path as found (relative to the bundle where it could be placed).
    pub path: String,
    /// Why it does not belong (`symbolic link`, `hard link`, `duplicate entry`, …).
    pub reason: String,
}

/// A bundle as read from disk.
#[derive(Debug, Clone, Default)]
pub struct ReadBundle {
    /// The regular files, by path relative to the bundle.
    pub files: Files,
    /// Directories that hold no file (an added empty directory, or one holding only rejected
    /// entries).
    pub directories: BTreeSet<String>,
    /// Entries that are not plain files of the bundle.
    pub rejected: Vec<Rejected>,
}

impl ReadBundle {
    fn reject(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.rejected.push(Rejected {
            path: path.into(),
            reason: reason.into(),
        });
    }

    /// Keeps only the directories that no file needs, and sorts what was rejected.
    fn finish(mut self) -> ReadBundle {
        let needed: BTreeSet<String> = self
            .files
            .keys()
            .flat_map(|p| {
                let parts: Vec<&str> = p.split('/').collect();
                (1..parts.len())
                    .map(|i| parts[..i].join("/"))
                    .collect::<Vec<_>>()
            })
            .collect();
        self.directories.retain(|d| !needed.contains(d));
        self.rejected.sort();
        self.rejected.dedup();
        self
    }
}

fn io(path: &Path, e: &std::io::Error) -> Problem {
    Problem::io(path.display().to_string(), e)
}

/// Reads a bundle: a directory, or a `.tar.gz` (any other file is read as one).
pub fn read(path: &Path) -> Result<ReadBundle, Problem> {
    let meta = std::fs::metadata(path).map_err(|e| io(path, &e))?;
    if meta.is_dir() {
        read_dir(path)
    } else {
        read_archive(path, meta.len())
    }
}

/// A directory bundle: walked without following any link; only regular files with one link
/// are read.
fn read_dir(root: &Path) -> Result<ReadBundle, Problem> {
    let mut b = ReadBundle::default();
    let mut total: u64 = 0;
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1)
    {
        let entry = entry.map_err(|e| Problem::walk(root.display().to_string(), e.to_string()))?;
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let mut parts = Vec::new();
        let mut utf8 = true;
        for c in rel.components() {
            match c.as_os_str().to_str() {
                Some(s) => parts.push(s.to_owned()),
                None => {
                    utf8 = false;
                    parts.push(c.as_os_str().to_string_lossy().into_owned());
                }
            }
        }
        let rel = parts.join("/");
        let ft = entry.file_type();
        if !utf8 {
            b.reject(rel, "the name is not UTF-8");
            continue;
        }
        if ft.is_dir() {
            b.directories.insert(rel);
            continue;
        }
        if ft.is_symlink() {
            b.reject(rel, "symbolic link");
            continue;
        }
        if !ft.is_file() {
            b.reject(rel, "not a regular file (a device, a pipe or a socket)");
            continue;
        }
        let meta = entry
            .metadata()
            .map_err(|e| Problem::walk(entry.path().display().to_string(), e.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if meta.nlink() > 1 {
                b.reject(
                    rel,
                    format!("hard link ({} names for one file)", meta.nlink()),
                );
                continue;
            }
        }
        total = total.saturating_add(meta.len());
        if total > MAX_BUNDLE_BYTES {
            return Err(too_big(root, MAX_BUNDLE_BYTES));
        }
        let data = std::fs::read(entry.path()).map_err(|e| io(entry.path(), &e))?;
        b.files.insert(rel, data);
    }
    Ok(b.finish())
}

fn too_big(path: &Path, limit: u64) -> Problem {
    Problem::config(
        format!(
            "`{}` decompresses to more than {} MiB; refusing to read it as an evidence bundle",
            path.display(),
            limit >> 20
        ),
        None,
    )
    .with_help(
        "an evidence bundle is JSON and text and compresses about 5 to 20 times; this looks \
         like a decompression bomb, not a bundle vouch wrote",
    )
}

/// A `.tar.gz` bundle: every entry must be a regular file (or a directory) under one top
/// directory, once; the gzip stream must end the file and the tar stream must end in zeros.
fn read_archive(path: &Path, compressed_len: u64) -> Result<ReadBundle, Problem> {
    if compressed_len > MAX_ARCHIVE_BYTES {
        return Err(too_big(path, MAX_ARCHIVE_BYTES));
    }
    let compressed = std::fs::read(path).map_err(|e| io(path, &e))?;
    archive_bytes(path, &compressed)
}

/// Reads a `.tar.gz` bundle already in memory (`path` names it in messages).
pub fn archive_bytes(path: &Path, compressed: &[u8]) -> Result<ReadBundle, Problem> {
    let compressed_len = compressed.len() as u64;
    let limit = MAX_BUNDLE_BYTES.min(RATIO_FLOOR.max(compressed_len.saturating_mul(MAX_RATIO)));
    let gz = flate2::bufread::GzDecoder::new(compressed);
    let counted = Capped {
        inner: gz,
        left: limit,
        hit: false,
    };
    let mut ar = tar::Archive::new(counted);
    let mut b = ReadBundle::default();
    let mut top: Option<String> = None;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut used: u64 = 0;
    let not_archive = |e: &std::io::Error| {
        Problem::config(
            format!(
                "`{}` is not a readable .tar.gz evidence bundle: {}",
                path.display(),
                crate::error::lowercase_first(&e.to_string())
            ),
            None,
        )
        .with_help(
            "pass the bundle directory or the archive written by `vouch evidence bundle --archive`",
        )
    };
    {
        let entries = ar.entries().map_err(|e| not_archive(&e))?;
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => return Err(capped_or(&e, path, limit, &not_archive)),
            };
            let raw = entry.path_bytes().into_owned();
            let Ok(name) = String::from_utf8(raw.clone()) else {
                b.reject(
                    String::from_utf8_lossy(&raw).into_owned(),
                    "the name is not UTF-8",
                );
                continue;
            };
            let kind = entry.header().entry_type();
            let parts: Vec<&str> = name.trim_end_matches('/').split('/').collect();
            let unsafe_part = name.starts_with('/')
                || parts
                    .iter()
                    .any(|p| p.is_empty() || *p == "." || *p == "..");
            if unsafe_part {
                b.reject(
                    name,
                    "the path is absolute or has an empty, `.` or `..` part",
                );
                continue;
            }
            let root = parts[0].to_owned();
            match &top {
                None => top = Some(root.clone()),
                Some(t) if *t != root => {
                    b.reject(name, format!("outside the bundle's top directory `{t}`"));
                    continue;
                }
                Some(_) => {}
            }
            let rel = parts[1..].join("/");
            if kind.is_dir() {
                if !rel.is_empty() {
                    b.directories.insert(rel);
                }
                continue;
            }
            if rel.is_empty() {
                b.reject(name, "a file in place of the top directory");
                continue;
            }
            let what = match kind {
                tar::EntryType::Regular | tar::EntryType::Continuous => None,
                tar::EntryType::Symlink => Some("symbolic link"),
                tar::EntryType::Link => Some("hard link"),
                tar::EntryType::Char | tar::EntryType::Block => Some("device"),
                tar::EntryType::Fifo => Some("named pipe"),
                _ => Some("not a regular file"),
            };
            if let Some(what) = what {
                b.reject(rel.clone(), what);
                seen.insert(rel);
                continue;
            }
            if !seen.insert(rel.clone()) {
                b.reject(rel, "duplicate entry (the archive holds this path twice)");
                continue;
            }
            let size = entry.header().size().map_err(|e| not_archive(&e))?;
            used = used.saturating_add(size);
            if used > limit {
                return Err(too_big(path, limit));
            }
            let mut data = Vec::with_capacity(usize::try_from(size.min(1 << 24)).unwrap_or(0));
            if let Err(e) = (&mut entry).take(size).read_to_end(&mut data) {
                return Err(capped_or(&e, path, limit, &not_archive));
            }
            if data.len() as u64 != size {
                return Err(not_archive(&std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("entry `{name}` is cut short"),
                )));
            }
            b.files.insert(rel, data);
        }
    }
    // After the end-of-archive marker: only zero padding, then the end of the gzip stream.
    let mut counted = ar.into_inner();
    let mut rest = [0u8; 8192];
    loop {
        match counted.read(&mut rest) {
            Ok(0) => break,
            Ok(n) => {
                if rest[..n].iter().any(|&x| x != 0) {
                    b.reject(
                        "(after the end of the archive)",
                        "data after the tar end-of-archive marker",
                    );
                    break;
                }
            }
            Err(e) => return Err(capped_or(&e, path, limit, &not_archive)),
        }
    }
    let trailing = counted.inner.into_inner().len();
    if trailing > 0 {
        b.reject(
            "(after the gzip stream)",
            format!("{trailing} bytes after the end of the compressed stream"),
        );
    }
    if top.is_none() {
        return Err(Problem::config(
            format!(
                "`{}` is an empty archive: not an evidence bundle",
                path.display()
            ),
            None,
        ));
    }
    Ok(b.finish())
}

/// The error of a read that hit the cap is the cap's; any other is the archive's.
fn capped_or(
    e: &std::io::Error,
    path: &Path,
    limit: u64,
    other: &dyn Fn(&std::io::Error) -> Problem,
) -> Problem {
    if e.kind() == std::io::ErrorKind::FileTooLarge {
        too_big(path, limit)
    } else {
        other(e)
    }
}

/// A reader that fails (rather than stops) once `left` bytes have been read.
struct Capped<R> {
    inner: R,
    left: u64,
    hit: bool,
}

impl<R: std::io::Read> std::io::Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.hit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "decompressed size limit reached",
            ));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.hit = true;
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "decompressed size limit reached",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}
