//! The Terraform evaluator: a root configuration expanded the way `terraform plan` expands it,
//! as far as static files allow.
//!
//! Starting from a root directory, module calls are expanded into module instances (with
//! `count`/`for_each` on the call), every `resource` and `data` block into its instances
//! (`aws_s3_bucket.this[0]`, `module.a["x"].aws_s3_bucket.b`), and every expression is
//! evaluated: variables (call arguments, `.tfvars`, `--var`, defaults), locals, module outputs,
//! references to other resources, `count.index`, `each.key`/`each.value`, `for` expressions,
//! templates, `dynamic` blocks and the common functions.
//!
//! What a static reader cannot know stays [`Raw::Unknown`] with the reason, scoped to the value
//! it belongs to: one unknown list element does not make its neighbours unknown. A reference to
//! a resource's attribute that its configuration sets evaluates to that value; one it does not
//! set (an `id`, an `arn`) is a [`Raw::Ref`] naming the instance, so split resources join to
//! their parent through any form of reference. Evaluation is lazy and memoised per module
//! instance; a reference cycle evaluates to unknown instead of looping.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use super::config::{Call, Config, Decl, ModuleDir, Source};
use super::expr::{BinOp, Expr, ForExpr, Op, Part};
use super::functions;
use super::raw::{Raw, RawResource};
use super::{Body, TfFile};
use crate::error::Problem;

/// Most instances one `count`/`for_each` may create (hostile input must not exhaust memory).
pub const MAX_INSTANCES: usize = 100_000;
/// Deepest module nesting followed (a module calling itself stops here).
const MAX_MODULE_DEPTH: usize = 24;
/// Deepest evaluation recursion (reference chains); deeper is unknown.
const MAX_EVAL_DEPTH: u32 = 200;

/// Values set from outside the configuration, for a root: `--var-file` files and `--var`.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Parsed `--var-file` (and `[terraform] var_files`) files, in order (a later one wins).
    pub var_files: Vec<std::sync::Arc<TfFile>>,
    /// `--var NAME=VALUE`, in order (they win over every file).
    pub vars: Vec<(String, String)>,
}

/// A module call that was not expanded, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct NotExpanded {
    /// The call's address in its root (`module.vpc`, `module.a.module.b`).
    pub call: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub root: String,
    pub source: String,
    pub reason: String,
    pub file: String,
    pub line: u32,
}

/// What evaluating one root produced.
#[derive(Debug, Default)]
pub struct RootOutput {
    pub resources: Vec<RawResource>,
    /// Module instances expanded (a call with `for_each` over three keys counts three).
    pub modules_expanded: usize,
    pub not_expanded: Vec<NotExpanded>,
    pub problems: Vec<Problem>,
}

/// The instance key of a resource or module instance.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    None,
    Int(i64),
    Str(String),
}

impl Key {
    fn suffix(&self) -> String {
        match self {
            Key::None => String::new(),
            Key::Int(i) => format!("[{i}]"),
            Key::Str(s) => format!("[{}]", quote(s)),
        }
    }
}

/// A Terraform-style quoted key (`"logs"`).
fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// What `count.index`, `each.key` and `each.value` are in a block.
#[derive(Debug, Clone)]
enum Binding {
    None,
    Count(i64),
    Each(Raw, Raw),
    /// The block's `count`/`for_each` is not known.
    Unknown(String),
}

/// How a block or call expands.
#[derive(Debug, Clone)]
enum Expansion {
    /// Instances with their keys and bindings.
    Known(Vec<(Key, Binding)>),
    /// `count`/`for_each` is not known: one representative instance, which may not exist.
    Unknown(String),
}

/// An object a [`Raw::Ref`] can name, so that `.attr` on it can be resolved.
#[derive(Debug, Clone)]
enum Obj {
    Resource {
        inst: usize,
        decl: usize,
        binding: Rc<Binding>,
        /// A representative of instances whose keys are not known: indexing it gives itself.
        representative: bool,
    },
    Module {
        inst: usize,
        representative: bool,
    },
}

/// One module instance.
#[derive(Debug)]
struct Instance {
    dir: String,
    /// `""` for the root, else `module.a["x"].` (with the trailing dot).
    prefix: String,
    /// The dotted call path (`a.b`) that keys `.terraform/modules/modules.json`.
    key_path: String,
    depth: usize,
    /// The caller: (instance, call index, binding of the call).
    caller: Option<(usize, usize, Rc<Binding>)>,
    /// Why this instance may not exist (an unknown `count`/`for_each` on a call above it).
    presence: Option<String>,
    vars: RefCell<HashMap<String, Raw>>,
    locals: RefCell<HashMap<String, Raw>>,
    outputs: RefCell<HashMap<String, Raw>>,
    expansions: RefCell<HashMap<usize, Rc<Expansion>>>,
    /// Call index → expanded child instances (or why not).
    children: RefCell<HashMap<usize, Rc<Children>>>,
}

#[derive(Debug)]
enum Children {
    Known(Vec<(Key, usize)>),
    /// The call's `count`/`for_each` is not known: one representative instance.
    Unknown(usize),
    NotExpanded(String),
}

/// The evaluator of one root.
pub struct Evaluator<'c, 'a> {
    config: &'c Config<'a>,
    root: &'a str,
    root_values: HashMap<String, Result<Raw, String>>,
    instances: RefCell<Vec<Rc<Instance>>>,
    objects: RefCell<HashMap<String, Obj>>,
    attr_cache: RefCell<HashMap<String, Raw>>,
    active: RefCell<HashSet<String>>,
    problems: RefCell<Vec<Problem>>,
}

impl<'c, 'a> Evaluator<'c, 'a> {
    /// An evaluator for `root`, with the root's variable values from its `.tfvars` and
    /// `overrides`.
    pub fn new(config: &'c Config<'a>, root: &'a str, overrides: &Overrides) -> Self {
        let mut ev = Evaluator {
            config,
            root,
            root_values: HashMap::new(),
            instances: RefCell::new(Vec::new()),
            objects: RefCell::new(HashMap::new()),
            attr_cache: RefCell::new(HashMap::new()),
            active: RefCell::new(HashSet::new()),
            problems: RefCell::new(Vec::new()),
        };
        ev.root_values = ev.root_variable_values(overrides);
        ev.instances.borrow_mut().push(Rc::new(Instance {
            dir: root.to_owned(),
            prefix: String::new(),
            key_path: String::new(),
            depth: 0,
            caller: None,
            presence: None,
            vars: RefCell::default(),
            locals: RefCell::default(),
            outputs: RefCell::default(),
            expansions: RefCell::default(),
            children: RefCell::default(),
        }));
        ev
    }

