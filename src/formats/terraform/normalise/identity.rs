//! `Aws::IamPolicy`, `Aws::IamRole`, `Aws::IamUser` and `Aws::IamGroup` from Terraform: policy
//! documents from JSON strings, `jsonencode(…)` or `data "aws_iam_policy_document"` blocks (an
//! unknown value makes only its own statement element unknown), and each principal's policies —
//! inline, attached (`aws_iam_{user,group,role}_policy_attachment`, `aws_iam_policy_attachment`,
//! `managed_policy_arns`, by ARN, by reference or through `data "aws_iam_policy"`), its groups
//! and its permissions boundary — evaluated together ([`crate::iam::principals`]).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::super::raw::{
    Field, Raw, RawResource, blocks, field, literal_of, ref_target, strings_of,
};
use super::{Module, as_whole_ref};
use crate::iam::document::{self, Document, Node, Origin, View};
use crate::iam::eval::{Compiled, compile_on};
use crate::iam::managed;
use crate::iam::people::PERSON_TAG;
use crate::iam::principals::{self, Kind, Principal};
use crate::model::{Resource, Value};

/// A value tree built from Terraform values, for the document reader.
#[derive(Debug, Clone)]
enum Tree {
    Null,
    Text(String),
    List(Vec<Tree>),
    Map(Vec<(String, Tree)>),
    Unknown(String),
}

impl Node for Tree {
    fn view(&self) -> View<'_, Self> {
        match self {
            Tree::Null => View::Null,
            Tree::Text(s) => View::Text(Cow::Borrowed(s)),
            Tree::List(items) => View::List(items.iter().collect()),
            Tree::Map(m) => View::Map(m.iter().map(|(k, v)| (k.as_str(), v)).collect()),
            Tree::Unknown(why) => View::Unknown(why),
        }
    }
}

impl Tree {
    /// A Terraform value as a tree: a reference stays as its `${…}` text (one value vouch does
    /// not know, never a wildcard).
    fn of(r: &Raw) -> Tree {
        match r {
            Raw::Null => Tree::Null,
            Raw::Bool(b) => Tree::Text(b.to_string()),
            Raw::Number(n) => Tree::Text(n.to_string()),
            Raw::String(s) => Tree::Text(s.clone()),
            Raw::Ref(s) => Tree::Text(format!("${{{s}}}")),
            Raw::List(items) => Tree::List(items.iter().map(Tree::of).collect()),
            Raw::Map(m) => Tree::Map(m.iter().map(|(k, v)| (k.clone(), Tree::of(v))).collect()),
            Raw::Unknown(why) => Tree::Unknown(why.clone()),
        }
    }

    /// A JSON document as a tree (every value known).
    fn of_json(j: &serde_json::Value) -> Tree {
        use serde_json::Value as J;
        match j {
            J::Null => Tree::Null,
            J::Bool(b) => Tree::Text(b.to_string()),
            J::Number(n) => Tree::Text(n.to_string()),
            J::String(s) => Tree::Text(s.clone()),
            J::Array(items) => Tree::List(items.iter().map(Tree::of_json).collect()),
            J::Object(o) => Tree::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Tree::of_json(v)))
                    .collect(),
            ),
        }
    }

    fn field(f: Field<'_>) -> Option<Tree> {
        match f {
            Field::Absent => None,
            Field::Unknown(why) => Some(Tree::Unknown(why.to_owned())),
            Field::Known(r) => Some(Tree::of(r)),
        }
    }
}

/// The policy document an attribute holds: `None` when absent; an unknown document when it
/// cannot be read at all; `Err` when it is not a valid policy.
pub fn read_document(
    m: &Module<'_>,
    f: Field<'_>,
    origin: &Origin,
) -> Option<Result<Document, String>> {
    let reference = match f {
        Field::Absent => return None,
        Field::Unknown(why) => return Some(Ok(Document::unknown(origin.clone(), why))),
        Field::Known(Raw::Ref(r)) => r.as_str(),
        Field::Known(Raw::String(s)) => match as_whole_ref(s) {
            Some(r) => r,
            None => {
                return Some(
                    serde_json::from_str::<serde_json::Value>(s)
                        .map_err(|_| "the policy is not valid JSON".to_owned())
                        .and_then(|j| document::read(&j, origin, &[])),
                );
            }
        },
        Field::Known(Raw::Map(_)) => {
            let tree = Tree::field(f)?;
            return Some(document::read(&tree, origin, &[]));
        }
        Field::Known(_) => return Some(Err("the policy is not a JSON string".to_owned())),
    };
    if let Some(json) = managed_copy(m, reference) {
        return Some(document::read(&json, origin, &[]));
    }
    let data = ref_target(reference)
        .filter(|t| t.contains("data.aws_iam_policy_document."))
        .and_then(|t| m.get(&t));
    Some(match data {
        Some(d) => Ok(policy_document(m, &d.attrs, origin)),
        None => Ok(Document::unknown(
            origin.clone(),
            format!("the policy comes from `{reference}`"),
        )),
    })
}

