//! The Kubernetes parser through the library API: derived workload facts, spans, namespaces
//! joined with network policies from other files, RBAC, `List` expansion and problems.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use vouch::error::ProblemKind;
use vouch::formats::{FileKind, LoadContext, Loaded, Parsed, load, parse_file};
use vouch::model::{Resource, Value};
use vouch::source::SourceFile;

static CTX: std::sync::LazyLock<LoadContext> = std::sync::LazyLock::new(|| LoadContext {
    as_of_days: 20_000,
    ..LoadContext::default()
});

fn fixture(name: &str) -> SourceFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kubernetes")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    SourceFile::new(name, text)
}

fn load_fixtures(names: &[&str]) -> Loaded {
    let files: Vec<SourceFile> = names.iter().map(|n| fixture(n)).collect();
    load(&files, &CTX)
}

fn by_address(loaded: &Loaded) -> BTreeMap<&str, &Resource> {
    loaded
        .resources
        .iter()
        .map(|r| (r.address.as_str(), r))
        .collect()
}

fn set(items: &[&str]) -> Value {
    Value::string_set(items.iter().copied())
}

fn attr<'r>(r: &'r Resource, name: &str) -> &'r Value {
    r.attrs
        .get(name)
        .unwrap_or_else(|| panic!("{} has no attribute `{name}`", r.address))
}

#[test]
fn deployment_facts_are_derived() {
    let loaded = load_fixtures(&["app.yaml", "netpol.yaml"]);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.files.get("app.yaml"), Some(&FileKind::Kubernetes));
    let res = by_address(&loaded);
    let api = res["k8s:Deployment/payments/api"];
    assert_eq!(api.entity_type, "K8s::Workload");
    assert_eq!(attr(api, "kind"), &Value::str("Deployment"));
    assert_eq!(attr(api, "namespace"), &Value::str("payments"));
    assert_eq!(attr(api, "name"), &Value::str("api"));
    assert_eq!(attr(api, "privileged_containers"), &set(&["sidecar"]));
    assert_eq!(attr(api, "root_containers"), &set(&["migrate", "sidecar"]));
    assert_eq!(attr(api, "escalation_containers"), &set(&["sidecar"]));
    assert_eq!(attr(api, "containers_without_limits"), &set(&["sidecar"]));
    assert_eq!(
        attr(api, "containers_with_added_capabilities"),
        &set(&["sidecar"])
    );
    assert_eq!(attr(api, "containers_latest_image"), &set(&["sidecar"]));
    assert_eq!(attr(api, "writable_root_containers"), &set(&["sidecar"]));
    assert_eq!(attr(api, "host_network"), &Value::Bool(true));
    assert_eq!(attr(api, "host_pid"), &Value::Bool(false));
    assert_eq!(attr(api, "host_ipc"), &Value::Bool(false));
    assert_eq!(attr(api, "host_path_volumes"), &set(&["docker-sock"]));
    assert_eq!(
        attr(api, "service_account_token_mounted"),
        &Value::Bool(false)
    );
    // The first document starts at its first key, after the leading comment.
    assert_eq!((api.span.file.as_str(), api.span.line), ("app.yaml", 2));
    assert_eq!(api.span.column, 1);
}

#[test]
fn second_document_has_its_own_span() {
    let loaded = load_fixtures(&["app.yaml"]);
    let res = by_address(&loaded);
    let job = res["k8s:CronJob/payments/nightly-report"];
    assert_eq!(job.span.line, 51);
    let text = fixture("app.yaml").text;
    assert!(text[job.span.offset..].starts_with("apiVersion: batch/v1"));
    assert_eq!(attr(job, "host_pid"), &Value::Bool(true));
    assert_eq!(attr(job, "containers_latest_image"), &set(&["report"]));
    assert_eq!(attr(job, "root_containers"), &set(&["report"]));
    assert_eq!(attr(job, "escalation_containers"), &set(&["report"]));
    assert_eq!(
        attr(job, "service_account_token_mounted"),
        &Value::Bool(true)
    );
    let ns = res["k8s:Namespace/payments"];
    assert_eq!(ns.span.line, 68);
}

