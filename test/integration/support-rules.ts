// A plain Prometheus rules file from the shipped PrometheusRule (manifests/prometheus/
// prophet-sandbox-rules.yaml), for a real Prometheus scraping a sandbox that runs `speed` times
// faster than the wall clock. Prometheus stamps samples and evaluates `for:` with its own wall
// clock, so every duration in the rules — `for:` and range windows such as `[10m]` — is divided by
// `speed` (a window is kept at ≥ 4 s so it always holds a few 1 s scrapes). The expressions are
// otherwise unchanged: e.g. `changes(…[10m]) == 0` in KubeDeploymentReplicasMismatch would
// otherwise need ten wall minutes without a rollout before it could fire.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

const MANIFEST = fileURLToPath(
  new URL("../../manifests/prometheus/prophet-sandbox-rules.yaml", import.meta.url),
);

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Group {
  name: string;
  interval?: string;
  rules: Rule[];
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1h30m" → ms. */
export function durationMs(d: string): number {
  let ms = 0;
  for (const m of d.matchAll(/(\d+)(ms|s|m|h|d)/g)) ms += Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 0);
  return ms;
}

const seconds = (ms: number) => `${Math.max(0, Math.ceil(ms / 1000))}s`;

/** Divides a Prometheus duration by `speed`, in whole seconds, at least `minS` unless it was 0. */
export function compress(d: string, speed: number, minS = 0): string {
  const ms = durationMs(d);
  if (ms === 0) return "0s";
  return seconds(Math.max(minS * 1000, ms / speed));
}

/** Rewrites every range selector `[5m]` / subquery `[5m:30s]` in a PromQL expression. */
export function compressExpr(expr: string, speed: number): string {
  return expr.replace(
    /\[(\d+(?:ms|s|m|h|d))+(?::((?:\d+(?:ms|s|m|h|d))+))?\]/g,
    (_all: string, _last: string, step: string | undefined) => {
      const range = _all.slice(1, -1).split(":")[0] ?? "";
      const r = compress(range, speed, 4);
      return step ? `[${r}:${compress(step, speed, 1)}]` : `[${r}]`;
    },
  );
}

/** The shipped rule groups, time-compressed, plus `extra` groups; as a Prometheus rules file. */
export function sandboxRulesFile(speed: number, extra: Group[] = []): string {
  const manifest = parse(readFileSync(MANIFEST, "utf8")) as { spec: { groups: Group[] } };
  const groups = manifest.spec.groups.map((g) => ({
    ...g,
    ...(g.interval ? { interval: compress(g.interval, speed, 1) } : {}),
    rules: g.rules.map((r) => ({
      ...r,
      expr: compressExpr(r.expr, speed),
      ...(r.for !== undefined ? { for: compress(r.for, speed) } : {}),
    })),
  }));
  return stringify({ groups: [...groups, ...extra] });
}

export type { Group as RuleGroupYaml };