/// The document behind `data.aws_iam_policy.X.policy` when `X` names an AWS managed policy vouch
/// knows (by `arn`, whose partition may be interpolated, or by `name`).
fn managed_copy(m: &Module<'_>, reference: &str) -> Option<serde_json::Value> {
    let bare = reference.trim_start_matches("${").trim_end_matches('}');
    if !bare.ends_with(".policy") {
        return None;
    }
    let t = m.get(&ref_target(reference)?)?;
    if t.rtype != "aws_iam_policy" || !t.data {
        return None;
    }
    let by_arn = literal_of(field(&t.attrs, &["arn"])).ok().flatten();
    let by_name = literal_of(field(&t.attrs, &["name"])).ok().flatten();
    by_arn
        .as_deref()
        .and_then(managed::document_by_arn)
        .or_else(|| by_name.as_deref().and_then(managed::document_by_name))
}

/// The policy document an attribute holds as JSON, for readers that need the JSON itself (bucket
/// policies): `Ok(None)` when absent, `Err(reason)` when some part of it is not known.
pub fn document(m: &Module<'_>, f: Field<'_>) -> Result<Option<serde_json::Value>, String> {
    let reference = match f {
        Field::Absent => return Ok(None),
        Field::Unknown(why) => return Err(why.to_owned()),
        Field::Known(Raw::Ref(r)) => r.as_str(),
        Field::Known(Raw::String(s)) => match as_whole_ref(s) {
            Some(r) => r,
            None => {
                return serde_json::from_str(s)
                    .map(Some)
                    .map_err(|_| "the policy is not valid JSON".to_owned());
            }
        },
        // `jsonencode(…)` of a document with unknown parts.
        Field::Known(r @ (Raw::Map(_) | Raw::List(_))) => return Tree::of(r).to_json().map(Some),
        Field::Known(_) => return Err("the policy is not a JSON string".to_owned()),
    };
    if let Some(json) = managed_copy(m, reference) {
        return Ok(Some(json));
    }
    let data = ref_target(reference)
        .filter(|t| t.contains("data.aws_iam_policy_document."))
        .and_then(|t| m.get(&t));
    match data {
        Some(d) => {
            if let Some(Raw::String(s)) = d.attrs.get("json") {
                return serde_json::from_str(s)
                    .map(Some)
                    .map_err(|_| "the policy is not valid JSON".to_owned());
            }
            policy_tree(m, &d.attrs, 0)
                .and_then(|t| t.to_json())
                .map(Some)
        }
        None => Err(format!("the policy comes from `{reference}`")),
    }
}

impl Tree {
    /// The JSON of a tree without unknown parts.
    fn to_json(&self) -> Result<serde_json::Value, String> {
        use serde_json::Value as J;
        Ok(match self {
            Tree::Null => J::Null,
            Tree::Text(s) => J::String(s.clone()),
            Tree::List(items) => {
                J::Array(items.iter().map(Tree::to_json).collect::<Result<_, _>>()?)
            }
            Tree::Map(m) => {
                let mut o = serde_json::Map::new();
                for (k, v) in m {
                    o.insert(k.clone(), v.to_json()?);
                }
                J::Object(o)
            }
            Tree::Unknown(why) => return Err(why.clone()),
        })
    }
}