#[test]
fn namespaces_join_network_policies_from_other_files() {
    let loaded = load_fixtures(&["app.yaml", "netpol.yaml"]);
    let res = by_address(&loaded);
    let payments = res["k8s:Namespace/payments"];
    assert_eq!(attr(payments, "tenant"), &Value::str("acme"));
    assert_eq!(attr(payments, "default_deny_ingress"), &Value::Bool(true));
    assert_eq!(attr(payments, "network_policies"), &Value::Long(2));
    let open = res["k8s:Namespace/open"];
    assert_eq!(attr(open, "tenant"), &Value::str("globex"));
    assert_eq!(attr(open, "default_deny_ingress"), &Value::Bool(false));
    assert_eq!(attr(open, "network_policies"), &Value::Long(1));
    let egress = res["k8s:Namespace/egress"];
    assert_eq!(attr(egress, "tenant"), &Value::str(""));
    assert_eq!(attr(egress, "default_deny_ingress"), &Value::Bool(false));
    // Without the policies' file the namespace is not isolated.
    let alone = load_fixtures(&["app.yaml"]);
    let payments = by_address(&alone)["k8s:Namespace/payments"];
    assert_eq!(attr(payments, "default_deny_ingress"), &Value::Bool(false));
    assert_eq!(attr(payments, "network_policies"), &Value::Long(0));
    // Network policies are not resources themselves.
    assert!(
        loaded
            .resources
            .iter()
            .all(|r| !r.address.contains("NetworkPolicy"))
    );
}

#[test]
fn pod_level_run_as_non_root_is_inherited() {
    let loaded = load_fixtures(&["pod-inherit.yaml"]);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let pod = by_address(&loaded)["k8s:Pod/default/web"];
    assert_eq!(attr(pod, "namespace"), &Value::str("default"));
    assert_eq!(
        attr(pod, "root_containers"),
        &set(&["opts-out", "overrides"])
    );
    assert_eq!(attr(pod, "containers_latest_image"), &set(&[]));
}

#[test]
fn lists_are_expanded_into_rbac_resources() {
    let loaded = load_fixtures(&["rbac-list.yaml"]);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let res = by_address(&loaded);
    let admin = res["k8s:ClusterRole/ops-admin"];
    assert_eq!(admin.entity_type, "K8s::Role");
    assert_eq!(admin.span.line, 4);
    assert_eq!(admin.span.column, 5);
    assert_eq!(attr(admin, "cluster"), &Value::Bool(true));
    assert_eq!(attr(admin, "namespace"), &Value::str(""));
    assert_eq!(attr(admin, "secrets_access"), &Value::Bool(true));
    assert_eq!(attr(admin, "wildcard_verbs"), &Value::Bool(false));
    assert_eq!(attr(admin, "escalation_verbs"), &set(&["bind", "escalate"]));
    let anything = res["k8s:Role/payments/anything"];
    assert_eq!(attr(anything, "wildcard_verbs"), &Value::Bool(true));
    assert_eq!(attr(anything, "wildcard_resources"), &Value::Bool(true));
    assert_eq!(attr(anything, "secrets_access"), &Value::Bool(true));
    let crb = res["k8s:ClusterRoleBinding/ops-admins"];
    assert_eq!(crb.entity_type, "K8s::RoleBinding");
    assert_eq!(attr(crb, "cluster"), &Value::Bool(true));
    assert_eq!(attr(crb, "namespace"), &Value::str(""));
    assert_eq!(attr(crb, "role_kind"), &Value::str("ClusterRole"));
    assert_eq!(attr(crb, "role_name"), &Value::str("ops-admin"));
    assert_eq!(
        attr(crb, "ordinary_subjects"),
        &set(&["ServiceAccount:ci/deployer", "User:alice@example.com"])
    );
    let rb = res["k8s:RoleBinding/payments/payments-devs"];
    assert_eq!(
        attr(rb, "ordinary_subjects"),
        &set(&["Group:payments-devs", "ServiceAccount:payments/api"])
    );
    assert_eq!(loaded.resources.len(), 4);
}

#[test]
fn malformed_yaml_is_a_parse_problem_at_its_line() {
    let Err(problems) = parse_file(&fixture("malformed.yaml"), &CTX) else {
        panic!("malformed YAML must be a problem");
    };
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(p.kind, ProblemKind::Parse);
    assert_eq!(p.file.as_deref(), Some("malformed.yaml"));
    assert_eq!(p.line, Some(5));
    assert!(
        p.message
            .starts_with("`malformed.yaml` is not valid YAML: mapping values"),
        "{}",
        p.message
    );
}

