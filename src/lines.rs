//! Where each line of a source text starts, so a code frame is cut from its own lines instead
//! of scanning the file from its first byte: rendering many findings in one large file stays
//! linear.

/// The start offsets of the lines of a text, counted as miette counts them: `\n`, `\r\n` and
/// a lone `\r` each end a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    /// `starts[i]` is the byte offset where 0-based line `i` starts; `starts[0] == 0`.
    starts: Vec<usize>,
    /// The text has a `\r` not followed by `\n`: its lines differ from `\n`-counted ones.
    lone_cr: bool,
}

impl LineIndex {
    /// Indexes `text` (one pass).
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut lone_cr = false;
        let mut i = 0;
        while let Some(p) = next_break(bytes, i) {
            let end = if bytes[p] == b'\r' {
                if bytes.get(p + 1) == Some(&b'\n') {
                    p + 2
                } else {
                    lone_cr = true;
                    p + 1
                }
            } else {
                p + 1
            };
            starts.push(end);
            i = end;
        }
        LineIndex { starts, lone_cr }
    }

    /// The 0-based line holding byte `offset` (a line break belongs to the line it ends).
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    /// Where 0-based line `line` starts (the text's end past the last line).
    pub fn start(&self, line: usize) -> Option<usize> {
        self.starts.get(line).copied()
    }

    /// Where 1-based line `line` starts when lines are counted by `\n` alone (as the input
    /// parsers count them); `None` when the text's line breaks make that differ, or past its
    /// end.
    pub fn start_of_newline_line(&self, line: u32) -> Option<usize> {
        if self.lone_cr {
            return None;
        }
        self.start((line as usize).checked_sub(1)?)
    }
}

/// The first `\r` or `\n` in `bytes` at or after `from`.
fn next_break(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_break_form_starts_a_line() {
        let idx = LineIndex::new("a\nbb\r\nc\rd");
        assert_eq!(idx.starts, vec![0, 2, 6, 8]);
        assert!(idx.lone_cr);
        assert_eq!(idx.line_of(0), 0);
        assert_eq!(idx.line_of(1), 0, "a line's break belongs to it");
        assert_eq!(idx.line_of(2), 1);
        assert_eq!(idx.line_of(5), 1, "the \\n of \\r\\n too");
        assert_eq!(idx.line_of(6), 2);
        assert_eq!(idx.line_of(100), 3);
        assert_eq!(
            idx.start_of_newline_line(2),
            None,
            "a lone \\r counts differently"
        );
    }

    #[test]
    fn newline_lines_are_one_based() {
        let idx = LineIndex::new("x\ny\n");
        assert_eq!(idx.start_of_newline_line(1), Some(0));
        assert_eq!(idx.start_of_newline_line(2), Some(2));
        assert_eq!(idx.start_of_newline_line(3), Some(4));
        assert_eq!(idx.start_of_newline_line(4), None);
        assert_eq!(idx.start_of_newline_line(0), None);
    }
}
