//! A cheap upper bound on how deeply a YAML text nests, read from the text alone.
//!
//! saphyr builds (and drops) its tree recursively, so a few thousand nested block collections
//! overflow a thread's stack — an abort, not a recoverable error. Before loading, the parser
//! estimates the nesting depth from indentation, compact `- `/`? ` entries, keys and flow
//! brackets; a shallow file is loaded in place, a deep one on a thread with a big stack, and an
//! absurdly deep one is refused. The estimate only ever errs upwards: block-scalar and quoted
//! text is skipped, everything else that could open a collection is counted.

/// Upper bound on the nesting depth of the collections in `text`.
pub(super) fn nesting_bound(text: &str) -> usize {
    let mut scan = Scan::default();
    for line in text.split('\n') {
        scan.line(line.strip_suffix('\r').unwrap_or(line));
    }
    scan.max
}

#[derive(Default)]
struct Scan {
    /// Indentation of the open block lines (the block nesting, at most two collections each:
    /// a mapping and a sequence written at the same indentation as its key).
    indents: Vec<usize>,
    /// The indentation of the line that opened a block scalar (`|` or `>`) still being read.
    block_scalar: Option<usize>,
    /// Open flow collections (`[`, `{`) continued across lines.
    flow: usize,
    /// The quote character of a quoted scalar continued across lines (flow context only).
    quote: Option<char>,
    max: usize,
}

impl Scan {
    fn line(&mut self, line: &str) {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = line.get(indent..).unwrap_or("");
        if let Some(parent) = self.block_scalar {
            if content.trim().is_empty() || indent > parent {
                return;
            }
            self.block_scalar = None;
        }
        let in_flow = self.flow > 0 || self.quote.is_some();
        if in_flow {
            // Inside a flow collection: count its brackets, and read the line as block text
            // too below (a wrong guess about where the flow ends can then only overestimate).
            let depth = self.flow_text(content);
            self.max = self.max.max(2 * self.indents.len() + depth);
        }
        let mut rest = content;
        if rest.is_empty() || rest.starts_with('#') {
            return;
        }
        if indent == 0 && (rest.starts_with("---") || rest.starts_with("...")) {
            self.indents.clear();
            self.flow = 0;
            self.quote = None;
            rest = rest.get(3..).unwrap_or("").trim_start();
            if rest.is_empty() || rest.starts_with('#') {
                return;
            }
        }
        while self.indents.last().is_some_and(|top| *top >= indent) {
            self.indents.pop();
        }
        self.indents.push(indent);
        let mut depth = 2 * self.indents.len();
        // The column of the innermost node opened on this line: a block scalar's text must be
        // indented deeper than it.
        let mut parent = indent;
        // Compact nested entries on one line: `- - - x`, `? - a`, anchors and tags between.
        loop {
            rest = rest.trim_start_matches(' ');
            if rest == "-" || rest == "?" || rest.starts_with("- ") || rest.starts_with("? ") {
                depth += 1;
                parent = line.len() - rest.len();
                rest = rest.get(1..).unwrap_or("");
            } else if rest.starts_with('&') || rest.starts_with('!') {
                rest = skip_token(rest);
            } else {
                break;
            }
        }
        // A key opens one more mapping; its value follows.
        let key_column = line.len() - rest.len();
        if let Some(value) = after_key(rest) {
            depth += 1;
            parent = key_column;
            rest = value;
        }
        let mut value = rest.trim_start_matches(' ');
        while value.starts_with('&') || value.starts_with('!') {
            value = skip_token(value).trim_start_matches(' ');
        }
        if in_flow {
            // Already counted as flow text.
        } else if value.starts_with('[') || value.starts_with('{') {
            depth += self.flow_text(value);
        } else if is_block_scalar_header(value) {
            self.block_scalar = Some(parent);
        }
        self.max = self.max.max(depth);
    }

    /// Reads flow text (or the rest of a multi-line quoted scalar); returns the deepest flow
    /// nesting reached on the line.
    fn flow_text(&mut self, text: &str) -> usize {
        let mut deepest = self.flow;
        let mut chars = text.chars().peekable();
        let mut after_space = true;
        while let Some(c) = chars.next() {
            let space_before = after_space;
            after_space = c == ' ' || c == '\t';
            match self.quote {
                Some('\'') => {
                    if c == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            self.quote = None;
                        }
                    }
                }
                Some(_) => {
                    if c == '\\' {
                        chars.next();
                    } else if c == '"' {
                        self.quote = None;
                    }
                }
                None => match c {
                    '[' | '{' => {
                        self.flow += 1;
                        deepest = deepest.max(self.flow);
                    }
                    ']' | '}' => self.flow = self.flow.saturating_sub(1),
                    '"' | '\'' => self.quote = Some(c),
                    '#' if space_before => break,
                    _ => {}
                },
            }
        }
        deepest
    }
}

