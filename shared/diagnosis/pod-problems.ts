// Why a pod is unhealthy, named the way an SRE would: the taint that repels it, the resource no
// node has, the image tag that does not exist, the Secret that is missing, the limit it hit.
// Shared by the Pod analyzer and the workload analyzers, which cite their pods' causes.
import type { ClusterView } from "./cluster-view.js";
import type { Container, ContainerStatus, KubeEvent, KubeObject, PodSpec, PodStatus } from "./objects.js";
import { condition, specOf, statusOf } from "./objects.js";
import { listOf } from "./analyzer.js";

export interface PodProblem {
  reason: string;
  message: string;
  container?: string;
  logs?: readonly string[] | undefined;
  events?: KubeEvent[];
  metrics?: Record<string, number>;
}

const units: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};

/** "256Mi" → bytes; undefined when it is not a quantity. */
export function quantityBytes(q: string | undefined): number | undefined {
  const m = q ? /^(\d+(?:\.\d+)?)([KMGT]i?|k)?$/.exec(q) : null;
  if (!m) return undefined;
  return Number(m[1]) * (m[2] ? (units[m[2]] ?? 1) : 1);
}

function crashMetrics(c: ContainerStatus, spec: Container | undefined): Record<string, number> {
  const out: Record<string, number> = { restarts: c.restartCount ?? 0 };
  const t = c.lastState?.terminated ?? c.state?.terminated;
  if (t?.exitCode !== undefined) out.exitCode = t.exitCode;
  const limit = quantityBytes(spec?.resources?.limits?.memory);
  if (limit !== undefined) out.memoryLimitBytes = limit;
  return out;
}

/** Waiting reasons that only mean "starting"; a problem only when events say what is wrong. */
const startingReasons = new Set(["ContainerCreating", "PodInitializing"]);
/** Pod events that explain a pod stuck before its containers start. */
const startupFailures = new Set([
  "FailedCreatePodSandBox",
  "FailedMount",
  "FailedAttachVolume",
  "FailedKillPod",
  "FailedSync",
  "NetworkNotReady",
]);

const exitCodeMeaning: Record<number, string> = {
  1: "application error",
  2: "misuse of shell builtins or bad arguments",
  126: "command cannot execute",
  127: "command not found",
  128: "invalid exit argument",
  134: "aborted (SIGABRT)",
  137: "killed (SIGKILL)",
  139: "segmentation fault (SIGSEGV)",
  143: "terminated (SIGTERM)",
};

export function describeExit(code: number | undefined): string {
  if (code === undefined) return "exited";
  const meaning = exitCodeMeaning[code];
  return `exited with code ${code}${meaning ? ` (${meaning})` : ""}`;
}

