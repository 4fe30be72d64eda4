//! Where each line of a source text starts, so that a span's line and column, or a code frame
//! around it, cost a binary search instead of a scan from the file's first byte: many spans or
//! findings in one large file stay linear.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use crate::model::Span;

/// The start offsets of the lines of a text, as the input parsers count lines (`\n` ends one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineIndex {
    /// `starts[i]` is the byte offset where 0-based line `i` starts; `starts[0] == 0`.
    starts: Vec<usize>,
    /// The text has a `\r` not followed by `\n`, which miette counts as a line break: its code
    /// frames cannot be cut by this index.
    lone_cr: bool,
}

impl LineIndex {
    /// Indexes the line starts of `text` (one pass).
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut lone_cr = false;
        // memchr finds the line ends a vector at a time (an 11 MB inventory is indexed on the
        // run's serial path).
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            if bytes[i] == b'\n' {
                starts.push(i + 1);
            } else if bytes.get(i + 1) != Some(&b'\n') {
                lone_cr = true;
            }
        }
        LineIndex { starts, lone_cr }
    }

    /// The 0-based line holding byte `offset` (a line's `\n` belongs to it).
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    /// Where 0-based line `line` starts (`None` past the last line).
    pub fn start(&self, line: usize) -> Option<usize> {
        self.starts.get(line).copied()
    }

    /// True when lines end only in `\n` or `\r\n`: the lines miette counts are these.
    pub fn counts_as_miette(&self) -> bool {
        !self.lone_cr
    }

    /// The span at `offset` (same result as [`Span::at`]; an offset inside a multi-byte
    /// character moves back to its start).
    pub fn span(&self, file: &str, text: &str, offset: usize, len: usize) -> Span {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_of(offset);
        let line_start = self.starts[line];
        let column = text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        Span {
            file: file.to_owned(),
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            offset,
            len,
        }
    }
}

/// The line index of `text`, shared with the previous call on the same thread for the same
/// text: a file with 20,000 problems (each locating its line) indexes its text once, not once
/// per problem. The thread keeps only the last text it indexed, weakly: the cache never
/// keeps a text in use, and the index of a dropped text is never given for another (until
/// the thread indexes another text, the dropped text's bytes stay allocated, one per thread).
pub fn shared(text: &Arc<str>) -> Arc<LineIndex> {
    thread_local! {
        static LAST: RefCell<Option<(Weak<str>, Arc<LineIndex>)>> = const { RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((seen, lines)) = last.as_ref()
            && seen.upgrade().is_some_and(|t| Arc::ptr_eq(&t, text))
        {
            return Arc::clone(lines);
        }
        let lines = Arc::new(LineIndex::new(text));
        *last = Some((Arc::downgrade(text), Arc::clone(&lines)));
        lines
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_start_after_each_newline() {
        let idx = LineIndex::new("a\nbb\r\nc\rd");
        assert_eq!(idx.starts, vec![0, 2, 6]);
        assert!(
            !idx.counts_as_miette(),
            "a lone \\r is a break to miette only"
        );
        assert_eq!(idx.line_of(0), 0);
        assert_eq!(idx.line_of(1), 0, "a line's \\n belongs to it");
        assert_eq!(idx.line_of(2), 1);
        assert_eq!(idx.line_of(5), 1);
        assert_eq!(idx.line_of(100), 2);
        assert_eq!(idx.start(1), Some(2));
        assert_eq!(idx.start(3), None);
        assert!(LineIndex::new("x\r\ny\n").counts_as_miette());
    }

    #[test]
    fn the_same_text_shares_its_index_and_another_text_gets_its_own() {
        let a: Arc<str> = Arc::from("a\nb\n");
        let b: Arc<str> = Arc::from("a\nb\n");
        assert!(Arc::ptr_eq(&shared(&a), &shared(&a)));
        let of_b = shared(&b);
        assert!(!Arc::ptr_eq(&shared(&a), &of_b), "equal text, another file");
        drop(a);
        let c: Arc<str> = Arc::from("x");
        assert_eq!(
            shared(&c).start(1),
            None,
            "never the index of a dropped text"
        );
    }
}
