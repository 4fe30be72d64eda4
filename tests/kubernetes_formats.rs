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
    let api = res["Deployment/payments/api"];
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
    let job = res["CronJob/payments/nightly-report"];
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
    let ns = res["Namespace/payments"];
    assert_eq!(ns.span.line, 68);
}

#[test]
fn namespaces_join_network_policies_from_other_files() {
    let loaded = load_fixtures(&["app.yaml", "netpol.yaml"]);
    let res = by_address(&loaded);
    let payments = res["Namespace/payments"];
    assert_eq!(attr(payments, "tenant"), &Value::str("acme"));
    assert_eq!(attr(payments, "default_deny_ingress"), &Value::Bool(true));
    assert_eq!(attr(payments, "network_policies"), &Value::Long(2));
    let open = res["Namespace/open"];
    assert_eq!(attr(open, "tenant"), &Value::str("globex"));
    assert_eq!(attr(open, "default_deny_ingress"), &Value::Bool(false));
    assert_eq!(attr(open, "network_policies"), &Value::Long(1));
    let egress = res["Namespace/egress"];
    assert_eq!(attr(egress, "tenant"), &Value::str(""));
    assert_eq!(attr(egress, "default_deny_ingress"), &Value::Bool(false));
    // Without the policies' file the namespace is not isolated.
    let alone = load_fixtures(&["app.yaml"]);
    let payments = by_address(&alone)["Namespace/payments"];
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
    let pod = by_address(&loaded)["Pod/default/web"];
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
    let admin = res["ClusterRole/ops-admin"];
    assert_eq!(admin.entity_type, "K8s::Role");
    assert_eq!(admin.span.line, 4);
    assert_eq!(admin.span.column, 5);
    assert_eq!(attr(admin, "cluster"), &Value::Bool(true));
    assert_eq!(attr(admin, "namespace"), &Value::str(""));
    assert_eq!(attr(admin, "secrets_access"), &Value::Bool(true));
    assert_eq!(attr(admin, "wildcard_verbs"), &Value::Bool(false));
    assert_eq!(attr(admin, "escalation_verbs"), &set(&["bind", "escalate"]));
    let anything = res["Role/payments/anything"];
    assert_eq!(attr(anything, "wildcard_verbs"), &Value::Bool(true));
    assert_eq!(attr(anything, "wildcard_resources"), &Value::Bool(true));
    assert_eq!(attr(anything, "secrets_access"), &Value::Bool(true));
    let crb = res["ClusterRoleBinding/ops-admins"];
    assert_eq!(crb.entity_type, "K8s::RoleBinding");
    assert_eq!(attr(crb, "cluster"), &Value::Bool(true));
    assert_eq!(attr(crb, "namespace"), &Value::str(""));
    assert_eq!(attr(crb, "role_kind"), &Value::str("ClusterRole"));
    assert_eq!(attr(crb, "role_name"), &Value::str("ops-admin"));
    assert_eq!(
        attr(crb, "ordinary_subjects"),
        &set(&["ServiceAccount:ci/deployer", "User:alice@example.com"])
    );
    let rb = res["RoleBinding/payments/payments-devs"];
    assert_eq!(
        attr(rb, "ordinary_subjects"),
        &set(&["Group:payments-devs", "ServiceAccount:payments/api"])
    );
    assert_eq!(loaded.resources.len(), 4);
}

#[test]
fn malformed_yaml_is_a_parse_problem_at_its_line() {
    let loaded = load_fixtures(&["malformed.yaml"]);
    assert_eq!(loaded.problems.len(), 1);
    let p = &loaded.problems[0];
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
    let loaded = load_fixtures(&["wrong-shape.yaml"]);
    let found: Vec<(Option<u32>, &str)> = loaded
        .problems
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
    assert!(loaded.problems.iter().all(|p| p.kind == ProblemKind::Parse));
}