function containersOf(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

function eventsForContainer(events: KubeEvent[], container: string): KubeEvent[] {
  const tagged = events.filter((e) => e.involvedObject?.fieldPath?.includes(`{${container}}`));
  return tagged.length > 0 ? tagged : events.filter((e) => !e.involvedObject?.fieldPath);
}

/** Parses a scheduler message ("0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, …"). */
export function classifyUnschedulable(message: string, spec: PodSpec): { reason: string; causes: string[] } {
  const causes: string[] = [];
  let reason = "Unschedulable";
  const taints = new Set<string>();
  for (const m of message.matchAll(/taints?\(?s?\)? \{([^:}]+)(?::[^}]*)?\}/g)) taints.add(m[1]!.trim());
  if (taints.size > 0) {
    reason = "UntoleratedTaint";
    causes.push(`untolerated taint ${listOf([...taints])} on the nodes`);
  }
  const resources = new Set<string>();
  for (const m of message.matchAll(/Insufficient ([\w./-]*[\w/-])/g)) resources.add(m[1]!);
  if (resources.size > 0) {
    if (reason === "Unschedulable") reason = "InsufficientResources";
    const requested = requestsFor(spec, [...resources]);
    causes.push(`insufficient ${listOf([...resources])} on every candidate node${requested}`);
  }
  if (/didn't match Pod's node affinity\/selector|node\(s\) didn't match node selector/.test(message)) {
    if (reason === "Unschedulable") reason = "NodeSelectorMismatch";
    const sel = Object.entries(spec.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`);
    causes.push(
      sel.length > 0
        ? `no node matches the node selector ${sel.join(",")}`
        : "no node matches the pod's node affinity",
    );
  }
  const pvc = /persistentvolumeclaim "([^"]+)" not found/.exec(message);
  if (pvc) {
    if (reason === "Unschedulable") reason = "PersistentVolumeClaimNotFound";
    causes.push(`PersistentVolumeClaim ${pvc[1]} does not exist`);
  }
  if (/unbound immediate PersistentVolumeClaims/.test(message)) {
    if (reason === "Unschedulable") reason = "PersistentVolumeClaimUnbound";
    causes.push("its PersistentVolumeClaim is not bound");
  }
  if (/were unschedulable/.test(message)) causes.push("nodes are cordoned (unschedulable)");
  if (/anti-affinity/.test(message)) causes.push("pod anti-affinity rules exclude the nodes");
  else if (/pod affinity/.test(message)) causes.push("pod affinity rules match no node");
  if (/volume node affinity conflict/.test(message)) causes.push("volume node affinity conflict");
  if (/Too many pods/.test(message)) causes.push("nodes are at their pod limit");
  return { reason, causes };
}

function requestsFor(spec: PodSpec, resources: string[]): string {
  const parts: string[] = [];
  for (const r of resources) {
    const total = (spec.containers ?? [])
      .map((c) => c.resources?.requests?.[r])
      .filter((v): v is string => !!v);
    if (total.length > 0) parts.push(`${r} ${total.join("+")}`);
  }
  return parts.length > 0 ? ` (the pod requests ${parts.join(", ")})` : "";
}

function imageProblem(c: ContainerStatus, spec: Container | undefined, events: KubeEvent[]): PodProblem {
  const image = spec?.image ?? c.image ?? "(unknown image)";
  const tag = /:([^/:@]+)$/.exec(image)?.[1] ?? "latest";
  const pullEvents = events.filter((e) => e.reason === "Failed" || e.reason === "ErrImagePull");
  const text = [c.state?.waiting?.message ?? "", ...pullEvents.map((e) => e.message ?? "")].join(" ");
  const waiting = c.state?.waiting?.reason ?? "ImagePullBackOff";
  let reason = waiting;
  let cause = `cannot pull image ${image}`;
  if (waiting === "InvalidImageName") cause = `image name ${image} is invalid`;
  else if (/not found|manifest unknown|does not exist/i.test(text)) {
    reason = "ImageNotFound";
    cause = `image ${image} not found: tag ${tag} does not exist in the registry`;
  } else if (/unauthorized|authentication required|denied|forbidden|403|401/i.test(text)) {
    reason = "ImagePullUnauthorized";
    cause = `pulling image ${image} was refused (unauthorised): check imagePullSecrets and registry credentials`;
  } else if (
    /no such host|i\/o timeout|connection refused|dial tcp|TLS handshake|context deadline/i.test(text)
  ) {
    reason = "RegistryUnreachable";
    cause = `registry for image ${image} is unreachable`;
  }
  const detail = c.state?.waiting?.message ?? pullEvents.at(-1)?.message;
  return {
    reason,
    container: c.name,
    message: `container ${c.name} (${waiting}): ${cause}${detail ? ` (${detail.trim()})` : ""}`,
    events: pullEvents,
  };
}

function configProblem(
  view: ClusterView,
  pod: KubeObject,
  c: ContainerStatus,
  spec: Container | undefined,
): PodProblem {
  const ns = pod.metadata.namespace ?? "";
  const msg = c.state?.waiting?.message ?? "";
  const waiting = c.state?.waiting?.reason ?? "CreateContainerConfigError";
  const secret = /secret "([^"]+)" not found/i.exec(msg)?.[1];
  const configMap = /configmap "([^"]+)" not found/i.exec(msg)?.[1];
  const key = /couldn't find key (\S+) in (Secret|ConfigMap) ([\w.-]+)\/([\w.-]+)/i.exec(msg);
  if (secret)
    return {
      reason: "SecretNotFound",
      container: c.name,
      message: `container ${c.name} (${waiting}): Secret ${secret} referenced by the container does not exist in namespace ${ns}`,
    };
  if (configMap)
    return {
      reason: "ConfigMapNotFound",
      container: c.name,
      message: `container ${c.name} (${waiting}): ConfigMap ${configMap} referenced by the container does not exist in namespace ${ns}`,
    };
  if (/runAsNonRoot/.test(msg))
    return {
      reason: "RunAsNonRootViolation",
      container: c.name,
      message: `container ${c.name} (${waiting}): the pod requires runAsNonRoot but image ${spec?.image ?? c.image ?? ""} runs as root (set runAsUser or use a non-root image)`,
    };
  if (key)
    return {
      reason: "KeyNotFound",
      container: c.name,
      message: `container ${c.name} (${waiting}): key ${key[1]} is missing from ${key[2]} ${key[4]}`,
    };
  // The message may be generic; look for the reference that is actually missing.
  for (const e of spec?.env ?? []) {
    const s = e.valueFrom?.secretKeyRef;
    if (s && !s.optional && !view.has("Secret", ns, s.name))
      return {
        reason: "SecretNotFound",
        container: c.name,
        message: `container ${c.name} (${waiting}): env ${e.name} needs Secret ${s.name}, which does not exist`,
      };
    const m = e.valueFrom?.configMapKeyRef;
    if (m && !m.optional && !view.has("ConfigMap", ns, m.name))
      return {
        reason: "ConfigMapNotFound",
        container: c.name,
        message: `container ${c.name} (${waiting}): env ${e.name} needs ConfigMap ${m.name}, which does not exist`,
      };
  }
  for (const f of spec?.envFrom ?? []) {
    if (f.secretRef && !f.secretRef.optional && !view.has("Secret", ns, f.secretRef.name))
      return {
        reason: "SecretNotFound",
        container: c.name,
        message: `container ${c.name} (${waiting}): Secret ${f.secretRef.name} does not exist`,
      };
    if (f.configMapRef && !f.configMapRef.optional && !view.has("ConfigMap", ns, f.configMapRef.name))
      return {
        reason: "ConfigMapNotFound",
        container: c.name,
        message: `container ${c.name} (${waiting}): ConfigMap ${f.configMapRef.name} does not exist`,
      };
  }
  return {
    reason: waiting,
    container: c.name,
    message: `container ${c.name} cannot be created (${waiting})${msg ? `: ${msg}` : ""}`,
  };
}

function crashProblem(
  pod: KubeObject,
  c: ContainerStatus,
  spec: Container | undefined,
  events: KubeEvent[],
  logs: readonly string[] | undefined,
): PodProblem {
  const last = c.lastState?.terminated ?? c.state?.terminated;
  const waiting = c.state?.waiting?.reason ?? "CrashLoopBackOff";
  const restarts = c.restartCount ?? 0;
  const liveness = events.filter((e) => /Liveness probe failed/i.test(e.message ?? ""));
  const startup = events.filter((e) => /Startup probe failed/i.test(e.message ?? ""));
  let reason = waiting;
  let cause: string;
  if (last?.reason === "OOMKilled") {
    reason = "OOMKilled";
    const limit = spec?.resources?.limits?.memory;
    cause = `was OOMKilled (exit code ${last.exitCode ?? 137})${limit ? `: it exceeded its memory limit of ${limit}` : ""}`;
  } else if (liveness.length > 0) {
    reason = "LivenessProbeFailed";
    cause = `is restarted by its failing liveness probe (${(liveness.at(-1)?.message ?? "").trim()})`;
  } else if (startup.length > 0) {
    reason = "StartupProbeFailed";
    cause = `is restarted by its failing startup probe (${(startup.at(-1)?.message ?? "").trim()})`;
  } else if (last) {
    cause = `${describeExit(last.exitCode)}${last.reason && last.reason !== "Error" ? ` (${last.reason})` : ""}`;
    if (last.message) cause += `: ${last.message.trim()}`;
  } else cause = "keeps crashing";
  const lastLine = logs?.filter((l) => l.trim()).at(-1);
  const message =
    `container ${c.name} ${cause}; ${waiting}, restarted ${restarts} time${restarts === 1 ? "" : "s"}` +
    (lastLine ? `; last log line: ${lastLine.trim()}` : "");
  void pod;
  return {
    reason,
    container: c.name,
    message,
    logs,
    events: [...liveness, ...startup],
    metrics: crashMetrics(c, spec),
  };
}

/** Every problem a pod has; empty for a healthy pod or one that is merely starting. */
export function podProblems(view: ClusterView, pod: KubeObject): PodProblem[] {
  const spec = specOf<PodSpec>(pod);
  const status = statusOf<PodStatus>(pod);
  const ns = pod.metadata.namespace ?? "";
  const events = view.events(pod);
  const warnings = events.filter((e) => e.type === "Warning");
  const problems: PodProblem[] = [];
  if (pod.metadata.deletionTimestamp) return problems;
  if (status.phase === "Succeeded") return problems;

  if (status.phase === "Failed" && status.reason === "Evicted") {
    const pressure = /low on resource: ([\w.-]*\w)/i.exec(status.message ?? "")?.[1];
    const message = pressure
      ? `pod was evicted because its node was low on ${pressure} (node ${pressure} pressure): ${status.message?.trim()}`
      : `pod was evicted from its node${status.message ? `: ${status.message.trim()}` : ""}`;
    return [{ reason: "Evicted", message }];
  }
  if (status.phase === "Failed" && status.reason)
    problems.push({
      reason: status.reason,
      message: `pod failed (${status.reason})${status.message ? `: ${status.message.trim()}` : ""}`,
    });

  // Scheduling
  const scheduled = condition(status.conditions, "PodScheduled");
  const gates = spec.schedulingGates ?? [];
  if (scheduled?.status === "False" && (scheduled.reason === "SchedulingGated" || gates.length > 0)) {
    const names = gates.map((g) => g.name);
    return [
      {
        reason: "SchedulingGated",
        message: `pod is held by scheduling gate${names.length === 1 ? "" : "s"} ${names.length > 0 ? listOf(names) : "(unnamed)"}; it will not be scheduled until the gate is removed${scheduled.message ? ` (${scheduled.message.trim()})` : ""}`,
      },
    ];
  }
  const failedScheduling = warnings.filter((e) => e.reason === "FailedScheduling");
  if (
    status.phase === "Pending" &&
    !spec.nodeName &&
    ((scheduled?.status === "False" && scheduled.reason === "Unschedulable") || failedScheduling.length > 0)
  ) {
    const text = scheduled?.message ?? failedScheduling.at(-1)?.message ?? "";
    const { reason, causes } = classifyUnschedulable(text, spec);
    return [
      {
        reason,
        message: `pod cannot be scheduled: ${causes.length > 0 ? causes.join("; ") : "no node fits"}${text ? ` (scheduler: ${text.trim()})` : ""}`,
        events: failedScheduling,
      },
    ];
  }

  // Containers
  const statuses = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  const specs = new Map(containersOf(spec).map((c) => [c.name, c]));
  let startupReported = false;
  for (const c of statuses) {
    const cSpec = specs.get(c.name);
    const cEvents = eventsForContainer(warnings, c.name);
    const waiting = c.state?.waiting;
    const terminated = c.state?.terminated;
    if (waiting?.reason && startingReasons.has(waiting.reason)) {
      const failures = warnings.filter((e) => startupFailures.has(e.reason ?? ""));
      if (failures.length > 0 && !startupReported) {
        startupReported = true;
        const last = failures.at(-1)!;
        const what =
          last.reason === "FailedCreatePodSandBox"
            ? "its sandbox (network/runtime) cannot be created"
            : last.reason === "FailedMount" || last.reason === "FailedAttachVolume"
              ? "a volume cannot be mounted"
              : "it cannot start";
        problems.push({
          reason: last.reason ?? waiting.reason,
          message: `pod is stuck in ${waiting.reason}: ${what}: ${(last.message ?? "").trim()}`,
          events: failures,
        });
      }
      continue;
    }
    if (waiting?.reason) {
      const r = waiting.reason;
      if (
        r === "ImagePullBackOff" ||
        r === "ErrImagePull" ||
        r === "InvalidImageName" ||
        r === "ErrImageNeverPull"
      )
        problems.push(imageProblem(c, cSpec, cEvents));
      else if (r === "CreateContainerConfigError") problems.push(configProblem(view, pod, c, cSpec));
      else if (r === "CrashLoopBackOff" || r === "RunContainerError")
        problems.push(crashProblem(pod, c, cSpec, cEvents, view.logs(ns, pod.metadata.name, c.name)));
      else
        problems.push({
          reason: r,
          container: c.name,
          message: `container ${c.name} is waiting: ${r}${waiting.message ? ` (${waiting.message.trim()})` : ""}`,
        });
      continue;
    }
    if (terminated && (terminated.exitCode ?? 0) !== 0) {
      const oom = terminated.reason === "OOMKilled";
      const limit = cSpec?.resources?.limits?.memory;
      problems.push({
        reason: oom ? "OOMKilled" : "ContainerFailed",
        container: c.name,
        message: oom
          ? `container ${c.name} was OOMKilled (exit code ${terminated.exitCode})${limit ? `: it exceeded its memory limit of ${limit}` : ""}`
          : `container ${c.name} ${describeExit(terminated.exitCode)}${terminated.reason && terminated.reason !== "Error" ? ` (${terminated.reason})` : ""}${terminated.message ? `: ${terminated.message.trim()}` : ""}`,
        logs: view.logs(ns, pod.metadata.name, c.name),
        metrics: crashMetrics(c, cSpec),
      });
      continue;
    }
    // Running again after an OOM kill: the container is in an OOM crash loop even when read between
    // restarts. Only a recent kill counts: the kubelet's events for the container (they expire after
    // about an hour) must still be there, so an OOM from days ago stays quiet.
    const lastTerminated = c.lastState?.terminated;
    if (
      c.state?.running &&
      lastTerminated?.reason === "OOMKilled" &&
      (c.restartCount ?? 0) > 0 &&
      events.some((e) => e.involvedObject?.fieldPath?.includes(`{${c.name}}`))
    ) {
      const limit = cSpec?.resources?.limits?.memory;
      problems.push({
        reason: "OOMKilled",
        container: c.name,
        message: `container ${c.name} was OOMKilled (exit code ${lastTerminated.exitCode ?? 137}) and restarted ${c.restartCount} time(s)${limit ? `: it exceeded its memory limit of ${limit}` : ""}`,
        logs: view.logs(ns, pod.metadata.name, c.name),
        metrics: crashMetrics(c, cSpec),
      });
      continue;
    }
    if (c.state?.running && c.ready === false) {
      const probe = cEvents.filter((e) => /Readiness probe failed/i.test(e.message ?? ""));
      if (probe.length > 0) {
        const p = cSpec?.readinessProbe?.httpGet;
        const target = p ? ` (GET ${p.path ?? "/"} on port ${String(p.port ?? "")})` : "";
        problems.push({
          reason: "ReadinessProbeFailed",
          container: c.name,
          message: `container ${c.name} is running but not ready: its readiness probe${target} fails: ${(probe.at(-1)?.message ?? "").trim()}`,
          events: probe,
        });
      }
    }
  }
  // A pod with no container statuses yet that cannot start (volume, sandbox) still says why in events.
  if (statuses.length === 0 && status.phase === "Pending") {
    const failures = warnings.filter((e) => startupFailures.has(e.reason ?? ""));
    if (failures.length > 0) {
      const last = failures.at(-1)!;
      problems.push({
        reason: last.reason ?? "FailedStart",
        message: `pod cannot start: ${(last.message ?? "").trim()}`,
        events: failures,
      });
    }
  }
  return problems;
}

/** A short mention for a workload's message: "cart-7d9f-x2kq (OOMKilled, container cart)". */
export function summarisePod(view: ClusterView, pod: KubeObject): string | undefined {
  const p = podProblems(view, pod)[0];
  return p
    ? `${pod.metadata.name} (${p.reason}${p.container ? `, container ${p.container}` : ""})`
    : undefined;
}
