// The kubelet model: for every pod bound to a healthy node it runs a container state machine
// (pull → create → run → exit → back-off) and writes the pod status and events with the reasons
// and messages a real kubelet uses (ContainerCreating, ErrImagePull, ImagePullBackOff,
// CreateContainerConfigError, CrashLoopBackOff, OOMKilled, Unhealthy …). Its probes go through the
// simulated datapath: a probe the policies drop (a Cilium deny on `host`) fails as a timeout.
import { createHash } from "node:crypto";
import type { KubeObject } from "../apiserver/types.js";
import { kubeTime } from "../apiserver/types.js";
import { loadPolicySet, POLICY_STORAGE_KEYS, PolicySet } from "../flows/policy.js";
import {
  arr,
  isTerminal,
  rec,
  setCondition,
  type ContainerRuntime,
  type Obj,
  type PodRuntime,
  type SimContext,
} from "./context.js";
import { crashLines, exitCodeOf, runningLines } from "./logs.js";
import { parseQuantity } from "./quantity.js";

const MAX_BACKOFF_MS = 300_000;
const BASE_BACKOFF_MS = 10_000;
/** A container that ran this long before exiting starts its back-off afresh. */
const BACKOFF_RESET_MS = 600_000;
const CONFIG_RETRY_MS = 10_000;