    /// Values files as Terraform loads them: `terraform.tfvars`, then `*.auto.tfvars` in name
    /// order, then `--var-file`s, then `--var`s (a later one wins). Another `.tfvars` in the
    /// directory applies only when passed with `-var-file`: what it sets is unknown.
    fn root_variable_values(&self, overrides: &Overrides) -> HashMap<String, Result<Raw, String>> {
        let mut out = HashMap::new();
        let Some(m) = self.config.dirs.get(self.root) else {
            return out;
        };
        let named: Vec<&str> = overrides
            .var_files
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>();
        let mut files: Vec<&&TfFile> = m.tfvars.iter().collect();
        files.sort_by_key(|f| {
            (
                !f.is_auto_tfvars(),
                f.name() != "terraform.tfvars",
                f.name(),
            )
        });
        let empty = Scope::empty();
        for f in files {
            let passed = named.contains(&f.name());
            for (name, value) in &f.assignments {
                let v = if f.is_auto_tfvars() {
                    Ok(self.eval(&empty, value))
                } else if passed {
                    continue;
                } else {
                    Err(format!(
                        "`var.{name}` is set in `{}`, which applies only when passed with \
                         -var-file (pass it with --var-file to use it)",
                        f.path
                    ))
                };
                out.insert(name.clone(), v);
            }
        }
        for f in &overrides.var_files {
            for (name, value) in &f.assignments {
                out.insert(name.clone(), Ok(self.eval(&empty, value)));
            }
        }
        for (name, text) in &overrides.vars {
            // `--var x=VALUE`: HCL when it parses (numbers, lists, maps), else the string.
            let v = match hcl_edit::parser::parse_expr(text) {
                Ok(e) => match self.eval(&empty, &Expr::from_hcl(&e)) {
                    Raw::Unknown(_) => Raw::String(text.clone()),
                    v => v,
                },
                Err(_) => Raw::String(text.clone()),
            };
            out.insert(name.clone(), Ok(v));
        }
        out
    }

    /// Evaluates the whole root: every resource and data instance of every module instance.
    pub fn run(self) -> RootOutput {
        let mut out = RootOutput::default();
        self.collect(0, &mut out);
        out.problems.extend(self.problems.take());
        out.not_expanded.sort();
        out.not_expanded.dedup();
        out
    }

    fn inst(&self, id: usize) -> Rc<Instance> {
        // Instances are only ever appended; every id handed out indexes the arena.
        self.instances.borrow()[id].clone()
    }

    fn dir(&self, inst: &Instance) -> Option<&'c ModuleDir<'a>> {
        self.config.dirs.get(inst.dir.as_str())
    }

    fn collect(&self, id: usize, out: &mut RootOutput) {
        let inst = self.inst(id);
        let Some(m) = self.dir(&inst) else {
            return;
        };
        for (di, d) in m.decls.iter().enumerate() {
            let expansion = self.expansion(id, di);
            let (keys, presence): (Vec<(Key, Binding)>, Option<String>) = match &*expansion {
                Expansion::Known(keys) => (keys.clone(), inst.presence.clone()),
                Expansion::Unknown(why) => (
                    vec![(Key::None, Binding::Unknown(why.clone()))],
                    Some(why.clone()),
                ),
            };
            for (key, binding) in keys {
                let address = format!("{}{}{}", inst.prefix, d.local_address(), key.suffix());
                let scope = Scope {
                    inst: id,
                    binding: Rc::new(binding),
                    names: Vec::new(),
                };
                let attrs = self.eval_body(&scope, d.body, 0);
                out.resources.push(RawResource {
                    rtype: d.rtype.to_owned(),
                    address,
                    data: d.data,
                    attrs,
                    refs: BTreeMap::new(),
                    span: d.span.clone(),
                    presence: presence.clone(),
                });
            }
        }
        for (ci, c) in m.calls.iter().enumerate() {
            match &*self.children(id, ci) {
                Children::Known(kids) => {
                    out.modules_expanded += kids.len();
                    for (_, kid) in kids {
                        self.collect(*kid, out);
                    }
                }
                Children::Unknown(kid) => {
                    out.modules_expanded += 1;
                    self.collect(*kid, out);
                }
                Children::NotExpanded(reason) => out.not_expanded.push(NotExpanded {
                    call: format!("{}module.{}", inst.prefix, c.name),
                    root: self.root.to_owned(),
                    source: c.source().unwrap_or("").to_owned(),
                    reason: reason.clone(),
                    file: c.span.file.clone(),
                    line: c.span.line,
                }),
            }
        }
    }

    // ---- expansion ---------------------------------------------------------------------

    fn expansion(&self, id: usize, decl: usize) -> Rc<Expansion> {
        let inst = self.inst(id);
        if let Some(e) = inst.expansions.borrow().get(&decl) {
            return e.clone();
        }
        let Some(d) = self.dir(&inst).and_then(|m| m.decls.get(decl)) else {
            return Rc::new(Expansion::Known(Vec::new()));
        };
        let guard = format!("{id}/x/{decl}");
        let e = if !self.enter(&guard) {
            Expansion::Unknown(format!(
                "the `count`/`for_each` of `{}` depends on itself",
                d.local_address()
            ))
        } else {
            let e = self.expand(id, d.body, &d.local_address(), &d.span.file, d.span.line);
            self.leave(&guard);
            e
        };
        let e = Rc::new(e);
        inst.expansions.borrow_mut().insert(decl, e.clone());
        e
    }

