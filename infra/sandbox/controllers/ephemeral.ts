// Ephemeral containers (`kubectl debug`, pods/ephemeralcontainers): the kubelet starts each one
// added to a running pod, and it terminates when its command ends — after its `sleep N`, an
// `exit N` code, or a few seconds otherwise. Nothing restarts them, as on a real kubelet.
import { kubeTime, type KubeObject } from "../apiserver/types.js";
import { exitCodeOf } from "./logs.js";
import { arr, isTerminal, rec, type Obj, type SimContext } from "./context.js";

const defaultRunMs = 5_000;

function runMs(c: Obj): number {
  const words = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  const text = [...words(c.command), ...words(c.args)].join(" ");
  const m = /\bsleep (\d+)/.exec(text);
  return m ? Number(m[1]) * 1000 : defaultRunMs;
}

export class EphemeralContainers {
  /** Pods (by uid) with an ephemeral container that has not terminated yet. */
  private readonly pending = new Map<string, { namespace: string; name: string }>();

  constructor(private readonly ctx: SimContext) {
    ctx.store.subscribe(ctx.rt.pods.storageKey, (e) => {
      const uid = e.object.metadata.uid ?? "";
      if (e.type !== "DELETED" && this.unfinished(e.object).length)
        this.pending.set(uid, {
          namespace: e.object.metadata.namespace ?? "",
          name: e.object.metadata.name ?? "",
        });
      else this.pending.delete(uid);
    });
  }

  private unfinished(pod: KubeObject): Obj[] {
    const statuses = arr(rec(pod.status).ephemeralContainerStatuses);
    const terminated = (c: Obj) => rec(statuses.find((s) => s.name === c.name)?.state).terminated;
    return arr(rec(pod.spec).ephemeralContainers).filter((c) => !terminated(c));
  }

  step(): void {
    const ctx = this.ctx;
    for (const [uid, key] of [...this.pending]) {
      const pod = ctx.store.get(ctx.rt.pods, key.namespace, key.name);
      if (!pod || pod.metadata.uid !== uid || isTerminal(pod)) {
        this.pending.delete(uid);
        continue;
      }
      const nodeName = String(rec(pod.spec).nodeName ?? "");
      if (!nodeName || ctx.nodeHealth.get(nodeName)?.notReady) continue;
      const before = arr(rec(pod.status).ephemeralContainerStatuses);
      const statuses = arr(rec(pod.spec).ephemeralContainers).map((c) => this.next(c, before));
      if (JSON.stringify(statuses) === JSON.stringify(before)) continue;
      ctx.store.update(
        ctx.rt.pods,
        { ...pod, status: { ...rec(pod.status), ephemeralContainerStatuses: statuses } },
        { subresource: "status" },
      );
    }
  }

  private next(c: Obj, before: Obj[]): Obj {
    const ctx = this.ctx;
    const old = before.find((s) => s.name === c.name);
    const base = { name: c.name, image: c.image, imageID: "", ready: false, restartCount: 0 };
    const state = rec(old?.state);
    if (!old || (!state.running && !state.terminated))
      return { ...base, started: true, state: { running: { startedAt: ctx.stamp } }, lastState: {} };
    const startedAt = String(rec(state.running).startedAt ?? "");
    if (state.running && ctx.nowMs - Date.parse(startedAt) >= runMs(c)) {
      const exitCode = exitCodeOf(c) ?? 0;
      return {
        ...base,
        started: false,
        state: {
          terminated: {
            exitCode,
            reason: exitCode === 0 ? "Completed" : "Error",
            startedAt,
            finishedAt: kubeTime(new Date(ctx.nowMs)),
          },
        },
        lastState: {},
      };
    }
    return old;
  }
}