const backoffMs = (n: number) => Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, n - 1));
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** docker.io/library/nginx:1.27 → the reference containerd prints in pull errors. */
export function fullImageRef(image: string): string {
  const withTag = /:[^/]+$/.test(image) || image.includes("@") ? image : `${image}:latest`;
  const first = withTag.split("/")[0] ?? "";
  if (withTag.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost"))
    return withTag;
  return withTag.includes("/") ? `docker.io/${withTag}` : `docker.io/library/${withTag}`;
}

/** The first ConfigMap/Secret reference (env, envFrom, volumes) that cannot be resolved, as the kubelet words it. */
export function missingConfig(ctx: SimContext, pod: KubeObject, container: Obj): string | undefined {
  const ns = pod.metadata.namespace ?? "";
  const cms = (name: string) => ctx.store.get(ctx.rt.configmaps, ns, name);
  const secrets = (name: string) => ctx.store.get(ctx.rt.secrets, ns, name);
  for (const e of arr(container.env)) {
    const from = rec(e.valueFrom);
    const cmRef = rec(from.configMapKeyRef);
    if (typeof cmRef.name === "string" && !cmRef.optional) {
      const cm = cms(cmRef.name);
      if (!cm) return `configmap "${cmRef.name}" not found`;
      if (!(String(cmRef.key) in rec(cm.data)))
        return `couldn't find key ${String(cmRef.key)} in ConfigMap ${ns}/${cmRef.name}`;
    }
    const secRef = rec(from.secretKeyRef);
    if (typeof secRef.name === "string" && !secRef.optional) {
      const s = secrets(secRef.name);
      if (!s) return `secret "${secRef.name}" not found`;
      if (!(String(secRef.key) in { ...rec(s.data), ...rec(s.stringData) }))
        return `couldn't find key ${String(secRef.key)} in Secret ${ns}/${secRef.name}`;
    }
  }
  for (const e of arr(container.envFrom)) {
    const cmRef = rec(e.configMapRef);
    if (typeof cmRef.name === "string" && !cmRef.optional && !cms(cmRef.name))
      return `configmap "${cmRef.name}" not found`;
    const secRef = rec(e.secretRef);
    if (typeof secRef.name === "string" && !secRef.optional && !secrets(secRef.name))
      return `secret "${secRef.name}" not found`;
  }
  return undefined;
}

export class Kubelet {
  private readonly nextIp = new Map<string, number>();

  /** Pods written since the last step (by anyone) and node changes: the only things that can wake idle pods. */
  private readonly touched = new Map<string, KubeObject>();
  private nodesChanged = true;
  private lastFullSync = -Infinity;
  private readonly policiesChanged: () => boolean;
  private policies = new PolicySet([], new Map());
  /** Pods with a probe the datapath drops: never idle, so the failures add up period by period. */
  private readonly probesDropped = new Set<string>();

  constructor(private readonly ctx: SimContext) {
    this.policiesChanged = ctx.changes([
      ...POLICY_STORAGE_KEYS.filter((k) => ctx.store.catalog.forStorageKey(k)),
      "namespaces",
    ]);
    ctx.store.subscribe(ctx.rt.pods.storageKey, (e) => {
      const uid = e.object.metadata.uid ?? "";
      if (e.type === "DELETED") {
        this.touched.delete(uid);
        ctx.runtimes.delete(uid);
      } else this.touched.set(uid, e.object);
    });
    ctx.store.subscribe(ctx.rt.nodes.storageKey, () => (this.nodesChanged = true));
  }

  step(): void {
    const ctx = this.ctx;
    if (this.policiesChanged()) {
      this.policies = loadPolicySet(ctx.store);
      // A new policy can block any pod's probes: every pod looks at them again once.
      for (const rt of ctx.runtimes.values()) rt.idle = false;
    }
    const nodes = new Map(ctx.store.list(ctx.rt.nodes).map((n) => [n.metadata.name ?? "", n]));
    // Like a kubelet's periodic resync: look at every pod now and then, otherwise only at the
    // pods that changed, that have something scheduled, or whose application a fault changed.
    const full = this.nodesChanged || ctx.nowMs - this.lastFullSync >= 60_000;
    let candidates: Iterable<KubeObject>;
    if (full) {
      this.lastFullSync = ctx.nowMs;
      this.nodesChanged = false;
      candidates = ctx.store.list(ctx.rt.pods);
    } else {
      const picked = new Map(this.touched);
      const anyFault = [...ctx.behaviour.values()].some((b) => Object.keys(b).length > 0);
      for (const rt of ctx.runtimes.values()) {
        if (picked.has(rt.uid) || (rt.idle && !(anyFault && this.disturbed(rt)))) continue;
        const pod = rt.name ? ctx.store.get(ctx.rt.pods, rt.namespace, rt.name) : undefined;
        if (pod) picked.set(rt.uid, pod);
      }
      candidates = picked.values();
    }
    this.touched.clear();
    for (const seen of candidates) {
      const pod = full ? seen : ctx.store.get(ctx.rt.pods, seen.metadata.namespace, seen.metadata.name ?? "");
      if (!pod) continue;
      const nodeName = rec(pod.spec).nodeName;
      if (typeof nodeName !== "string" || !nodeName) continue;
      const uid = pod.metadata.uid ?? "";
      const node = nodes.get(nodeName);
      if (!node) {
        // The pod garbage collector removes pods bound to nodes that no longer exist.
        ctx.store.delete(ctx.rt.pods, pod.metadata.namespace, pod.metadata.name ?? "");
        continue;
      }
      if (ctx.nodeHealth.get(nodeName)?.notReady) continue;
      if (isTerminal(pod)) continue;
      const rt = ctx.runtimes.get(uid);
      // A settled pod needs no work until someone touches it or a fault changes its application.
      if (rt?.idle && rt.writtenRv === pod.metadata.resourceVersion && !this.disturbed(rt)) continue;
      this.syncPod(pod, node);
    }
    this.touched.clear(); // our own status writes
  }

  private disturbed(rt: PodRuntime): boolean {
    const b = rt.workload ? this.ctx.behaviour.get(rt.workload) : undefined;
    return !!b && Object.values(b).some((v) => v !== undefined && v !== false && v !== 1);
  }

  private podIp(node: KubeObject): string {
    const name = node.metadata.name ?? "";
    const n = this.nextIp.get(name) ?? 0;
    this.nextIp.set(name, n + 1);
    const cidr = String(rec(node.spec).podCIDR ?? "10.244.0.0/24");
    const [a, b, c] = cidr.split("/")[0]?.split(".") ?? ["10", "244", "0"];
    return `${a}.${b}.${c}.${(n % 250) + 3}`;
  }

  private syncPod(pod: KubeObject, node: KubeObject): void {
    const ctx = this.ctx;
    const uid = pod.metadata.uid ?? "";
    let rt = ctx.runtimes.get(uid);
    if (!rt) {
      rt = {
        uid,
        node: node.metadata.name ?? "",
        ip: this.podIp(node),
        containers: new Map(),
        workload: ctx.workloadOf(pod),
        namespace: pod.metadata.namespace ?? "",
        name: pod.metadata.name ?? "",
      };
      ctx.runtimes.set(uid, rt);
    }
    this.probesDropped.delete(uid);
    for (const c of arr(rec(pod.spec).containers)) {
      const name = String(c.name);
      let cr = rt.containers.get(name);
      if (!cr) {
        cr = {
          phase: "creating",
          restartCount: 0,
          backoffCount: 0,
          pullFailures: 0,
          memoryBytes: 0,
          readyFailures: 0,
          ready: false,
          image: String(c.image),
        };
        rt.containers.set(name, cr);
      }
      this.advance(pod, node, c, cr);
    }
    // Skip the write when nothing observable changed and nobody else touched the pod.
    const signature = [...rt.containers.values()]
      .map((c) => `${c.phase}|${c.ready}|${c.restartCount}|${c.waitingMessage ?? ""}|${c.startedAt ?? ""}`)
      .join(";");
    rt.idle =
      !this.probesDropped.has(uid) &&
      [...rt.containers.values()].every((c) => c.phase === "running" && c.until === undefined && c.ready);
    if (signature === rt.signature && pod.metadata.resourceVersion === rt.writtenRv) return;
    rt.signature = signature;
    rt.writtenRv = this.writeStatus(pod, node, rt);
  }

  private source(node: KubeObject) {
    return { component: "kubelet", host: node.metadata.name ?? "" };
  }

  private advance(pod: KubeObject, node: KubeObject, c: Obj, cr: ContainerRuntime): void {
    const ctx = this.ctx;
    const now = ctx.nowMs;
    const name = String(c.name);
    const fieldPath = `spec.containers{${name}}`;
    const ev = (type: "Normal" | "Warning", reason: string, message: string) =>
      ctx.event(pod, type, reason, message, this.source(node), fieldPath);
    const image = String(c.image);
    // Level-triggered: loop until no transition is due at this instant.
    for (let guard = 0; guard < 6; guard++) {
      switch (cr.phase) {
        case "creating":
        case "config-error": {
          if (cr.phase === "config-error" && now < (cr.until ?? 0)) return;
          const missing = missingConfig(ctx, pod, c);
          if (missing) {
            cr.phase = "config-error";
            cr.waitingMessage = missing;
            cr.until = now + CONFIG_RETRY_MS;
            ev("Warning", "Failed", `Error: ${missing}`);
            return;
          }
          const images = ctx.nodeImages.get(node.metadata.name ?? "") ?? new Set<string>();
          const policy = String(c.imagePullPolicy ?? (image.endsWith(":latest") ? "Always" : "IfNotPresent"));
          if (images.has(image) && policy !== "Always") {
            ev("Normal", "Pulled", `Container image "${image}" already present on machine`);
            this.start(pod, node, c, cr);
            continue;
          }
          ev("Normal", "Pulling", `Pulling image "${image}"`);
          cr.phase = "pulling";
          cr.until = now + ctx.settings.pullMs;
          return;
        }
        case "pulling": {
          if (now < (cr.until ?? 0)) return;
          const ref = fullImageRef(image);
          if (
            ctx.missingImages.has(image) ||
            /:(?:[^:/]*-(?:missing|nonexistent|does-not-exist))$/.test(image)
          ) {
            cr.pullFailures += 1;
            const err = `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
            ev("Warning", "Failed", `Failed to pull image "${image}": ${err}`);
            ev("Warning", "Failed", "Error: ErrImagePull");
            cr.phase = "pull-backoff";
            cr.waitingMessage = err;
            cr.until = now + backoffMs(cr.pullFailures);
            return;
          }
          const ms = ctx.settings.pullMs;
          const size = 20_000_000 + (parseInt(sha(image).slice(0, 6), 16) % 200_000_000);
          ev(
            "Normal",
            "Pulled",
            `Successfully pulled image "${image}" in ${(ms / 1000).toFixed(3)}s (${(ms / 1000).toFixed(3)}s including waiting). Image size: ${size} bytes.`,
          );
          const nodeName = node.metadata.name ?? "";
          if (!ctx.nodeImages.has(nodeName)) ctx.nodeImages.set(nodeName, new Set());
          ctx.nodeImages.get(nodeName)?.add(image);
          this.start(pod, node, c, cr);
          continue;
        }
        case "pull-backoff": {
          if (
            cr.waitingMessage?.startsWith("rpc error") &&
            now > (cr.until ?? 0) - backoffMs(cr.pullFailures) + 500
          ) {
            cr.waitingMessage = `Back-off pulling image "${image}"`;
            ev("Normal", "BackOff", `Back-off pulling image "${image}"`);
            ev("Warning", "Failed", "Error: ImagePullBackOff");
          }
          if (now < (cr.until ?? 0)) return;
          ev("Normal", "Pulling", `Pulling image "${image}"`);
          cr.phase = "pulling";
          cr.until = now + ctx.settings.pullMs;
          return;
        }
        case "crash-backoff": {
          if (now < (cr.until ?? 0)) {
            if (now - (cr.backoffEventAt ?? -Infinity) < CONFIG_RETRY_MS) return;
            cr.backoffEventAt = now;
            ev(
              "Warning",
              "BackOff",
              `Back-off restarting failed container ${name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
            );
            return;
          }
          cr.phase = "creating";
          continue;
        }
        case "running": {
          this.run(pod, node, c, cr);
          return;
        }
        case "done":
          return;
      }
    }
  }

  private start(pod: KubeObject, node: KubeObject, c: Obj, cr: ContainerRuntime): void {
    const ctx = this.ctx;
    const name = String(c.name);
    const fieldPath = `spec.containers{${name}}`;
    ctx.event(pod, "Normal", "Created", `Created container: ${name}`, this.source(node), fieldPath);
    ctx.event(pod, "Normal", "Started", `Started container ${name}`, this.source(node), fieldPath);
    cr.phase = "running";
    cr.image = String(c.image);
    cr.startedAt = ctx.nowMs;
    cr.ready = false;
    cr.readyFailures = 0;
    cr.memoryBytes = baseMemory(c);
    const exit = exitCodeOf(c);
    const restartPolicy = String(rec(pod.spec).restartPolicy ?? "Always");
    if (exit !== undefined) cr.until = ctx.nowMs + ctx.settings.crashAfterMs;
    else if (restartPolicy !== "Always") cr.until = ctx.nowMs + (sleepMs(c) ?? ctx.settings.jobRunMs);
    else delete cr.until;
  }

  private run(pod: KubeObject, node: KubeObject, c: Obj, cr: ContainerRuntime): void {
    const ctx = this.ctx;
    const now = ctx.nowMs;
    const behaviour = ctx.behaviourOf(pod);
    const limit = parseQuantity(rec(rec(c.resources).limits).memory);
    if (behaviour.memoryLeakBytesPerMinute) {
      cr.memoryBytes += (behaviour.memoryLeakBytesPerMinute * ctx.dtMs) / 60_000;
      if (limit && cr.memoryBytes >= limit) return this.exit(pod, node, c, cr, "OOMKilled", 137);
    }
    if (cr.until !== undefined && now >= cr.until) {
      const code = exitCodeOf(c) ?? 0;
      return this.exit(pod, node, c, cr, code === 0 ? "Completed" : "Error", code);
    }
    const probe = rec(c.readinessProbe);
    const hasProbe = Object.keys(probe).length > 0;
    const started = now - (cr.startedAt ?? now) >= Number(probe.initialDelaySeconds ?? 0) * 1000;
    const dropped = hasProbe && this.probeDropped(pod, node, c, probe);
    if (!hasProbe) cr.ready = true;
    else if (behaviour.readinessFailing || dropped) {
      const period = Number(probe.periodSeconds ?? 10) * 1000;
      if (started && (now - (cr.startedAt ?? now)) % period < ctx.dtMs) {
        cr.readyFailures += 1;
        if (cr.readyFailures >= Number(probe.failureThreshold ?? 3)) cr.ready = false;
        const ip = this.ctx.runtimes.get(pod.metadata.uid ?? "")?.ip;
        const what = dropped ? probeTimeout(probe, c, ip) : probeFailure(probe, 503, ip);
        ctx.event(
          pod,
          "Warning",
          "Unhealthy",
          `Readiness probe failed: ${what}`,
          this.source(node),
          `spec.containers{${String(c.name)}}`,
        );
      }
    } else if (started) {
      cr.ready = true;
      cr.readyFailures = 0;
    }
    this.liveness(pod, node, c, cr);
  }

  /** A failing liveness probe: Unhealthy events, then the kubelet kills and restarts the container. */
  private liveness(pod: KubeObject, node: KubeObject, c: Obj, cr: ContainerRuntime): void {
    const ctx = this.ctx;
    const probe = rec(c.livenessProbe);
    const dropped = Object.keys(probe).length > 0 && this.probeDropped(pod, node, c, probe);
    if (!Object.keys(probe).length || !(ctx.behaviourOf(pod).livenessFailing || dropped)) {
      cr.liveFailures = 0;
      return;
    }
    const since = ctx.nowMs - (cr.startedAt ?? ctx.nowMs);
    const period = Number(probe.periodSeconds ?? 10) * 1000;
    if (since < Number(probe.initialDelaySeconds ?? 0) * 1000 || since % period >= ctx.dtMs) return;
    const field = `spec.containers{${String(c.name)}}`;
    cr.liveFailures = (cr.liveFailures ?? 0) + 1;
    const ip = ctx.runtimes.get(pod.metadata.uid ?? "")?.ip;
    const what = dropped ? probeTimeout(probe, c, ip) : probeFailure(probe, 500, ip);
    ctx.event(pod, "Warning", "Unhealthy", `Liveness probe failed: ${what}`, this.source(node), field);
    if (cr.liveFailures < Number(probe.failureThreshold ?? 3)) return;
    ctx.event(
      pod,
      "Normal",
      "Killing",
      `Container ${String(c.name)} failed liveness probe, will be restarted`,
      this.source(node),
      field,
    );
    cr.liveFailures = 0;
    this.exit(pod, node, c, cr, "Error", 137);
  }

  /** Whether the datapath drops this probe: a connection from the pod's node (entity host) to the pod. */
  private probeDropped(pod: KubeObject, node: KubeObject, c: Obj, probe: Obj): boolean {
    if (!this.policies.size) return false;
    const port = probePort(probe, c);
    const rt = this.ctx.runtimes.get(pod.metadata.uid ?? "");
    if (port === undefined || !rt) return false;
    const verdict = this.policies.decide(
      { ip: nodeIp(node), entity: "host" },
      { ip: rt.ip, namespace: pod.metadata.namespace ?? "default", labels: pod.metadata.labels ?? {} },
      port,
      "TCP",
    );
    if (verdict.verdict !== "DROPPED") return false;
    this.probesDropped.add(rt.uid);
    return true;
  }

  private exit(
    pod: KubeObject,
    node: KubeObject,
    c: Obj,
    cr: ContainerRuntime,
    reason: string,
    exitCode: number,
  ): void {
    const ctx = this.ctx;
    const now = ctx.nowMs;
    const startedAt = cr.startedAt ?? now;
    cr.last = {
      reason,
      exitCode,
      startedAt,
      finishedAt: now,
      logs: [...runningLines(pod, c, startedAt, now), ...crashLines(c, reason, cr.memoryBytes)],
    };
    cr.ready = false;
    const policy = String(rec(pod.spec).restartPolicy ?? "Always");
    const restart = policy === "Always" || (policy === "OnFailure" && exitCode !== 0);
    if (!restart) {
      cr.phase = "done";
      return;
    }
    if (now - startedAt >= BACKOFF_RESET_MS) cr.backoffCount = 0;
    cr.backoffCount += 1;
    cr.restartCount += 1;
    cr.phase = "crash-backoff";
    cr.until = now + backoffMs(cr.backoffCount);
    cr.waitingMessage = `back-off ${backoffMs(cr.backoffCount) / 1000}s restarting failed container=${String(c.name)} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
  }

  private writeStatus(pod: KubeObject, node: KubeObject, rt: PodRuntime): string | undefined {
    const ctx = this.ctx;
    const status = rec(pod.status);
    const stamp = (ms: number) => kubeTime(new Date(ms));
    const cid = (n: string, at: number) => `containerd://${sha(`${rt.uid}/${n}/${at}`)}`;
    const statuses: Obj[] = [];
    let allStarted = true;
    let anyRunning = false;
    let allDone = true;
    let anyFailed = false;
    const unready: string[] = [];
    for (const c of arr(rec(pod.spec).containers)) {
      const n = String(c.name);
      const cr = rt.containers.get(n);
      if (!cr) continue;
      let state: Obj;
      switch (cr.phase) {
        case "running":
          state = { running: { startedAt: stamp(cr.startedAt ?? ctx.nowMs) } };
          anyRunning = true;
          break;
        case "pull-backoff":
          state = {
            waiting: {
              reason: cr.waitingMessage?.startsWith("rpc error") ? "ErrImagePull" : "ImagePullBackOff",
              message: cr.waitingMessage,
            },
          };
          break;
        case "config-error":
          state = { waiting: { reason: "CreateContainerConfigError", message: cr.waitingMessage } };
          break;
        case "crash-backoff":
          state = { waiting: { reason: "CrashLoopBackOff", message: cr.waitingMessage } };
          anyRunning = true;
          break;
        case "done":
          state = {
            terminated: {
              exitCode: cr.last?.exitCode ?? 0,
              reason: cr.last?.reason ?? "Completed",
              startedAt: stamp(cr.last?.startedAt ?? ctx.nowMs),
              finishedAt: stamp(cr.last?.finishedAt ?? ctx.nowMs),
              containerID: cid(n, cr.last?.startedAt ?? 0),
            },
          };
          if ((cr.last?.exitCode ?? 0) !== 0) anyFailed = true;
          break;
        default:
          state = { waiting: { reason: "ContainerCreating" } };
      }
      if (cr.phase !== "done") allDone = false;
      const everStarted = cr.startedAt !== undefined;
      if (!everStarted) allStarted = false;
      if (!cr.ready) unready.push(n);
      const s: Obj = {
        name: n,
        state,
        lastState: cr.last
          ? {
              terminated: {
                exitCode: cr.last.exitCode,
                reason: cr.last.reason,
                startedAt: stamp(cr.last.startedAt),
                finishedAt: stamp(cr.last.finishedAt),
                containerID: cid(n, cr.last.startedAt),
              },
            }
          : {},
        ready: cr.ready,
        restartCount: cr.restartCount,
        image: String(c.image),
        imageID: everStarted
          ? `${fullImageRef(cr.image).replace(/:[^:/]+$/, "")}@sha256:${sha(cr.image)}`
          : "",
        started: cr.phase === "running",
      };
      if (everStarted && cr.phase === "running") s.containerID = cid(n, cr.startedAt ?? 0);
      statuses.push(s);
    }
    const phase = allDone
      ? anyFailed
        ? "Failed"
        : "Succeeded"
      : allStarted && anyRunning
        ? "Running"
        : "Pending";
    const ready = unready.length === 0 && phase === "Running";
    const msg = `containers with unready status: [${unready.join(" ")}]`;
    let conditions = arr(status.conditions);
    const cond = (type: string, ok: boolean, reason?: string) =>
      (conditions = setCondition(
        conditions,
        {
          type,
          status: ok ? "True" : "False",
          lastProbeTime: null,
          ...(reason && !ok ? { reason, message: msg } : {}),
        },
        ctx.stamp,
      ));
    cond("PodReadyToStartContainers", true);
    cond("Initialized", true);
    cond("Ready", ready, allDone ? "PodCompleted" : "ContainersNotReady");
    cond("ContainersReady", ready, allDone ? "PodCompleted" : "ContainersNotReady");
    cond("PodScheduled", true);
    const order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];
    conditions.sort((a, b) => order.indexOf(String(a.type)) - order.indexOf(String(b.type)));
    const hostIP = nodeIp(node);
    const next: Obj = {
      ...status,
      phase,
      conditions,
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: rt.ip,
      podIPs: [{ ip: rt.ip }],
      startTime: status.startTime ?? ctx.stamp,
      containerStatuses: statuses,
    };
    return ctx.store.update(ctx.rt.pods, { ...pod, status: next }, { subresource: "status" }).metadata
      .resourceVersion;
  }
}

