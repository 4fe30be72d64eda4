//! YAML in any style (block, flow, multi-document, `kind: List`, block scalars) read with
//! saphyr — the parser vouch reads Kubernetes manifests with — into the redaction tree.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, ScalarStyle, YamlData};

use super::tree::{Kind, Node};

/// Character index → byte offset (saphyr's markers count characters).
struct Offsets<'t> {
    text: &'t str,
    ascii: bool,
    /// Byte offset of every 64th character.
    checkpoints: Vec<usize>,
}

impl<'t> Offsets<'t> {
    fn new(text: &'t str) -> Self {
        let ascii = text.is_ascii();
        let checkpoints = if ascii {
            Vec::new()
        } else {
            text.char_indices().step_by(64).map(|(b, _)| b).collect()
        };
        Offsets {
            text,
            ascii,
            checkpoints,
        }
    }

    fn byte(&self, chars: usize) -> usize {
        if self.ascii {
            return chars.min(self.text.len());
        }
        let Some(&start) = self.checkpoints.get(chars / 64) else {
            return self.text.len();
        };
        self.text
            .get(start..)
            .and_then(|t| t.char_indices().nth(chars % 64))
            .map_or(self.text.len(), |(b, _)| start + b)
    }
}

/// Parses every document of a YAML stream (a sequence of their trees); `None` when it is not
/// valid YAML.
pub fn parse(text: &str) -> Option<Node> {
    let docs = MarkedYaml::load_from_str(text).ok()?;
    let o = Offsets::new(text);
    let items: Vec<Node> = docs
        .iter()
        .map(|d| convert(d, &o, 0))
        .collect::<Option<_>>()?;
    Some(Node {
        span: 0..text.len(),
        kind: Kind::Seq(items),
    })
}

/// Plain scalars as YAML 1.2's core schema reads them.
fn plain(s: &str) -> Kind {
    match s {
        "true" | "True" | "TRUE" => Kind::Bool(true),
        "false" | "False" | "FALSE" => Kind::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => Kind::Null,
        _ if s.parse::<f64>().is_ok() => Kind::Num,
        _ => Kind::Str(s.to_owned()),
    }
}

fn convert(n: &MarkedYaml<'_>, o: &Offsets<'_>, depth: usize) -> Option<Node> {
    if depth > 512 {
        return None;
    }
    let start = o.byte(n.span.start.index());
    let end = o.byte(n.span.end.index()).max(start);
    let kind = match &n.data {
        YamlData::Mapping(m) => Kind::Map {
            entries: m
                .iter()
                .map(|(k, v)| {
                    let key = match &k.data {
                        YamlData::Value(Scalar::String(s)) => s.to_string(),
                        YamlData::Representation(s, _, _) => s.to_string(),
                        YamlData::Value(Scalar::Integer(i)) => i.to_string(),
                        _ => String::new(),
                    };
                    convert(v, o, depth + 1).map(|v| (key, v))
                })
                .collect::<Option<_>>()?,
            labels: Vec::new(),
        },
        YamlData::Sequence(items) => Kind::Seq(
            items
                .iter()
                .map(|v| convert(v, o, depth + 1))
                .collect::<Option<_>>()?,
        ),
        YamlData::Tagged(_, inner) => return convert(inner, o, depth + 1),
        YamlData::Value(Scalar::String(s)) => Kind::Str(s.to_string()),
        YamlData::Value(Scalar::Integer(_) | Scalar::FloatingPoint(_)) => Kind::Num,
        YamlData::Value(Scalar::Boolean(b)) => Kind::Bool(*b),
        YamlData::Value(Scalar::Null) => Kind::Null,
        YamlData::Representation(s, ScalarStyle::Plain, _) => plain(s),
        YamlData::Representation(s, _, _) => Kind::Str(s.to_string()),
        // An alias repeats a value anchored elsewhere (masked there, if secret).
        YamlData::Alias(_) => Kind::Opaque,
        YamlData::BadValue => return None,
    };
    Some(Node {
        span: start..end,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: &str) -> Vec<String> {
        fn leaves(n: &Node, t: &str, out: &mut Vec<String>) {
            match &n.kind {
                Kind::Map { entries, .. } => entries.iter().for_each(|(_, v)| leaves(v, t, out)),
                Kind::Seq(i) => i.iter().for_each(|v| leaves(v, t, out)),
                _ => out.push(t[n.span.clone()].to_owned()),
            }
        }
        let mut out = Vec::new();
        leaves(&parse(t).unwrap(), t, &mut out);
        out
    }

    #[test]
    fn scalar_spans_in_every_style() {
        assert_eq!(
            values("a: plain\nb: \"dq\"\nc: 'sq'\nd: {e: flow, f: [x, \"y\"]}\n"),
            ["plain", "\"dq\"", "'sq'", "flow", "x", "\"y\""]
        );
        let block = values("a: |\n  line1\n  line2\nb: c\n");
        assert!(
            block[0].contains("line1") && block[0].contains("line2"),
            "{block:?}"
        );
        assert!(!block[0].contains("b: c"), "{block:?}");
        assert_eq!(values("é: ü\nk: v\n"), ["ü", "v"]);
    }
}