/// A `data "aws_iam_policy_document"`: its `json` when a plan knows it, else its blocks.
fn policy_document(m: &Module<'_>, a: &BTreeMap<String, Raw>, origin: &Origin) -> Document {
    if let Some(Raw::String(s)) = a.get("json")
        && let Ok(j) = serde_json::from_str::<serde_json::Value>(s)
        && let Ok(d) = document::read(&j, origin, &[])
    {
        return d;
    }
    match policy_tree(m, a, 0) {
        Ok(tree) => document::read(&tree, origin, &[]).unwrap_or_else(|why| {
            Document::unknown(
                origin.clone(),
                format!("the policy document is not valid: {why}"),
            )
        }),
        Err(why) => Document::unknown(origin.clone(), why),
    }
}

/// How deep `source_policy_documents` may refer to documents that merge others in turn.
const MAX_MERGE_DEPTH: usize = 8;

/// The document tree of a `data "aws_iam_policy_document"` as the AWS provider builds it: the
/// statements of `source_policy_documents` (or `source_json`), then its own `statement` blocks,
/// then `override_policy_documents` (or `override_json`), each later statement replacing an
/// earlier one with the same non-empty `Sid`. Unknown values stay in their element; `Err` when
/// the statement list itself cannot be known.
fn policy_tree(m: &Module<'_>, a: &BTreeMap<String, Raw>, depth: usize) -> Result<Tree, String> {
    let mut merged: Vec<Tree> = Vec::new();
    for source in ["source_policy_documents", "source_json"] {
        for doc in merged_documents(m, a, source, depth)? {
            merge_statements(&mut merged, statements_of(&doc)?)?;
        }
    }
    merge_statements(&mut merged, own_statements(a)?)?;
    for over in ["override_policy_documents", "override_json"] {
        for doc in merged_documents(m, a, over, depth)? {
            merge_statements(&mut merged, statements_of(&doc)?)?;
        }
    }
    Ok(Tree::Map(vec![("Statement".into(), Tree::List(merged))]))
}

/// The documents an attribute of a policy document merges (a list of JSON strings, or one for the
/// `*_json` forms), each as a tree; empty when absent, null or an empty list.
fn merged_documents(
    m: &Module<'_>,
    a: &BTreeMap<String, Raw>,
    name: &str,
    depth: usize,
) -> Result<Vec<Tree>, String> {
    let cannot =
        |why: &str| format!("the policy document merges `{name}`, which is not known: {why}");
    let items: Vec<&Raw> = match field(a, &[name]) {
        Field::Absent | Field::Known(Raw::Null) => return Ok(Vec::new()),
        Field::Unknown(why) => return Err(cannot(why)),
        Field::Known(Raw::List(items)) => items.iter().collect(),
        Field::Known(one) => vec![one],
    };
    let mut docs = Vec::new();
    for item in items {
        let reference = match item {
            Raw::Null => continue,
            Raw::Unknown(why) => return Err(cannot(why)),
            Raw::Ref(r) => r.as_str(),
            Raw::String(s) => match as_whole_ref(s) {
                Some(r) => r,
                None => {
                    let json: serde_json::Value = serde_json::from_str(s)
                        .map_err(|_| cannot("an element is not valid JSON"))?;
                    docs.push(Tree::of_json(&json));
                    continue;
                }
            },
            Raw::Map(_) => {
                docs.push(Tree::of(item));
                continue;
            }
            _ => return Err(cannot("an element is not a JSON document")),
        };
        let data = ref_target(reference)
            .filter(|t| t.contains("data.aws_iam_policy_document."))
            .and_then(|t| m.get(&t));
        match data {
            Some(d) if depth < MAX_MERGE_DEPTH => {
                if let Some(Raw::String(s)) = d.attrs.get("json")
                    && let Ok(json) = serde_json::from_str::<serde_json::Value>(s)
                {
                    docs.push(Tree::of_json(&json));
                } else {
                    docs.push(policy_tree(m, &d.attrs, depth + 1)?);
                }
            }
            Some(_) => return Err(cannot("the documents it merges nest too deep")),
            None => return Err(cannot(&format!("it comes from `{reference}`"))),
        }
    }
    Ok(docs)
}

/// The statements of a document tree (`Statement` as a list or a single object).
fn statements_of(doc: &Tree) -> Result<Vec<Tree>, String> {
    let Tree::Map(entries) = doc else {
        return Err("a merged policy document is not a JSON object".to_owned());
    };
    match entries
        .iter()
        .find(|(k, _)| k == "Statement")
        .map(|(_, v)| v)
    {
        None | Some(Tree::Null) => Ok(Vec::new()),
        Some(Tree::List(items)) => Ok(items.clone()),
        Some(one @ Tree::Map(_)) => Ok(vec![one.clone()]),
        Some(Tree::Unknown(why)) => Err(format!(
            "a merged document's statements are not known: {why}"
        )),
        Some(Tree::Text(_)) => Err("a merged document's `Statement` is not a list".to_owned()),
    }
}