    /// Evaluates `count` / `for_each` of a block body into its instance keys.
    fn expand(&self, id: usize, body: &Body, what: &str, file: &str, line: u32) -> Expansion {
        let scope = Scope {
            inst: id,
            binding: Rc::new(Binding::None),
            names: Vec::new(),
        };
        let too_many = |n: usize| {
            self.problems.borrow_mut().push(
                Problem::new(
                    crate::error::ProblemKind::Parse,
                    format!(
                        "`{what}` would have {n} instances; vouch evaluates at most {MAX_INSTANCES} \
                         instances of one block"
                    ),
                )
                .in_file(file)
                .at_line(line),
            );
            Expansion::Known(Vec::new())
        };
        if let Some(c) = body.attrs.get("count") {
            return match self.eval(&scope, c) {
                Raw::Unknown(why) => Expansion::Unknown(format!("its `count` is not known: {why}")),
                Raw::Ref(r) => Expansion::Unknown(format!(
                    "its `count` comes from `{r}`, known only after apply"
                )),
                v => match super::raw::number(&v) {
                    Some(n) if n >= 0 => {
                        let n = usize::try_from(n).unwrap_or(usize::MAX);
                        if n > MAX_INSTANCES {
                            return too_many(n);
                        }
                        Expansion::Known(
                            (0..n)
                                .map(|i| {
                                    let i = i64::try_from(i).unwrap_or(i64::MAX);
                                    (Key::Int(i), Binding::Count(i))
                                })
                                .collect(),
                        )
                    }
                    _ => Expansion::Unknown("its `count` is not a whole number".to_owned()),
                },
            };
        }
        if let Some(fe) = body.attrs.get("for_each") {
            return match self.eval(&scope, fe) {
                Raw::Map(m) => {
                    if m.len() > MAX_INSTANCES {
                        return too_many(m.len());
                    }
                    Expansion::Known(
                        m.into_iter()
                            .map(|(k, v)| (Key::Str(k.clone()), Binding::Each(Raw::String(k), v)))
                            .collect(),
                    )
                }
                Raw::List(items) => {
                    if items.len() > MAX_INSTANCES {
                        return too_many(items.len());
                    }
                    let mut keys = Vec::new();
                    for item in items {
                        match item {
                            Raw::String(s) => keys.push(s),
                            Raw::Number(n) => keys.push(n.to_string()),
                            Raw::Unknown(why) => {
                                return Expansion::Unknown(format!(
                                    "an element of its `for_each` is not known: {why}"
                                ));
                            }
                            Raw::Ref(r) => {
                                return Expansion::Unknown(format!(
                                    "its `for_each` holds `{r}`, known only after apply"
                                ));
                            }
                            _ => {
                                return Expansion::Unknown(
                                    "its `for_each` set holds values that are not strings"
                                        .to_owned(),
                                );
                            }
                        }
                    }
                    keys.sort();
                    keys.dedup();
                    Expansion::Known(
                        keys.into_iter()
                            .map(|k| {
                                (
                                    Key::Str(k.clone()),
                                    Binding::Each(Raw::String(k.clone()), Raw::String(k)),
                                )
                            })
                            .collect(),
                    )
                }
                Raw::Null => Expansion::Known(Vec::new()),
                Raw::Unknown(why) => {
                    Expansion::Unknown(format!("its `for_each` is not known: {why}"))
                }
                Raw::Ref(r) => Expansion::Unknown(format!(
                    "its `for_each` comes from `{r}`, known only after apply"
                )),
                _ => Expansion::Unknown("its `for_each` is not a map or a set".to_owned()),
            };
        }
        Expansion::Known(vec![(Key::None, Binding::None)])
    }

    fn children(&self, id: usize, call: usize) -> Rc<Children> {
        let inst = self.inst(id);
        if let Some(c) = inst.children.borrow().get(&call) {
            return c.clone();
        }
        let kids = self.expand_call(&inst, id, call);
        let kids = Rc::new(kids);
        inst.children.borrow_mut().insert(call, kids.clone());
        kids
    }

    fn expand_call(&self, inst: &Instance, id: usize, ci: usize) -> Children {
        let Some(c) = self.dir(inst).and_then(|m| m.calls.get(ci)) else {
            return Children::NotExpanded("the call is not declared".to_owned());
        };
        let key_path = if inst.key_path.is_empty() {
            c.name.to_owned()
        } else {
            format!("{}.{}", inst.key_path, c.name)
        };
        let target = match self
            .config
            .resolve(self.root, &inst.dir, &key_path, c.source())
        {
            Source::Dir(d) => d,
            Source::NotExpanded(why) => return Children::NotExpanded(why),
        };
        if inst.depth + 1 > MAX_MODULE_DEPTH {
            return Children::NotExpanded(format!(
                "modules nest more than {MAX_MODULE_DEPTH} deep (a module that calls itself?)"
            ));
        }
        let guard = format!("{id}/call/{ci}");
        if !self.enter(&guard) {
            return Children::NotExpanded(
                "its `count`/`for_each` depends on the module's own outputs".to_owned(),
            );
        }
        let what = format!("{}module.{}", inst.prefix, c.name);
        let expansion = self.expand(id, c.body, &what, &c.span.file, c.span.line);
        self.leave(&guard);
        let make = |key: &Key, binding: Binding, presence: Option<String>| -> usize {
            let child = Instance {
                dir: target.clone(),
                prefix: format!("{}module.{}{}.", inst.prefix, c.name, key.suffix()),
                key_path: key_path.clone(),
                depth: inst.depth + 1,
                caller: Some((id, ci, Rc::new(binding))),
                presence,
                vars: RefCell::default(),
                locals: RefCell::default(),
                outputs: RefCell::default(),
                expansions: RefCell::default(),
                children: RefCell::default(),
            };
            let mut arena = self.instances.borrow_mut();
            arena.push(Rc::new(child));
            arena.len() - 1
        };
        match expansion {
            Expansion::Known(keys) => Children::Known(
                keys.into_iter()
                    .map(|(k, b)| {
                        let kid = make(&k, b, inst.presence.clone());
                        (k, kid)
                    })
                    .collect(),
            ),
            Expansion::Unknown(why) => {
                let presence = format!("module `{what}` may not exist: {why}");
                let kid = make(&Key::None, Binding::Unknown(why.clone()), Some(presence));
                Children::Unknown(kid)
            }
        }
    }

    // ---- cycle guard -------------------------------------------------------------------

    fn enter(&self, key: &str) -> bool {
        self.active.borrow_mut().insert(key.to_owned())
    }

    fn leave(&self, key: &str) {
        self.active.borrow_mut().remove(key);
    }

    // ---- named values ------------------------------------------------------------------

    fn variable(&self, id: usize, name: &str) -> Raw {
        let inst = self.inst(id);
        if let Some(v) = inst.vars.borrow().get(name) {
            return v.clone();
        }
        let guard = format!("{id}/var/{name}");
        if !self.enter(&guard) {
            return Raw::Unknown(format!("`var.{name}` refers to itself"));
        }
        let v = self.variable_uncached(&inst, name);
        self.leave(&guard);
        inst.vars.borrow_mut().insert(name.to_owned(), v.clone());
        v
    }

