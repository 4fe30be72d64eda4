//! Workloads (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
//! CronJob, PodTemplate, OpenShift DeploymentConfig): the pod spec and the derived
//! per-container facts of `K8s::Workload`.

use std::collections::{BTreeMap, BTreeSet};

use super::Object;
use super::read::{Place, Reader};
use super::tree::At;
use crate::model::{Resource, Span, Value};

/// The path from the object to its pod spec, by kind.
pub(super) fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&["spec"]),
        "PodTemplate" => Some(&["template", "spec"]),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job"
        | "DeploymentConfig" => Some(&["spec", "template", "spec"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

/// UIDs below this may collide with host users (Checkov CKV_K8S_40).
const HIGH_UID: i64 = 10_000;

/// Capabilities a container may add without counting as "added capabilities".
const HARMLESS_CAPABILITIES: &[&str] = &["NET_BIND_SERVICE"];

/// Builds the `K8s::Workload` of a workload object, or records why it cannot.
pub(super) fn workload(rd: &mut Reader, obj: &Object<'_>) -> Option<Resource> {
    let path = pod_spec_path(obj.kind)?;
    let place = Place::new(obj.kind, &obj.name);
    let mut at = obj.at;
    let mut walked = String::new();
    for key in path {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(key);
        match rd.map(at, key, &walked, &place) {
            Some(next) => at = next,
            None => {
                if at.field(key).is_none() {
                    rd.problem(
                        at,
                        format!("{} `{}` has no `{walked}`", obj.kind, obj.name),
                        "the pod spec belongs here",
                    );
                }
                return None;
            }
        }
    }
    let spec_path = path.join(".");
    let facts = PodFacts::read(rd, at, &spec_path, &place, obj);
    let mut r = Resource::new("K8s::Workload", obj.address(), obj.at.span());
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
    low_uid: BTreeSet<String>,
    /// Containers with no `runAsUser` anywhere: the image decides their UID.
    image_uid: BTreeSet<String>,
    host_network: bool,
    host_pid: bool,
    host_ipc: bool,
    host_path_volumes: BTreeSet<String>,
    token_mounted: bool,
    /// Where a deciding value was written, when another file than the object's wrote it (a
    /// Kustomize patch): findings about the attribute point there.
    spans: BTreeMap<&'static str, Span>,
}

/// The pod-level defaults a container inherits.
#[derive(Default, Clone, Copy)]
struct PodSecurity<'a> {
    run_as_non_root: Option<(bool, At<'a>)>,
    run_as_user: Option<(i64, At<'a>)>,
}

impl PodFacts {
    /// Remembers where the value deciding `attr` was written, if not in the object's file.
    fn note(&mut self, obj: &Object<'_>, attr: &'static str, at: At<'_>) {
        if !std::sync::Arc::ptr_eq(at.origin, obj.at.origin) && !self.spans.contains_key(attr) {
            self.spans.insert(attr, at.span());
        }
    }

    fn read(
        rd: &mut Reader,
        spec: At<'_>,
        spec_path: &str,
        place: &Place,
        obj: &Object<'_>,
    ) -> Self {
        let mut facts = PodFacts {
            token_mounted: true,
            ..PodFacts::default()
        };
        for (key, attr) in [
            ("hostNetwork", "host_network"),
            ("hostPID", "host_pid"),
            ("hostIPC", "host_ipc"),
        ] {
            if let Some((true, at)) = rd.boolean_at(spec, key, &format!("{spec_path}.{key}"), place)
            {
                match key {
                    "hostNetwork" => facts.host_network = true,
                    "hostPID" => facts.host_pid = true,
                    _ => facts.host_ipc = true,
                }
                facts.note(obj, attr, at);
            }
        }
        if let Some((false, _)) = rd.boolean_at(
            spec,
            "automountServiceAccountToken",
            &format!("{spec_path}.automountServiceAccountToken"),
            place,
        ) {
            facts.token_mounted = false;
        }
        let mut pod = PodSecurity::default();
        let ctx_path = format!("{spec_path}.securityContext");
        if let Some(ctx) = rd.map(spec, "securityContext", &ctx_path, place) {
            pod.run_as_non_root = rd.boolean_at(
                ctx,
                "runAsNonRoot",
                &format!("{ctx_path}.runAsNonRoot"),
                place,
            );
            let user_path = format!("{ctx_path}.runAsUser");
            pod.run_as_user = ctx.field("runAsUser").and_then(|at| {
                rd.integer(ctx, "runAsUser", &user_path, place)
                    .map(|n| (n, at))
            });
        }
        if spec.field("containers").is_none() {
            rd.problem(
                spec,
                format!("`{spec_path}.containers` is missing {}", place.what),
                "a pod spec needs at least one container",
            );
        }
        for key in ["containers", "initContainers", "ephemeralContainers"] {
            let list_path = format!("{spec_path}.{key}");
            for (i, c) in rd
                .list(spec, key, &list_path, place)
                .into_iter()
                .enumerate()
            {
                let item_path = format!("{list_path}[{i}]");
                facts.container(
                    rd,
                    c,
                    &item_path,
                    place,
                    pod,
                    key == "ephemeralContainers",
                    obj,
                );
            }
        }
        let volumes_path = format!("{spec_path}.volumes");
        for (i, v) in rd
            .list(spec, "volumes", &volumes_path, place)
            .into_iter()
            .enumerate()
        {
            let item_path = format!("{volumes_path}[{i}]");
            if !v.node.is_map() {
                rd.problem(
                    v,
                    format!("`{item_path}` {} must be a mapping", place.what),
                    "expected a volume",
                );
                continue;
            }
            let name = rd.string(v, "name", &format!("{item_path}.name"), place);
            if let Some(host) = v.field("hostPath") {
                facts
                    .host_path_volumes
                    .insert(name.unwrap_or_default().to_owned());
                facts.note(obj, "host_path_volumes", host);
            }
        }
        facts
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one container's context, read once"
    )]
    fn container(
        &mut self,
        rd: &mut Reader,
        c: At<'_>,
        path: &str,
        place: &Place,
        pod: PodSecurity<'_>,
        ephemeral: bool,
        obj: &Object<'_>,
    ) {
        if !c.node.is_map() {
            rd.problem(
                c,
                format!("`{path}` {} must be a mapping", place.what),
                "expected a container",
            );
            return;
        }
        let name = match rd.string(c, "name", &format!("{path}.name"), place) {
            Some(n) => n.to_owned(),
            None => {
                if c.field("name").is_none() {
                    rd.problem(
                        c,
                        format!("`{path}` {} has no `name`", place.what),
                        "every container needs a name",
                    );
                }
                return;
            }
        };
        let ctx_path = format!("{path}.securityContext");
        let ctx = rd.map(c, "securityContext", &ctx_path, place);
        let mut privileged = None;
        let mut escalation = None;
        let mut read_only_root = None;
        let mut non_root = None;
        let mut user = None;
        let mut added = Vec::new();
        let mut added_at = None;
        if let Some(ctx) = ctx {
            let p = |k: &str| format!("{ctx_path}.{k}");
            privileged = rd.boolean_at(ctx, "privileged", &p("privileged"), place);
            escalation = rd.boolean_at(
                ctx,
                "allowPrivilegeEscalation",
                &p("allowPrivilegeEscalation"),
                place,
            );
            read_only_root = rd.boolean_at(
                ctx,
                "readOnlyRootFilesystem",
                &p("readOnlyRootFilesystem"),
                place,
            );
            non_root = rd.boolean_at(ctx, "runAsNonRoot", &p("runAsNonRoot"), place);
            user = ctx.field("runAsUser").and_then(|at| {
                rd.integer(ctx, "runAsUser", &p("runAsUser"), place)
                    .map(|n| (n, at))
            });
            let caps_path = p("capabilities");
            if let Some(caps) = rd.map(ctx, "capabilities", &caps_path, place) {
                added_at = caps.field("add");
                added = rd
                    .strings(caps, "add", &format!("{caps_path}.add"), place)
                    .into_iter()
                    .map(normalise_capability)
                    .collect();
            }
        }
        // Container settings override the pod's; runAsUser 0 is root whatever runAsNonRoot says.
        let user = user.or(pod.run_as_user);
        let non_root = non_root.or(pod.run_as_non_root);
        let runs_as_root = match (user, non_root) {
            (Some((uid, at)), _) => (uid <= 0).then_some(Some(at)),
            (None, Some((true, _))) => None,
            (None, Some((false, at))) => Some(Some(at)),
            (None, None) => Some(None),
        };
        let sys_admin = added.iter().any(|c| c == "SYS_ADMIN");
        if let Some((true, at)) = privileged {
            self.privileged.insert(name.clone());
            self.note(obj, "privileged_containers", at);
        }
        if let Some(decided) = runs_as_root {
            self.root.insert(name.clone());
            if let Some(at) = decided {
                self.note(obj, "root_containers", at);
            }
        }
        match user {
            Some((uid, at)) if uid < HIGH_UID => {
                self.low_uid.insert(name.clone());
                self.note(obj, "low_uid_containers", at);
            }
            Some(_) => {}
            None => {
                self.image_uid.insert(name.clone());
            }
        }
        // Escalation is allowed unless explicitly off, and always for privileged or
        // CAP_SYS_ADMIN containers (Kubernetes forces it on).
        let privileged = privileged.is_some_and(|(p, _)| p);
        if privileged || sys_admin || escalation.is_none_or(|(e, _)| e) {
            self.escalation.insert(name.clone());
            if let Some((_, at)) = escalation {
                self.note(obj, "escalation_containers", at);
            }
        }
        if added
            .iter()
            .any(|c| !HARMLESS_CAPABILITIES.contains(&c.as_str()))
        {
            self.added_capabilities.insert(name.clone());
            if let Some(at) = added_at {
                self.note(obj, "containers_with_added_capabilities", at);
            }
        }
        if read_only_root.is_none_or(|(r, _)| !r) {
            self.writable_root.insert(name.clone());
            if let Some((_, at)) = read_only_root {
                self.note(obj, "writable_root_containers", at);
            }
        }
        // Ephemeral (debug) containers cannot declare resources at all.
        if !ephemeral && !has_limits(rd, c, path, place) {
            self.without_limits.insert(name.clone());
        }
        if let Some(image) = rd.string(c, "image", &format!("{path}.image"), place)
            && image_is_latest(image)
        {
            self.latest_image.insert(name);
            if let Some(at) = c.field("image") {
                self.note(obj, "containers_latest_image", at);
            }
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
        r.set("low_uid_containers", Value::string_set(self.low_uid));
        if self.image_uid.is_empty() {
            r.set("uids_set", Value::Bool(true));
        } else {
            let names: Vec<String> = self.image_uid.iter().map(|n| format!("`{n}`")).collect();
            r.set(
                "uids_set",
                Value::unknown(format!(
                    "no `runAsUser` is set for container {}: its image's USER decides the UID, which the manifest does not show",
                    names.join(", ")
                )),
            );
        }
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
        r.attr_spans = self
            .spans
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    }
}

/// True when the container limits both CPU and memory.
fn has_limits(rd: &mut Reader, c: At<'_>, path: &str, place: &Place) -> bool {
    let res_path = format!("{path}.resources");
    let Some(resources) = rd.map(c, "resources", &res_path, place) else {
        return false;
    };
    let limits_path = format!("{res_path}.limits");
    let Some(limits) = rd.map(resources, "limits", &limits_path, place) else {
        return false;
    };
    limits.field("cpu").is_some() && limits.field("memory").is_some()
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