/// Adds statements as the provider merges documents: one whose `Sid` (non-empty) equals an
/// earlier statement's replaces it, any other is appended. A `Sid` vouch does not know may or
/// may not replace one, so the result is not known.
fn merge_statements(into: &mut Vec<Tree>, statements: Vec<Tree>) -> Result<(), String> {
    fn sid(t: &Tree) -> Result<Option<&str>, String> {
        let Tree::Map(entries) = t else {
            return Ok(None);
        };
        match entries.iter().find(|(k, _)| k == "Sid").map(|(_, v)| v) {
            Some(Tree::Text(s)) if !s.is_empty() => Ok(Some(s)),
            Some(Tree::Unknown(why)) => Err(format!(
                "a statement's `Sid` is not known, so which statements it replaces is not: {why}"
            )),
            _ => Ok(None),
        }
    }
    for st in statements {
        let replaced = match sid(&st)? {
            Some(id) => {
                let mut at = None;
                for (i, old) in into.iter().enumerate() {
                    if sid(old)? == Some(id) {
                        at = Some(i);
                    }
                }
                at
            }
            None => None,
        };
        match replaced {
            Some(i) => into[i] = st,
            None => into.push(st),
        }
    }
    Ok(())
}

/// The statements of a policy document's own `statement` blocks.
fn own_statements(a: &BTreeMap<String, Raw>) -> Result<Vec<Tree>, String> {
    let statements = blocks(a, "statement")?;
    let mut list = Vec::new();
    for s in statements {
        let mut st: Vec<(String, Tree)> = Vec::new();
        if let Some(t) = Tree::field(field(s, &["sid"])) {
            st.push(("Sid".into(), t));
        }
        st.push((
            "Effect".into(),
            Tree::field(field(s, &["effect"])).unwrap_or_else(|| Tree::Text("Allow".into())),
        ));
        for (tf, key) in [
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("resources", "Resource"),
            ("not_resources", "NotResource"),
        ] {
            if let Some(t) = Tree::field(field(s, &[tf])) {
                st.push((key.into(), t));
            }
        }
        for (tf, key) in [
            ("principals", "Principal"),
            ("not_principals", "NotPrincipal"),
        ] {
            let p = match blocks(s, tf) {
                Ok(p) if p.is_empty() => continue,
                Ok(p) => p,
                Err(why) => {
                    st.push((key.into(), Tree::Unknown(why)));
                    continue;
                }
            };
            let mut by_kind: BTreeMap<String, Vec<Tree>> = BTreeMap::new();
            let mut unknown = None;
            for b in p {
                match literal_of(field(b, &["type"])) {
                    Ok(Some(kind)) => {
                        let ids = by_kind.entry(kind).or_default();
                        match Tree::field(field(b, &["identifiers"])) {
                            Some(Tree::List(items)) => ids.extend(items),
                            Some(t) => ids.push(t),
                            None => {}
                        }
                    }
                    Ok(None) => {}
                    Err(why) => unknown = Some(why),
                }
            }
            let value = if let Some(why) = unknown {
                Tree::Unknown(format!("a principal type is not known: {why}"))
            } else if by_kind.contains_key("*") {
                Tree::Text("*".into())
            } else {
                Tree::Map(
                    by_kind
                        .into_iter()
                        .map(|(k, v)| (k, Tree::List(v)))
                        .collect(),
                )
            };
            st.push((key.into(), value));
        }
        match blocks(s, "condition") {
            Ok(c) if c.is_empty() => {}
            Ok(c) => {
                let mut ops: BTreeMap<String, Vec<(String, Tree)>> = BTreeMap::new();
                let mut unknown = None;
                for b in c {
                    match (
                        literal_of(field(b, &["test"])),
                        literal_of(field(b, &["variable"])),
                    ) {
                        (Ok(Some(test)), Ok(Some(var))) => {
                            let values = Tree::field(field(b, &["values"]))
                                .unwrap_or(Tree::List(Vec::new()));
                            ops.entry(test).or_default().push((var, values));
                        }
                        (Err(why), _) | (_, Err(why)) => unknown = Some(why),
                        _ => {}
                    }
                }
                let tree = match unknown {
                    Some(why) => Tree::Unknown(format!(
                        "a condition's test or variable is not known: {why}"
                    )),
                    None => Tree::Map(ops.into_iter().map(|(k, v)| (k, Tree::Map(v))).collect()),
                };
                st.push(("Condition".into(), tree));
            }
            Err(why) => st.push(("Condition".into(), Tree::Unknown(why))),
        }
        list.push(Tree::Map(st));
    }
    Ok(list)
}