    fn variable_uncached(&self, inst: &Instance, name: &str) -> Raw {
        let Some(decl) = self.dir(inst).and_then(|m| m.variables.get(name)).copied() else {
            return Raw::Unknown(format!(
                "`var.{name}` is not declared in `{}`",
                dir_name(&inst.dir)
            ));
        };
        let default = || decl.default.map(|d| self.eval(&Scope::empty(), d));
        let given: Option<Raw> = match &inst.caller {
            None => match self.root_values.get(name) {
                Some(Ok(v)) => Some(v.clone()),
                Some(Err(why)) => return Raw::Unknown(why.clone()),
                None => None,
            },
            Some((parent, ci, binding)) => {
                let parent_inst = self.inst(*parent);
                let call = self.dir(&parent_inst).and_then(|m| m.calls.get(*ci));
                call.and_then(|c| c.body.attrs.get(name)).map(|e| {
                    self.eval(
                        &Scope {
                            inst: *parent,
                            binding: binding.clone(),
                            names: Vec::new(),
                        },
                        e,
                    )
                })
            }
        };
        let value = match given {
            Some(Raw::Null) if !decl.nullable => default().unwrap_or(Raw::Null),
            Some(v) => v,
            None => match default() {
                Some(v) => v,
                None => {
                    return Raw::Unknown(match &inst.caller {
                        None => format!(
                            "`var.{name}` has no default and no value is given (terraform.tfvars, \
                             *.auto.tfvars, --var-file or --var)"
                        ),
                        Some(_) => format!(
                            "`var.{name}` of `{}` is not set by the call and has no default",
                            inst.prefix.trim_end_matches('.')
                        ),
                    });
                }
            },
        };
        match decl.ty {
            Some(ty) => super::types::convert(value, ty),
            None => value,
        }
    }

    fn local(&self, id: usize, name: &str, depth: u32) -> Raw {
        self.named(id, Named::Local, name, depth)
    }

    fn output(&self, id: usize, name: &str, depth: u32) -> Raw {
        self.named(id, Named::Output, name, depth)
    }

    /// A local or an output of a module instance, evaluated once (memoised per instance).
    fn named(&self, id: usize, kind: Named, name: &str, depth: u32) -> Raw {
        let inst = self.inst(id);
        let cache = match kind {
            Named::Local => &inst.locals,
            Named::Output => &inst.outputs,
        };
        if let Some(v) = cache.borrow().get(name) {
            return v.clone();
        }
        let declared = self.dir(&inst).and_then(|m| match kind {
            Named::Local => m.locals.get(name),
            Named::Output => m.outputs.get(name),
        });
        let Some(e) = declared.copied() else {
            return Raw::Unknown(match kind {
                Named::Local => format!(
                    "`local.{name}` is not declared in `{}`",
                    dir_name(&inst.dir)
                ),
                Named::Output => format!(
                    "`{}` has no output `{name}`",
                    inst.prefix.trim_end_matches('.')
                ),
            });
        };
        let guard = format!("{id}/{kind:?}/{name}");
        if !self.enter(&guard) {
            return Raw::Unknown(match kind {
                Named::Local => format!("`local.{name}` refers to itself"),
                Named::Output => format!("output `{name}` refers to itself"),
            });
        }
        let scope = Scope {
            inst: id,
            binding: Rc::new(Binding::None),
            names: Vec::new(),
        };
        let v = self.eval_at(&scope, e, depth + 1);
        self.leave(&guard);
        cache.borrow_mut().insert(name.to_owned(), v.clone());
        v
    }

    /// The value of `TYPE.NAME` / `data.TYPE.NAME` in a module instance: one object, a list
    /// (count), a map (for_each), or a representative when the keys are not known.
    fn resource_value(&self, id: usize, data: bool, rtype: &str, name: &str) -> Raw {
        let inst = self.inst(id);
        let Some(m) = self.dir(&inst) else {
            return Raw::Unknown("the module is not loaded".to_owned());
        };
        let index = if data { &m.data } else { &m.managed };
        let Some(&di) = index.get(&(rtype, name)) else {
            let what = if data {
                format!("data.{rtype}.{name}")
            } else {
                format!("{rtype}.{name}")
            };
            return Raw::Unknown(format!(
                "`{what}` is not declared in `{}`",
                dir_name(&inst.dir)
            ));
        };
        let d: &Decl<'_> = &m.decls[di];
        let base = format!("{}{}", inst.prefix, d.local_address());
        match &*self.expansion(id, di) {
            Expansion::Known(keys) => {
                let object = |key: &Key, binding: &Binding| {
                    let address = format!("{base}{}", key.suffix());
                    self.objects.borrow_mut().insert(
                        address.clone(),
                        Obj::Resource {
                            inst: id,
                            decl: di,
                            binding: Rc::new(binding.clone()),
                            representative: false,
                        },
                    );
                    Raw::Ref(address)
                };
                let counted = d.body.attrs.contains_key("count");
                let each = d.body.attrs.contains_key("for_each");
                if counted {
                    Raw::List(keys.iter().map(|(k, b)| object(k, b)).collect())
                } else if each {
                    Raw::Map(
                        keys.iter()
                            .map(|(k, b)| {
                                let name = match k {
                                    Key::Str(s) => s.clone(),
                                    Key::Int(i) => i.to_string(),
                                    Key::None => String::new(),
                                };
                                (name, object(k, b))
                            })
                            .collect(),
                    )
                } else {
                    keys.first().map_or(Raw::Null, |(k, b)| object(k, b))
                }
            }
            Expansion::Unknown(why) => {
                self.objects.borrow_mut().insert(
                    base.clone(),
                    Obj::Resource {
                        inst: id,
                        decl: di,
                        binding: Rc::new(Binding::Unknown(why.clone())),
                        representative: true,
                    },
                );
                Raw::Ref(base)
            }
        }
    }

    /// The value of `module.NAME`: its outputs, per instance.
    fn module_value(&self, id: usize, name: &str) -> Raw {
        let inst = self.inst(id);
        let Some(ci) = self
            .dir(&inst)
            .and_then(|m| m.call_index.get(name))
            .copied()
        else {
            return Raw::Unknown(format!(
                "`module.{name}` is not declared in `{}`",
                dir_name(&inst.dir)
            ));
        };
        let call: Option<&Call<'_>> = self.dir(&inst).and_then(|m| m.calls.get(ci));
        let counted = call.is_some_and(|c| c.body.attrs.contains_key("count"));
        let each = call.is_some_and(|c| c.body.attrs.contains_key("for_each"));
        let register = |kid: usize, representative: bool| {
            let prefix = self.inst(kid).prefix.trim_end_matches('.').to_owned();
            self.objects.borrow_mut().insert(
                prefix.clone(),
                Obj::Module {
                    inst: kid,
                    representative,
                },
            );
            Raw::Ref(prefix)
        };
        match &*self.children(id, ci) {
            Children::NotExpanded(why) => {
                Raw::Unknown(format!("`module.{name}` is not expanded: {why}"))
            }
            Children::Unknown(kid) => register(*kid, true),
            Children::Known(kids) => {
                if counted {
                    Raw::List(kids.iter().map(|(_, k)| register(*k, false)).collect())
                } else if each {
                    Raw::Map(
                        kids.iter()
                            .map(|(key, k)| {
                                let name = match key {
                                    Key::Str(s) => s.clone(),
                                    Key::Int(i) => i.to_string(),
                                    Key::None => String::new(),
                                };
                                (name, register(*k, false))
                            })
                            .collect(),
                    )
                } else {
                    kids.first().map_or(Raw::Null, |(_, k)| register(*k, false))
                }
            }
        }
    }

