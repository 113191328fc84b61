// Server-side `Table` output for `kubectl get`: the columns the real API server prints for the common
// kinds, CRD additionalPrinterColumns for custom resources, and NAME/AGE for the rest.
import type { PrinterColumn, ResourceType } from "./resources.js";
import { readPath, selectorString, type LabelSelectorSpec } from "./selectors.js";
import { isRecord, type KubeObject } from "./types.js";

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cells = (obj: KubeObject, now: Date) => unknown[];

interface Printer {
  columns: Column[];
  cells: Cells;
}

function col(name: string, priority = 0, type = "string", format = ""): Column {
  return { name, type, format, description: name, priority };
}

const nameCol = {
  ...col("Name", 0, "string", "name"),
  description: "Name must be unique within a namespace.",
};
const ageCol = col("Age");

/** k8s.io/apimachinery duration.HumanDuration */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  if (years < 8) return `${years}y${Math.floor(hours / 24) % 365}d`;
  return `${years}y`;
}

function age(timestamp: unknown, now: Date): string {
  if (typeof timestamp !== "string") return "<unknown>";
  return humanDuration(now.getTime() - Date.parse(timestamp));
}

function rec(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

function arr(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.map(rec) : [];
}

function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

function podStatus(pod: KubeObject): {
  ready: string;
  status: string;
  restarts: number;
  lastRestart?: string;
} {
  const spec = rec(pod.spec);
  const status = rec(pod.status);
  const statuses = arr(status.containerStatuses);
  let reason = (status.reason as string) || (status.phase as string) || "Unknown";
  let running = false;
  let readyCount = 0;
  let restarts = 0;
  let lastRestart: string | undefined;
  for (const cs of [...statuses].reverse()) {
    restarts += num(cs.restartCount);
    const finished = rec(rec(cs.lastState).terminated).finishedAt;
    if (typeof finished === "string" && (!lastRestart || finished > lastRestart)) lastRestart = finished;
    const state = rec(cs.state);
    const waiting = rec(state.waiting);
    const terminated = rec(state.terminated);
    if (waiting.reason) reason = waiting.reason as string;
    else if (terminated.reason) reason = terminated.reason as string;
    else if (Object.keys(terminated).length) {
      reason = terminated.signal
        ? `Signal:${String(terminated.signal)}`
        : `ExitCode:${num(terminated.exitCode)}`;
    } else if (state.running && cs.ready) running = true;
    if (cs.ready && state.running) readyCount++;
  }
  if (reason === "Completed" && running) reason = "Running";
  if (pod.metadata.deletionTimestamp) reason = status.reason === "NodeLost" ? "Unknown" : "Terminating";
  return {
    ready: `${readyCount}/${arr(spec.containers).length}`,
    status: reason,
    restarts,
    ...(lastRestart ? { lastRestart } : {}),
  };
}

function images(template: unknown): [string, string] {
  const containers = arr(rec(rec(template).spec).containers);
  return [containers.map((c) => String(c.name)).join(","), containers.map((c) => String(c.image)).join(",")];
}

function nodeStatus(node: KubeObject): string {
  const ready = arr(rec(node.status).conditions).find((c) => c.type === "Ready");
  const parts = [ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady" : "Unknown"];
  if (rec(node.spec).unschedulable) parts.push("SchedulingDisabled");
  return parts.join(",");
}

function nodeRoles(node: KubeObject): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith("node-role.kubernetes.io/"))
    .map((k) => k.slice("node-role.kubernetes.io/".length));
  return roles.length ? roles.sort().join(",") : "<none>";
}

function address(node: KubeObject, type: string): string {
  return String(arr(rec(node.status).addresses).find((a) => a.type === type)?.address ?? "<none>");
}

