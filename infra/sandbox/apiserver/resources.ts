// The catalog of resources the emulator serves: the built-in kinds below plus one entry per served
// version of every CustomResourceDefinition. Storage is keyed by group + resource, so all versions of
// one resource (and core/v1 + events.k8s.io/v1 Events) share one set of objects.
import { eventsV1Converter } from "./event-conversion.js";
import type { KubeObject } from "./types.js";

export type Subresource = "status" | "scale" | "eviction" | "log" | "binding" | "ephemeralcontainers";

export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

/** Converts between a resource's wire version and the shared stored form (events.k8s.io/v1). */
export interface VersionConverter {
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
}

export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: Subresource[];
  /** Objects of every version of the resource live under this key. */
  storageKey: string;
  /** Field selectors beyond metadata.name / metadata.namespace: label → dotted path in the object. */
  fieldLabels: Record<string, string>;
  scale?: ScalePaths;
  printerColumns?: PrinterColumn[];
  converter?: VersionConverter;
  /** Name of the CustomResourceDefinition that defined it, for custom resources. */
  crd?: string;
}

export function groupVersion(rt: { group: string; version: string }): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

const podFields = {
  "spec.nodeName": "spec.nodeName",
  "spec.restartPolicy": "spec.restartPolicy",
  "spec.schedulerName": "spec.schedulerName",
  "spec.serviceAccountName": "spec.serviceAccountName",
  "spec.hostNetwork": "spec.hostNetwork",
  "status.phase": "status.phase",
  "status.podIP": "status.podIP",
  "status.nominatedNodeName": "status.nominatedNodeName",
};

const eventFields = {
  "involvedObject.kind": "involvedObject.kind",
  "involvedObject.namespace": "involvedObject.namespace",
  "involvedObject.name": "involvedObject.name",
  "involvedObject.uid": "involvedObject.uid",
  "involvedObject.apiVersion": "involvedObject.apiVersion",
  "involvedObject.resourceVersion": "involvedObject.resourceVersion",
  "involvedObject.fieldPath": "involvedObject.fieldPath",
  reason: "reason",
  reportingComponent: "reportingComponent",
  source: "source.component",
  type: "type",
};

type BuiltinRow = [
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[],
  subresources: Subresource[],
  categories?: string[],
];

