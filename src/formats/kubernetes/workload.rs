//! Workloads (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob): the pod spec
//! and the derived per-container facts of `K8s::Workload`.

use std::collections::BTreeSet;

use super::Object;
use super::yaml::{Node, Place, Source, field, has};
use crate::model::{Resource, Value};

/// The path from the object to its pod spec, by kind.
pub(super) fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&["spec"]),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            Some(&["spec", "template", "spec"])
        }
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

/// Capabilities a container may add without counting as "added capabilities".
const HARMLESS_CAPABILITIES: &[&str] = &["NET_BIND_SERVICE"];

/// Builds the `K8s::Workload` of a workload object, or records why it cannot.
pub(super) fn workload(src: &mut Source<'_>, obj: &Object<'_, '_>) -> Option<Resource> {
    let path = pod_spec_path(obj.kind)?;
    let place = Place::new(obj.kind, &obj.name);
    let mut node = obj.node;
    let mut walked = String::new();
    for key in path {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(key);
        match src.map(node, key, &walked, &place) {
            Some(next) => node = next,
            None => {
                if !has(node, key) {
                    src.problem(
                        node,
                        format!("{} `{}` has no `{walked}`", obj.kind, obj.name),
                        "the pod spec belongs here",
                    );
                }
                return None;
            }
        }
    }
    let spec_path = path.join(".");
    let facts = PodFacts::read(src, node, &spec_path, &place);
    let mut r = Resource::new(
        "K8s::Workload",
        format!("k8s:{}/{}/{}", obj.kind, obj.namespace, obj.name),
        src.span(obj.node),
    );
    r.set("kind", Value::str(obj.kind));
    r.set("namespace", Value::str(&obj.namespace));
    r.set("name", Value::str(&obj.name));
    facts.write(&mut r);
    Some(r)
}

/// The security-relevant facts of one pod spec.
#[derive(Default)]
struct PodFacts {
    privileged: BTreeSet<String>,
    root: BTreeSet<String>,
    escalation: BTreeSet<String>,
    without_limits: BTreeSet<String>,
    added_capabilities: BTreeSet<String>,
    latest_image: BTreeSet<String>,
    writable_root: BTreeSet<String>,
    host_network: bool,
    host_pid: bool,
    host_ipc: bool,
    host_path_volumes: BTreeSet<String>,
    token_mounted: bool,
}

/// The pod-level defaults a container inherits.
#[derive(Default, Clone, Copy)]
struct PodSecurity {
    run_as_non_root: Option<bool>,
    run_as_user: Option<i64>,
}

impl PodFacts {
    fn read(src: &mut Source<'_>, spec: &Node<'_>, spec_path: &str, place: &Place) -> Self {
        let mut facts = PodFacts {
            host_network: src
                .boolean(
                    spec,
                    "hostNetwork",
                    &format!("{spec_path}.hostNetwork"),
                    place,
                )
                .unwrap_or(false),
            host_pid: src
                .boolean(spec, "hostPID", &format!("{spec_path}.hostPID"), place)
                .unwrap_or(false),
            host_ipc: src
                .boolean(spec, "hostIPC", &format!("{spec_path}.hostIPC"), place)
                .unwrap_or(false),
            token_mounted: src
                .boolean(
                    spec,
                    "automountServiceAccountToken",
                    &format!("{spec_path}.automountServiceAccountToken"),
                    place,
                )
                .unwrap_or(true),
            ..PodFacts::default()
        };
        let mut pod = PodSecurity::default();
        let ctx_path = format!("{spec_path}.securityContext");
        if let Some(ctx) = src.map(spec, "securityContext", &ctx_path, place) {
            pod.run_as_non_root = src.boolean(
                ctx,
                "runAsNonRoot",
                &format!("{ctx_path}.runAsNonRoot"),
                place,
            );
            pod.run_as_user =
                src.integer(ctx, "runAsUser", &format!("{ctx_path}.runAsUser"), place);
        }
        if !has(spec, "containers") {
            src.problem(
                spec,
                format!("`{spec_path}.containers` is missing {}", place.what),
                "a pod spec needs at least one container",
            );
        }
        for key in ["containers", "initContainers", "ephemeralContainers"] {
            let list_path = format!("{spec_path}.{key}");
            for (i, c) in src.list(spec, key, &list_path, place).iter().enumerate() {
                let item_path = format!("{list_path}[{i}]");
                facts.container(src, c, &item_path, place, pod, key == "ephemeralContainers");
            }
        }
        let volumes_path = format!("{spec_path}.volumes");
        for (i, v) in src
            .list(spec, "volumes", &volumes_path, place)
            .iter()
            .enumerate()
        {
            let item_path = format!("{volumes_path}[{i}]");
            if !is_mapping(v) {
                src.problem(
                    v,
                    format!("`{item_path}` {} must be a mapping", place.what),
                    "expected a volume",
                );
                continue;
            }
            let name = src.string(v, "name", &format!("{item_path}.name"), place);
            if has(v, "hostPath") {
                facts
                    .host_path_volumes
                    .insert(name.unwrap_or_default().to_owned());
            }
        }
        facts
    }