fn origin(r: &RawResource) -> Origin {
    Origin {
        policy: r.address.clone(),
        file: r.span.file.clone(),
        line: r.span.line,
    }
}

/// Compiled documents of the module's policy resources, by address (each compiled once).
#[derive(Default)]
struct Docs<'a> {
    compiled: RefCell<HashMap<String, Arc<Compiled>>>,
    _m: std::marker::PhantomData<&'a ()>,
}

impl Docs<'_> {
    /// The compiled `policy` document of a policy resource (or the reason it is unusable).
    fn of(&self, m: &Module<'_>, r: &RawResource) -> Arc<Compiled> {
        if let Some(c) = self.compiled.borrow().get(&r.address) {
            return c.clone();
        }
        let o = origin(r);
        let doc = match read_document(m, field(&r.attrs, &["policy"]), &o) {
            Some(Ok(d)) => d,
            Some(Err(why)) => Document::unknown(o, format!("the policy is not valid: {why}")),
            None => Document::unknown(o, "the policy is not set"),
        };
        let c = Arc::new(compile_on(&r.address, &doc, m.as_of_days));
        self.compiled
            .borrow_mut()
            .insert(r.address.clone(), c.clone());
        c
    }
}

/// Sets the facts of a policy document resource.
fn set_facts(m: &Module<'_>, f: Field<'_>, o: &Origin, out: &mut Resource) {
    match read_document(m, f, o) {
        Some(Ok(doc)) => {
            let c = Arc::new(compile_on(&o.policy, &doc, m.as_of_days));
            principals::policy_facts(out, &doc, &c);
        }
        Some(Err(why)) => {
            principals::unknown_policy_facts(out, &format!("the policy is not valid: {why}"))
        }
        None => principals::unknown_policy_facts(out, "the policy is not set"),
    }
}

/// Normalises `aws_iam_policy` and the inline role, user and group policies.
pub fn policy(m: &Module<'_>, r: &RawResource) -> Resource {
    let mut out = Resource::new("Aws::IamPolicy", r.address.clone(), r.span.clone());
    set_facts(m, field(&r.attrs, &["policy"]), &origin(r), &mut out);
    let attached = match r.rtype.as_str() {
        "aws_iam_user_policy" => Value::Bool(true),
        "aws_iam_policy" => {
            let direct = !m
                .referrers("aws_iam_user_policy_attachment", "policy_arn", r, &["arn"])
                .is_empty();
            let mut v = Value::Bool(direct);
            for att in m.referrers("aws_iam_policy_attachment", "policy_arn", r, &["arn"]) {
                v = super::either(
                    v,
                    match strings_of(field(&att.attrs, &["users"])) {
                        Ok(users) => Value::Bool(!users.is_empty()),
                        // Fail closed: an unknown user list may name a user.
                        Err(_) => Value::Bool(true),
                    },
                );
            }
            v
        }
        _ => Value::Bool(false),
    };
    out.set("attached_to_user", attached);
    out
}