    /// `.attr` on a reference: the configured value of a resource's attribute, a module's
    /// output, or a reference to the attribute when it is computed.
    fn object_attr(&self, r: &str, attr: &str, depth: u32) -> Raw {
        let obj = self.objects.borrow().get(r).cloned();
        match obj {
            Some(Obj::Module { inst, .. }) => self.output(inst, attr, depth),
            Some(Obj::Resource {
                inst,
                decl,
                binding,
                ..
            }) => {
                let cache_key = format!("{r}\u{0}{attr}");
                if let Some(v) = self.attr_cache.borrow().get(&cache_key) {
                    return v.clone();
                }
                let instance = self.inst(inst);
                let Some(d) = self.dir(&instance).and_then(|m| m.decls.get(decl)) else {
                    return Raw::Ref(format!("{r}.{attr}"));
                };
                if !self.enter(&cache_key) {
                    return Raw::Unknown(format!("`{r}.{attr}` refers to itself"));
                }
                let scope = Scope {
                    inst,
                    binding,
                    names: Vec::new(),
                };
                let v = if let Some(e) = d.body.attrs.get(attr) {
                    match self.eval_at(&scope, e, depth + 1) {
                        // An optional argument set to null is computed by the provider.
                        Raw::Null => Raw::Ref(format!("{r}.{attr}")),
                        v => v,
                    }
                } else if d.body.blocks.iter().any(|(k, labels, _)| {
                    k == attr || (k == "dynamic" && labels.first().is_some_and(|l| l == attr))
                }) {
                    let body = self.eval_body(&scope, d.body, depth + 1);
                    body.get(attr)
                        .cloned()
                        .unwrap_or_else(|| Raw::Ref(format!("{r}.{attr}")))
                } else {
                    Raw::Ref(format!("{r}.{attr}"))
                };
                self.leave(&cache_key);
                self.attr_cache.borrow_mut().insert(cache_key, v.clone());
                v
            }
            None => Raw::Ref(format!("{r}.{attr}")),
        }
    }

    fn is_representative(&self, r: &str) -> bool {
        matches!(
            self.objects.borrow().get(r),
            Some(
                Obj::Resource {
                    representative: true,
                    ..
                } | Obj::Module {
                    representative: true,
                    ..
                }
            )
        )
    }

    // ---- bodies --------------------------------------------------------------------------

    /// A block body as a map: attributes evaluated (meta-arguments left out), nested blocks as
    /// lists of maps, `dynamic` blocks expanded when their `for_each` is known.
    fn eval_body(&self, scope: &Scope, body: &Body, depth: u32) -> BTreeMap<String, Raw> {
        let mut m: BTreeMap<String, Raw> = body
            .attrs
            .iter()
            .filter(|(k, _)| {
                !matches!(k.as_str(), "count" | "for_each" | "depends_on" | "provider")
            })
            .map(|(k, e)| (k.clone(), self.eval_at(scope, e, depth)))
            .collect();
        for (kind, labels, inner) in &body.blocks {
            if matches!(kind.as_str(), "lifecycle" | "provisioner" | "connection") {
                continue;
            }
            if kind == "dynamic" {
                let Some(name) = labels.first() else { continue };
                let generated = self.dynamic(scope, name, inner, depth);
                push_block(&mut m, name, generated);
                continue;
            }
            let v = Raw::Map(self.eval_body(scope, inner, depth));
            push_block(&mut m, kind, Generated::Blocks(vec![v]));
        }
        m
    }

    fn dynamic(&self, scope: &Scope, name: &str, body: &Body, depth: u32) -> Generated {
        let iterator = match body.attrs.get("iterator") {
            Some(Expr::Var(v)) => v.clone(),
            _ => name.to_owned(),
        };
        let Some(fe) = body.attrs.get("for_each") else {
            return Generated::Unknown(format!("the `dynamic \"{name}\"` block has no `for_each`"));
        };
        let Some((_, _, content)) = body.blocks.iter().find(|(k, _, _)| k == "content") else {
            return Generated::Blocks(Vec::new());
        };
        let items: Vec<(Raw, Raw)> = match self.eval_at(scope, fe, depth) {
            Raw::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Raw::Number(serde_json::Number::from(i)), v))
                .collect(),
            Raw::Map(m) => m.into_iter().map(|(k, v)| (Raw::String(k), v)).collect(),
            Raw::Null => Vec::new(),
            Raw::Unknown(why) => {
                return Generated::Unknown(format!(
                    "the `{name}` blocks are generated by a `dynamic` block whose `for_each` is \
                     not known: {why}"
                ));
            }
            Raw::Ref(r) => {
                return Generated::Unknown(format!(
                    "the `{name}` blocks are generated from `{r}`, known only after apply"
                ));
            }
            _ => {
                return Generated::Unknown(format!(
                    "the `dynamic \"{name}\"` block's `for_each` is not a collection"
                ));
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (k, v) in items {
            let mut it = BTreeMap::new();
            it.insert("key".to_owned(), k);
            it.insert("value".to_owned(), v);
            let inner = scope.with(vec![(iterator.clone(), Raw::Map(it))]);
            out.push(Raw::Map(self.eval_body(&inner, content, depth + 1)));
        }
        Generated::Blocks(out)
    }

    // ---- expressions ---------------------------------------------------------------------

    /// Evaluates an expression in a scope.
    fn eval(&self, scope: &Scope, e: &Expr) -> Raw {
        self.eval_at(scope, e, 0)
    }

