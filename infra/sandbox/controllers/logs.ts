// Container log text for `kubectl logs` (and `--previous`): request lines for a healthy service,
// the last words of a crashing or OOM-killed process. Deterministic from pod, container and times.
import { apiErrors } from "../apiserver/errors.js";
import type { PodLogSource } from "../apiserver/pods.js";
import type { KubeObject } from "../apiserver/types.js";
import { hashSeed, seededRandom } from "../random.js";
import { arr, rec, type Obj, type SimContext } from "./context.js";

const LINE_EVERY_MS = 15_000;
const MAX_LINES = 200;
const paths = ["/api/products", "/api/cart", "/healthz", "/api/orders", "/api/checkout", "/metrics"];

function commandText(c: Obj): string {
  return [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])]
    .map(String)
    .join(" ");
}

/** `exit 3` in a container's command means the process exits with 3 after a few seconds. */
export function exitCodeOf(c: Obj): number | undefined {
  const m = /\bexit (\d+)/.exec(commandText(c));
  return m ? Number(m[1]) : undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function runningLines(pod: KubeObject, c: Obj, from: number, to: number): string[] {
  const name = String(c.name);
  const echo = /echo ['"]?([^'";]+)/.exec(commandText(c))?.[1];
  if (echo) return [echo.trim()];
  const out = [`${iso(from)} INFO  starting ${name} version=${String(c.image).split(":")[1] ?? "latest"}`];
  const port = rec(arr(c.ports)[0]).containerPort ?? 8080;
  out.push(`${iso(from + 120)} INFO  listening on :${String(port)}`);
  const first = Math.max(from + LINE_EVERY_MS, to - MAX_LINES * LINE_EVERY_MS);
  for (let t = first - (first % LINE_EVERY_MS); t <= to; t += LINE_EVERY_MS) {
    if (t <= from) continue;
    const r = seededRandom(hashSeed(`${pod.metadata.uid}/${name}/${t}`));
    const path = paths[Math.floor(r() * paths.length)] ?? "/";
    const status = r() < 0.02 ? 500 : 200;
    out.push(
      `${iso(t)} ${status === 200 ? "INFO " : "ERROR"} method=GET path=${path} status=${status} duration_ms=${Math.round(5 + r() * 80)}`,
    );
  }
  return out;
}

export function crashLines(c: Obj, reason: string, memoryBytes: number): string[] {
  if (reason === "OOMKilled") {
    const mb = Math.round(memoryBytes / 2 ** 20);
    return [
      `WARN  heap usage high: ${Math.round(mb * 0.9)}Mi in use, cache entries growing`,
      `WARN  heap usage high: ${mb}Mi in use, GC unable to reclaim memory`,
    ];
  }
  if (reason === "Error") {
    const code = exitCodeOf(c) ?? 1;
    return [`FATAL process exited with status ${code}`];
  }
  return [];
}

/** The PodLogSource the API server's `pods/log` reads. */
export function simulatedLogs(ctx: SimContext): PodLogSource {
  return {
    read(pod, container, { previous }) {
      const cr = ctx.runtimes.get(pod.metadata.uid ?? "")?.containers.get(container);
      const spec = arr(rec(pod.spec).containers).find((c) => c.name === container) ?? {};
      if (previous) {
        if (!cr?.last)
          throw apiErrors.badRequest(
            `previous terminated container "${container}" in pod "${pod.metadata.name}" not found`,
          );
        return cr.last.logs.join("\n") + "\n";
      }
      if (!cr || cr.startedAt === undefined || (cr.phase === "crash-backoff" && !cr.last)) {
        const reason =
          cr?.phase === "pull-backoff"
            ? "ImagePullBackOff"
            : cr?.phase === "config-error"
              ? "CreateContainerConfigError"
              : "ContainerCreating";
        throw apiErrors.badRequest(
          `container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${reason}`,
        );
      }
      if (cr.phase !== "running" && cr.last) return cr.last.logs.join("\n") + "\n";
      return runningLines(pod, spec, cr.startedAt, ctx.nowMs).join("\n") + "\n";
    },
  };
}