/// The policy an ARN (or a reference) attaches.
fn attached(m: &Module<'_>, docs: &Docs<'_>, arn: &str) -> Arc<Compiled> {
    if let Some(reference) = as_whole_ref(arn).or_else(|| (!arn.starts_with("arn:")).then_some(arn))
    {
        let target = ref_target(reference).unwrap_or_default();
        if let Some(t) = m.get(&target) {
            if t.rtype == "aws_iam_policy" && !t.data {
                return docs.of(m, t);
            }
            if t.rtype == "aws_iam_policy" && t.data {
                let by_arn = literal_of(field(&t.attrs, &["arn"])).ok().flatten();
                let by_name = literal_of(field(&t.attrs, &["name"])).ok().flatten();
                let found = by_arn
                    .as_deref()
                    .and_then(managed::by_arn)
                    .or_else(|| by_name.as_deref().and_then(managed::by_name));
                return found.unwrap_or_else(|| {
                    principals::unknown_policy(
                        &target,
                        &format!(
                            "`{target}` ({}) is not an AWS managed policy vouch knows, nor declared here",
                            by_arn.or(by_name).unwrap_or_else(|| "no literal arn or name".into())
                        ),
                    )
                });
            }
        }
        return principals::unknown_policy(
            reference,
            &format!("the policy comes from `{reference}`"),
        );
    }
    if managed::managed_path(arn).is_some() {
        return managed::by_arn(arn).unwrap_or_else(|| {
            principals::unknown_policy(
                managed::managed_name(arn).unwrap_or(arn),
                &format!("AWS managed policy `{arn}` is not in vouch's table: add its document to the scanned tree (docs/iam.md)"),
            )
        });
    }
    // A customer managed policy by ARN: one declared here with that name.
    let name = arn.rsplit('/').next().unwrap_or(arn);
    for p in m.of_type("aws_iam_policy") {
        if literal_of(field(&p.attrs, &["name"]))
            .ok()
            .flatten()
            .as_deref()
            == Some(name)
        {
            return docs.of(m, p);
        }
    }
    principals::unknown_policy(
        arn,
        &format!("policy `{arn}` is not declared in the scanned files"),
    )
}

/// Policy ARNs attached to a principal by attachment resources and a list attribute.
fn attachments(
    m: &Module<'_>,
    docs: &Docs<'_>,
    r: &RawResource,
    single: &str,
    attr: &str,
    group_attr: &str,
) -> (Vec<Arc<Compiled>>, Vec<String>) {
    let names = &["name", "id"];
    let mut out = Vec::new();
    let mut labels = Vec::new();
    let atts = m
        .referrers(single, attr, r, names)
        .into_iter()
        .chain(m.referrers("aws_iam_policy_attachment", group_attr, r, names));
    for att in atts {
        match strings_of(field(&att.attrs, &["policy_arn"])) {
            Ok(arns) => {
                for arn in arns {
                    labels.push(policy_label(&arn));
                    out.push(attached(m, docs, &arn));
                }
            }
            Err(why) => out.push(principals::unknown_policy(
                &att.address,
                &format!("the `policy_arn` of `{}` is not known: {why}", att.address),
            )),
        }
    }
    (out, labels)
}

/// How a policy ARN reads in `direct_policies`: the AWS managed name, the Terraform address of
/// a policy declared here, or the ARN.
fn policy_label(arn: &str) -> String {
    if let Some(name) = managed::managed_name(arn) {
        return name.to_owned();
    }
    let reference = as_whole_ref(arn).unwrap_or(arn);
    match ref_target(reference) {
        Some(t) if !arn.starts_with("arn:") => t,
        _ => arn.to_owned(),
    }
}

/// The permissions boundary of a principal.
fn boundary(
    m: &Module<'_>,
    docs: &Docs<'_>,
    r: &RawResource,
) -> Option<Result<Arc<Compiled>, String>> {
    match field(&r.attrs, &["permissions_boundary"]) {
        Field::Absent => None,
        Field::Unknown(why) => Some(Err(format!("the permissions boundary is not known: {why}"))),
        Field::Known(v) => v.as_text().map(|arn| Ok(attached(m, docs, &arn))),
    }
}

/// The `vouch:person` tag, when set.
fn person_tag(r: &RawResource, out: &mut Resource) {
    if let Some(Raw::Map(tags)) = r.attrs.get("tags")
        && let Some(Raw::String(p)) = tags.get(PERSON_TAG)
    {
        out.set("person", Value::str(p.clone()));
    }
    if let Ok(Some(n)) = literal_of(field(&r.attrs, &["name"])) {
        out.set("name", Value::str(n));
    }
}