    fn container(
        &mut self,
        src: &mut Source<'_>,
        c: &Node<'_>,
        path: &str,
        place: &Place,
        pod: PodSecurity,
        ephemeral: bool,
    ) {
        if !is_mapping(c) {
            src.problem(
                c,
                format!("`{path}` {} must be a mapping", place.what),
                "expected a container",
            );
            return;
        }
        let name = match src.string(c, "name", &format!("{path}.name"), place) {
            Some(n) => n.to_owned(),
            None => {
                if !has(c, "name") {
                    src.problem(
                        c,
                        format!("`{path}` {} has no `name`", place.what),
                        "every container needs a name",
                    );
                }
                return;
            }
        };
        let ctx_path = format!("{path}.securityContext");
        let ctx = src.map(c, "securityContext", &ctx_path, place);
        let mut privileged = false;
        let mut escalation = None;
        let mut read_only_root = None;
        let mut non_root = None;
        let mut user = None;
        let mut added = Vec::new();
        if let Some(ctx) = ctx {
            let p = |k: &str| format!("{ctx_path}.{k}");
            privileged = src
                .boolean(ctx, "privileged", &p("privileged"), place)
                .unwrap_or(false);
            escalation = src.boolean(
                ctx,
                "allowPrivilegeEscalation",
                &p("allowPrivilegeEscalation"),
                place,
            );
            read_only_root = src.boolean(
                ctx,
                "readOnlyRootFilesystem",
                &p("readOnlyRootFilesystem"),
                place,
            );
            non_root = src.boolean(ctx, "runAsNonRoot", &p("runAsNonRoot"), place);
            user = src.integer(ctx, "runAsUser", &p("runAsUser"), place);
            let caps_path = p("capabilities");
            if let Some(caps) = src.map(ctx, "capabilities", &caps_path, place) {
                added = src
                    .strings(caps, "add", &format!("{caps_path}.add"), place)
                    .into_iter()
                    .map(normalise_capability)
                    .collect();
            }
        }
        // Container settings override the pod's; runAsUser 0 is root whatever runAsNonRoot says.
        let user = user.or(pod.run_as_user);
        let non_root = non_root.or(pod.run_as_non_root).unwrap_or(false);
        let runs_as_root = match user {
            Some(uid) => uid <= 0,
            None => !non_root,
        };
        let sys_admin = added.iter().any(|c| c == "SYS_ADMIN");
        if privileged {
            self.privileged.insert(name.clone());
        }
        if runs_as_root {
            self.root.insert(name.clone());
        }
        // Escalation is allowed unless explicitly off, and always for privileged or
        // CAP_SYS_ADMIN containers (Kubernetes forces it on).
        if privileged || sys_admin || escalation != Some(false) {
            self.escalation.insert(name.clone());
        }
        if added
            .iter()
            .any(|c| !HARMLESS_CAPABILITIES.contains(&c.as_str()))
        {
            self.added_capabilities.insert(name.clone());
        }
        if read_only_root != Some(true) {
            self.writable_root.insert(name.clone());
        }
        // Ephemeral (debug) containers cannot declare resources at all.
        if !ephemeral && !has_limits(src, c, path, place) {
            self.without_limits.insert(name.clone());
        }
        if let Some(image) = src.string(c, "image", &format!("{path}.image"), place)
            && image_is_latest(image)
        {
            self.latest_image.insert(name);
        }
    }