#[test]
fn wrong_shapes_are_problems_with_spans() {
    let Err(problems) = parse_file(&fixture("wrong-shape.yaml"), &CTX) else {
        panic!("a wrong shape must be a problem");
    };
    let found: Vec<(Option<u32>, &str)> = problems
        .iter()
        .map(|p| (p.line, p.message.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                Some(14),
                "`spec.template.spec.containers` in Deployment `web` must be a list, not a mapping"
            ),
            (Some(17), "StatefulSet has no `metadata.name`"),
        ]
    );
    assert!(problems.iter().all(|p| p.kind == ProblemKind::Parse));
}

#[test]
fn other_yaml_and_helm_templates_are_unrecognised() {
    for name in ["workflow.yml", "chart/templates/deployment.yaml"] {
        let parsed = parse_file(&fixture(name), &CTX);
        assert!(
            matches!(parsed, Ok(Parsed::Unrecognised)),
            "{name}: {parsed:?}"
        );
    }
    let loaded = load_fixtures(&["workflow.yml", "app.yaml"]);
    assert_eq!(loaded.unrecognised, vec!["workflow.yml".to_owned()]);
    // YAML with apiVersion/kind words but no object, and broken YAML that is not a manifest.
    for text in [
        "apiVersion_notes: see kind docs\n",
        "- kind\n- apiVersion\n",
        "config: [apiVersion, kind\n",
    ] {
        let parsed = parse_file(&SourceFile::new("x.yaml", text), &CTX);
        assert!(
            matches!(parsed, Ok(Parsed::Unrecognised)),
            "{text}: {parsed:?}"
        );
    }
}

#[test]
fn recognised_objects_without_resources_still_count() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n";
    let parsed = parse_file(&SourceFile::new("cm.yaml", text), &CTX);
    assert!(matches!(parsed, Ok(Parsed::Kubernetes(_))), "{parsed:?}");
    // A custom resource reusing a built-in kind name is not a workload.
    let crd = "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata:\n  name: j\nspec:\n  tasks: []\n";
    let loaded = load(&[SourceFile::new("crd.yaml", crd)], &CTX);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert!(loaded.resources.is_empty());
}

#[test]
fn deep_and_explosive_yaml_does_not_crash() {
    let deep = format!("apiVersion: v1\nkind: Pod\nx:\n{}y\n", "- ".repeat(3_000));
    let _ = parse_file(&SourceFile::new("deep.yaml", deep), &CTX);
    let mut nested = String::from("apiVersion: v1\nkind: Pod\n");
    for i in 0..2_000 {
        nested.push_str(&" ".repeat(i));
        nested.push_str("a:\n");
    }
    let _ = parse_file(&SourceFile::new("nested.yaml", nested), &CTX);
    let too_deep = format!("apiVersion: v1\nkind: Pod\nx: {}\n", "- ".repeat(20_000));
    let parsed = parse_file(&SourceFile::new("too-deep.yaml", too_deep), &CTX);
    assert!(parsed.is_err());
    let laughs = "apiVersion: v1\nkind: Pod\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let parsed = parse_file(&SourceFile::new("laughs.yaml", laughs), &CTX);
    assert!(parsed.is_err(), "{parsed:?}");
}

#[test]
fn multibyte_text_keeps_byte_spans() {
    let text = "# café ☕\napiVersion: v1\nkind: Pod\nmetadata:\n  name: é\nspec:\n  containers:\n    - name: ünïcode\n      image: x:1\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers: 3\n";
    let Err(problems) = parse_file(&SourceFile::new("u.yaml", text), &CTX) else {
        panic!("containers: 3 is a problem");
    };
    let (offset, _, _) = problems[0].span.clone().expect("span");
    assert!(text[offset..].starts_with("3\n"));
    assert_eq!(problems[0].line, Some(15));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse_file(&SourceFile::new("p.yaml", text), &CTX);
    }

    #[test]
    fn manifest_like_text_never_panics(
        body in proptest::collection::vec(
            prop_oneof![
                Just("apiVersion: v1\n"), Just("kind: Pod\n"), Just("kind: List\n"),
                Just("items:\n"), Just("- "), Just("  "), Just("spec:\n"), Just("containers:\n"),
                Just("name: x\n"), Just("securityContext: {privileged: yes}\n"), Just("---\n"),
                Just("[{"), Just("}]"), Just("&a "), Just("*a\n"), Just("!!str "), Just("\"é\n"),
                Just("metadata: {name: p}\n"), Just("image: x\n"), Just("{{ x }}\n"), Just("|\n"),
            ],
            0..40,
        )
    ) {
        let text: String = body.concat();
        let _ = parse_file(&SourceFile::new("p.yaml", text), &CTX);
    }
}