function nodeIp(node: KubeObject): string {
  return String(arr(rec(node.status).addresses).find((a) => a.type === "InternalIP")?.address ?? "10.0.0.1");
}

/** The numeric port an HTTP, TCP or gRPC probe connects to (a named port through the container's ports). */
export function probePort(probe: Obj, container: Obj): number | undefined {
  const port = rec(probe.httpGet).port ?? rec(probe.tcpSocket).port ?? rec(probe.grpc).port;
  if (typeof port === "number") return port;
  if (typeof port !== "string") return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  const named = arr(container.ports).find((p) => p.name === port)?.containerPort;
  return typeof named === "number" ? named : undefined;
}

/** What the prober reports when the packets are dropped: the probe times out. */
function probeTimeout(probe: Obj, c: Obj, ip = "10.244.0.1"): string {
  const port = probePort(probe, c) ?? 8080;
  const http = rec(probe.httpGet);
  if (Object.keys(http).length)
    return `Get "http://${ip}:${port}${String(http.path ?? "/")}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`;
  return `dial tcp ${ip}:${port}: i/o timeout`;
}

/** The probe result text the kubelet's prober reports for an HTTP or TCP probe. */
function probeFailure(probe: Obj, status: number, ip = "10.244.0.1"): string {
  const http = rec(probe.httpGet);
  if (Object.keys(http).length) return `HTTP probe failed with statuscode: ${status}`;
  const port = rec(probe.tcpSocket).port ?? 8080;
  return `dial tcp ${ip}:${String(port)}: connect: connection refused`;
}

function baseMemory(c: Obj): number {
  const req = parseQuantity(rec(rec(c.resources).requests).memory);
  return req ? req * 0.6 : 64 * 2 ** 20;
}

function sleepMs(c: Obj): number | undefined {
  const text = [
    ...(Array.isArray(c.command) ? c.command : []),
    ...(Array.isArray(c.args) ? c.args : []),
  ].join(" ");
  const m = /\bsleep (\d+)/.exec(text);
  return m ? Number(m[1]) * 1000 : undefined;
}