    fn eval_at(&self, scope: &Scope, e: &Expr, depth: u32) -> Raw {
        if depth > MAX_EVAL_DEPTH {
            return Raw::Unknown("the expression nests too deeply to evaluate".to_owned());
        }
        let d = depth + 1;
        match e {
            Expr::Null => Raw::Null,
            Expr::Bool(b) => Raw::Bool(*b),
            Expr::Number(n) => Raw::Number(n.clone()),
            Expr::Str(s) => Raw::String(s.clone()),
            Expr::Array(items) => {
                Raw::List(items.iter().map(|i| self.eval_at(scope, i, d)).collect())
            }
            Expr::Object(fields) => {
                let mut m = BTreeMap::new();
                for (k, v) in fields {
                    match self.eval_at(scope, k, d) {
                        Raw::Unknown(why) => {
                            return Raw::Unknown(format!("an object key is not known: {why}"));
                        }
                        key => match key.as_text() {
                            Some(key) => {
                                m.insert(key, self.eval_at(scope, v, d));
                            }
                            None => {
                                return Raw::Unknown("an object key is not a string".to_owned());
                            }
                        },
                    }
                }
                Raw::Map(m)
            }
            Expr::Template(parts) => {
                // `"${x}"` alone is `x` itself, not its string form (as in Terraform).
                if let [Part::Interp(inner)] = parts.as_slice() {
                    return self.eval_at(scope, inner, d);
                }
                let mut out = String::new();
                match self.template(scope, parts, d, &mut out) {
                    Ok(()) => Raw::String(out),
                    Err(v) => v,
                }
            }
            Expr::Var(name) => self.bare_name(scope, name),
            Expr::Traversal(root, ops) => self.traversal(scope, e, root, ops, d),
            Expr::Call(name, args, expand) => self.call(scope, name, args, *expand, d),
            Expr::Cond(c, t, f) => match self.eval_at(scope, c, d) {
                Raw::Bool(true) => self.eval_at(scope, t, d),
                Raw::Bool(false) => self.eval_at(scope, f, d),
                Raw::String(s) if s == "true" => self.eval_at(scope, t, d),
                Raw::String(s) if s == "false" => self.eval_at(scope, f, d),
                Raw::Unknown(why) => {
                    // Both branches equal: the condition does not matter.
                    let (tv, fv) = (self.eval_at(scope, t, d), self.eval_at(scope, f, d));
                    if tv == fv && !tv.has_unknown() {
                        tv
                    } else {
                        Raw::Unknown(format!("a condition is not known: {why}"))
                    }
                }
                Raw::Ref(r) => Raw::Unknown(format!(
                    "a condition depends on `{r}`, known only after apply"
                )),
                _ => Raw::Unknown("a condition is not a boolean".to_owned()),
            },
            Expr::Not(inner) => match self.eval_at(scope, inner, d) {
                Raw::Bool(b) => Raw::Bool(!b),
                Raw::Unknown(why) => Raw::Unknown(why),
                v => match functions::to_bool(&v) {
                    Some(b) => Raw::Bool(!b),
                    None => Raw::Unknown("`!` of a value that is not a boolean".to_owned()),
                },
            },
            Expr::Neg(inner) => match self.eval_at(scope, inner, d) {
                Raw::Unknown(why) => Raw::Unknown(why),
                v => functions::arith(BinOp::Sub, &Raw::Number(0.into()), &v),
            },
            Expr::Binary(op, l, r) => self.binary(scope, *op, l, r, d),
            Expr::For(f) => self.for_expr(scope, f, d),
            Expr::Opaque(kind) => Raw::Unknown(format!("the value is a {kind}")),
        }
    }

    fn binary(&self, scope: &Scope, op: BinOp, l: &Expr, r: &Expr, d: u32) -> Raw {
        let lv = self.eval_at(scope, l, d);
        // `false && x` and `true || x` are decided by the left side, whatever `x` is.
        match (op, functions::to_bool(&lv)) {
            (BinOp::And, Some(false)) => return Raw::Bool(false),
            (BinOp::Or, Some(true)) => return Raw::Bool(true),
            _ => {}
        }
        let rv = self.eval_at(scope, r, d);
        match op {
            BinOp::And | BinOp::Or => {
                match (functions::to_bool(&rv), &lv, &rv) {
                    (Some(false), _, _) if op == BinOp::And => return Raw::Bool(false),
                    (Some(true), _, _) if op == BinOp::Or => return Raw::Bool(true),
                    _ => {}
                }
                match (functions::to_bool(&lv), functions::to_bool(&rv)) {
                    (Some(a), Some(b)) => Raw::Bool(if op == BinOp::And { a && b } else { a || b }),
                    _ => unknown_of(&[&lv, &rv], "a boolean operand is not known"),
                }
            }
            BinOp::Eq | BinOp::NotEq => match functions::equal_known(&lv, &rv) {
                Some(eq) => Raw::Bool(if op == BinOp::Eq { eq } else { !eq }),
                None => unknown_of(&[&lv, &rv], "a compared value is known only after apply"),
            },
            _ => functions::arith(op, &lv, &rv),
        }
    }