#[test]
fn other_yaml_and_helm_templates_are_not_read_as_manifests() {
    let loaded = load_fixtures(&[
        "workflow.yml",
        "app.yaml",
        "chart/Chart.yaml",
        "chart/templates/deployment.yaml",
    ]);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.unrecognised, vec!["workflow.yml".to_owned()]);
    assert_eq!(loaded.charts.len(), 1);
    assert_eq!(
        loaded.files.get("chart/templates/deployment.yaml"),
        Some(&FileKind::Kubernetes),
        "a chart's files are the chart's"
    );
    // YAML with apiVersion/kind words but no object, and broken YAML that is not a manifest.
    for text in [
        "apiVersion_notes: see kind docs\n",
        "- kind\n- apiVersion\n",
        "config: [apiVersion, kind\n",
    ] {
        let loaded = load(&[SourceFile::new("x.yaml", text)], &CTX);
        assert_eq!(loaded.unrecognised, vec!["x.yaml".to_owned()], "{text}");
        assert!(loaded.problems.is_empty(), "{text}: {:?}", loaded.problems);
    }
}

#[test]
fn recognised_objects_without_resources_still_count() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n";
    let parsed = parse_file(&SourceFile::new("cm.yaml", text), &CTX);
    assert!(matches!(parsed, Ok(Parsed::Kubernetes(_))), "{parsed:?}");
    let loaded = load(&[SourceFile::new("cm.yaml", text)], &CTX);
    assert_eq!(loaded.files.get("cm.yaml"), Some(&FileKind::Kubernetes));
    // A custom resource reusing a built-in kind name is not a workload.
    let crd = "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata:\n  name: j\nspec:\n  tasks: []\n";
    let loaded = load(&[SourceFile::new("crd.yaml", crd)], &CTX);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert!(loaded.resources.is_empty());
}

#[test]
fn deep_and_explosive_yaml_does_not_crash() {
    let deep = format!("apiVersion: v1\nkind: Pod\nx:\n{}y\n", "- ".repeat(3_000));
    let _ = load(&[SourceFile::new("deep.yaml", deep)], &CTX);
    let mut nested = String::from("apiVersion: v1\nkind: Pod\n");
    for i in 0..2_000 {
        nested.push_str(&" ".repeat(i));
        nested.push_str("a:\n");
    }
    let _ = load(&[SourceFile::new("nested.yaml", nested)], &CTX);
    let too_deep = format!("apiVersion: v1\nkind: Pod\nx: {}\n", "- ".repeat(20_000));
    let loaded = load(&[SourceFile::new("too-deep.yaml", too_deep)], &CTX);
    assert!(!loaded.problems.is_empty());
    let laughs = "apiVersion: v1\nkind: Pod\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let loaded = load(&[SourceFile::new("laughs.yaml", laughs)], &CTX);
    assert!(
        loaded
            .problems
            .iter()
            .any(|p| p.message.contains("aliases")),
        "{:?}",
        loaded.problems
    );
}

#[test]
fn multibyte_text_keeps_byte_spans() {
    let text = "# café ☕\napiVersion: v1\nkind: Pod\nmetadata:\n  name: é\nspec:\n  containers:\n    - name: ünïcode\n      image: x:1\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers: 3\n";
    let loaded = load(&[SourceFile::new("u.yaml", text)], &CTX);
    let p = &loaded.problems[0];
    let (offset, _, _) = p.span.clone().expect("span");
    assert!(text[offset..].starts_with("3\n"));
    assert_eq!(p.line, Some(15));
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
        let _ = parse_file(&SourceFile::new("p.yaml", text.clone()), &CTX);
        // The same text as a resource, a patch and a kustomization of its own.
        let _ = load(
            &[
                SourceFile::new("p.yaml", text.clone()),
                SourceFile::new("kustomization.yaml", "resources: [p.yaml, k]\npatches:\n  - path: p.yaml\n  - path: p.yaml\n    target: {kind: Pod}\nnamespace: n\nnamePrefix: x-\n"),
                SourceFile::new("k/kustomization.yaml", text),
            ],
            &CTX,
        );
    }
}