/// Every IAM principal of the module (roles with their `inline_policy` blocks as policies,
/// users, groups), evaluated together.
pub fn principals(m: &Module<'_>) -> Vec<Resource> {
    let docs = Docs::default();
    let mut extra = Vec::new();
    let mut list = Vec::new();
    let names = &["name", "id"];
    for r in m.of_type("aws_iam_group") {
        let mut p = Principal::new(
            Kind::Group,
            Resource::new("Aws::IamGroup", r.address.clone(), r.span.clone()),
        );
        p.resource.presence.clone_from(&r.presence);
        p.keys = principal_keys(r, "group");
        p.policies = m
            .referrers("aws_iam_group_policy", "group", r, names)
            .iter()
            .map(|ip| docs.of(m, ip))
            .collect();
        p.policies.extend(
            attachments(
                m,
                &docs,
                r,
                "aws_iam_group_policy_attachment",
                "group",
                "groups",
            )
            .0,
        );
        list.push(p);
    }
    for r in m.of_type("aws_iam_user") {
        list.push(user(m, &docs, r));
    }
    for r in m.of_type("aws_iam_role") {
        let (p, inline) = role(m, &docs, r);
        list.push(p);
        extra.extend(inline);
    }
    let mut out = principals::resources(list);
    out.extend(extra);
    out
}

fn role(m: &Module<'_>, docs: &Docs<'_>, r: &RawResource) -> (Principal, Vec<Resource>) {
    let a = &r.attrs;
    let mut res = Resource::new("Aws::IamRole", r.address.clone(), r.span.clone());
    res.presence.clone_from(&r.presence);
    person_tag(r, &mut res);
    let mut p = Principal::new(
        Kind::Role,
        Resource::new("Aws::IamRole", String::new(), r.span.clone()),
    );
    let o = Origin {
        policy: format!("{} trust policy", r.address),
        ..origin(r)
    };
    p.trust = Some(
        match read_document(m, field(a, &["assume_role_policy"]), &o) {
            Some(Ok(d)) => d.without_ended_allows(m.as_of_days),
            Some(Err(why)) => Document::unknown(o, format!("the trust policy is not valid: {why}")),
            None => Document::default(),
        },
    );
    let names = &["name", "id"];
    p.policies = m
        .referrers("aws_iam_role_policy", "role", r, names)
        .iter()
        .map(|ip| docs.of(m, ip))
        .collect();
    let (attached_policies, mut labels) = attachments(
        m,
        docs,
        r,
        "aws_iam_role_policy_attachment",
        "role",
        "roles",
    );
    p.policies.extend(attached_policies);
    match strings_of(field(a, &["managed_policy_arns"])) {
        Ok(arns) => {
            for arn in arns {
                labels.push(policy_label(&arn));
                p.policies.push(attached(m, docs, &arn));
            }
        }
        Err(why) => p.policies.push(principals::unknown_policy(
            "managed_policy_arns",
            &format!(
                "the `managed_policy_arns` of `{}` are not known: {why}",
                r.address
            ),
        )),
    }
    // Which AWS managed policies are attached (by name), for the `managed_policies` attribute.
    let managed_names = labels
        .iter()
        .filter(|l| !l.contains('.') && !l.starts_with("arn:"))
        .cloned();
    res.set("managed_policies", Value::string_set(managed_names));
    p.boundary = boundary(m, docs, r);
    let mut inline = Vec::new();
    match blocks(a, "inline_policy") {
        Ok(list) => {
            for (i, b) in list.into_iter().enumerate() {
                let name = literal_of(field(b, &["name"]))
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| i.to_string());
                let address = format!("{}.inline_policy[{name:?}]", r.address);
                let o = Origin {
                    policy: address.clone(),
                    ..origin(r)
                };
                let mut pr = Resource::new("Aws::IamPolicy", address.clone(), r.span.clone());
                pr.presence.clone_from(&r.presence);
                set_facts(m, field(b, &["policy"]), &o, &mut pr);
                pr.set("attached_to_user", Value::Bool(false));
                inline.push(pr);
                let doc = match read_document(m, field(b, &["policy"]), &o) {
                    Some(Ok(d)) => d,
                    Some(Err(why)) => Document::unknown(o, why),
                    None => continue,
                };
                p.policies
                    .push(Arc::new(compile_on(&address, &doc, m.as_of_days)));
            }
        }
        Err(why) => p.policies.push(principals::unknown_policy(
            "inline_policy",
            &format!(
                "the inline policies of `{}` are not known: {why}",
                r.address
            ),
        )),
    }
    p.resource = res;
    p.keys = principal_keys(r, "role");
    (p, inline)
}

