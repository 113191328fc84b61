// create_heap_dump: run the heap-dump command the pod's workload declares in an ephemeral debug
// container next to the target container (what `kubectl debug --target` does), since the cluster
// port has no exec. The dump stays where the command writes it (e.g. /tmp of the target
// container, reachable through the shared process namespace); fetching it is left to a person.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { ContainerStatus, KubeObject, PodSpec } from "../../diagnosis/objects.js";
import { ClusterWriteError } from "../../ports/cluster.js";
import {
  defineAction,
  remediationAnnotations,
  specHash,
  type ActionContext,
  type ActionTarget,
} from "../action.js";

const params = z.strictObject({
  container: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .max(63)
    .optional()
    .describe("the container whose process to dump; default: the pod's first container"),
});

type Params = z.infer<typeof params>;

export const heapDumpCommandAnnotation = "aiops.prophet.io/heap-dump-command";
export const heapDumpImageAnnotation = "aiops.prophet.io/heap-dump-image";
const defaultImage = "busybox:1.36";

export const debugContainerName = (remediationId: string) =>
  `prophet-heap-dump-${createHash("sha256").update(remediationId).digest("hex").slice(0, 6)}`;

/** The pod, then its owners up to the workload: the first that declares the command wins. */
async function declaration(ctx: ActionContext, pod: KubeObject) {
  const ns = pod.metadata.namespace;
  const chain: KubeObject[] = [pod];
  let cur: KubeObject | undefined = pod;
  for (let i = 0; i < 3 && cur; i++) {
    const owner =
      cur.metadata.ownerReferences?.find((o) => o.controller) ?? cur.metadata.ownerReferences?.[0];
    if (!owner || !["ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job"].includes(owner.kind))
      break;
    cur = await ctx.cluster.get(owner.kind, ns, owner.name);
    if (cur) chain.push(cur);
  }
  const from = chain.find((o) => o.metadata.annotations?.[heapDumpCommandAnnotation]);
  if (!from) return undefined;
  const a = from.metadata.annotations ?? {};
  return {
    command: a[heapDumpCommandAnnotation]!,
    image: a[heapDumpImageAnnotation] ?? defaultImage,
    declaredOn: `${from.kind}/${from.metadata.name}`,
  };
}

async function readPod(ctx: ActionContext, t: ActionTarget) {
  return ctx.cluster.get("Pod", t.namespace, t.name);
}

function debugStatus(pod: KubeObject | undefined, name: string): ContainerStatus | undefined {
  return (
    (pod?.status as { ephemeralContainerStatuses?: ContainerStatus[] } | undefined)
      ?.ephemeralContainerStatuses ?? []
  ).find((s) => s.name === name);
}

export const createHeapDump = defineAction<Params>({
  name: "create_heap_dump",
  description: `Runs the heap-dump command the pod or its workload declares (annotation ${heapDumpCommandAnnotation}, e.g. "jcmd 1 GC.heap_dump /tmp/heap.hprof"; image from ${heapDumpImageAnnotation}, default ${defaultImage}) in an ephemeral debug container targeting the pod's container, like kubectl debug. The process may pause while dumping. No undo: ephemeral containers cannot be removed (they stay, terminated).`,
  whenToUse:
    "A memory leak or OOM kills of a JVM/.NET/Node process where the heap contents are needed to find the cause, before the pod is restarted or scaled away.",
  whenNotToUse:
    "The pod is not running or is about to be OOM-killed anyway with no time to dump; the workload declares no heap-dump command; latency-critical pods at peak (the dump pauses the process).",
  targetKinds: ["Pod"],
  scope: "pod",
  requiresApproval: true,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    const pod = await readPod(ctx, t);
    if (!pod)
      return { ok: false, failure: "target_missing", detail: `Pod ${t.namespace}/${t.name} not found` };
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase !== "Running")
      return {
        ok: false,
        failure: "precondition",
        detail: `Pod ${t.namespace}/${t.name} is ${phase ?? "not running"}`,
      };
    const containers = ((pod.spec ?? {}) as PodSpec).containers ?? [];
    const target = p.container ?? containers[0]?.name;
    if (!containers.some((c) => c.name === target))
      return {
        ok: false,
        failure: "precondition",
        detail: `Pod ${t.namespace}/${t.name} has no container ${target}`,
      };
    if (!ctx.cluster.patch)
      return { ok: false, failure: "unsupported", detail: "the cluster port cannot write" };
    const decl = await declaration(ctx, pod);
    if (!decl)
      return {
        ok: false,
        failure: "unsupported",
        detail: `Pod ${t.namespace}/${t.name} and its workload declare no heap-dump command (annotation ${heapDumpCommandAnnotation})`,
      };
    const existing = (pod.spec as { ephemeralContainers?: { name: string }[] }).ephemeralContainers ?? [];
    if (existing.some((c) => c.name === debugContainerName(ctx.remediationId)))
      return {
        ok: false,
        failure: "precondition",
        detail: "this remediation already ran a heap dump in the pod",
      };
    return {
      ok: true,
      detail: `run "${decl.command}" (${decl.declaredOn}) in ${decl.image} against container ${target}`,
    };
  },
  async execute(ctx, t, p) {
    const pod = await readPod(ctx, t);
    if (!pod) throw new Error(`Pod ${t.namespace}/${t.name} not found`);
    const decl = await declaration(ctx, pod);
    if (!decl) throw new Error(`no ${heapDumpCommandAnnotation} declared for Pod ${t.namespace}/${t.name}`);
    const target = p.container ?? ((pod.spec ?? {}) as PodSpec).containers?.[0]?.name ?? "";
    const name = debugContainerName(ctx.remediationId);
    const container = {
      name,
      image: decl.image,
      command: ["sh", "-c", decl.command],
      targetContainerName: target,
      stdin: false,
      tty: false,
      terminationMessagePolicy: "FallbackToLogsOnError",
    };
    try {
      await ctx.cluster.patch!(
        "Pod",
        t.namespace,
        t.name,
        { spec: { ephemeralContainers: [container] } },
        { type: "strategic", subresource: "ephemeralcontainers" },
      );
    } catch (err) {
      if (err instanceof ClusterWriteError && err.failure === "not_found")
        throw new ClusterWriteError(
          err.failure,
          err.status,
          `the cluster does not serve pods/ephemeralcontainers: ${err.message}`,
        );
      throw err;
    }
    const after = await ctx.cluster.patch!("Pod", t.namespace, t.name, {
      metadata: { annotations: remediationAnnotations(ctx, "create_heap_dump") },
    });
    return {
      changes: [
        `Pod ${t.namespace}/${t.name}: ephemeral container ${name} (${decl.image}) runs "${decl.command}" against ${target}`,
      ],
      specHashBefore: specHash(pod),
      specHashAfter: specHash(after),
      undo: { container: name },
    };
  },
  async verify(ctx, t, _p, result) {
    const name = String(result.undo?.container ?? "");
    const s = debugStatus(await readPod(ctx, t), name);
    if (!s) return { ok: false, detail: `ephemeral container ${name} has not started` };
    if (s.state?.running) return { ok: false, detail: `ephemeral container ${name} is still running` };
    const done = s.state?.terminated;
    if (!done)
      return { ok: false, detail: `ephemeral container ${name} is ${s.state?.waiting?.reason ?? "waiting"}` };
    return done.exitCode === 0
      ? { ok: true, detail: `heap dump command finished (exit 0) in ${name}` }
      : {
          ok: false,
          detail: `heap dump command failed in ${name}: exit ${done.exitCode} ${done.reason ?? ""}`.trim(),
        };
  },
});