    fn for_expr(&self, scope: &Scope, f: &ForExpr, d: u32) -> Raw {
        let items: Vec<(Raw, Raw)> = match self.eval_at(scope, &f.collection, d) {
            Raw::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Raw::Number(serde_json::Number::from(i)), v))
                .collect(),
            Raw::Map(m) => m.into_iter().map(|(k, v)| (Raw::String(k), v)).collect(),
            Raw::Null => return Raw::Unknown("a `for` expression iterates over null".to_owned()),
            Raw::Unknown(why) => return Raw::Unknown(why),
            Raw::Ref(r) => {
                return Raw::Unknown(format!(
                    "a `for` expression iterates over `{r}`, known only after apply"
                ));
            }
            _ => return Raw::Unknown("a `for` expression iterates over a scalar".to_owned()),
        };
        let mut list = Vec::new();
        let mut map: BTreeMap<String, Raw> = BTreeMap::new();
        for (k, v) in items {
            let mut names = Vec::with_capacity(2);
            if let Some(kv) = &f.key_var {
                names.push((kv.clone(), k));
            }
            names.push((f.value_var.clone(), v));
            let inner = scope.with(names);
            if let Some(c) = &f.cond {
                match self.eval_at(&inner, c, d) {
                    Raw::Bool(true) => {}
                    Raw::Bool(false) => continue,
                    Raw::Unknown(why) => {
                        return Raw::Unknown(format!("a `for` filter is not known: {why}"));
                    }
                    v => match functions::to_bool(&v) {
                        Some(true) => {}
                        Some(false) => continue,
                        None => {
                            return Raw::Unknown("a `for` filter is not a boolean".to_owned());
                        }
                    },
                }
            }
            let value = self.eval_at(&inner, &f.value, d);
            match &f.key {
                None => list.push(value),
                Some(ke) => {
                    let key = match self.eval_at(&inner, ke, d) {
                        Raw::Unknown(why) => {
                            return Raw::Unknown(format!("a `for` key is not known: {why}"));
                        }
                        k => match k.as_text() {
                            Some(s) if !matches!(k, Raw::Ref(_)) => s,
                            _ => {
                                return Raw::Unknown(
                                    "a `for` key is known only after apply".to_owned(),
                                );
                            }
                        },
                    };
                    if f.grouping {
                        if let Raw::List(l) =
                            map.entry(key).or_insert_with(|| Raw::List(Vec::new()))
                        {
                            l.push(value);
                        }
                    } else {
                        map.insert(key, value);
                    }
                }
            }
        }
        if f.key.is_some() {
            Raw::Map(map)
        } else {
            Raw::List(list)
        }
    }

    /// Renders template parts into `out`; `Err` is the whole value when a part is not known.
    fn template(&self, scope: &Scope, parts: &[Part], d: u32, out: &mut String) -> Result<(), Raw> {
        for p in parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Interp(e) => match self.eval_at(scope, e, d) {
                    Raw::Ref(r) => {
                        out.push_str("${");
                        out.push_str(&r);
                        out.push('}');
                    }
                    Raw::Unknown(why) => return Err(Raw::Unknown(why)),
                    Raw::Null => {
                        return Err(Raw::Unknown("a template interpolates null".to_owned()));
                    }
                    v => match v.as_text() {
                        Some(s) => out.push_str(&s),
                        None => {
                            return Err(Raw::Unknown(
                                "a template interpolates a value that is not a string".to_owned(),
                            ));
                        }
                    },
                },
                Part::If(c, then, otherwise) => match self.eval_at(scope, c, d) {
                    v if functions::to_bool(&v) == Some(true) => {
                        self.template(scope, then, d, out)?;
                    }
                    v if functions::to_bool(&v) == Some(false) => {
                        self.template(scope, otherwise, d, out)?;
                    }
                    Raw::Unknown(why) => return Err(Raw::Unknown(why)),
                    _ => {
                        return Err(Raw::Unknown(
                            "a template `if` condition is not known".to_owned(),
                        ));
                    }
                },
                Part::For {
                    key_var,
                    value_var,
                    collection,
                    body,
                } => {
                    let items: Vec<(Raw, Raw)> = match self.eval_at(scope, collection, d) {
                        Raw::List(items) => items
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (Raw::Number(serde_json::Number::from(i)), v))
                            .collect(),
                        Raw::Map(m) => m.into_iter().map(|(k, v)| (Raw::String(k), v)).collect(),
                        Raw::Unknown(why) => return Err(Raw::Unknown(why)),
                        _ => {
                            return Err(Raw::Unknown(
                                "a template `for` iterates over a value not known".to_owned(),
                            ));
                        }
                    };
                    for (k, v) in items {
                        let mut names = Vec::with_capacity(2);
                        if let Some(kv) = key_var {
                            names.push((kv.clone(), k));
                        }
                        names.push((value_var.clone(), v));
                        self.template(&scope.with(names), body, d, out)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A bare identifier: a `for`/iterator name, or a whole namespace (not a value).
    fn bare_name(&self, scope: &Scope, name: &str) -> Raw {
        if let Some(v) = scope.lookup(name) {
            return v.clone();
        }
        Raw::Unknown(format!("`{name}` is not a value"))
    }

    fn traversal(&self, scope: &Scope, whole: &Expr, root: &Expr, ops: &[Op], d: u32) -> Raw {
        let text = || whole.reference_text().unwrap_or_default();
        let Expr::Var(name) = root else {
            let base = self.eval_at(scope, root, d);
            return self.apply(scope, base, ops, d);
        };
        if let Some(v) = scope.lookup(name) {
            return self.apply(scope, v.clone(), ops, d);
        }
        let attr = |i: usize| match ops.get(i) {
            Some(Op::Attr(a)) => Some(a.as_str()),
            _ => None,
        };
        let (base, rest) = match name.as_str() {
            "var" => match attr(0) {
                Some(v) => (self.variable(scope.inst, v), &ops[1..]),
                None => return Raw::Unknown("a malformed variable reference".to_owned()),
            },
            "local" => match attr(0) {
                Some(l) => (self.local(scope.inst, l, d), &ops[1..]),
                None => return Raw::Unknown("a malformed local reference".to_owned()),
            },
            "module" => match attr(0) {
                Some(m) => (self.module_value(scope.inst, m), &ops[1..]),
                None => return Raw::Unknown("a malformed module reference".to_owned()),
            },
            "data" => match (attr(0), attr(1)) {
                (Some(t), Some(n)) => (self.resource_value(scope.inst, true, t, n), &ops[2..]),
                _ => return Raw::Unknown("a malformed data reference".to_owned()),
            },
            "count" => match (attr(0), &*scope.binding) {
                (Some("index"), Binding::Count(i)) => (Raw::Number((*i).into()), &ops[1..]),
                (Some("index"), Binding::Unknown(why)) => {
                    return Raw::Unknown(format!("`count.index` is not known: {why}"));
                }
                _ => return Raw::Unknown(format!("`{}` is used outside a counted block", text())),
            },
            "each" => match (attr(0), &*scope.binding) {
                (Some("key"), Binding::Each(k, _)) => (k.clone(), &ops[1..]),
                (Some("value"), Binding::Each(_, v)) => (v.clone(), &ops[1..]),
                (_, Binding::Unknown(why)) => {
                    return Raw::Unknown(format!("`{}` is not known: {why}", text()));
                }
                _ => return Raw::Unknown(format!("`{}` is used outside a for_each block", text())),
            },
            "path" => match attr(0) {
                Some("module") => (Raw::String(dot_dir(&self.inst(scope.inst).dir)), &ops[1..]),
                Some("root") => (Raw::String(dot_dir(self.root)), &ops[1..]),
                _ => return Raw::Unknown(format!("`{}` depends on where Terraform runs", text())),
            },
            "terraform" => {
                return Raw::Unknown(format!("`{}` is chosen when Terraform runs", text()));
            }
            "self" => return Raw::Unknown(format!("`{}` is known only after apply", text())),
            rtype => match attr(0) {
                Some(n) => (self.resource_value(scope.inst, false, rtype, n), &ops[1..]),
                None => return Raw::Unknown(format!("`{rtype}` is not a value")),
            },
        };
        self.apply(scope, base, rest, d)
    }

    /// Applies traversal steps to a value.
    fn apply(&self, scope: &Scope, mut v: Raw, ops: &[Op], d: u32) -> Raw {
        let mut i = 0;
        while i < ops.len() {
            let op = &ops[i];
            v = match (v, op) {
                (Raw::Unknown(why), _) => return Raw::Unknown(why),
                (Raw::Ref(r), Op::Attr(a)) => self.object_attr(&r, a, d),
                (Raw::Ref(r), Op::Index(k)) => {
                    if self.is_representative(&r) {
                        Raw::Ref(r)
                    } else {
                        match self.eval_at(scope, k, d) {
                            Raw::Number(n) => Raw::Ref(format!("{r}[{n}]")),
                            Raw::String(s) => Raw::Ref(format!("{r}[{}]", quote(&s))),
                            _ => Raw::Ref(format!("{r}[*]")),
                        }
                    }
                }
                (Raw::Ref(r), Op::AttrSplat | Op::FullSplat) => {
                    if self.is_representative(&r) {
                        Raw::Ref(r)
                    } else {
                        Raw::Ref(format!("{r}[*]"))
                    }
                }
                // A known object without the attribute: in a configuration Terraform accepts,
                // it is an attribute its type declares `optional` (null).
                (Raw::Map(mut m), Op::Attr(a)) => m.remove(a).unwrap_or(Raw::Null),
                (Raw::Null, Op::Attr(a)) => {
                    return Raw::Unknown(format!("`.{a}` of a null value"));
                }
                (v, Op::Index(k)) => {
                    let key = self.eval_at(scope, k, d);
                    match (v, key) {
                        (_, Raw::Unknown(why)) => {
                            return Raw::Unknown(format!("an index is not known: {why}"));
                        }
                        (Raw::List(mut l), key) => {
                            match super::raw::number(&key).and_then(|n| usize::try_from(n).ok()) {
                                Some(n) if n < l.len() => l.swap_remove(n),
                                _ => {
                                    return Raw::Unknown(
                                        "the list index is out of range or not a number".to_owned(),
                                    );
                                }
                            }
                        }
                        (Raw::Map(mut m), key) => match key.as_text().and_then(|k| m.remove(&k)) {
                            Some(x) => x,
                            None => {
                                return Raw::Unknown(format!(
                                    "the map has no key `{}`",
                                    key.as_text().unwrap_or_default()
                                ));
                            }
                        },
                        _ => {
                            return Raw::Unknown(
                                "an index into a value that is not a collection".to_owned(),
                            );
                        }
                    }
                }
                (v, Op::AttrSplat) => {
                    // `.*` then the attribute steps that follow apply to each element.
                    let end = ops[i + 1..]
                        .iter()
                        .position(|o| !matches!(o, Op::Attr(_)))
                        .map_or(ops.len(), |p| i + 1 + p);
                    let each = &ops[i + 1..end];
                    i = end;
                    match v {
                        Raw::List(items) => Raw::List(
                            items
                                .into_iter()
                                .map(|x| self.apply(scope, x, each, d))
                                .collect(),
                        ),
                        Raw::Null => Raw::List(Vec::new()),
                        other => Raw::List(vec![self.apply(scope, other, each, d)]),
                    }
                }
                (v, Op::FullSplat) => {
                    let each = &ops[i + 1..];
                    return match v {
                        Raw::List(items) => Raw::List(
                            items
                                .into_iter()
                                .map(|x| self.apply(scope, x, each, d))
                                .collect(),
                        ),
                        Raw::Map(m) => Raw::List(
                            m.into_values()
                                .map(|x| self.apply(scope, x, each, d))
                                .collect(),
                        ),
                        Raw::Null => Raw::List(Vec::new()),
                        other => Raw::List(vec![self.apply(scope, other, each, d)]),
                    };
                }
                (_, Op::Attr(a)) => {
                    return Raw::Unknown(format!("`.{a}` of a value that is not an object"));
                }
            };
            if !matches!(op, Op::AttrSplat) {
                i += 1;
            }
        }
        v
    }

    fn call(&self, scope: &Scope, name: &str, args: &[Expr], expand: bool, d: u32) -> Raw {
        // `try` and `can` see errors (unknowns here) of their arguments one at a time.
        match name {
            "try" => {
                let mut last = None;
                for a in args {
                    match self.eval_at(scope, a, d) {
                        v @ Raw::Unknown(_) => last = Some(v),
                        v => return v,
                    }
                }
                return last.unwrap_or_else(|| Raw::Unknown("`try()` with no argument".to_owned()));
            }
            "can" => {
                return match args.first().map(|a| self.eval_at(scope, a, d)) {
                    Some(Raw::Unknown(why)) => Raw::Unknown(format!(
                        "`can()` cannot tell whether its argument is valid: {why}"
                    )),
                    Some(_) => Raw::Bool(true),
                    None => Raw::Unknown("`can()` with no argument".to_owned()),
                };
            }
            _ => {}
        }
        let mut vals: Vec<Raw> = args.iter().map(|a| self.eval_at(scope, a, d)).collect();
        if expand {
            match vals.pop() {
                Some(Raw::List(items)) => vals.extend(items),
                Some(Raw::Unknown(why)) => return Raw::Unknown(why),
                _ => {
                    return Raw::Unknown(format!(
                        "`{name}(…...)` expands a value that is not a list"
                    ));
                }
            }
        }
        functions::call(
            name,
            &vals,
            self.config
                .dirs
                .get(self.inst(scope.inst).dir.as_str())
                .map(|m| m.dir),
        )
    }
}

/// The named values of a module instance that are evaluated once.
#[derive(Debug, Clone, Copy)]
enum Named {
    Local,
    Output,
}

/// Generated nested blocks, or why they cannot be known.
enum Generated {
    Blocks(Vec<Raw>),
    Unknown(String),
}

fn push_block(m: &mut BTreeMap<String, Raw>, name: &str, g: Generated) {
    match g {
        Generated::Unknown(why) => {
            m.insert(name.to_owned(), Raw::Unknown(why));
        }
        Generated::Blocks(items) => match m.get_mut(name) {
            Some(Raw::List(existing)) => existing.extend(items),
            Some(Raw::Unknown(_)) => {}
            Some(_) => {}
            None => {
                m.insert(name.to_owned(), Raw::List(items));
            }
        },
    }
}

/// The scope of one evaluation: the module instance, the block's instance binding, and the
/// names that `for` expressions and iterators bind.
#[derive(Clone)]
struct Scope {
    inst: usize,
    binding: Rc<Binding>,
    names: Vec<(String, Raw)>,
}

impl Scope {
    fn empty() -> Scope {
        Scope {
            inst: 0,
            binding: Rc::new(Binding::None),
            names: Vec::new(),
        }
    }

    fn with(&self, names: Vec<(String, Raw)>) -> Scope {
        let mut s = self.clone();
        s.names.extend(names);
        s
    }

    fn lookup(&self, name: &str) -> Option<&Raw> {
        self.names
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// The first unknown reason among values, or `fallback`.
fn unknown_of(vals: &[&Raw], fallback: &str) -> Raw {
    for v in vals {
        if let Some(why) = v.unknown_reason() {
            return Raw::Unknown(why);
        }
        if let Raw::Ref(r) = v {
            return Raw::Unknown(format!("`{r}` is known only after apply"));
        }
    }
    Raw::Unknown(fallback.to_owned())
}

fn dir_name(dir: &str) -> &str {
    if dir.is_empty() { "." } else { dir }
}

fn dot_dir(dir: &str) -> String {
    if dir.is_empty() {
        ".".to_owned()
    } else {
        dir.to_owned()
    }
}

/// Evaluates every root of a configuration.
pub fn evaluate_roots(config: &Config<'_>, overrides: &Overrides) -> Vec<(String, RootOutput)> {
    use rayon::prelude::*;
    config
        .roots()
        .into_par_iter()
        .map(|root| {
            (
                root.to_owned(),
                Evaluator::new(config, root, overrides).run(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