fn user(m: &Module<'_>, docs: &Docs<'_>, r: &RawResource) -> Principal {
    let mut out = Resource::new("Aws::IamUser", r.address.clone(), r.span.clone());
    out.presence.clone_from(&r.presence);
    person_tag(r, &mut out);
    let names = &["name", "id"];
    out.set("root", Value::Bool(false));
    let keys: Vec<&RawResource> = m
        .referrers("aws_iam_access_key", "user", r, names)
        .into_iter()
        .filter(|k| {
            literal_of(field(&k.attrs, &["status"]))
                .ok()
                .flatten()
                .as_deref()
                != Some("Inactive")
        })
        .collect();
    let has_key = !keys.is_empty();
    out.set("has_access_key", Value::Bool(has_key));
    if has_key {
        out.set(
            "access_key_age_days",
            Value::unknown("a key's age is known only once it exists"),
        );
    }
    let console = !m
        .referrers("aws_iam_user_login_profile", "user", r, names)
        .is_empty();
    out.set("console_access", Value::Bool(console));
    out.set("mfa", Value::Bool(false));

    let mut p = Principal::new(
        Kind::User,
        Resource::new("Aws::IamUser", String::new(), r.span.clone()),
    );
    let inline = m.referrers("aws_iam_user_policy", "user", r, names);
    let mut labels: Vec<String> = inline.iter().map(|p| p.address.clone()).collect();
    p.policies = inline.iter().map(|ip| docs.of(m, ip)).collect();
    let (attached_policies, more) = attachments(
        m,
        docs,
        r,
        "aws_iam_user_policy_attachment",
        "user",
        "users",
    );
    p.policies.extend(attached_policies);
    labels.extend(more);
    let unknown_attachment = p
        .policies
        .iter()
        .find_map(|c| c.unknown.clone().filter(|u| u.contains("`policy_arn`")));
    out.set(
        "direct_policies",
        match unknown_attachment {
            Some(why) => Value::unknown(why),
            None => Value::string_set(labels),
        },
    );
    p.boundary = boundary(m, docs, r);
    p.groups = groups_of(m, r);
    p.resource = out;
    p.keys = principal_keys(r, "user");
    p
}

/// How trust policies and memberships name a principal: its address, and `kind:name` for an ARN
/// naming it (the account of a Terraform principal is not known).
fn principal_keys(r: &RawResource, kind: &str) -> Vec<String> {
    let mut k = vec![r.address.clone()];
    if let Ok(Some(name)) = literal_of(field(&r.attrs, &["name"])) {
        k.push(format!("{kind}:{name}"));
    }
    k
}

/// The groups a user is in: `aws_iam_user_group_membership` and `aws_iam_group_membership`.
fn groups_of(m: &Module<'_>, r: &RawResource) -> Result<Vec<String>, String> {
    let names = &["name", "id"];
    let mut out = Vec::new();
    let group_key = |g: &str| -> String {
        if let Some(t) = as_whole_ref(g).and_then(ref_target).or_else(|| {
            (!g.contains(' ') && g.starts_with("aws_iam_group."))
                .then(|| ref_target(g))
                .flatten()
        }) {
            return t;
        }
        for grp in m.of_type("aws_iam_group") {
            if literal_of(field(&grp.attrs, &["name"]))
                .ok()
                .flatten()
                .as_deref()
                == Some(g)
            {
                return grp.address.clone();
            }
        }
        format!("group:{g}")
    };
    for mem in m.referrers("aws_iam_user_group_membership", "user", r, names) {
        for g in strings_of(field(&mem.attrs, &["groups"]))
            .map_err(|why| format!("the groups of `{}` are not known: {why}", mem.address))?
        {
            out.push(group_key(&g));
        }
    }
    for mem in m.referrers("aws_iam_group_membership", "users", r, names) {
        match literal_of(field(&mem.attrs, &["group"])) {
            Ok(Some(g)) => out.push(group_key(&g)),
            Ok(None) => {}
            Err(_) => match mem.attrs.get("group") {
                Some(Raw::Ref(g)) => out.push(ref_target(g).unwrap_or_else(|| g.clone())),
                _ => return Err(format!("the group of `{}` is not known", mem.address)),
            },
        }
    }
    Ok(out)
}
