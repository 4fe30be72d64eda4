//! Terraform's built-in functions and operators over [`Raw`] values.
//!
//! Every function propagates unknowns: a result that depends on an unknown argument is
//! unknown with that argument's reason; one that does not (`length` of a list whose elements
//! are unknown, `merge` where only a value is unknown) stays known. Functions that read the
//! disk or the clock (`file`, `templatefile`, `timestamp`, `uuid`) are unknown.

use std::collections::BTreeMap;

use super::expr::BinOp;
use super::raw::{Raw, number};

/// Calls a function by name. `module_dir` is the calling module's directory.
pub fn call(name: &str, args: &[Raw], _module_dir: Option<&str>) -> Raw {
    // Sensitivity does not change a value.
    if matches!(name, "sensitive" | "nonsensitive") {
        return args.first().cloned().unwrap_or(Raw::Null);
    }
    let strict = strict_args(name);
    if strict && let Some(u) = first_unknown(args) {
        return u;
    }
    let bad = || {
        Raw::Unknown(format!(
            "`{name}(…)` was called with arguments it does not accept"
        ))
    };
    match (name, args) {
        ("jsonencode", [v]) => match v.to_json() {
            Ok(j) => Raw::String(j.to_string()),
            // A document with unknown parts keeps its structure, so readers of JSON documents
            // (IAM policies) know every part but those: one unknown ARN never hides the rest.
            // Any other use of it (a template, a strict function) is unknown with that reason.
            Err(_) if matches!(v, Raw::Map(_) | Raw::List(_)) => v.clone(),
            Err(why) => Raw::Unknown(why),
        },
        ("jsondecode", [Raw::String(s)]) => serde_json::from_str::<serde_json::Value>(s)
            .map_or_else(
                |e| Raw::Unknown(format!("`jsondecode` of text that is not JSON: {e}")),
                |j| Raw::from_json(&j),
            ),
        (
            "yamlencode" | "yamldecode" | "file" | "templatefile" | "filebase64" | "fileexists"
            | "fileset" | "filemd5" | "filesha256" | "abspath",
            _,
        ) => Raw::Unknown(format!(
            "the value is read from a file by `{name}(…)`, which vouch does not evaluate"
        )),
        ("timestamp" | "uuid" | "plantimestamp" | "bcrypt" | "uuidv5", _) => Raw::Unknown(format!(
            "the value of `{name}(…)` is chosen when Terraform runs"
        )),
        ("tostring", [v]) => match v {
            Raw::String(_) | Raw::Null | Raw::Ref(_) => v.clone(),
            Raw::Bool(b) => Raw::String(b.to_string()),
            Raw::Number(n) => Raw::String(n.to_string()),
            _ => bad(),
        },
        ("tonumber", [v]) => match v {
            Raw::Number(_) | Raw::Null | Raw::Ref(_) => v.clone(),
            Raw::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(num)
                .unwrap_or_else(bad),
            _ => bad(),
        },
        ("tobool", [v]) => match to_bool(v) {
            Some(b) => Raw::Bool(b),
            None if matches!(v, Raw::Null | Raw::Ref(_)) => v.clone(),
            None => bad(),
        },
        ("tolist" | "tuple", [v]) => match v {
            Raw::List(_) | Raw::Ref(_) | Raw::Null => v.clone(),
            _ => bad(),
        },
        ("toset", [v]) => match v {
            Raw::List(items) => set_of(items.clone()),
            Raw::Ref(_) | Raw::Null => v.clone(),
            _ => bad(),
        },
        ("tomap" | "object", [v]) => match v {
            Raw::Map(_) | Raw::Ref(_) | Raw::Null => v.clone(),
            _ => bad(),
        },
        ("lower", [Raw::String(s)]) => Raw::String(s.to_lowercase()),
        ("upper", [Raw::String(s)]) => Raw::String(s.to_uppercase()),
        ("title", [Raw::String(s)]) => Raw::String(title(s)),
        ("trimspace", [Raw::String(s)]) => Raw::String(s.trim().to_owned()),
        ("trim", [Raw::String(s), Raw::String(cut)]) => {
            Raw::String(s.trim_matches(|c| cut.contains(c)).to_owned())
        }
        ("trimprefix", [Raw::String(s), Raw::String(p)]) => {
            Raw::String(s.strip_prefix(p.as_str()).unwrap_or(s).to_owned())
        }
        ("trimsuffix", [Raw::String(s), Raw::String(p)]) => {
            Raw::String(s.strip_suffix(p.as_str()).unwrap_or(s).to_owned())
        }
        ("startswith", [Raw::String(s), Raw::String(p)]) => Raw::Bool(s.starts_with(p.as_str())),
        ("endswith", [Raw::String(s), Raw::String(p)]) => Raw::Bool(s.ends_with(p.as_str())),
        ("strcontains", [Raw::String(s), Raw::String(p)]) => Raw::Bool(s.contains(p.as_str())),
        ("replace", [Raw::String(s), Raw::String(from), Raw::String(to)]) => {
            if from.len() > 2 && from.starts_with('/') && from.ends_with('/') {
                match regex::Regex::new(&from[1..from.len() - 1]) {
                    Ok(re) => Raw::String(
                        re.replace_all(s, to.replace("$", "$$").as_str())
                            .into_owned(),
                    ),
                    Err(_) => bad(),
                }
            } else if from.is_empty() {
                Raw::String(s.clone())
            } else {
                Raw::String(s.replace(from.as_str(), to))
            }
        }
        ("substr", [Raw::String(s), off, len]) => match (number(off), number(len)) {
            (Some(off), Some(len)) => {
                let chars: Vec<char> = s.chars().collect();
                let n = i64::try_from(chars.len()).unwrap_or(i64::MAX);
                let start = if off < 0 {
                    (n + off).max(0)
                } else {
                    off.min(n)
                };
                let end = if len < 0 { n } else { (start + len).min(n) };
                let (start, end) = (
                    usize::try_from(start).unwrap_or(0),
                    usize::try_from(end).unwrap_or(0),
                );
                Raw::String(
                    chars
                        .get(start..end.max(start))
                        .map(|c| c.iter().collect())
                        .unwrap_or_default(),
                )
            }
            _ => bad(),
        },
        ("split", [Raw::String(sep), Raw::String(s)]) => Raw::List(if sep.is_empty() {
            s.chars().map(|c| Raw::String(c.to_string())).collect()
        } else {
            s.split(sep.as_str())
                .map(|p| Raw::String(p.to_owned()))
                .collect()
        }),
        ("join", [Raw::String(sep), rest @ ..]) if !rest.is_empty() => {
            let mut parts = Vec::new();
            for l in rest {
                match l {
                    Raw::List(items) => {
                        for i in items {
                            match i {
                                Raw::Unknown(why) => return Raw::Unknown(why.clone()),
                                Raw::Ref(r) => parts.push(format!("${{{r}}}")),
                                v => match v.as_text() {
                                    Some(t) => parts.push(t),
                                    None => return bad(),
                                },
                            }
                        }
                    }
                    Raw::Unknown(why) => return Raw::Unknown(why.clone()),
                    _ => return bad(),
                }
            }
            Raw::String(parts.join(sep))
        }
        ("format", [Raw::String(f), rest @ ..]) => format(f, rest),
        ("formatlist", [Raw::String(f), rest @ ..]) => formatlist(f, rest),
        ("regex", [Raw::String(re), Raw::String(s)]) => match regex::Regex::new(re) {
            Ok(re) => match re.captures(s) {
                Some(c) if c.len() == 1 => {
                    Raw::String(c.get(0).map_or("", |m| m.as_str()).to_owned())
                }
                Some(c) => Raw::List(
                    c.iter()
                        .skip(1)
                        .map(|m| Raw::String(m.map_or("", |m| m.as_str()).to_owned()))
                        .collect(),
                ),
                None => Raw::Unknown("`regex(…)` found no match (Terraform fails here)".to_owned()),
            },
            Err(_) => bad(),
        },
        ("length", [v]) => match v {
            Raw::List(items) => Raw::Number(items.len().into()),
            Raw::Map(m) => Raw::Number(m.len().into()),
            Raw::String(s) => Raw::Number(s.chars().count().into()),
            Raw::Unknown(why) => Raw::Unknown(why.clone()),
            Raw::Ref(r) => Raw::Unknown(format!("the length of `{r}` is known only after apply")),
            _ => bad(),
        },
        ("concat", lists) => {
            let mut out = Vec::new();
            for l in lists {
                match l {
                    Raw::List(items) => out.extend(items.iter().cloned()),
                    Raw::Unknown(why) => return Raw::Unknown(why.clone()),
                    Raw::Ref(r) => {
                        return Raw::Unknown(format!("`concat` of `{r}`, known only after apply"));
                    }
                    _ => return bad(),
                }
            }
            Raw::List(out)
        }
        ("merge", maps) => {
            let mut out = BTreeMap::new();
            for m in maps {
                match m {
                    Raw::Map(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
                    Raw::Null => {}
                    Raw::Unknown(why) => return Raw::Unknown(why.clone()),
                    Raw::Ref(r) => {
                        return Raw::Unknown(format!("`merge` of `{r}`, known only after apply"));
                    }
                    _ => return bad(),
                }
            }
            Raw::Map(out)
        }
        ("lookup", [m, k, rest @ ..]) if rest.len() <= 1 => match (m, k) {
            (Raw::Unknown(why), _) | (_, Raw::Unknown(why)) => Raw::Unknown(why.clone()),
            (Raw::Map(m), k) => match k.as_text().and_then(|k| m.get(&k)) {
                Some(v) => v.clone(),
                None => rest.first().cloned().unwrap_or_else(|| {
                    Raw::Unknown("`lookup` of a missing key without a default".to_owned())
                }),
            },
            (Raw::Ref(r), _) => Raw::Unknown(format!("`lookup` in `{r}`, known only after apply")),
            _ => bad(),
        },
        ("element", [Raw::List(items), i]) => match number(i) {
            Some(_) if items.is_empty() => bad(),
            Some(n) => {
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let idx = usize::try_from(n.rem_euclid(len)).unwrap_or(0);
                items.get(idx).cloned().unwrap_or_else(bad)
            }
            None => unknown_or(i, bad),
        },
        ("index", [Raw::List(items), v]) => {
            if v.has_unknown() {
                return unknown_or(v, bad);
            }
            match items.iter().position(|x| equal(x, v)) {
                Some(p) => Raw::Number(p.into()),
                None => {
                    Raw::Unknown("`index` found no such element (Terraform fails here)".to_owned())
                }
            }
        }
        ("contains", [Raw::List(items), v]) => {
            if v.has_unknown() {
                return unknown_or(v, bad);
            }
            if items.iter().any(|x| equal(x, v)) {
                Raw::Bool(true)
            } else if let Some(u) = items
                .iter()
                .find(|x| x.has_unknown() || matches!(x, Raw::Ref(_)))
            {
                unknown_or(u, || {
                    Raw::Unknown("an element is known only after apply".to_owned())
                })
            } else {
                Raw::Bool(false)
            }
        }
        ("keys", [Raw::Map(m)]) => Raw::List(m.keys().map(|k| Raw::String(k.clone())).collect()),
        ("values", [Raw::Map(m)]) => Raw::List(m.values().cloned().collect()),
        ("flatten", [v]) => {
            let mut out = Vec::new();
            match flatten(v, &mut out) {
                Ok(()) => Raw::List(out),
                Err(u) => u,
            }
        }
        ("distinct", [Raw::List(items)]) => {
            let mut out: Vec<Raw> = Vec::new();
            for i in items {
                if !out.iter().any(|o| equal(o, i)) {
                    out.push(i.clone());
                }
            }
            Raw::List(out)
        }
        ("compact", [Raw::List(items)]) => {
            let mut out = Vec::new();
            for i in items {
                match i {
                    Raw::Null => {}
                    Raw::String(s) if s.is_empty() => {}
                    Raw::Unknown(why) => return Raw::Unknown(why.clone()),
                    v => out.push(v.clone()),
                }
            }
            Raw::List(out)
        }
        ("coalesce", vals) => {
            for v in vals {
                match v {
                    Raw::Null => {}
                    Raw::String(s) if s.is_empty() => {}
                    Raw::Unknown(why) => return Raw::Unknown(why.clone()),
                    v => return v.clone(),
                }
            }
            Raw::Unknown(
                "`coalesce` of only null or empty values (Terraform fails here)".to_owned(),
            )
        }
        ("coalescelist", vals) => {
            for v in vals {
                match v {
                    Raw::List(items) if items.is_empty() => {}
                    Raw::Unknown(why) => return Raw::Unknown(why.clone()),
                    v => return v.clone(),
                }
            }
            Raw::List(Vec::new())
        }
        ("one", [v]) => match v {
            Raw::List(items) if items.is_empty() => Raw::Null,
            Raw::List(items) if items.len() == 1 => items[0].clone(),
            Raw::Unknown(why) => Raw::Unknown(why.clone()),
            Raw::Ref(r) => Raw::Ref(format!("{r}[0]")),
            _ => bad(),
        },
        ("reverse", [Raw::List(items)]) => Raw::List(items.iter().rev().cloned().collect()),
        ("sort", [Raw::List(items)]) => {
            let mut texts = Vec::new();
            for i in items {
                match i.as_text() {
                    Some(t) if !matches!(i, Raw::Ref(_)) => texts.push(t),
                    _ => return unknown_or(i, bad),
                }
            }
            texts.sort();
            Raw::List(texts.into_iter().map(Raw::String).collect())
        }
        ("slice", [Raw::List(items), from, to]) => match (number(from), number(to)) {
            (Some(f), Some(t)) => {
                let (f, t) = (
                    usize::try_from(f).unwrap_or(0),
                    usize::try_from(t).unwrap_or(0),
                );
                items.get(f..t).map_or_else(bad, |s| Raw::List(s.to_vec()))
            }
            _ => bad(),
        },
        ("range", bounds) => range(bounds).unwrap_or_else(bad),
        ("zipmap", [Raw::List(ks), Raw::List(vs)]) if ks.len() == vs.len() => {
            let mut m = BTreeMap::new();
            for (k, v) in ks.iter().zip(vs) {
                match k {
                    Raw::Unknown(why) => return Raw::Unknown(why.clone()),
                    k => match k.as_text() {
                        Some(t) if !matches!(k, Raw::Ref(_)) => {
                            m.insert(t, v.clone());
                        }
                        _ => {
                            return Raw::Unknown(
                                "a `zipmap` key is known only after apply".to_owned(),
                            );
                        }
                    },
                }
            }
            Raw::Map(m)
        }
        ("setunion", sets) => {
            let mut all = Vec::new();
            for s in sets {
                match s {
                    Raw::List(items) => all.extend(items.iter().cloned()),
                    other => return unknown_or(other, bad),
                }
            }
            set_of(all)
        }
        ("setintersection" | "setsubtract", [Raw::List(a), rest @ ..]) => {
            let mut keep: Vec<Raw> = a.clone();
            for s in rest {
                let Raw::List(items) = s else {
                    return unknown_or(s, bad);
                };
                keep.retain(|x| {
                    let inside = items.iter().any(|y| equal(x, y));
                    if name == "setintersection" {
                        inside
                    } else {
                        !inside
                    }
                });
            }
            set_of(keep)
        }
        ("alltrue" | "anytrue", [Raw::List(items)]) => {
            let all = name == "alltrue";
            let mut unknown = None;
            for i in items {
                match to_bool(i) {
                    Some(b) if b != all => return Raw::Bool(b),
                    Some(_) => {}
                    None => unknown = Some(i),
                }
            }
            match unknown {
                Some(u) => unknown_or(u, bad),
                None => Raw::Bool(all),
            }
        }
        ("max" | "min", vals) if !vals.is_empty() => {
            let mut best: Option<f64> = None;
            for v in vals {
                let Some(f) = as_f64(v) else {
                    return unknown_or(v, bad);
                };
                best = Some(match best {
                    None => f,
                    Some(b) if name == "max" => b.max(f),
                    Some(b) => b.min(f),
                });
            }
            best.and_then(num).unwrap_or_else(bad)
        }
        ("sum", [Raw::List(items)]) => {
            let mut total = 0.0;
            for i in items {
                let Some(f) = as_f64(i) else {
                    return unknown_or(i, bad);
                };
                total += f;
            }
            num(total).unwrap_or_else(bad)
        }
        ("abs" | "ceil" | "floor", [v]) => match as_f64(v) {
            Some(f) => num(match name {
                "abs" => f.abs(),
                "ceil" => f.ceil(),
                _ => f.floor(),
            })
            .unwrap_or_else(bad),
            None => unknown_or(v, bad),
        },
        ("chunklist", [Raw::List(items), size]) => match number(size) {
            Some(n) if n > 0 => Raw::List(
                items
                    .chunks(usize::try_from(n).unwrap_or(1))
                    .map(|c| Raw::List(c.to_vec()))
                    .collect(),
            ),
            _ => bad(),
        },
        ("base64encode", [Raw::String(s)]) => Raw::String(base64(s.as_bytes())),
        ("sha256", [Raw::String(s)]) => {
            use sha2::Digest;
            Raw::String(hex::encode(sha2::Sha256::digest(s.as_bytes())))
        }
        _ => match first_unknown(args) {
            Some(u) => u,
            None if known_function(name) => bad(),
            None => Raw::Unknown(format!(
                "the value is computed by `{name}(…)`, which vouch does not evaluate"
            )),
        },
    }
}

/// Functions whose result is unknown as soon as any argument is unknown anywhere inside.
/// The others look inside their arguments (`length` of a list with unknown elements is known).
fn strict_args(name: &str) -> bool {
    !matches!(
        name,
        "length"
            | "concat"
            | "merge"
            | "tolist"
            | "toset"
            | "tomap"
            | "tuple"
            | "object"
            | "flatten"
            | "keys"
            | "values"
            | "element"
            | "lookup"
            | "contains"
            | "coalesce"
            | "coalescelist"
            | "compact"
            | "distinct"
            | "reverse"
            | "one"
            | "slice"
            | "setunion"
            | "setintersection"
            | "setsubtract"
            | "alltrue"
            | "anytrue"
            | "zipmap"
            | "chunklist"
            | "join"
            | "index"
            | "jsonencode"
    )
}

fn known_function(name: &str) -> bool {
    matches!(
        name,
        "jsonencode"
            | "jsondecode"
            | "tostring"
            | "tonumber"
            | "tobool"
            | "tolist"
            | "toset"
            | "tomap"
            | "lower"
            | "upper"
            | "title"
            | "trimspace"
            | "trim"
            | "trimprefix"
            | "trimsuffix"
            | "startswith"
            | "endswith"
            | "strcontains"
            | "replace"
            | "substr"
            | "split"
            | "join"
            | "format"
            | "formatlist"
            | "regex"
            | "length"
            | "concat"
            | "merge"
            | "lookup"
            | "element"
            | "index"
            | "contains"
            | "keys"
            | "values"
            | "flatten"
            | "distinct"
            | "compact"
            | "coalesce"
            | "coalescelist"
            | "one"
            | "reverse"
            | "sort"
            | "slice"
            | "range"
            | "zipmap"
            | "setunion"
            | "setintersection"
            | "setsubtract"
            | "alltrue"
            | "anytrue"
            | "max"
            | "min"
            | "sum"
            | "abs"
            | "ceil"
            | "floor"
            | "chunklist"
            | "base64encode"
            | "sha256"
    )
}

/// The first unknown inside any argument, as a value.
fn first_unknown(args: &[Raw]) -> Option<Raw> {
    for a in args {
        if let Some(why) = a.unknown_reason() {
            return Some(Raw::Unknown(why));
        }
    }
    None
}

/// `v`'s unknown reason when it has one (or it is a reference), else `fallback()`.
fn unknown_or(v: &Raw, fallback: impl Fn() -> Raw) -> Raw {
    match v {
        Raw::Ref(r) => Raw::Unknown(format!("`{r}` is known only after apply")),
        v => v.unknown_reason().map_or_else(fallback, Raw::Unknown),
    }
}

fn flatten(v: &Raw, out: &mut Vec<Raw>) -> Result<(), Raw> {
    match v {
        Raw::List(items) => {
            for i in items {
                flatten(i, out)?;
            }
            Ok(())
        }
        Raw::Unknown(why) => Err(Raw::Unknown(format!(
            "a list to flatten is not known: {why}"
        ))),
        other => {
            out.push(other.clone());
            Ok(())
        }
    }
}

/// A set: duplicates removed, strings sorted (Terraform's order for sets of strings).
fn set_of(items: Vec<Raw>) -> Raw {
    let mut out: Vec<Raw> = Vec::new();
    for i in items {
        if !out.iter().any(|o| equal(o, &i)) {
            out.push(i);
        }
    }
    if out.iter().all(|i| matches!(i, Raw::String(_))) {
        out.sort_by_key(Raw::as_text);
    }
    Raw::List(out)
}

fn range(bounds: &[Raw]) -> Option<Raw> {
    let n: Vec<f64> = bounds.iter().map(as_f64).collect::<Option<_>>()?;
    let (start, end, step) = match n.as_slice() {
        [e] => (0.0, *e, 1.0),
        [s, e] => (*s, *e, if s <= e { 1.0 } else { -1.0 }),
        [s, e, st] => (*s, *e, *st),
        _ => return None,
    };
    if step == 0.0 {
        return None;
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
        out.push(num(x)?);
        if out.len() > super::eval::MAX_INSTANCES {
            return None;
        }
        x += step;
    }
    Some(Raw::List(out))
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let b = [
            c[0],
            c.get(1).copied().unwrap_or(0),
            c.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].iter().enumerate() {
            if i <= c.len() {
                out.push(char::from(T[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Terraform's `format`: `%s`, `%d`, `%v`, `%q`, `%t`, `%%`, with flags and widths kept
/// simple (`%05d`, `%-10s`).
fn format(f: &str, args: &[Raw]) -> Raw {
    let mut out = String::new();
    let mut it = args.iter();
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_digit() || matches!(n, '-' | '+' | '#' | ' ' | '.') {
                spec.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let Some(verb) = chars.next() else {
            return Raw::Unknown("`format` string ends with `%`".to_owned());
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = it.next() else {
            return Raw::Unknown("`format` has fewer arguments than verbs".to_owned());
        };
        if let Some(why) = arg.unknown_reason() {
            return Raw::Unknown(why);
        }
        let text = match (verb, arg) {
            (_, Raw::Ref(r)) => format!("${{{r}}}"),
            ('q', v) => match v.as_text() {
                Some(t) => quote_json(&t),
                None => {
                    return Raw::Unknown("`format` %q of a value that is not a string".to_owned());
                }
            },
            ('v' | 's' | 'd' | 't' | 'f' | 'g' | 'x' | 'X' | 'o' | 'b' | 'e', v) => match v {
                Raw::List(_) | Raw::Map(_) => match v.to_json() {
                    Ok(j) => j.to_string(),
                    Err(why) => return Raw::Unknown(why),
                },
                Raw::Null => "null".to_owned(),
                v => v.as_text().unwrap_or_default(),
            },
            _ => return Raw::Unknown(format!("`format` verb `%{verb}` is not supported")),
        };
        let width: usize = spec
            .trim_start_matches(['-', '+', '#', ' ', '0'])
            .split('.')
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0);
        let pad = width.saturating_sub(text.chars().count());
        if spec.starts_with('-') {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            let fill = if spec.starts_with('0') { '0' } else { ' ' };
            out.extend(std::iter::repeat_n(fill, pad));
            out.push_str(&text);
        }
    }
    Raw::String(out)
}

fn quote_json(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn formatlist(f: &str, args: &[Raw]) -> Raw {
    let len = args
        .iter()
        .filter_map(|a| match a {
            Raw::List(l) => Some(l.len()),
            _ => None,
        })
        .max();
    let Some(len) = len else {
        return match format(f, args) {
            Raw::String(s) => Raw::List(vec![Raw::String(s)]),
            other => other,
        };
    };
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let row: Vec<Raw> = args
            .iter()
            .map(|a| match a {
                Raw::List(l) => l.get(i).cloned().unwrap_or(Raw::Null),
                other => other.clone(),
            })
            .collect();
        out.push(format(f, &row));
    }
    Raw::List(out)
}

/// A value as a boolean (`"true"`/`"false"` strings convert, as in Terraform).
pub fn to_bool(v: &Raw) -> Option<bool> {
    match v {
        Raw::Bool(b) => Some(*b),
        Raw::String(s) if s == "true" => Some(true),
        Raw::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

fn as_f64(v: &Raw) -> Option<f64> {
    match v {
        Raw::Number(n) => n.as_f64(),
        Raw::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A number value: whole numbers stay integers.
fn num(f: f64) -> Option<Raw> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Some(Raw::Number((f as i64).into()));
    }
    serde_json::Number::from_f64(f).map(Raw::Number)
}

/// Terraform equality: numbers by value, strings and numbers never equal, collections deep.
pub fn equal(a: &Raw, b: &Raw) -> bool {
    match (a, b) {
        (Raw::Number(x), Raw::Number(y)) => x.as_f64() == y.as_f64(),
        (Raw::List(x), Raw::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q))
        }
        (Raw::Map(x), Raw::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// `==` when it can be decided: a map is never null whatever its values, two lists of
/// different lengths differ whatever their elements; `None` when an unknown part decides.
pub fn equal_known(a: &Raw, b: &Raw) -> Option<bool> {
    match (a, b) {
        (Raw::Unknown(_), _) | (_, Raw::Unknown(_)) => None,
        (Raw::Ref(x), Raw::Ref(y)) if x == y => Some(true),
        (Raw::Ref(_), _) | (_, Raw::Ref(_)) => None,
        (Raw::List(x), Raw::List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut all = Some(true);
            for (p, q) in x.iter().zip(y) {
                match equal_known(p, q) {
                    Some(false) => return Some(false),
                    Some(true) => {}
                    None => all = None,
                }
            }
            all
        }
        (Raw::Map(x), Raw::Map(y)) => {
            if x.len() != y.len() || x.keys().any(|k| !y.contains_key(k)) {
                return Some(false);
            }
            let mut all = Some(true);
            for (k, p) in x {
                match y.get(k).and_then(|q| equal_known(p, q)) {
                    Some(false) => return Some(false),
                    Some(true) => {}
                    None => all = None,
                }
            }
            all
        }
        _ => Some(equal(a, b)),
    }
}

/// Arithmetic and comparison operators.
pub fn arith(op: BinOp, l: &Raw, r: &Raw) -> Raw {
    if let Some(why) = l.unknown_reason().or_else(|| r.unknown_reason()) {
        return Raw::Unknown(why);
    }
    for v in [l, r] {
        if let Raw::Ref(x) = v {
            return Raw::Unknown(format!("`{x}` is known only after apply"));
        }
    }
    let (Some(a), Some(b)) = (as_f64(l), as_f64(r)) else {
        return Raw::Unknown("an arithmetic operand is not a number".to_owned());
    };
    let v = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div if b != 0.0 => a / b,
        BinOp::Mod if b != 0.0 => a % b,
        BinOp::Div | BinOp::Mod => {
            return Raw::Unknown("a division by zero (Terraform fails here)".to_owned());
        }
        BinOp::Less => return Raw::Bool(a < b),
        BinOp::LessEq => return Raw::Bool(a <= b),
        BinOp::Greater => return Raw::Bool(a > b),
        BinOp::GreaterEq => return Raw::Bool(a >= b),
        BinOp::Eq | BinOp::NotEq | BinOp::And | BinOp::Or => {
            return Raw::Unknown("not an arithmetic operator".to_owned());
        }
    };
    num(v).unwrap_or_else(|| Raw::Unknown("an arithmetic result is out of range".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Raw {
        Raw::String(x.to_owned())
    }

    #[test]
    fn common_functions() {
        assert_eq!(
            call(
                "format",
                &[s("%s-%03d"), s("a"), Raw::Number(7.into())],
                None
            ),
            s("a-007")
        );
        assert_eq!(
            call(
                "length",
                &[Raw::List(vec![Raw::Unknown("x".into()), s("b")])],
                None
            ),
            Raw::Number(2.into()),
            "length does not depend on the elements"
        );
        assert_eq!(
            call(
                "contains",
                &[Raw::List(vec![s("a"), Raw::Unknown("x".into())]), s("a")],
                None
            ),
            Raw::Bool(true)
        );
        assert!(matches!(
            call(
                "contains",
                &[Raw::List(vec![s("a"), Raw::Unknown("x".into())]), s("b")],
                None
            ),
            Raw::Unknown(_)
        ));
        assert_eq!(call("base64encode", &[s("hello")], None), s("aGVsbG8="));
        assert_eq!(
            call("replace", &[s("a-b-c"), s("/-/"), s("_")], None),
            s("a_b_c")
        );
        assert_eq!(
            call(
                "flatten",
                &[Raw::List(vec![Raw::List(vec![s("a")]), s("b")])],
                None
            ),
            Raw::List(vec![s("a"), s("b")])
        );
        assert!(matches!(call("file", &[s("x")], None), Raw::Unknown(_)));
        assert_eq!(
            call(
                "element",
                &[Raw::List(vec![s("a"), s("b")]), Raw::Number(3.into())],
                None
            ),
            s("b")
        );
        assert_eq!(
            arith(BinOp::Add, &Raw::Number(1.into()), &Raw::Number(2.into())),
            Raw::Number(3.into())
        );
    }
}
