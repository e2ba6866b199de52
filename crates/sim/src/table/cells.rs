//! Each kind's columns and the cells of one object, as the API server's
//! printers compute them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Column, col, since};
use crate::resources::Resource;

const NAME: Column = col("Name", "string", 0, "Name must be unique within a namespace.");
const AGE: Column = col(
    "Age",
    "string",
    0,
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
);
const CREATED_AT: Column = col(
    "Created At",
    "date",
    0,
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
);
const CONTAINERS: Column = col("Containers", "string", 1, "Names of each container in the template.");
const IMAGES: Column = col(
    "Images",
    "string",
    1,
    "Images referenced by each container in the template.",
);
const SELECTOR: Column = col("Selector", "string", 1, "A label query over pods.");

const POD: &[Column] = &[
    NAME,
    col(
        "Ready",
        "string",
        0,
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        0,
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        0,
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    col("IP", "string", 1, "IP address allocated to the pod."),
    col("Node", "string", 1, "The node this pod is scheduled to."),
    col(
        "Nominated Node",
        "string",
        1,
        "The node this pod is nominated to by preemption.",
    ),
    col(
        "Readiness Gates",
        "string",
        1,
        "Readiness gates met of those the pod has.",
    ),
];
const DEPLOYMENT: &[Column] = &[
    NAME,
    col("Ready", "string", 0, "Number of the pod with ready state"),
    col(
        "Up-to-date",
        "string",
        0,
        "Total number of pods targeted by this deployment that have the desired template.",
    ),
    col(
        "Available",
        "string",
        0,
        "Total number of available pods targeted by this deployment.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];
const REPLICASET: &[Column] = &[
    NAME,
    col("Desired", "integer", 0, "Replicas is the number of desired pods."),
    col(
        "Current",
        "integer",
        0,
        "Replicas is the most recently observed number of replicas.",
    ),
    col(
        "Ready",
        "integer",
        0,
        "The number of ready replicas for this replica set.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];
const STATEFULSET: &[Column] = &[
    NAME,
    col("Ready", "string", 0, "Number of the pod with ready state"),
    AGE,
    CONTAINERS,
    IMAGES,
];
const SERVICE: &[Column] = &[
    NAME,
    col("Type", "string", 0, "type determines how the Service is exposed."),
    col("Cluster-IP", "string", 0, "The IP address of the service."),
    col(
        "External-IP",
        "string",
        0,
        "IP addresses for which nodes in the cluster also accept traffic for this service.",
    ),
    col(
        "Port(s)",
        "string",
        0,
        "The list of ports that are exposed by this service.",
    ),
    AGE,
    col(
        "Selector",
        "string",
        1,
        "Route service traffic to pods with label keys and values matching this selector.",
    ),
];
const INGRESS: &[Column] = &[
    NAME,
    col(
        "Class",
        "string",
        0,
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    col(
        "Hosts",
        "string",
        0,
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        0,
        "Address is a list containing ingress points for the load-balancer",
    ),
    col("Ports", "string", 0, "Ports of TLS configurations that open"),
    AGE,
];
const INGRESS_CLASS: &[Column] = &[
    NAME,
    col(
        "Controller",
        "string",
        0,
        "Controller that is responsible for handling this class",
    ),
    col(
        "Parameters",
        "string",
        0,
        "A reference to a resource with additional parameters",
    ),
    AGE,
];
const ENDPOINTS: &[Column] = &[
    NAME,
    col(
        "Endpoints",
        "string",
        0,
        "The set of all endpoints is the union of all subsets.",
    ),
    AGE,
];
const NAMESPACE: &[Column] = &[NAME, col("Status", "string", 0, "The status of the namespace"), AGE];
const SECRET: &[Column] = &[
    NAME,
    col(
        "Type",
        "string",
        0,
        "Used to facilitate programmatic handling of secret data.",
    ),
    col("Data", "string", 0, "Data contains the secret data."),
    AGE,
];
const CONFIGMAP: &[Column] = &[
    NAME,
    col("Data", "string", 0, "Data contains the configuration data."),
    AGE,
];
const SERVICE_ACCOUNT: &[Column] = &[
    NAME,
    col(
        "Secrets",
        "string",
        0,
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    ),
    AGE,
];
const PVC: &[Column] = &[
    NAME,
    col(
        "Status",
        "string",
        0,
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    col(
        "Volume",
        "string",
        0,
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    col(
        "Capacity",
        "string",
        0,
        "capacity represents the actual resources of the underlying volume.",
    ),
    col(
        "Access Modes",
        "string",
        0,
        "accessModes contains the actual access modes the volume backing the PVC has.",
    ),
    col("StorageClass", "string", 0, "StorageClass of the pvc"),
    col("VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pvc"),
    AGE,
    col(
        "VolumeMode",
        "string",
        1,
        "volumeMode defines what type of volume is required by the claim.",
    ),
];
const PV: &[Column] = &[
    NAME,
    col(
        "Capacity",
        "string",
        0,
        "capacity is the description of the persistent volume's resources and capacity.",
    ),
    col(
        "Access Modes",
        "string",
        0,
        "accessModes contains all ways the volume can be mounted.",
    ),
    col(
        "Reclaim Policy",
        "string",
        0,
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
    ),
    col(
        "Status",
        "string",
        0,
        "phase indicates if a volume is available, bound to a claim, or released by a claim.",
    ),
    col(
        "Claim",
        "string",
        0,
        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
    ),
    col("StorageClass", "string", 0, "StorageClass of the pv"),
    col("VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pv"),
    col(
        "Reason",
        "string",
        0,
        "reason is a brief CamelCase string that describes any failure.",
    ),
    AGE,
    col(
        "VolumeMode",
        "string",
        1,
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
    ),
];
const EVENT: &[Column] = &[
    col(
        "Last Seen",
        "string",
        0,
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    col("Type", "string", 0, "Type of this event (Normal, Warning)."),
    col(
        "Reason",
        "string",
        0,
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", "string", 0, "The object that this event is about."),
    col("Subobject", "string", 1, "The field of the object this event is about."),
    col("Source", "string", 1, "The component reporting this event."),
    col(
        "Message",
        "string",
        0,
        "A human-readable description of the status of this operation.",
    ),
    col(
        "First Seen",
        "string",
        1,
        "The time at which the event was first recorded.",
    ),
    col("Count", "string", 1, "The number of times this event has occurred."),
    col("Name", "string", 1, "Name must be unique within a namespace."),
];
const QUOTA: &[Column] = &[
    NAME,
    AGE,
    col(
        "Request",
        "string",
        0,
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    col(
        "Limit",
        "string",
        0,
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
];
const STORAGE_CLASS: &[Column] = &[
    NAME,
    col(
        "Provisioner",
        "string",
        0,
        "provisioner indicates the type of the provisioner.",
    ),
    col(
        "ReclaimPolicy",
        "string",
        0,
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
    ),
    col(
        "VolumeBindingMode",
        "string",
        0,
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
    ),
    col(
        "AllowVolumeExpansion",
        "string",
        0,
        "allowVolumeExpansion shows whether the storage class allow volume expand.",
    ),
    AGE,
];
const HPA: &[Column] = &[
    NAME,
    col(
        "Reference",
        "string",
        0,
        "scaleTargetRef points to the target resource to scale.",
    ),
    col(
        "Targets",
        "string",
        0,
        "metrics contains the specifications for which to use to calculate the desired replica count.",
    ),
    col(
        "MinPods",
        "string",
        0,
        "minReplicas is the lower limit for the number of replicas.",
    ),
    col(
        "MaxPods",
        "string",
        0,
        "maxReplicas is the upper limit for the number of replicas.",
    ),
    col(
        "Replicas",
        "string",
        0,
        "currentReplicas is current number of replicas of pods managed by this autoscaler.",
    ),
    AGE,
];
const CONTROLLER_REVISION: &[Column] = &[
    NAME,
    col("Controller", "string", 0, "Controller of the object"),
    col(
        "Revision",
        "string",
        0,
        "Revision indicates the revision of the state represented by Data.",
    ),
    AGE,
];
const BINDING: &[Column] = &[
    NAME,
    col(
        "Role",
        "string",
        0,
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
    ),
    AGE,
    col("Users", "string", 1, "Users in the roleBinding"),
    col("Groups", "string", 1, "Groups in the roleBinding"),
    col("ServiceAccounts", "string", 1, "ServiceAccounts in the roleBinding"),
];
const RUN: &[Column] = &[
    NAME,
    col(
        "Succeeded",
        "string",
        0,
        ".status.conditions[?(@.type==\"Succeeded\")].status",
    ),
    col(
        "Reason",
        "string",
        0,
        ".status.conditions[?(@.type==\"Succeeded\")].reason",
    ),
    col("StartTime", "date", 0, ".status.startTime"),
    col("CompletionTime", "date", 0, ".status.completionTime"),
];
const EVENT_LISTENER: &[Column] = &[
    NAME,
    col("Address", "string", 0, ".status.address.url"),
    col(
        "Available",
        "string",
        0,
        ".status.conditions[?(@.type=='Available')].status",
    ),
    col(
        "Reason",
        "string",
        0,
        ".status.conditions[?(@.type=='Available')].reason",
    ),
    col("Ready", "string", 0, ".status.conditions[?(@.type=='Ready')].status"),
    col("Reason", "string", 0, ".status.conditions[?(@.type=='Ready')].reason"),
];
const DAEMONSET: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        0,
        "The total number of nodes that should be running the daemon pod.",
    ),
    col(
        "Current",
        "integer",
        0,
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
    ),
    col(
        "Ready",
        "integer",
        0,
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
    ),
    col(
        "Up-to-date",
        "integer",
        0,
        "The total number of nodes that are running updated daemon pod.",
    ),
    col(
        "Available",
        "integer",
        0,
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
    ),
    col(
        "Node Selector",
        "string",
        0,
        "NodeSelector is a selector which must be true for the pod to fit on a node.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];
const JOB: &[Column] = &[
    NAME,
    col("Status", "string", 0, "Status of the job."),
    col(
        "Completions",
        "string",
        0,
        "The number of pods which reached phase Succeeded.",
    ),
    col("Duration", "string", 0, "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];
const CRONJOB: &[Column] = &[
    NAME,
    col("Schedule", "string", 0, "The schedule in Cron format."),
    col("Timezone", "string", 0, "The time zone name for the given schedule."),
    col(
        "Suspend",
        "boolean",
        0,
        "This flag tells the controller to suspend subsequent executions.",
    ),
    col("Active", "integer", 0, "A list of pointers to currently running jobs."),
    col(
        "Last Schedule",
        "string",
        0,
        "Information when was the last time the job was successfully scheduled.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];
const PDB: &[Column] = &[
    NAME,
    col(
        "Min Available",
        "string",
        0,
        "The minimum number of pods that must be available.",
    ),
    col(
        "Max Unavailable",
        "string",
        0,
        "The maximum number of pods that may be unavailable.",
    ),
    col(
        "Allowed Disruptions",
        "integer",
        0,
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];
const NODE: &[Column] = &[
    NAME,
    col("Status", "string", 0, "The status of the node"),
    col("Roles", "string", 0, "The roles of the node"),
    AGE,
    col("Version", "string", 0, "Kubelet Version reported by the node."),
    col("Internal-IP", "string", 1, "List of addresses reachable to the node."),
    col("External-IP", "string", 1, "List of addresses reachable to the node."),
    col(
        "OS-Image",
        "string",
        1,
        "OS Image reported by the node from /etc/os-release.",
    ),
    col(
        "Kernel-Version",
        "string",
        1,
        "Kernel Version reported by the node from 'uname -r'.",
    ),
    col(
        "Container-Runtime",
        "string",
        1,
        "ContainerRuntime Version reported by the node through runtime remote API.",
    ),
];
const NETWORK_POLICY: &[Column] = &[
    NAME,
    col(
        "Pod-Selector",
        "string",
        0,
        "podSelector selects the pods to which this NetworkPolicy object applies.",
    ),
    AGE,
];
const LEASE: &[Column] = &[
    NAME,
    col(
        "Holder",
        "string",
        0,
        "holderIdentity contains the identity of the holder of a current lease.",
    ),
    AGE,
];
const PRIORITY_CLASS: &[Column] = &[
    NAME,
    col(
        "Value",
        "integer",
        0,
        "value represents the integer value of this priority class.",
    ),
    col(
        "Global-Default",
        "boolean",
        0,
        "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.",
    ),
    AGE,
    col(
        "PreemptionPolicy",
        "string",
        0,
        "preemptionPolicy is the Policy for preempting pods with lower priority.",
    ),
];
const ENDPOINT_SLICE: &[Column] = &[
    NAME,
    col(
        "AddressType",
        "string",
        0,
        "addressType specifies the type of address carried by this EndpointSlice.",
    ),
    col(
        "Ports",
        "string",
        0,
        "ports specifies the list of network ports exposed by each endpoint in this slice.",
    ),
    col(
        "Endpoints",
        "string",
        0,
        "endpoints is a list of unique endpoints in this slice.",
    ),
    AGE,
];
const DEFAULT: &[Column] = &[NAME, CREATED_AT];
const CUSTOM: &[Column] = &[NAME, AGE];

/// The columns of a kind's Table.
pub fn columns(res: &Resource) -> &'static [Column] {
    match (res.group, res.kind) {
        ("", "Pod") => POD,
        ("apps", "Deployment") => DEPLOYMENT,
        ("apps", "ReplicaSet") => REPLICASET,
        ("apps", "StatefulSet") => STATEFULSET,
        ("apps", "ControllerRevision") => CONTROLLER_REVISION,
        ("apps", "DaemonSet") => DAEMONSET,
        ("batch", "Job") => JOB,
        ("batch", "CronJob") => CRONJOB,
        ("policy", "PodDisruptionBudget") => PDB,
        ("", "Node") => NODE,
        ("networking.k8s.io", "NetworkPolicy") => NETWORK_POLICY,
        ("coordination.k8s.io", "Lease") => LEASE,
        ("scheduling.k8s.io", "PriorityClass") => PRIORITY_CLASS,
        ("discovery.k8s.io", "EndpointSlice") => ENDPOINT_SLICE,
        ("", "Service") => SERVICE,
        ("", "Endpoints") => ENDPOINTS,
        ("", "Namespace") => NAMESPACE,
        ("", "Secret") => SECRET,
        ("", "ConfigMap") => CONFIGMAP,
        ("", "ServiceAccount") => SERVICE_ACCOUNT,
        ("", "PersistentVolumeClaim") => PVC,
        ("", "PersistentVolume") => PV,
        ("", "Event") => EVENT,
        ("", "ResourceQuota") => QUOTA,
        ("networking.k8s.io", "Ingress") => INGRESS,
        ("networking.k8s.io", "IngressClass") => INGRESS_CLASS,
        ("storage.k8s.io", "StorageClass") => STORAGE_CLASS,
        ("autoscaling", "HorizontalPodAutoscaler") => HPA,
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => BINDING,
        ("tekton.dev", "PipelineRun" | "TaskRun") => RUN,
        ("triggers.tekton.dev", "EventListener") => EVENT_LISTENER,
        (g, _) if g.contains('.') && !g.ends_with(".k8s.io") => CUSTOM,
        _ => DEFAULT,
    }
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn n(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn or_none(x: String) -> String {
    if x.is_empty() { "<none>".into() } else { x }
}

fn age(v: &Value, now: i64) -> Value {
    json!(since(
        v.pointer("/metadata/creationTimestamp").and_then(Value::as_str),
        now
    ))
}

/// `k=v,k2=v2`, sorted by key, as labels.FormatLabels and selectors print.
fn labels(m: Option<&Value>) -> String {
    let map: BTreeMap<&str, &str> = m
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or(""))).collect())
        .unwrap_or_default();
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A LabelSelector as `metav1.LabelSelectorAsSelector(...).String()`.
fn selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel else {
        return "<none>".into();
    };
    let mut parts: Vec<(String, String)> = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))))
                .collect()
        })
        .unwrap_or_default();
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = s(e, "/key");
        let mut values: Vec<&str> = arr(e, "/values").iter().filter_map(Value::as_str).collect();
        values.sort_unstable();
        let text = match s(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => continue,
        };
        parts.push((key.to_string(), text));
    }
    parts.sort();
    if parts.is_empty() {
        return "<none>".into();
    }
    parts.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join(",")
}

/// Container names and images of a pod template, comma-joined.
fn layout_containers(v: &Value, spec: &str) -> (Value, Value) {
    let cs = arr(v, &format!("{spec}/containers"));
    let names: Vec<&str> = cs.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(c, "/image")).collect();
    (json!(names.join(",")), json!(images.join(",")))
}

/// Up to three items, then `+ N more...`.
fn with_more(list: &[String], total: usize) -> String {
    let shown = list.iter().take(3).cloned().collect::<Vec<_>>().join(",");
    if total > 3 {
        format!("{shown} + {} more...", total - 3)
    } else {
        shown
    }
}

/// The cells of one object.
pub fn cells(res: &Resource, v: &Value, now: i64) -> Vec<Value> {
    let name = json!(s(v, "/metadata/name"));
    match (res.group, res.kind) {
        ("", "Pod") => pod(v, now),
        ("apps", "Deployment") => {
            let (c, i) = layout_containers(v, "/spec/template/spec");
            let desired = v.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            vec![
                name,
                json!(format!("{}/{desired}", n(v, "/status/readyReplicas"))),
                json!(n(v, "/status/updatedReplicas")),
                json!(n(v, "/status/availableReplicas")),
                age(v, now),
                c,
                i,
                json!(selector(v.pointer("/spec/selector"))),
            ]
        }
        ("apps", "ReplicaSet") => {
            let (c, i) = layout_containers(v, "/spec/template/spec");
            vec![
                name,
                json!(v.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)),
                json!(n(v, "/status/replicas")),
                json!(n(v, "/status/readyReplicas")),
                age(v, now),
                c,
                i,
                json!(selector(v.pointer("/spec/selector"))),
            ]
        }
        ("apps", "StatefulSet") => {
            let (c, i) = layout_containers(v, "/spec/template/spec");
            let desired = v.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            vec![
                name,
                json!(format!("{}/{desired}", n(v, "/status/readyReplicas"))),
                age(v, now),
                c,
                i,
            ]
        }
        ("apps", "ControllerRevision") => {
            let controller = arr(v, "/metadata/ownerReferences")
                .iter()
                .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
                .map(|o| {
                    let group = s(o, "/apiVersion").rsplit_once('/').map(|(g, _)| g).unwrap_or("");
                    let kind = s(o, "/kind").to_lowercase();
                    let kind = if group.is_empty() {
                        kind
                    } else {
                        format!("{kind}.{group}")
                    };
                    format!("{kind}/{}", s(o, "/name"))
                })
                .unwrap_or_else(|| "<none>".into());
            vec![name, json!(controller), json!(n(v, "/revision")), age(v, now)]
        }
        ("apps", "DaemonSet") => {
            let (c, i) = layout_containers(v, "/spec/template/spec");
            vec![
                name,
                json!(n(v, "/status/desiredNumberScheduled")),
                json!(n(v, "/status/currentNumberScheduled")),
                json!(n(v, "/status/numberReady")),
                json!(n(v, "/status/updatedNumberScheduled")),
                json!(n(v, "/status/numberAvailable")),
                json!(or_none(labels(v.pointer("/spec/template/spec/nodeSelector")))),
                age(v, now),
                c,
                i,
                json!(selector(v.pointer("/spec/selector"))),
            ]
        }
        ("batch", "Job") => job(v, now),
        ("batch", "CronJob") => {
            let (c, i) = layout_containers(v, "/spec/jobTemplate/spec/template/spec");
            vec![
                name,
                json!(s(v, "/spec/schedule")),
                json!(or_none(s(v, "/spec/timeZone").to_string())),
                json!(match v.pointer("/spec/suspend").and_then(Value::as_bool) {
                    Some(true) => "True",
                    Some(false) => "False",
                    None => "<unset>",
                }),
                json!(arr(v, "/status/active").len()),
                json!(match v.pointer("/status/lastScheduleTime").and_then(Value::as_str) {
                    Some(t) => since(Some(t), now),
                    None => "<none>".into(),
                }),
                age(v, now),
                c,
                i,
                json!(selector(v.pointer("/spec/jobTemplate/spec/selector"))),
            ]
        }
        ("policy", "PodDisruptionBudget") => {
            let text = |p: &str| match v.pointer(p) {
                Some(Value::String(x)) => x.clone(),
                Some(Value::Number(x)) => x.to_string(),
                _ => "N/A".into(),
            };
            vec![
                name,
                json!(text("/spec/minAvailable")),
                json!(text("/spec/maxUnavailable")),
                json!(n(v, "/status/disruptionsAllowed")),
                age(v, now),
            ]
        }
        ("", "Node") => {
            let ready = condition(v, "Ready").map(|c| s(c, "/status")).unwrap_or("");
            let mut status = match ready {
                "True" => "Ready".to_string(),
                _ => "NotReady".to_string(),
            };
            if v.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
                status.push_str(",SchedulingDisabled");
            }
            let mut roles: Vec<String> = v
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.keys()
                        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                        .filter(|r| !r.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            roles.sort();
            let address = |t: &str| {
                arr(v, "/status/addresses")
                    .iter()
                    .find(|a| s(a, "/type") == t)
                    .map(|a| s(a, "/address").to_string())
                    .unwrap_or_else(|| "<none>".into())
            };
            vec![
                name,
                json!(status),
                json!(or_none(roles.join(","))),
                age(v, now),
                json!(s(v, "/status/nodeInfo/kubeletVersion")),
                json!(address("InternalIP")),
                json!(address("ExternalIP")),
                json!(s(v, "/status/nodeInfo/osImage")),
                json!(s(v, "/status/nodeInfo/kernelVersion")),
                json!(s(v, "/status/nodeInfo/containerRuntimeVersion")),
            ]
        }
        ("networking.k8s.io", "NetworkPolicy") => {
            let sel = selector(v.pointer("/spec/podSelector"));
            let sel = if sel == "<none>" { "<none>".to_string() } else { sel };
            vec![name, json!(sel), age(v, now)]
        }
        ("coordination.k8s.io", "Lease") => vec![name, json!(s(v, "/spec/holderIdentity")), age(v, now)],
        ("scheduling.k8s.io", "PriorityClass") => vec![
            name,
            json!(n(v, "/value")),
            json!(v.get("globalDefault").and_then(Value::as_bool).unwrap_or(false)),
            age(v, now),
            json!(non_empty(s(v, "/preemptionPolicy"), "PreemptLowerPriority")),
        ],
        ("discovery.k8s.io", "EndpointSlice") => {
            let ports: Vec<String> = arr(v, "/ports")
                .iter()
                .map(|p| match p.get("port").and_then(Value::as_i64) {
                    Some(n) => n.to_string(),
                    None => non_empty(s(p, "/name"), "*").to_string(),
                })
                .collect();
            let addrs: Vec<String> = arr(v, "/endpoints")
                .iter()
                .flat_map(|e| {
                    arr(e, "/addresses")
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                })
                .collect();
            let list = |l: &[String]| {
                if l.is_empty() {
                    "<unset>".to_string()
                } else {
                    with_more(l, l.len())
                }
            };
            vec![
                name,
                json!(s(v, "/addressType")),
                json!(list(&ports)),
                json!(list(&addrs)),
                age(v, now),
            ]
        }
        ("", "Service") => service(v, now),
        ("", "Endpoints") => {
            let mut list = Vec::new();
            let mut total = 0;
            for ss in arr(v, "/subsets") {
                let addrs: Vec<&str> = arr(ss, "/addresses").iter().map(|a| s(a, "/ip")).collect();
                let ports = arr(ss, "/ports");
                if ports.is_empty() {
                    total += addrs.len();
                    list.extend(addrs.iter().map(|a| a.to_string()));
                }
                for p in ports {
                    total += addrs.len();
                    list.extend(addrs.iter().map(|a| format!("{a}:{}", n(p, "/port"))));
                }
            }
            let text = if arr(v, "/subsets").is_empty() {
                "<none>".to_string()
            } else {
                with_more(&list, total)
            };
            vec![name, json!(text), age(v, now)]
        }
        ("", "Namespace") => vec![name, json!(s(v, "/status/phase")), age(v, now)],
        ("", "Secret") => vec![
            name,
            json!(s(v, "/type")),
            json!(v.get("data").and_then(Value::as_object).map_or(0, |m| m.len())),
            age(v, now),
        ],
        ("", "ConfigMap") => {
            let count = |k: &str| v.get(k).and_then(Value::as_object).map_or(0, |m| m.len());
            vec![name, json!(count("data") + count("binaryData")), age(v, now)]
        }
        ("", "ServiceAccount") => vec![name, json!(arr(v, "/secrets").len()), age(v, now)],
        ("", "PersistentVolumeClaim") => {
            let phase = if v.pointer("/metadata/deletionTimestamp").is_some() {
                "Terminating"
            } else {
                s(v, "/status/phase")
            };
            let bound = phase == "Bound";
            vec![
                name,
                json!(phase),
                json!(s(v, "/spec/volumeName")),
                json!(if bound { s(v, "/status/capacity/storage") } else { "" }),
                json!(if bound {
                    access_modes(arr(v, "/status/accessModes"))
                } else {
                    String::new()
                }),
                json!(s(v, "/spec/storageClassName")),
                json!(unset(s(v, "/spec/volumeAttributesClassName"))),
                age(v, now),
                json!(unset(s(v, "/spec/volumeMode"))),
            ]
        }
        ("", "PersistentVolume") => {
            let claim = match v.pointer("/spec/claimRef") {
                Some(c) => format!("{}/{}", s(c, "/namespace"), s(c, "/name")),
                None => String::new(),
            };
            let phase = if v.pointer("/metadata/deletionTimestamp").is_some() {
                "Terminating"
            } else {
                s(v, "/status/phase")
            };
            vec![
                name,
                json!(s(v, "/spec/capacity/storage")),
                json!(access_modes(arr(v, "/spec/accessModes"))),
                json!(s(v, "/spec/persistentVolumeReclaimPolicy")),
                json!(phase),
                json!(claim),
                json!(s(v, "/spec/storageClassName")),
                json!(unset(s(v, "/spec/volumeAttributesClassName"))),
                json!(s(v, "/status/reason")),
                age(v, now),
                json!(unset(s(v, "/spec/volumeMode"))),
            ]
        }
        ("", "Event") => event(v, now),
        ("", "ResourceQuota") => {
            let mut req = Vec::new();
            let mut lim = Vec::new();
            let hard: BTreeMap<&str, &Value> = v
                .pointer("/spec/hard")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, x)| (k.as_str(), x)).collect())
                .unwrap_or_default();
            for (k, h) in hard {
                let used = v
                    .pointer(&format!("/status/used/{}", k.replace('~', "~0").replace('/', "~1")))
                    .and_then(Value::as_str)
                    .unwrap_or("0");
                let text = format!("{k}: {used}/{}", h.as_str().unwrap_or(""));
                if k.starts_with("limits.") {
                    lim.push(text);
                } else {
                    req.push(text);
                }
            }
            vec![name, age(v, now), json!(req.join(", ")), json!(lim.join(", "))]
        }
        ("networking.k8s.io", "Ingress") => ingress(v, now),
        ("networking.k8s.io", "IngressClass") => {
            let params = match v.pointer("/spec/parameters") {
                Some(p) => {
                    let group = s(p, "/apiGroup");
                    let kind = if group.is_empty() {
                        s(p, "/kind").to_string()
                    } else {
                        format!("{}.{group}", s(p, "/kind"))
                    };
                    format!("{kind}/{}", s(p, "/name"))
                }
                None => "<none>".into(),
            };
            vec![name, json!(s(v, "/spec/controller")), json!(params), age(v, now)]
        }
        ("storage.k8s.io", "StorageClass") => {
            let default = [
                "storageclass.kubernetes.io/is-default-class",
                "storageclass.beta.kubernetes.io/is-default-class",
            ]
            .iter()
            .any(|a| {
                v.pointer("/metadata/annotations")
                    .and_then(|m| m.get(*a))
                    .and_then(Value::as_str)
                    == Some("true")
            });
            let shown = if default {
                format!("{} (default)", s(v, "/metadata/name"))
            } else {
                s(v, "/metadata/name").to_string()
            };
            vec![
                json!(shown),
                json!(s(v, "/provisioner")),
                json!(non_empty(s(v, "/reclaimPolicy"), "Delete")),
                json!(non_empty(s(v, "/volumeBindingMode"), "Immediate")),
                json!(
                    v.get("allowVolumeExpansion")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                        .to_string()
                ),
                age(v, now),
            ]
        }
        ("autoscaling", "HorizontalPodAutoscaler") => hpa(v, now),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            let pick = |kind: &str| -> String {
                arr(v, "/subjects")
                    .iter()
                    .filter(|x| s(x, "/kind") == kind)
                    .map(|x| {
                        if kind == "ServiceAccount" {
                            format!("{}/{}", s(x, "/namespace"), s(x, "/name"))
                        } else {
                            s(x, "/name").to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            vec![
                name,
                json!(format!("{}/{}", s(v, "/roleRef/kind"), s(v, "/roleRef/name"))),
                age(v, now),
                json!(pick("User")),
                json!(pick("Group")),
                json!(pick("ServiceAccount")),
            ]
        }
        ("tekton.dev", "PipelineRun" | "TaskRun") => {
            let cond = condition(v, "Succeeded");
            vec![
                name,
                json!(cond.map(|c| s(c, "/status")).unwrap_or("")),
                json!(cond.map(|c| s(c, "/reason")).unwrap_or("")),
                date_cell(v, "/status/startTime", now),
                date_cell(v, "/status/completionTime", now),
            ]
        }
        ("triggers.tekton.dev", "EventListener") => {
            let avail = condition(v, "Available");
            let ready = condition(v, "Ready");
            vec![
                name,
                json!(s(v, "/status/address/url")),
                json!(avail.map(|c| s(c, "/status")).unwrap_or("")),
                json!(avail.map(|c| s(c, "/reason")).unwrap_or("")),
                json!(ready.map(|c| s(c, "/status")).unwrap_or("")),
                json!(ready.map(|c| s(c, "/reason")).unwrap_or("")),
            ]
        }
        _ if columns(res).len() == 2 && columns(res)[1].name == "Age" => vec![name, age(v, now)],
        _ => vec![name, json!(s(v, "/metadata/creationTimestamp"))],
    }
}

fn non_empty<'a>(x: &'a str, default: &'a str) -> &'a str {
    if x.is_empty() { default } else { x }
}

fn unset(x: &str) -> &str {
    non_empty(x, "<unset>")
}

fn condition<'a>(v: &'a Value, kind: &str) -> Option<&'a Value> {
    arr(v, "/status/conditions").iter().find(|c| s(c, "/type") == kind)
}

/// A custom resource's `date` column: its age, or nothing.
fn date_cell(v: &Value, ptr: &str, now: i64) -> Value {
    match v.pointer(ptr).and_then(Value::as_str) {
        Some(t) => json!(since(Some(t), now)),
        None => Value::Null,
    }
}

fn access_modes(modes: &[Value]) -> String {
    let short = |m: &str| match m {
        "ReadWriteOnce" => "RWO",
        "ReadOnlyMany" => "ROX",
        "ReadWriteMany" => "RWX",
        "ReadWriteOncePod" => "RWOP",
        _ => "",
    };
    let mut out: Vec<&str> = Vec::new();
    for want in ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"] {
        if modes.iter().any(|m| m.as_str() == Some(want)) {
            out.push(short(want));
        }
    }
    out.join(",")
}

fn pod(v: &Value, now: i64) -> Vec<Value> {
    let total = arr(v, "/spec/containers").len();
    let mut ready = 0;
    let mut restarts = 0;
    let mut last_restart: Option<i64> = None;
    let mut note_restart = |c: &Value, restarts: &mut i64| {
        *restarts += n(c, "/restartCount");
        if let Some(t) = c
            .pointer("/lastState/terminated/finishedAt")
            .and_then(Value::as_str)
            .and_then(super::unix_of)
        {
            last_restart = Some(last_restart.map_or(t, |l| l.max(t)));
        }
    };
    let mut reason = s(v, "/status/phase").to_string();
    if !s(v, "/status/reason").is_empty() {
        reason = s(v, "/status/reason").to_string();
    }
    let inits = arr(v, "/status/initContainerStatuses");
    let init_specs = arr(v, "/spec/initContainers");
    let mut initializing = false;
    for (i, c) in inits.iter().enumerate() {
        note_restart(c, &mut restarts);
        if c.pointer("/state/terminated").is_some() && n(c, "/state/terminated/exitCode") == 0 {
            continue;
        }
        let sidecar = init_specs
            .get(i)
            .is_some_and(|spec| s(spec, "/restartPolicy") == "Always");
        if sidecar && c.get("started").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        reason = if let Some(t) = c.pointer("/state/terminated") {
            match s(t, "/reason") {
                "" if n(t, "/signal") != 0 => format!("Init:Signal:{}", n(t, "/signal")),
                "" => format!("Init:ExitCode:{}", n(t, "/exitCode")),
                r => format!("Init:{r}"),
            }
        } else if !matches!(s(c, "/state/waiting/reason"), "" | "PodInitializing") {
            format!("Init:{}", s(c, "/state/waiting/reason"))
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }
    if !initializing {
        let mut has_running = false;
        for c in arr(v, "/status/containerStatuses").iter().rev() {
            note_restart(c, &mut restarts);
            if !s(c, "/state/waiting/reason").is_empty() {
                reason = s(c, "/state/waiting/reason").to_string();
            } else if let Some(t) = c.pointer("/state/terminated") {
                reason = match s(t, "/reason") {
                    "" if n(t, "/signal") != 0 => format!("Signal:{}", n(t, "/signal")),
                    "" => format!("ExitCode:{}", n(t, "/exitCode")),
                    r => r.to_string(),
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true) && c.pointer("/state/running").is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition(v, "Ready").is_some_and(|c| s(c, "/status") == "True") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    if v.pointer("/metadata/deletionTimestamp").is_some() {
        reason = if s(v, "/status/reason") == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    let restarts_text = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", super::human_duration(now - t)),
        _ => restarts.to_string(),
    };
    let gates = arr(v, "/spec/readinessGates");
    let gates_text = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let met = gates
            .iter()
            .filter(|g| condition(v, s(g, "/conditionType")).is_some_and(|c| s(c, "/status") == "True"))
            .count();
        format!("{met}/{}", gates.len())
    };
    vec![
        json!(s(v, "/metadata/name")),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_text),
        age(v, now),
        json!(or_none(s(v, "/status/podIP").to_string())),
        json!(or_none(s(v, "/spec/nodeName").to_string())),
        json!(or_none(s(v, "/status/nominatedNodeName").to_string())),
        json!(gates_text),
    ]
}

fn load_balancer(v: &Value) -> String {
    arr(v, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| non_empty(s(i, "/ip"), s(i, "/hostname")).to_string())
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

fn service(v: &Value, now: i64) -> Vec<Value> {
    let kind = non_empty(s(v, "/spec/type"), "ClusterIP");
    let external: Vec<&str> = arr(v, "/spec/externalIPs").iter().filter_map(Value::as_str).collect();
    let external_ip = match kind {
        "ClusterIP" | "NodePort" => or_none(external.join(",")),
        "LoadBalancer" => {
            let lb = load_balancer(v);
            match (lb.is_empty(), external.is_empty()) {
                (_, false) => [lb, external.join(",")]
                    .into_iter()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(","),
                (false, true) => lb,
                (true, true) => "<pending>".into(),
            }
        }
        "ExternalName" => s(v, "/spec/externalName").to_string(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = arr(v, "/spec/ports")
        .iter()
        .map(|p| {
            let proto = non_empty(s(p, "/protocol"), "TCP");
            match n(p, "/nodePort") {
                0 => format!("{}/{proto}", n(p, "/port")),
                np => format!("{}:{np}/{proto}", n(p, "/port")),
            }
        })
        .collect();
    vec![
        json!(s(v, "/metadata/name")),
        json!(kind),
        json!(or_none(s(v, "/spec/clusterIP").to_string())),
        json!(external_ip),
        json!(or_none(ports.join(","))),
        age(v, now),
        json!(or_none(labels(v.pointer("/spec/selector")))),
    ]
}

fn ingress(v: &Value, now: i64) -> Vec<Value> {
    let rules = arr(v, "/spec/rules");
    let hosts: Vec<String> = rules
        .iter()
        .map(|r| s(r, "/host"))
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect();
    let hosts_text = if hosts.is_empty() {
        "*".to_string()
    } else if rules.len() > 3 {
        format!(
            "{} + {} more...",
            hosts.iter().take(3).cloned().collect::<Vec<_>>().join(","),
            rules.len() - 3
        )
    } else {
        hosts.join(",")
    };
    let ports = if arr(v, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        json!(s(v, "/metadata/name")),
        json!(or_none(s(v, "/spec/ingressClassName").to_string())),
        json!(hosts_text),
        json!(load_balancer(v)),
        json!(ports),
        age(v, now),
    ]
}

fn event(v: &Value, now: i64) -> Vec<Value> {
    let last = [
        s(v, "/lastTimestamp"),
        s(v, "/eventTime"),
        s(v, "/metadata/creationTimestamp"),
    ]
    .into_iter()
    .find(|t| !t.is_empty());
    let first = [
        s(v, "/firstTimestamp"),
        s(v, "/eventTime"),
        s(v, "/metadata/creationTimestamp"),
    ]
    .into_iter()
    .find(|t| !t.is_empty());
    let count = n(v, "/count");
    let last_seen = if count > 1 {
        format!("{} (x{count} over {})", since(last, now), since(first, now))
    } else {
        since(last, now)
    };
    let source = match (s(v, "/source/component"), s(v, "/source/host")) {
        (c, "") => c.to_string(),
        (c, h) => format!("{c}, {h}"),
    };
    vec![
        json!(last_seen),
        json!(s(v, "/type")),
        json!(s(v, "/reason")),
        json!(format!(
            "{}/{}",
            s(v, "/involvedObject/kind").to_lowercase(),
            s(v, "/involvedObject/name")
        )),
        json!(s(v, "/involvedObject/fieldPath")),
        json!(source),
        json!(s(v, "/message").trim()),
        json!(since(first, now)),
        json!(count.max(1).to_string()),
        json!(s(v, "/metadata/name")),
    ]
}

fn hpa(v: &Value, now: i64) -> Vec<Value> {
    let specs = arr(v, "/spec/metrics");
    let current = arr(v, "/status/currentMetrics");
    let targets: Vec<String> = specs
        .iter()
        .map(|m| {
            let res = s(m, "/resource/name");
            let cur = current
                .iter()
                .find(|c| s(c, "/type") == "Resource" && s(c, "/resource/name") == res);
            match (s(m, "/type"), s(m, "/resource/target/type")) {
                ("Resource", "Utilization") => {
                    let now_pct = cur
                        .and_then(|c| c.pointer("/resource/current/averageUtilization"))
                        .and_then(Value::as_i64)
                        .map_or("<unknown>".to_string(), |p| format!("{p}%"));
                    format!("{res}: {now_pct}/{}%", n(m, "/resource/target/averageUtilization"))
                }
                ("Resource", _) => {
                    let now_v = cur
                        .and_then(|c| c.pointer("/resource/current/averageValue"))
                        .and_then(Value::as_str)
                        .unwrap_or("<unknown>");
                    format!("{res}: {now_v}/{}", s(m, "/resource/target/averageValue"))
                }
                (other, _) => format!("{other}: <unknown>"),
            }
        })
        .collect();
    let targets = if targets.is_empty() {
        "<none>".to_string()
    } else {
        let shown = targets.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        if targets.len() > 3 {
            format!("{shown} + {} more...", targets.len() - 3)
        } else {
            shown
        }
    };
    vec![
        json!(s(v, "/metadata/name")),
        json!(format!(
            "{}/{}",
            s(v, "/spec/scaleTargetRef/kind"),
            s(v, "/spec/scaleTargetRef/name")
        )),
        json!(targets),
        json!(v.pointer("/spec/minReplicas").and_then(Value::as_i64).unwrap_or(1)),
        json!(n(v, "/spec/maxReplicas")),
        json!(n(v, "/status/currentReplicas")),
        age(v, now),
    ]
}

fn job(v: &Value, now: i64) -> Vec<Value> {
    let (c, i) = layout_containers(v, "/spec/template/spec");
    let succeeded = n(v, "/status/succeeded");
    let completions = match v.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(total) => format!("{succeeded}/{total}"),
        None => match v.pointer("/spec/parallelism").and_then(Value::as_i64) {
            Some(p) if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = v
        .pointer("/status/startTime")
        .and_then(Value::as_str)
        .and_then(super::unix_of);
    let end = v
        .pointer("/status/completionTime")
        .and_then(Value::as_str)
        .and_then(super::unix_of);
    let duration = match (start, end) {
        (Some(s), Some(e)) => super::human_duration(e - s),
        (Some(s), None) => super::human_duration(now - s),
        _ => String::new(),
    };
    let has = |t: &str| condition(v, t).is_some_and(|c| s(c, "/status") == "True");
    let status = if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if v.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else if has("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else if has("Suspended") {
        "Suspended"
    } else {
        "Running"
    };
    vec![
        json!(s(v, "/metadata/name")),
        json!(status),
        json!(completions),
        json!(duration),
        age(v, now),
        c,
        i,
        json!(selector(v.pointer("/spec/selector"))),
    ]
}
