// Defaulting and validation the real API server applies on write, for the kinds where clients and
// controllers rely on them (replicas, pod spec defaults, Service cluster IPs, selector checks).
import { apiErrors, type StatusCause } from "./errors.js";
import { customResources, type CrdSpec, type ResourceType } from "./resources.js";
import { defaultPriorityClass, priorityClassCauses } from "./priority.js";
import { matcherFromSpec, type LabelSelectorSpec } from "./selectors.js";
import { deepEqual } from "./json.js";
import { isRecord, type KubeObject } from "./types.js";

type Obj = Record<string, unknown>;

function rec(value: unknown): Obj {
  return isRecord(value) ? value : {};
}

function withDefaults(target: Obj, defaults: Obj): Obj {
  const out = { ...target };
  for (const [k, v] of Object.entries(defaults)) if (out[k] === undefined) out[k] = v;
  return out;
}

function defaultContainer(c: unknown): unknown {
  if (!isRecord(c)) return c;
  const image = typeof c.image === "string" ? c.image : "";
  const tag = image.includes("@") ? "digest" : (/:([^/:]+)$/.exec(image)?.[1] ?? "latest");
  const out = withDefaults(c, {
    imagePullPolicy: tag === "latest" ? "Always" : "IfNotPresent",
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    resources: {},
  });
  if (Array.isArray(out.ports))
    out.ports = out.ports.map((p) => (isRecord(p) ? withDefaults(p, { protocol: "TCP" }) : p));
  return out;
}

export function defaultPodSpec(spec: unknown): Obj {
  const out = withDefaults(rec(spec), {
    restartPolicy: "Always",
    dnsPolicy: "ClusterFirst",
    schedulerName: "default-scheduler",
    terminationGracePeriodSeconds: 30,
    securityContext: {},
    enableServiceLinks: true,
  });
  if (out.serviceAccountName === undefined && typeof out.serviceAccount === "string") {
    out.serviceAccountName = out.serviceAccount;
  }
  for (const list of ["containers", "initContainers"]) {
    if (Array.isArray(out[list])) out[list] = (out[list] as unknown[]).map(defaultContainer);
  }
  return out;
}

function defaultTemplate(template: unknown): Obj {
  const t = rec(template);
  return { ...t, metadata: rec(t.metadata), spec: defaultPodSpec(t.spec) };
}