mod common;

/// A minimal hardened container spec, indented for `containers:` under a pod template.
const GOOD_CONTAINER: &str = "      containers:
        - name: app
          image: registry.acme.dev/app:1.0.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            runAsUser: 10001
          resources:
            limits: {cpu: 500m, memory: 256Mi}
";

fn deployment(name: &str, extra_pod: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n{extra_pod}{GOOD_CONTAINER}"
    )
}

/// Failing results of `control`, as (address, file, line).
fn failures(json: &serde_json::Value, control: &str) -> Vec<(String, String, u64)> {
    let mut out: Vec<(String, String, u64)> = common::results_of(json, control)
        .into_iter()
        .filter(|r| r["status"] == "fail")
        .map(|r| {
            let res = &r["resource"];
            (
                res["address"].as_str().unwrap_or_default().to_owned(),
                res["file"].as_str().unwrap_or_default().to_owned(),
                res["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

fn problems(json: &serde_json::Value) -> Vec<String> {
    json["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["message"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn overlays_with_one_name_are_two_resources() {
    let dev = deployment("app", "");
    let prod = deployment("app", "      hostNetwork: true\n");
    let dir = common::tree(&[
        ("overlays/dev/app.yaml", &dev),
        ("overlays/prod/app.yaml", &prod),
    ]);
    let (code, json, stderr) = common::check_json(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(problems(&json).is_empty(), "{:?}", problems(&json));
    assert_eq!(
        failures(&json, "k8s-no-host-namespaces"),
        vec![(
            "overlays/prod: Deployment/default/app".to_owned(),
            "overlays/prod/app.yaml".to_owned(),
            1
        )]
    );
    let k8s = &json["summary"]["kubernetes"];
    assert_eq!(k8s["units"], 2);
    assert_eq!(k8s["workloads"], 2);
}

#[test]
fn one_object_in_two_files_of_a_directory_is_addressed_by_file() {
    let a = deployment("app", "");
    let b = deployment("app", "      hostPID: true\n");
    let dir = common::tree(&[("bundle/install.yaml", &a), ("bundle/ha-install.yaml", &b)]);
    let (code, json, stderr) = common::check_json(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(problems(&json).is_empty(), "{:?}", problems(&json));
    assert_eq!(
        failures(&json, "k8s-no-host-namespaces"),
        vec![(
            "bundle/ha-install.yaml: Deployment/default/app".to_owned(),
            "bundle/ha-install.yaml".to_owned(),
            1
        )]
    );
    // Twice in one file is a mistake Kubernetes would silently resolve: a problem.
    let twice = format!("{a}---\n{b}");
    let dir = common::tree(&[("app.yaml", &twice)]);
    let (code, json, _) = common::check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        problems(&json)[0].contains("is declared more than once"),
        "{:?}",
        problems(&json)
    );
}

#[test]
fn merge_keys_and_anchors_are_resolved() {
    let text = "x-priv: &priv {privileged: true}\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: nginx:1\n      securityContext:\n        <<: *priv\n";
    let dir = common::tree(&[("pod.yaml", text)]);
    let (_, json, _) = common::check_json(dir.path(), &[]);
    assert_eq!(failures(&json, "k8s-no-privileged-containers").len(), 1);
}

#[test]
fn a_broken_document_is_a_problem_and_the_others_are_evaluated() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: nginx:1\n      securityContext: {privileged: true}\n---\napiVersion: v1\nkind: Pod\nmetadata: [name: q\n";
    let dir = common::tree(&[("pods.yaml", text)]);
    let (code, json, _) = common::check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(failures(&json, "k8s-no-privileged-containers").len(), 1);
    let p = &json["problems"][0];
    assert_eq!(p["file"], "pods.yaml");
    assert!(p["line"].as_u64().unwrap_or_default() >= 10, "{p}");
}

#[test]
fn a_template_outside_a_chart_with_a_yaml_error_is_a_problem() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n  labels: [\n";
    let dir = common::tree(&[("k8s/pod.yaml", text)]);
    let (code, json, _) = common::check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        json["problems"][0]["help"]
            .as_str()
            .unwrap_or_default()
            .contains("template")
    );
}

#[test]
fn lists_json_and_other_workload_kinds_are_read() {
    let list = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ReplicationController\n    metadata: {name: rc}\n    spec:\n      template:\n        spec:\n          hostIPC: true\n          containers: [{name: c, image: nginx:1}]\n  - apiVersion: v1\n    kind: PodTemplate\n    metadata: {name: tpl}\n    template:\n      spec:\n        containers: [{name: c, image: nginx:1}]\n";
    let json_manifest = r#"{"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig",
	"metadata": {"name": "dc"},
	"spec": {"template": {"spec": {"hostPID": true, "containers": [{"name": "c", "image": "nginx:1"}]}}}}"#;
    let dir = common::tree(&[("list.yaml", list), ("dc.json", json_manifest)]);
    let (_, json, stderr) = common::check_json(dir.path(), &[]);
    assert!(problems(&json).is_empty(), "{:?} {stderr}", problems(&json));
    let addresses: Vec<String> = failures(&json, "k8s-no-host-namespaces")
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(
        addresses,
        vec![
            "DeploymentConfig/default/dc",
            "ReplicationController/default/rc"
        ]
    );
    assert_eq!(json["summary"]["kubernetes"]["workloads"], 3);
    assert_eq!(json["files"]["dc.json"], "kubernetes");
}

#[test]
fn double_quoted_continuations_less_indented_are_accepted() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    note: \"a long\n  note\"\nspec:\n  hostNetwork: true\n  containers: [{name: c, image: nginx:1}]\n";
    let dir = common::tree(&[("pod.yaml", text)]);
    let (_, json, _) = common::check_json(dir.path(), &[]);
    assert!(problems(&json).is_empty(), "{:?}", problems(&json));
    assert_eq!(failures(&json, "k8s-no-host-namespaces").len(), 1);
}

#[test]
fn cluster_admin_for_whole_populations_is_a_finding() {
    for (kind, name) in [
        ("Group", "system:serviceaccounts:default"),
        ("Group", "system:authenticated"),
        ("Group", "system:unauthenticated"),
        ("User", "system:anonymous"),
    ] {
        let text = format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: b}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\nsubjects:\n  - {{kind: {kind}, name: \"{name}\", apiGroup: rbac.authorization.k8s.io}}\n"
        );
        let dir = common::tree(&[("rbac.yaml", &text)]);
        let (_, json, _) = common::check_json(dir.path(), &[]);
        assert_eq!(
            failures(&json, "k8s-no-cluster-admin-binding").len(),
            1,
            "{name}"
        );
    }
}

const BASE_KUSTOMIZATION: &str = "resources:\n  - deployment.yaml\n";

#[test]
fn a_kustomize_patch_finding_points_at_the_patch() {
    let base = deployment("app", "");
    let overlay = "resources:\n  - ../../base\nnamespace: shop\nnamePrefix: prod-\npatches:\n  - path: privileged.yaml\n";
    let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          securityContext:\n            privileged: true\n";
    let dir = common::tree(&[
        ("base/kustomization.yaml", BASE_KUSTOMIZATION),
        ("base/deployment.yaml", &base),
        ("overlays/prod/kustomization.yaml", overlay),
        ("overlays/prod/privileged.yaml", patch),
        (
            "overlays/dev/kustomization.yaml",
            "resources:\n  - ../../base\n",
        ),
    ]);
    let (code, json, stderr) = common::check_json(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(problems(&json).is_empty(), "{:?}", problems(&json));
    assert_eq!(
        failures(&json, "k8s-no-privileged-containers"),
        vec![(
            "overlays/prod: Deployment/shop/prod-app".to_owned(),
            "overlays/prod/privileged.yaml".to_owned(),
            11
        )]
    );
    // The base and the patch are not evaluated on their own: two units, two workloads.
    let k8s = &json["summary"]["kubernetes"];
    assert_eq!(
        (k8s["units"].as_u64(), k8s["workloads"].as_u64()),
        (Some(2), Some(2))
    );
    let addresses: Vec<String> = failures(&json, "k8s-run-as-high-uid")
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert!(addresses.is_empty(), "{addresses:?}");
}

#[test]
fn json6902_and_delete_patches_render() {
    let base = format!(
        "{}---\n{}",
        deployment("app", ""),
        deployment("debug", "      hostPID: true\n")
    );
    let overlay = "resources:\n  - ../base\npatches:\n  - path: delete-debug.yaml\n  - target: {kind: Deployment, name: app}\n    patch: |-\n      - op: add\n        path: /spec/template/spec/hostNetwork\n        value: true\n";
    let delete =
        "$patch: delete\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: debug\n";
    let dir = common::tree(&[
        ("base/kustomization.yaml", BASE_KUSTOMIZATION),
        ("base/deployment.yaml", &base),
        ("prod/kustomization.yaml", overlay),
        ("prod/delete-debug.yaml", delete),
    ]);
    let (_, json, stderr) = common::check_json(dir.path(), &[]);
    assert!(problems(&json).is_empty(), "{:?} {stderr}", problems(&json));
    // `debug` is deleted; `app` gets hostNetwork from the inline patch, at its line.
    assert_eq!(
        failures(&json, "k8s-no-host-namespaces"),
        vec![(
            "prod: Deployment/default/app".to_owned(),
            "prod/kustomization.yaml".to_owned(),
            9
        )]
    );
}

/// A chart whose template is not YAML until rendered.
const CHART: &[(&str, &str)] = &[
    (
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    ),
    ("charts/web/values.yaml", "hostNetwork: true\n"),
    (
        "charts/web/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  template:\n    spec:\n      hostNetwork: {{ .Values.hostNetwork }}\n      containers: [{name: web, image: nginx:1}]\n",
    ),
];

#[test]
fn a_chart_without_helm_is_listed_not_rendered() {
    let dir = common::tree(CHART);
    let out = common::vouch()
        .env_remove("VOUCH_HELM")
        .env("PATH", "/nonexistent")
        .args(["check", "--as-of", common::AS_OF, "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    // No inventory: organisation controls are not evaluated, nothing fails (exit 0); the chart is
    // no run failure (2).
    assert_eq!(out.status.code(), Some(0), "{}", json["summary"]);
    assert!(
        problems(&json).is_empty(),
        "templates are never read as plain YAML"
    );
    let k8s = &json["summary"]["kubernetes"];
    assert_eq!(k8s["charts_not_rendered"][0]["path"], "charts/web");
    assert!(
        k8s["charts_not_rendered"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("not installed")
    );
    assert_eq!(k8s["charts_rendered"].as_array().map(Vec::len), Some(0));
    assert!(
        json["unrecognised"].as_array().is_some_and(Vec::is_empty),
        "{}",
        json["unrecognised"]
    );
    let human = common::vouch()
        .env("PATH", "/nonexistent")
        .env_remove("VOUCH_HELM")
        .args(["check", "--as-of", common::AS_OF])
        .arg(dir.path())
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("not rendered: charts/web"), "{text}");
}

#[cfg(unix)]
#[test]
fn a_chart_is_rendered_with_helm_and_values() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::tree(CHART);
    // A stand-in for `helm template`: checks its arguments and prints what Helm would.
    let stub = dir.path().join("helm-stub.sh");
    std::fs::write(
        &stub,
        "#!/bin/sh\n[ \"$1\" = template ] || exit 3\ncase \"$*\" in *--values*extra.yaml*) ;; *) echo 'Error: no values' >&2; exit 1;; esac\nprintf -- '---\\n# Source: web/templates/deployment.yaml\\napiVersion: apps/v1\\nkind: Deployment\\nmetadata:\\n  name: release-name-web\\nspec:\\n  template:\\n    spec:\\n      hostNetwork: true\\n      containers: [{name: web, image: nginx:1}]\\n'\n",
    )
    .expect("stub");
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let values = dir.path().join("extra.yaml");
    std::fs::write(&values, "hostNetwork: true\n").expect("values");
    let (code, json, stderr) = {
        let out = common::vouch()
            .env("VOUCH_HELM", &stub)
            .args([
                "check",
                "--as-of",
                common::AS_OF,
                "--format",
                "json",
                "--helm-values",
            ])
            .arg(&values)
            .arg(dir.path())
            .output()
            .expect("runs");
        (
            out.status.code(),
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(1), "{stderr} {}", json["summary"]);
    assert_eq!(
        json["summary"]["kubernetes"]["charts_rendered"][0],
        "charts/web"
    );
    assert_eq!(
        failures(&json, "k8s-no-host-namespaces"),
        vec![(
            "charts/web: Deployment/default/release-name-web".to_owned(),
            "charts/web/templates/deployment.yaml".to_owned(),
            1
        )]
    );
    // Helm failing (here: no values file given) lists the chart as not rendered, with why.
    let out = common::vouch()
        .env("VOUCH_HELM", &stub)
        .args(["check", "--as-of", common::AS_OF, "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        out.status.code(),
        Some(0),
        "a chart Helm cannot render is no run failure"
    );
    assert!(
        json["summary"]["kubernetes"]["charts_not_rendered"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("no values"),
        "{json}"
    );
}

/// Failing (control, address) pairs of a JSON assessment, with `unit: ` stripped for `unit`.
fn failing_in_unit(
    json: &serde_json::Value,
    unit: Option<&str>,
) -> std::collections::BTreeSet<(String, String)> {
    json["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["status"] == "fail")
        .filter_map(|r| {
            let address = r["resource"]["address"].as_str()?;
            let id = match unit {
                Some(u) => address.strip_prefix(&format!("{u}: "))?,
                None => address,
            };
            Some((r["control"].as_str()?.to_owned(), id.to_owned()))
        })
        .collect()
}

/// The built-in renderer against the real one: for every overlay of the fixture, the findings
/// on vouch's rendering equal the findings on `kubectl kustomize`'s output read as plain
/// manifests. Needs kubectl (scripts/test installs Debian's `kubernetes-client` if missing).
#[test]
fn kustomize_renders_as_kubectl_kustomize_does() {
    if !common::consumer_available("kubectl", "kustomize_renders_as_kubectl_kustomize_does") {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubernetes/kustomize");
    assert!(
        std::process::Command::new("kubectl")
            .args(["version", "--client"])
            .output()
            .is_ok(),
        "kubectl is needed (scripts/test installs Debian's kubernetes-client)"
    );
    let (_, ours, stderr) = common::check_json(&root, &[]);
    assert!(problems(&ours).is_empty(), "{:?} {stderr}", problems(&ours));
    for overlay in ["overlays/prod", "overlays/dev"] {
        let rendered = std::process::Command::new("kubectl")
            .args(["kustomize"])
            .arg(root.join(overlay))
            .output()
            .expect("kubectl runs");
        assert!(
            rendered.status.success(),
            "{}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        let dir = common::tree(&[("all.yaml", &String::from_utf8_lossy(&rendered.stdout))]);
        let (_, theirs, _) = common::check_json(dir.path(), &[]);
        let expected = failing_in_unit(&theirs, None);
        assert!(expected.len() > 5, "{overlay}: {expected:?}");
        assert_eq!(failing_in_unit(&ours, Some(overlay)), expected, "{overlay}");
    }
}