/// The text after a block key (`key: value` or `key:`), if the line has one.
fn after_key(rest: &str) -> Option<&str> {
    let start = if rest.starts_with('"') || rest.starts_with('\'') {
        // Skip a quoted key.
        let q = rest.chars().next()?;
        let end = rest.get(1..)?.find(q)? + 2;
        end.min(rest.len())
    } else {
        0
    };
    let tail = rest.get(start..)?;
    if let Some(i) = tail.find(": ") {
        return tail.get(i + 2..);
    }
    let trimmed = tail.split(" #").next().unwrap_or(tail).trim_end();
    if trimmed.ends_with(':') {
        return Some("");
    }
    None
}

/// The text after an anchor or tag token.
fn skip_token(text: &str) -> &str {
    text.find(' ').map_or("", |i| text.get(i..).unwrap_or(""))
}

/// `|`, `>`, `|-`, `>+2`, … optionally followed by a comment.
fn is_block_scalar_header(value: &str) -> bool {
    let head = value.split(" #").next().unwrap_or(value).trim_end();
    let mut chars = head.chars();
    matches!(chars.next(), Some('|' | '>'))
        && chars.all(|c| c == '-' || c == '+' || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::nesting_bound;

    #[test]
    fn ordinary_manifest_is_shallow() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: x\n    args: [\"a\", {b: c}]\n    command:\n      - |\n        - - - - - - - -\n";
        let bound = nesting_bound(text);
        assert!((6..=16).contains(&bound), "{bound}");
    }

    #[test]
    fn deep_nesting_is_seen() {
        let dashes = format!("{}x\n", "- ".repeat(5000));
        assert!(nesting_bound(&dashes) >= 5000);
        let mut block = String::new();
        for i in 0..3000 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        assert!(nesting_bound(&block) >= 3000);
        let flow = format!("a: {}", "[".repeat(300));
        assert!(nesting_bound(&flow) >= 300);
    }

    /// The real nesting depth of a loaded tree (iteratively).
    fn real_depth(text: &str) -> Option<usize> {
        use saphyr::{LoadableYamlNode, MarkedYaml, YamlData};
        let docs = MarkedYaml::load_from_str(text).ok()?;
        let mut max = 0;
        let mut stack: Vec<(&MarkedYaml<'_>, usize)> = docs.iter().map(|d| (d, 1)).collect();
        while let Some((node, depth)) = stack.pop() {
            max = max.max(depth);
            match &node.data {
                YamlData::Sequence(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
                YamlData::Mapping(map) => {
                    for (k, v) in map {
                        stack.push((k, depth + 1));
                        stack.push((v, depth + 1));
                    }
                }
                YamlData::Tagged(_, inner) => stack.push((inner, depth + 1)),
                _ => {}
            }
        }
        Some(max)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn bound_is_never_below_the_real_depth(
            parts in proptest::collection::vec(
                proptest::prelude::prop_oneof![
                    proptest::strategy::Just("- "), proptest::strategy::Just("? "),
                    proptest::strategy::Just("a: "), proptest::strategy::Just("a:\n"),
                    proptest::strategy::Just("\n"), proptest::strategy::Just("  "),
                    proptest::strategy::Just("["), proptest::strategy::Just("]"),
                    proptest::strategy::Just("{"), proptest::strategy::Just("}"),
                    proptest::strategy::Just(", "), proptest::strategy::Just("|\n"),
                    proptest::strategy::Just("\"x\" "), proptest::strategy::Just("'y' "),
                    proptest::strategy::Just("# c\n"), proptest::strategy::Just("---\n"),
                    proptest::strategy::Just("&a "), proptest::strategy::Just("!t "),
                    proptest::strategy::Just("b"), proptest::strategy::Just(">-\n"),
                ],
                0..60,
            )
        ) {
            let text: String = parts.concat();
            let handle = std::thread::Builder::new()
                .stack_size(64 * 1024 * 1024)
                .spawn(move || (real_depth(&text), nesting_bound(&text), text));
            if let Ok(handle) = handle
                && let Ok((Some(real), bound, text)) = handle.join()
            {
                // The document level itself is not a collection.
                proptest::prop_assert!(bound + 1 >= real, "bound {bound} < real {real}: {text:?}");
            }
        }
    }
}