/** BestEffort without any requests/limits; Guaranteed when every container's requests equal limits. */
export function qosClass(spec: Obj): string {
  const containers = [...(spec.containers as unknown[]), ...((spec.initContainers as unknown[]) ?? [])].map(
    rec,
  );
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const res = rec(c.resources);
    const limits = rec(res.limits);
    const requests = { ...limits, ...rec(res.requests) };
    if (Object.keys(limits).length || Object.keys(requests).length) any = true;
    for (const r of ["cpu", "memory"]) {
      if (limits[r] === undefined || String(requests[r]) !== String(limits[r])) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** Hands out Service cluster IPs (10.96.0.0/16) and node ports (30000+), one sequence per server. */
export class ServiceAddressAllocator {
  private nextIp = 1;
  private nextPort = 30000;
  clusterIp(): string {
    const n = this.nextIp++;
    return `10.96.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
  }
  nodePort(): number {
    return this.nextPort++;
  }
}

type Defaulter = (obj: KubeObject, addresses: ServiceAddressAllocator) => KubeObject;

const defaulters: Record<string, Defaulter> = {
  Pod(obj) {
    const spec = defaultPodSpec(obj.spec);
    const status = isRecord(obj.status) && obj.status.phase ? obj.status : { phase: "Pending" };
    const withQos = Array.isArray(spec.containers) ? { qosClass: qosClass(spec), ...status } : status;
    return { ...obj, spec, status: withQos };
  },
  Deployment(obj) {
    const spec = withDefaults(rec(obj.spec), {
      replicas: 1,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    return { ...obj, spec: { ...spec, template: defaultTemplate(spec.template) } };
  },
  ReplicaSet(obj) {
    const spec = withDefaults(rec(obj.spec), { replicas: 1 });
    return { ...obj, spec: { ...spec, template: defaultTemplate(spec.template) } };
  },
  StatefulSet(obj) {
    const spec = withDefaults(rec(obj.spec), {
      replicas: 1,
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
    });
    return { ...obj, spec: { ...spec, template: defaultTemplate(spec.template) } };
  },
  DaemonSet(obj) {
    const spec = withDefaults(rec(obj.spec), {
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
    });
    return { ...obj, spec: { ...spec, template: defaultTemplate(spec.template) } };
  },
  Job(obj) {
    const spec = withDefaults(rec(obj.spec), {
      parallelism: 1,
      completions: 1,
      backoffLimit: 6,
      completionMode: "NonIndexed",
      suspend: false,
    });
    return { ...obj, spec: { ...spec, template: defaultTemplate(spec.template) } };
  },
  CronJob(obj) {
    const spec = withDefaults(rec(obj.spec), {
      concurrencyPolicy: "Allow",
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
    });
    return { ...obj, spec };
  },
  Service(obj, addresses) {
    const spec = withDefaults(rec(obj.spec), {
      type: "ClusterIP",
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
    });
    if (spec.type !== "ExternalName") {
      if (spec.clusterIP === undefined || spec.clusterIP === "") spec.clusterIP = addresses.clusterIp();
      if (spec.clusterIPs === undefined) spec.clusterIPs = [spec.clusterIP];
      if (spec.ipFamilies === undefined) spec.ipFamilies = ["IPv4"];
      if (spec.ipFamilyPolicy === undefined) spec.ipFamilyPolicy = "SingleStack";
    }
    if (Array.isArray(spec.ports)) {
      spec.ports = spec.ports.map((p) => {
        if (!isRecord(p)) return p;
        const port = withDefaults(p, { protocol: "TCP", targetPort: p.port });
        if ((spec.type === "NodePort" || spec.type === "LoadBalancer") && port.nodePort === undefined) {
          port.nodePort = addresses.nodePort();
        }
        return port;
      });
    }
    return { ...obj, spec, status: isRecord(obj.status) ? obj.status : { loadBalancer: {} } };
  },
  Namespace(obj) {
    const name = obj.metadata.name ?? "";
    const labels = { ...obj.metadata.labels, "kubernetes.io/metadata.name": name };
    return {
      ...obj,
      metadata: { ...obj.metadata, labels },
      spec: withDefaults(rec(obj.spec), { finalizers: ["kubernetes"] }),
      status: withDefaults(rec(obj.status), { phase: "Active" }),
    };
  },
  PersistentVolumeClaim(obj) {
    const spec = withDefaults(rec(obj.spec), { volumeMode: "Filesystem" });
    return { ...obj, spec, status: withDefaults(rec(obj.status), { phase: "Pending" }) };
  },
  PriorityClass: (obj) => defaultPriorityClass(obj),
  CustomResourceDefinition(obj) {
    const spec = rec(obj.spec) as CrdSpec;
    const names = spec.names ?? {};
    const acceptedNames = {
      ...names,
      singular: names.singular ?? (names.kind ?? "").toLowerCase(),
      listKind: names.listKind ?? `${names.kind ?? ""}List`,
    };
    const now = obj.metadata.creationTimestamp;
    const condition = (type: string, reason: string, message: string) => ({
      type,
      status: "True",
      lastTransitionTime: now,
      reason,
      message,
    });
    return {
      ...obj,
      spec: { ...spec, names: acceptedNames },
      status: {
        conditions: [
          condition("NamesAccepted", "NoConflicts", "no conflicts found"),
          condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        acceptedNames,
        storedVersions: (spec.versions ?? []).filter((v) => v.storage).map((v) => v.name),
      },
    };
  },
};

export function applyDefaults(
  rt: ResourceType,
  obj: KubeObject,
  addresses: ServiceAddressAllocator,
): KubeObject {
  if (rt.crd) return obj;
  const defaulter = defaulters[rt.kind];
  return defaulter ? defaulter(obj, addresses) : obj;
}

type Validator = (obj: KubeObject, old: KubeObject | undefined) => StatusCause[];

function required(field: string): StatusCause {
  return { reason: "FieldValueRequired", message: "Required value", field };
}

function podSpecCauses(spec: unknown, prefix: string): StatusCause[] {
  const s = rec(spec);
  if (!Array.isArray(s.containers) || s.containers.length === 0) return [required(`${prefix}.containers`)];
  const causes: StatusCause[] = [];
  s.containers.forEach((c, i) => {
    const container = rec(c);
    if (typeof container.name !== "string" || !container.name)
      causes.push(required(`${prefix}.containers[${i}].name`));
    if (typeof container.image !== "string" || !container.image) {
      causes.push(required(`${prefix}.containers[${i}].image`));
    }
  });
  return causes;
}

const workload: Validator = (obj, old) => {
  const spec = rec(obj.spec);
  if (!isRecord(spec.selector)) return [required("spec.selector")];
  const selector = spec.selector as LabelSelectorSpec;
  const causes = podSpecCauses(rec(spec.template).spec, "spec.template.spec");
  const labels = rec(rec(spec.template).metadata).labels as Record<string, string> | undefined;
  const empty = !Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length;
  if (empty)
    causes.push({
      reason: "FieldValueInvalid",
      message: "empty selector is invalid for deployment",
      field: "spec.selector",
    });
  else if (!matcherFromSpec(selector)(labels)) {
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: ${JSON.stringify(labels ?? {})}: \`selector\` does not match template \`labels\``,
      field: "spec.template.metadata.labels",
    });
  }
  if (old && !deepEqual(rec(old.spec).selector, selector)) {
    causes.push({ reason: "FieldValueInvalid", message: "field is immutable", field: "spec.selector" });
  }
  return causes;
};

