//! JSON of any layout (one line or pretty, a plan or a policy or anything) read into the
//! redaction [`Node`] tree with byte spans: a small strict parser of its own, because
//! serde_json keeps no positions. Nesting deeper than a limit is an error (the caller then
//! masks the whole file).

use super::tree::{Kind, Node};

/// Nesting limit (serde_json's own is 128).
const MAX_DEPTH: usize = 512;

struct Parser<'t> {
    b: &'t [u8],
    text: &'t str,
    i: usize,
}

/// Parses a JSON document; `None` when it is not valid JSON.
pub fn parse(text: &str) -> Option<Node> {
    let mut p = Parser {
        b: text.as_bytes(),
        text,
        i: 0,
    };
    let node = p.value(0)?;
    p.ws();
    (p.i == p.b.len()).then_some(node)
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self
            .b
            .get(self.i)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        let start = self.i;
        let kind =
            match *self.b.get(self.i)? {
                b'{' => {
                    self.i += 1;
                    let mut entries = Vec::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                    } else {
                        loop {
                            self.ws();
                            let key = self.string()?;
                            self.eat(b':')?;
                            let v = self.value(depth + 1)?;
                            entries.push((key, v));
                            self.ws();
                            match self.b.get(self.i)? {
                                b',' => self.i += 1,
                                b'}' => {
                                    self.i += 1;
                                    break;
                                }
                                _ => return None,
                            }
                        }
                    }
                    Kind::Map {
                        entries,
                        labels: Vec::new(),
                    }
                }
                b'[' => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                    } else {
                        loop {
                            items.push(self.value(depth + 1)?);
                            self.ws();
                            match self.b.get(self.i)? {
                                b',' => self.i += 1,
                                b']' => {
                                    self.i += 1;
                                    break;
                                }
                                _ => return None,
                            }
                        }
                    }
                    Kind::Seq(items)
                }
                b'"' => Kind::Str(self.string()?),
                b't' => self.word("true", Kind::Bool(true))?,
                b'f' => self.word("false", Kind::Bool(false))?,
                b'n' => self.word("null", Kind::Null)?,
                b'-' | b'0'..=b'9' => {
                    while self.b.get(self.i).is_some_and(|c| {
                        matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                    }) {
                        self.i += 1;
                    }
                    self.text.get(start..self.i)?.parse::<f64>().ok()?;
                    Kind::Num
                }
                _ => return None,
            };
        Some(Node {
            span: start..self.i,
            kind,
        })
    }

    fn word(&mut self, w: &str, kind: Kind) -> Option<Kind> {
        let end = self.i + w.len();
        (self.b.get(self.i..end)? == w.as_bytes()).then(|| {
            self.i = end;
            kind
        })
    }

    /// A string at the cursor (which must be `"`), decoded.
    fn string(&mut self) -> Option<String> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i;
        self.i += 1;
        let mut simple = true;
        loop {
            match *self.b.get(self.i)? {
                b'"' => break,
                b'\\' => {
                    simple = false;
                    self.i += 2;
                }
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
        self.i += 1;
        let raw = self.text.get(start..self.i)?;
        if simple {
            return Some(raw[1..raw.len() - 1].to_owned());
        }
        serde_json::from_str::<String>(raw).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_the_values() {
        let t = r#"{"a": [1, "x\"y", true, null], "b": {"c": -2.5e3}}"#;
        let n = parse(t).unwrap();
        let a = n.get("a").unwrap();
        let Kind::Seq(items) = &a.kind else { panic!() };
        assert_eq!(&t[items[1].span.clone()], r#""x\"y""#);
        assert_eq!(items[1].str(), Some("x\"y"));
        assert_eq!(
            &t[n.get("b").unwrap().get("c").unwrap().span.clone()],
            "-2.5e3"
        );
        assert!(parse("{\"a\": 1} x").is_none());
        assert!(parse(&"[".repeat(600)).is_none());
        assert!(parse("{\"a\": 1,}").is_none());
    }
}