function servicePorts(svc: KubeObject): string {
  const ports = arr(rec(svc.spec).ports).map(
    (p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ""}/${String(p.protocol ?? "TCP")}`,
  );
  return ports.length ? ports.join(",") : "<none>";
}

function externalIp(svc: KubeObject): string {
  const spec = rec(svc.spec);
  const ingress = arr(rec(rec(svc.status).loadBalancer).ingress).map((i) => String(i.ip ?? i.hostname));
  const external = Array.isArray(spec.externalIPs) ? spec.externalIPs.map(String) : [];
  if (spec.type === "ExternalName") return String(spec.externalName ?? "<none>");
  if (spec.type === "LoadBalancer") return [...ingress, ...external].join(",") || "<pending>";
  return external.join(",") || "<none>";
}

function intOrPercent(v: unknown): string {
  return v === undefined || v === null ? "N/A" : String(v);
}

const printers: Record<string, Printer> = {
  Pod: {
    columns: [
      nameCol,
      col("Ready"),
      col("Status"),
      col("Restarts", 0, "string"),
      ageCol,
      col("IP", 1),
      col("Node", 1),
      col("Nominated Node", 1),
      col("Readiness Gates", 1),
    ],
    cells(pod, now) {
      const s = podStatus(pod);
      const status = rec(pod.status);
      const spec = rec(pod.spec);
      const gates = arr(spec.readinessGates);
      return [
        pod.metadata.name,
        s.ready,
        s.status,
        // The real printer adds when the last restart happened: "3 (42s ago)".
        s.restarts && s.lastRestart ? `${s.restarts} (${age(s.lastRestart, now)} ago)` : String(s.restarts),
        age(pod.metadata.creationTimestamp, now),
        status.podIP ?? "<none>",
        spec.nodeName ?? "<none>",
        status.nominatedNodeName ?? "<none>",
        gates.length ? `${gates.length}` : "<none>",
      ];
    },
  },
  Deployment: {
    columns: [
      nameCol,
      col("Ready"),
      col("Up-to-date", 0, "integer"),
      col("Available", 0, "integer"),
      ageCol,
      col("Containers", 1),
      col("Images", 1),
      col("Selector", 1),
    ],
    cells(d, now) {
      const spec = rec(d.spec);
      const status = rec(d.status);
      return [
        d.metadata.name,
        `${num(status.readyReplicas)}/${num(spec.replicas)}`,
        num(status.updatedReplicas),
        num(status.availableReplicas),
        age(d.metadata.creationTimestamp, now),
        ...images(spec.template),
        selectorString(spec.selector as LabelSelectorSpec),
      ];
    },
  },
  ReplicaSet: {
    columns: [
      nameCol,
      col("Desired", 0, "integer"),
      col("Current", 0, "integer"),
      col("Ready", 0, "integer"),
      ageCol,
      col("Containers", 1),
      col("Images", 1),
      col("Selector", 1),
    ],
    cells(rs, now) {
      const spec = rec(rs.spec);
      const status = rec(rs.status);
      return [
        rs.metadata.name,
        num(spec.replicas),
        num(status.replicas),
        num(status.readyReplicas),
        age(rs.metadata.creationTimestamp, now),
        ...images(spec.template),
        selectorString(spec.selector as LabelSelectorSpec),
      ];
    },
  },
  StatefulSet: {
    columns: [nameCol, col("Ready"), ageCol, col("Containers", 1), col("Images", 1)],
    cells(s, now) {
      const spec = rec(s.spec);
      return [
        s.metadata.name,
        `${num(rec(s.status).readyReplicas)}/${num(spec.replicas)}`,
        age(s.metadata.creationTimestamp, now),
        ...images(spec.template),
      ];
    },
  },
  DaemonSet: {
    columns: [
      nameCol,
      col("Desired", 0, "integer"),
      col("Current", 0, "integer"),
      col("Ready", 0, "integer"),
      col("Up-to-date", 0, "integer"),
      col("Available", 0, "integer"),
      col("Node Selector"),
      ageCol,
    ],
    cells(ds, now) {
      const st = rec(ds.status);
      const selector = rec(rec(rec(rec(ds.spec).template).spec).nodeSelector);
      const sel =
        Object.entries(selector)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(",") || "<none>";
      return [
        ds.metadata.name,
        num(st.desiredNumberScheduled),
        num(st.currentNumberScheduled),
        num(st.numberReady),
        num(st.updatedNumberScheduled),
        num(st.numberAvailable),
        sel,
        age(ds.metadata.creationTimestamp, now),
      ];
    },
  },
  Node: {
    columns: [
      nameCol,
      col("Status"),
      col("Roles"),
      ageCol,
      col("Version"),
      col("Internal-IP", 1),
      col("External-IP", 1),
      col("OS-Image", 1),
      col("Kernel-Version", 1),
      col("Container-Runtime", 1),
    ],
    cells(n, now) {
      const info = rec(rec(n.status).nodeInfo);
      return [
        n.metadata.name,
        nodeStatus(n),
        nodeRoles(n),
        age(n.metadata.creationTimestamp, now),
        info.kubeletVersion ?? "",
        address(n, "InternalIP"),
        address(n, "ExternalIP"),
        info.osImage ?? "<unknown>",
        info.kernelVersion ?? "<unknown>",
        info.containerRuntimeVersion ?? "<unknown>",
      ];
    },
  },
  Namespace: {
    columns: [nameCol, col("Status"), ageCol],
    cells: (ns, now) => [
      ns.metadata.name,
      rec(ns.status).phase ?? "",
      age(ns.metadata.creationTimestamp, now),
    ],
  },
  Service: {
    columns: [
      nameCol,
      col("Type"),
      col("Cluster-IP"),
      col("External-IP"),
      col("Port(s)"),
      ageCol,
      col("Selector", 1),
    ],
    cells(svc, now) {
      const spec = rec(svc.spec);
      const selector =
        Object.entries(rec(spec.selector))
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(",") || "<none>";
      return [
        svc.metadata.name,
        spec.type ?? "ClusterIP",
        spec.clusterIP ?? "<none>",
        externalIp(svc),
        servicePorts(svc),
        age(svc.metadata.creationTimestamp, now),
        selector,
      ];
    },
  },
  ConfigMap: {
    columns: [nameCol, col("Data", 0, "integer"), ageCol],
    cells: (cm, now) => [
      cm.metadata.name,
      Object.keys(rec(cm.data)).length + Object.keys(rec(cm.binaryData)).length,
      age(cm.metadata.creationTimestamp, now),
    ],
  },
  Secret: {
    columns: [nameCol, col("Type"), col("Data", 0, "integer"), ageCol],
    cells: (s, now) => [
      s.metadata.name,
      s.type ?? "Opaque",
      Object.keys(rec(s.data)).length,
      age(s.metadata.creationTimestamp, now),
    ],
  },
  Event: {
    columns: [col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Message")],
    cells(e, now) {
      const io = rec(e.involvedObject);
      const last = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
      return [
        age(last, now),
        e.type ?? "",
        e.reason ?? "",
        `${String(io.kind ?? "").toLowerCase()}/${String(io.name ?? "")}`,
        e.message ?? "",
      ];
    },
  },
  PodDisruptionBudget: {
    columns: [
      nameCol,
      col("Min Available"),
      col("Max Unavailable"),
      col("Allowed Disruptions", 0, "integer"),
      ageCol,
    ],
    cells(p, now) {
      const spec = rec(p.spec);
      return [
        p.metadata.name,
        intOrPercent(spec.minAvailable),
        intOrPercent(spec.maxUnavailable),
        num(rec(p.status).disruptionsAllowed),
        age(p.metadata.creationTimestamp, now),
      ];
    },
  },
  Job: {
    columns: [nameCol, col("Status"), col("Completions"), col("Duration"), ageCol],
    cells(j, now) {
      const st = rec(j.status);
      const done = arr(st.conditions).find(
        (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
      );
      const status = done ? String(done.type) : rec(j.spec).suspend ? "Suspended" : "Running";
      const start = typeof st.startTime === "string" ? Date.parse(st.startTime) : undefined;
      const end = typeof st.completionTime === "string" ? Date.parse(st.completionTime) : now.getTime();
      return [
        j.metadata.name,
        status,
        `${num(st.succeeded)}/${num(rec(j.spec).completions) || 1}`,
        start === undefined ? "" : humanDuration(end - start),
        age(j.metadata.creationTimestamp, now),
      ];
    },
  },
  CronJob: {
    columns: [
      nameCol,
      col("Schedule"),
      col("Timezone"),
      col("Suspend", 0, "boolean"),
      col("Active", 0, "integer"),
      col("Last Schedule"),
      ageCol,
    ],
    cells(c, now) {
      const spec = rec(c.spec);
      const st = rec(c.status);
      return [
        c.metadata.name,
        spec.schedule ?? "",
        spec.timeZone ?? "<none>",
        Boolean(spec.suspend),
        arr(st.active).length,
        st.lastScheduleTime ? age(st.lastScheduleTime, now) : "<none>",
        age(c.metadata.creationTimestamp, now),
      ];
    },
  },
  HorizontalPodAutoscaler: {
    columns: [
      nameCol,
      col("Reference"),
      col("Targets"),
      col("MinPods", 0, "integer"),
      col("MaxPods", 0, "integer"),
      col("Replicas", 0, "integer"),
      ageCol,
    ],
    cells(h, now) {
      const spec = rec(h.spec);
      const ref = rec(spec.scaleTargetRef);
      const current = arr(rec(h.status).currentMetrics);
      const targets = arr(spec.metrics).map((m, i) => {
        const target = rec(rec(rec(m).resource).target);
        const cur = rec(rec(rec(current[i]).resource).current);
        const want =
          target.averageUtilization !== undefined
            ? `${String(target.averageUtilization)}%`
            : String(target.averageValue ?? target.value ?? "");
        const have =
          cur.averageUtilization !== undefined ? `${String(cur.averageUtilization)}%` : "<unknown>";
        return `${String(rec(m.resource).name ?? m.type)}: ${have}/${want}`;
      });
      return [
        h.metadata.name,
        `${String(ref.kind)}/${String(ref.name)}`,
        targets.join(", ") || "<none>",
        num(spec.minReplicas) || 1,
        num(spec.maxReplicas),
        num(rec(h.status).currentReplicas),
        age(h.metadata.creationTimestamp, now),
      ];
    },
  },
  PersistentVolumeClaim: {
    columns: [
      nameCol,
      col("Status"),
      col("Volume"),
      col("Capacity"),
      col("Access Modes"),
      col("StorageClass"),
      ageCol,
    ],
    cells(p, now) {
      const spec = rec(p.spec);
      const st = rec(p.status);
      return [
        p.metadata.name,
        st.phase ?? "",
        spec.volumeName ?? "",
        rec(st.capacity).storage ?? "",
        (Array.isArray(st.accessModes) ? st.accessModes : []).join(","),
        spec.storageClassName ?? "<unset>",
        age(p.metadata.creationTimestamp, now),
      ];
    },
  },
  PriorityClass: {
    columns: [
      nameCol,
      col("Value", 0, "integer"),
      col("Global-Default", 0, "boolean"),
      ageCol,
      col("PreemptionPolicy"),
    ],
    cells: (pc, now) => [
      pc.metadata.name,
      num(pc.value),
      pc.globalDefault === true,
      age(pc.metadata.creationTimestamp, now),
      pc.preemptionPolicy ?? "",
    ],
  },
  CustomResourceDefinition: {
    columns: [nameCol, col("Created At", 0, "date")],
    cells: (c) => [c.metadata.name, c.metadata.creationTimestamp],
  },
};

/** The subset of JSONPath CRD printer columns use: `.a.b`, `[0]`, `[?(@.type=="Ready")]`. */
export function evalColumnPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  // Field names may escape dots, as label keys in CRD printer columns do (labels.node\.kubernetes\.io/x).
  const tokens = path.match(/\.(?:\\\.|[^.[\]\\])+|\[\?\(@\.[^)]+\)\]|\[\d+\]/g) ?? [];
  for (const t of tokens) {
    if (cur === undefined || cur === null) return undefined;
    if (t.startsWith("[?(")) {
      const m = /^\[\?\(@\.([\w.]+)\s*==\s*["']?([^"')]*)["']?\)\]$/.exec(t);
      if (!m || !Array.isArray(cur)) return undefined;
      cur = cur.find((item) => String(readPath(item, m[1] as string)) === m[2]);
    } else if (t.startsWith("[")) {
      cur = Array.isArray(cur) ? cur[Number(t.slice(1, -1))] : undefined;
    } else {
      cur = isRecord(cur) ? cur[t.slice(1).replace(/\\\./g, ".")] : undefined;
    }
  }
  return cur;
}

function customPrinter(columns: PrinterColumn[]): Printer {
  return {
    columns: [
      nameCol,
      ...columns.map((c) => ({
        ...col(c.name, c.priority ?? 0, c.type, c.format ?? ""),
        description: c.description ?? c.name,
      })),
    ],
    cells: (obj, now) => [
      obj.metadata.name,
      ...columns.map((c) => {
        const v = evalColumnPath(obj, c.jsonPath);
        if (c.type === "date") return v === undefined ? "<unknown>" : age(v, now);
        return v === undefined ? "<none>" : typeof v === "object" ? JSON.stringify(v) : v;
      }),
    ],
  };
}

const generic: Printer = {
  columns: [
    nameCol,
    {
      ...ageCol,
      description:
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    },
  ],
  cells: (obj, now) => [obj.metadata.name, age(obj.metadata.creationTimestamp, now)],
};

export function printerFor(rt: ResourceType): Printer {
  if (rt.printerColumns) return customPrinter(rt.printerColumns);
  if (!rt.crd && rt.group !== "events.k8s.io") return printers[rt.kind] ?? generic;
  return generic;
}

export type IncludeObject = "None" | "Metadata" | "Object";

function rowObject(obj: KubeObject, include: IncludeObject): unknown {
  if (include === "None") return undefined;
  if (include === "Object") return obj;
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata };
}

export function toTable(
  rt: ResourceType,
  objects: KubeObject[],
  opts: {
    now: Date;
    include: IncludeObject;
    tableVersion: string;
    resourceVersion?: string;
    continueToken?: string;
  },
): Record<string, unknown> {
  const printer = printerFor(rt);
  const metadata: Record<string, unknown> = {};
  if (opts.resourceVersion) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continueToken) metadata.continue = opts.continueToken;
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${opts.tableVersion}`,
    metadata,
    columnDefinitions: printer.columns,
    rows: objects.map((obj) => {
      const row: Record<string, unknown> = { cells: printer.cells(obj, opts.now) };
      const object = rowObject(obj, opts.include);
      if (object !== undefined) row.object = object;
      return row;
    }),
  };
}