const validators: Record<string, Validator> = {
  Pod: (obj) => podSpecCauses(obj.spec, "spec"),
  Deployment: workload,
  ReplicaSet: workload,
  StatefulSet: workload,
  DaemonSet: workload,
  Service(obj) {
    const spec = rec(obj.spec);
    const headless = spec.clusterIP === "None" || spec.type === "ExternalName";
    return !headless && (!Array.isArray(spec.ports) || spec.ports.length === 0)
      ? [required("spec.ports")]
      : [];
  },
  PriorityClass: priorityClassCauses,
  PodDisruptionBudget(obj) {
    const spec = rec(obj.spec);
    return spec.minAvailable !== undefined && spec.maxUnavailable !== undefined
      ? [
          {
            reason: "FieldValueInvalid",
            message: "minAvailable and maxUnavailable cannot be both set",
            field: "spec",
          },
        ]
      : [];
  },
  CustomResourceDefinition(obj) {
    const spec = rec(obj.spec) as CrdSpec;
    const causes: StatusCause[] = [];
    if (!spec.group || !spec.group.includes(".")) {
      causes.push({
        reason: "FieldValueInvalid",
        message: "should be a domain with at least one dot",
        field: "spec.group",
      });
    }
    if (!spec.names?.plural) causes.push(required("spec.names.plural"));
    if (!spec.names?.kind) causes.push(required("spec.names.kind"));
    const versions = spec.versions ?? [];
    if (!versions.length) causes.push(required("spec.versions"));
    if (versions.filter((v) => v.storage).length !== 1) {
      causes.push({
        reason: "FieldValueInvalid",
        message: "must have exactly one version marked as storage version",
        field: "spec.versions",
      });
    }
    const expected = `${spec.names?.plural ?? ""}.${spec.group ?? ""}`;
    if (obj.metadata.name !== expected) {
      causes.push({
        reason: "FieldValueInvalid",
        message: `must be spec.names.plural+"."+spec.group`,
        field: "metadata.name",
      });
    }
    if (!causes.length && !customResources(obj).length) causes.push(required("spec.versions[].served"));
    return causes;
  },
};

const labelName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const subdomainName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function nameCauses(rt: ResourceType, name: string): StatusCause[] {
  if (rt.crd) {
    return name === "." || name === ".." || /[/%]/.test(name)
      ? [{ reason: "FieldValueInvalid", message: "may not contain '/' or '%'", field: "metadata.name" }]
      : [];
  }
  const dnsLabel = rt.kind === "Namespace" || rt.kind === "Service";
  const ok = dnsLabel
    ? labelName.test(name) && name.length <= 63
    : subdomainName.test(name) && name.length <= 253;
  if (ok) return [];
  const what = dnsLabel ? "RFC 1123 label" : "RFC 1123 subdomain";
  return [
    {
      reason: "FieldValueInvalid",
      message: `Invalid value: "${name}": a lowercase ${what} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      field: "metadata.name",
    },
  ];
}

export function validate(rt: ResourceType, obj: KubeObject, old?: KubeObject): void {
  const name = obj.metadata.name ?? "";
  const causes = [...nameCauses(rt, name), ...(rt.crd ? [] : (validators[rt.kind]?.(obj, old) ?? []))];
  if (causes.length) throw apiErrors.invalid(rt, name, causes);
}

const allocatedSpecFields: Record<string, string[]> = {
  Service: ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"],
  // Set once by the Priority admission plugin on create; a pod update cannot change them.
  Pod: ["priority", "preemptionPolicy", "priorityClassName"],
};

/** Values the server allocated (a Service's cluster IP and node ports, a pod's priority) survive an update that omits them. */
export function keepAllocated(rt: ResourceType, old: KubeObject, next: KubeObject): KubeObject {
  const keys = rt.crd ? undefined : allocatedSpecFields[rt.kind];
  if (!keys) return next;
  const oldSpec = rec(old.spec);
  const spec = { ...rec(next.spec) };
  for (const key of keys) {
    if (spec[key] === undefined && oldSpec[key] !== undefined) spec[key] = oldSpec[key];
  }
  return { ...next, spec };
}