const builtinRows: BuiltinRow[] = [
  [
    "",
    "v1",
    "pods",
    "Pod",
    true,
    ["po"],
    ["status", "eviction", "log", "binding", "ephemeralcontainers"],
    ["all"],
  ],
  ["", "v1", "nodes", "Node", false, ["no"], ["status"]],
  ["", "v1", "namespaces", "Namespace", false, ["ns"], ["status"]],
  ["", "v1", "services", "Service", true, ["svc"], ["status"], ["all"]],
  ["", "v1", "endpoints", "Endpoints", true, ["ep"], []],
  ["", "v1", "configmaps", "ConfigMap", true, ["cm"], []],
  ["", "v1", "secrets", "Secret", true, [], []],
  ["", "v1", "events", "Event", true, ["ev"], []],
  ["", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, ["pvc"], ["status"]],
  ["", "v1", "persistentvolumes", "PersistentVolume", false, ["pv"], ["status"]],
  ["", "v1", "serviceaccounts", "ServiceAccount", true, ["sa"], []],
  ["", "v1", "resourcequotas", "ResourceQuota", true, ["quota"], ["status"]],
  ["", "v1", "limitranges", "LimitRange", true, ["limits"], []],
  ["", "v1", "podtemplates", "PodTemplate", true, [], []],
  ["apps", "v1", "deployments", "Deployment", true, ["deploy"], ["status", "scale"], ["all"]],
  ["apps", "v1", "replicasets", "ReplicaSet", true, ["rs"], ["status", "scale"], ["all"]],
  ["apps", "v1", "statefulsets", "StatefulSet", true, ["sts"], ["status", "scale"], ["all"]],
  ["apps", "v1", "daemonsets", "DaemonSet", true, ["ds"], ["status"], ["all"]],
  ["apps", "v1", "controllerrevisions", "ControllerRevision", true, [], []],
  ["batch", "v1", "jobs", "Job", true, [], ["status"], ["all"]],
  ["batch", "v1", "cronjobs", "CronJob", true, ["cj"], ["status"], ["all"]],
  [
    "autoscaling",
    "v2",
    "horizontalpodautoscalers",
    "HorizontalPodAutoscaler",
    true,
    ["hpa"],
    ["status"],
    ["all"],
  ],
  ["networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, ["netpol"], []],
  ["networking.k8s.io", "v1", "ingresses", "Ingress", true, ["ing"], ["status"]],
  ["networking.k8s.io", "v1", "ingressclasses", "IngressClass", false, [], []],
  ["discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true, [], []],
  ["policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, ["pdb"], ["status"]],
  ["storage.k8s.io", "v1", "storageclasses", "StorageClass", false, ["sc"], []],
  ["scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false, ["pc"], []],
  ["coordination.k8s.io", "v1", "leases", "Lease", true, [], []],
  ["events.k8s.io", "v1", "events", "Event", true, ["ev"], []],
  [
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    "CustomResourceDefinition",
    false,
    ["crd", "crds"],
    ["status"],
  ],
];

const extraFieldLabels: Record<string, Record<string, string>> = {
  pods: podFields,
  events: eventFields,
  nodes: { "spec.unschedulable": "spec.unschedulable" },
  namespaces: { "status.phase": "status.phase" },
  secrets: { type: "type" },
  "jobs.batch": { "status.successful": "status.successful" },
  "replicasets.apps": { "status.replicas": "status.replicas" },
};

const replicaScale: ScalePaths = {
  specReplicasPath: ".spec.replicas",
  statusReplicasPath: ".status.replicas",
  labelSelectorPath: ".spec.selector",
};

function builtin([
  group,
  version,
  resource,
  kind,
  namespaced,
  shortNames,
  subresources,
  categories,
]: BuiltinRow) {
  const storageKey = group === "events.k8s.io" ? "events" : group ? `${resource}.${group}` : resource;
  const rt: ResourceType = {
    group,
    version,
    resource,
    kind,
    listKind: `${kind}List`,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames,
    categories: categories ?? [],
    subresources,
    storageKey,
    fieldLabels: extraFieldLabels[storageKey] ?? {},
  };
  if (subresources.includes("scale")) rt.scale = replicaScale;
  if (group === "events.k8s.io") rt.converter = eventsV1Converter;
  return rt;
}

export function builtinResources(): ResourceType[] {
  return builtinRows.map(builtin);
}

export function customResources(crd: KubeObject): ResourceType[] {
  const spec = (crd as { spec?: CrdSpec }).spec;
  if (!spec) return [];
  const names = spec.names ?? {};
  const plural = names.plural ?? "";
  return (spec.versions ?? [])
    .filter((v) => v.served !== false)
    .map((v) => {
      const sub = v.subresources ?? {};
      const subresources: Subresource[] = [];
      if (sub.status) subresources.push("status");
      if (sub.scale) subresources.push("scale");
      const rt: ResourceType = {
        group: spec.group ?? "",
        version: v.name,
        resource: plural,
        kind: names.kind ?? "",
        listKind: names.listKind ?? `${names.kind ?? ""}List`,
        singular: names.singular ?? (names.kind ?? "").toLowerCase(),
        namespaced: spec.scope !== "Cluster",
        shortNames: names.shortNames ?? [],
        categories: names.categories ?? [],
        subresources,
        storageKey: `${plural}.${spec.group ?? ""}`,
        fieldLabels: {},
        crd: crd.metadata.name,
      };
      if (sub.scale) rt.scale = sub.scale;
      if (v.additionalPrinterColumns) rt.printerColumns = v.additionalPrinterColumns;
      return rt;
    });
}

export interface CrdSpec {
  group?: string;
  scope?: string;
  names?: {
    plural?: string;
    singular?: string;
    kind?: string;
    listKind?: string;
    shortNames?: string[];
    categories?: string[];
  };
  versions?: {
    name: string;
    served?: boolean;
    storage?: boolean;
    subresources?: { status?: object; scale?: ScalePaths };
    additionalPrinterColumns?: PrinterColumn[];
  }[];
}

/** Lookup of served resources by group/version/resource, by kind, and by storage key. */
export class ResourceCatalog {
  private readonly byGvr = new Map<string, ResourceType>();
  private readonly order: string[] = [];

  constructor(initial: ResourceType[] = builtinResources()) {
    for (const rt of initial) this.add(rt);
  }

  add(rt: ResourceType): void {
    const key = `${rt.group}/${rt.version}/${rt.resource}`;
    if (!this.byGvr.has(key)) this.order.push(key);
    this.byGvr.set(key, rt);
  }

  removeCrd(crdName: string): void {
    for (const [key, rt] of this.byGvr) {
      if (rt.crd === crdName) {
        this.byGvr.delete(key);
        this.order.splice(this.order.indexOf(key), 1);
      }
    }
  }

  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    return this.byGvr.get(`${group}/${version}/${resource}`);
  }

  forKind(apiVersion: string, kind: string): ResourceType | undefined {
    const { group, version } = splitApiVersion(apiVersion);
    for (const rt of this.byGvr.values()) {
      if (rt.group === group && rt.version === version && rt.kind === kind) return rt;
    }
    return undefined;
  }

  /** Accepts "pods", "deployments.apps", "nodepools.karpenter.sh"; picks the first served version. */
  forStorageKey(key: string): ResourceType | undefined {
    for (const rt of this.byGvr.values()) if (rt.storageKey === key && !rt.converter) return rt;
    return undefined;
  }

  all(): ResourceType[] {
    return this.order.map((k) => this.byGvr.get(k)).filter((rt): rt is ResourceType => rt !== undefined);
  }

  /** Groups in discovery order, each with its versions (the first is the preferred one). */
  groups(): { name: string; versions: string[] }[] {
    const groups = new Map<string, string[]>();
    for (const rt of this.all()) {
      if (!rt.group) continue;
      const versions = groups.get(rt.group) ?? [];
      if (!versions.includes(rt.version)) versions.push(rt.version);
      groups.set(rt.group, versions);
    }
    return [...groups].map(([name, versions]) => ({ name, versions }));
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.all().filter((rt) => rt.group === group && rt.version === version);
  }
}