    fn write(self, r: &mut Resource) {
        r.set("privileged_containers", Value::string_set(self.privileged));
        r.set("root_containers", Value::string_set(self.root));
        r.set("escalation_containers", Value::string_set(self.escalation));
        r.set(
            "containers_without_limits",
            Value::string_set(self.without_limits),
        );
        r.set(
            "containers_with_added_capabilities",
            Value::string_set(self.added_capabilities),
        );
        r.set(
            "containers_latest_image",
            Value::string_set(self.latest_image),
        );
        r.set(
            "writable_root_containers",
            Value::string_set(self.writable_root),
        );
        r.set("host_network", Value::Bool(self.host_network));
        r.set("host_pid", Value::Bool(self.host_pid));
        r.set("host_ipc", Value::Bool(self.host_ipc));
        r.set(
            "host_path_volumes",
            Value::string_set(self.host_path_volumes),
        );
        r.set(
            "service_account_token_mounted",
            Value::Bool(self.token_mounted),
        );
    }
}

fn is_mapping(node: &Node<'_>) -> bool {
    matches!(super::yaml::untag(node).data, saphyr::YamlData::Mapping(_))
}

/// True when the container limits both CPU and memory.
fn has_limits(src: &mut Source<'_>, c: &Node<'_>, path: &str, place: &Place) -> bool {
    let res_path = format!("{path}.resources");
    let Some(resources) = src.map(c, "resources", &res_path, place) else {
        return false;
    };
    let limits_path = format!("{res_path}.limits");
    let Some(limits) = src.map(resources, "limits", &limits_path, place) else {
        return false;
    };
    field(limits, "cpu").is_some() && field(limits, "memory").is_some()
}

/// `CAP_SYS_ADMIN`, `sys_admin` → `SYS_ADMIN`.
fn normalise_capability(cap: &str) -> String {
    let upper = cap.trim().to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(rest) => rest.to_owned(),
        None => upper,
    }
}

/// True when an image reference floats: tag `latest`, or neither a tag nor a digest.
pub(super) fn image_is_latest(image: &str) -> bool {
    let image = image.trim();
    if image.is_empty() {
        return false;
    }
    if image.contains('@') {
        return false;
    }
    // The tag follows the last `:` of the last path segment (`host:5000/app` has no tag).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) => tag == "latest",
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::{image_is_latest, normalise_capability};

    #[test]
    fn image_tags() {
        assert!(image_is_latest("nginx"));
        assert!(image_is_latest("nginx:latest"));
        assert!(image_is_latest("registry.local:5000/team/app"));
        assert!(!image_is_latest("registry.local:5000/team/app:1.2"));
        assert!(!image_is_latest("nginx@sha256:abcd"));
        assert!(!image_is_latest("nginx:1.25@sha256:abcd"));
        assert!(!image_is_latest("nginx:1.25"));
    }

    #[test]
    fn capabilities() {
        assert_eq!(normalise_capability("CAP_SYS_ADMIN"), "SYS_ADMIN");
        assert_eq!(normalise_capability("net_raw"), "NET_RAW");
    }
}
