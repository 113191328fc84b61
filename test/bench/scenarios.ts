// npm run bench:scenarios — the whole remediation pipeline on the sandbox, per fault, several
// seeds each: sandbox alert rules → Alertmanager-style webhook → alert-intake → alert-diagnosis →
// llm-remediation (rule planner; no LLM) → policy gate → action through @kubernetes/client-node →
// remediation-assessor. Times are simulated seconds on the sandbox clock. A simulated on-call
// engineer approves proposals 60 s after they appear. Negative controls must produce no action.
//
//   detect  injection → first incident opened        act  injection → the action executed
//   recover injection → the target healthy again      MTTR incident opened → recovered
import type { FaultRequest } from "../../infra/sandbox/faults.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import type { Remediation } from "../../shared/remediation/store.js";
import { autonomousPolicy, startPipeline, type Pipeline } from "../remediation/pipeline-harness.js";

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (typeof v === "object" && v !== null ? (v as Obj) : {});

interface Scenario {
  name: string;
  /** Expected actions (any of them counts as right). */
  expect: string[];
  /** Autonomous scenarios count towards the MTTR target; the others need a human. */
  autonomous: boolean;
  /** Escalation only: the right outcome is telling a human, not recovering. */
  escalate?: boolean;
  /** Simulated seconds to wait for recovery (default 25 min). */
  maxSeconds?: number;
  fault: (p: Pipeline) => Promise<FaultRequest>;
  recovered: (p: Pipeline, f: FaultRequest) => Promise<boolean>;
}

/** The workload's current spec fully rolled out and ready: what `kubectl rollout status` waits for. */
async function workloadReady(p: Pipeline, kind: string, ns: string, name: string): Promise<boolean> {
  const port = p.host.deps.kube!;
  const w = await port.get(kind, ns, name);
  if (!w) return false;
  const spec = rec(w.spec);
  const st = rec(w.status);
  const want = Number(spec.replicas ?? 1);
  const generation = Number((w.metadata as { generation?: number }).generation ?? 0);
  return (
    Number(st.observedGeneration ?? 0) >= generation &&
    Number(st.updatedReplicas ?? 0) >= want &&
    Number(st.readyReplicas ?? 0) >= want &&
    Number(st.availableReplicas ?? st.readyReplicas ?? 0) >= want &&
    Number(st.replicas ?? 0) === want
  );
}

async function noFiring(p: Pipeline, ns: string): Promise<boolean> {
  const { rows } = await p.host.deps.store.query<{ n: string }>(
    "SELECT count(*) AS n FROM incidents WHERE status = 'firing' AND namespace = $1",
    [ns],
  );
  return Number(rows[0]!.n) === 0;
}

const deployment = (ns: string, name: string) => (p: Pipeline) => workloadReady(p, "Deployment", ns, name);

async function nodeOf(p: Pipeline, ns: string, app: string): Promise<string> {
  const pods = await p.host.deps.kube!.list("Pod", ns);
  const pod = pods.find((x) => x.metadata.name.startsWith(`${app}-`) && rec(x.spec).nodeName);
  return String(rec(pod?.spec).nodeName);
}

const scenarios: Scenario[] = [
  {
    name: "bad image rollout",
    expect: ["rollback_deployment"],
    autonomous: true,
    fault: async () => ({ kind: "bad-image", target: "shop/cart" }),
    recovered: deployment("shop", "cart"),
  },
  {
    name: "crash-looping command",
    expect: ["rollback_deployment"],
    autonomous: true,
    fault: async () => ({ kind: "crash-loop", target: "shop/catalog" }),
    recovered: deployment("shop", "catalog"),
  },
  {
    name: "memory leak → OOMKilled",
    expect: ["increase_resources"],
    autonomous: true,
    fault: async () => ({
      kind: "memory-leak",
      target: "shop/cart",
      params: { bytesPerMinute: 128 * 2 ** 20 },
    }),
    recovered: deployment("shop", "cart"),
  },
  {
    name: "traffic spike beyond HPA max",
    expect: ["update_hpa", "scale_deployment"],
    autonomous: true,
    fault: async () => ({ kind: "traffic-spike", target: "shop/frontend", params: { factor: 2.5 } }),
    // Recovered: the autoscaler is no longer pinned at its maximum and the replicas it wants
    // are all up (new nodes from Karpenter included).
    recovered: async (p) => {
      const hpa = await p.host.deps.kube!.get("HorizontalPodAutoscaler", "shop", "frontend");
      const desired = Number(rec(hpa?.status).desiredReplicas ?? 0);
      const dep = await p.host.deps.kube!.get("Deployment", "shop", "frontend");
      const limited = ((rec(hpa?.status).conditions ?? []) as Obj[]).find((c) => c.type === "ScalingLimited");
      return (
        limited?.status === "False" &&
        desired > 0 &&
        desired < Number(rec(hpa?.spec).maxReplicas ?? 0) &&
        Number(rec(dep?.spec).replicas ?? 0) === desired &&
        (await workloadReady(p, "Deployment", "shop", "frontend"))
      );
    },
  },
  {
    name: "PVC filling up",
    expect: ["expand_pvc"],
    // A StatefulSet's volume: approval by default.
    autonomous: false,
    maxSeconds: 45 * 60,
    fault: async () => ({
      kind: "pvc-filling",
      target: "payments/postgres",
      params: { bytesPerMinute: 2 ** 30 },
    }),
    recovered: async (p) => {
      const claims = await p.host.deps.kube!.list("PersistentVolumeClaim", "payments");
      const grown = claims.some(
        (c) => rec(rec(rec(c.metadata).annotations))["aiops.prophet.io/remediation-action"],
      );
      return grown && (await noFiring(p, "payments"));
    },
  },
  {
    name: "unschedulable pods",
    expect: ["rollback_deployment"],
    autonomous: false,
    fault: async () => ({ kind: "insufficient-cpu", target: "shop/catalog" }),
    recovered: deployment("shop", "catalog"),
  },
  {
    name: "node NotReady",
    expect: ["drain_node", "cordon_node"],
    autonomous: false,
    fault: async (p) => ({ kind: "node-not-ready", target: await nodeOf(p, "shop", "cart") }),
    recovered: async (p, f) => {
      const node = await p.host.deps.kube!.get("Node", undefined, f.target!);
      const pods = (await p.host.deps.kube!.list("Pod")).filter(
        (x: KubeObject) =>
          rec(x.spec).nodeName === f.target &&
          !(x.metadata.ownerReferences ?? []).some((o) => o.kind === "DaemonSet"),
      );
      return (
        rec(node?.spec).unschedulable === true &&
        pods.length === 0 &&
        (await workloadReady(p, "Deployment", "shop", "cart"))
      );
    },
  },
  {
    name: "missing Secret",
    expect: ["notify_only"],
    autonomous: true,
    escalate: true,
    fault: async () => ({ kind: "missing-secret", target: "shop/cart" }),
    recovered: async () => true,
  },
];

const seeds = (process.env.BENCH_SEEDS ?? "1,2,3").split(",").map(Number);
const maxSeconds = 25 * 60;

interface Run {
  ok: boolean;
  detect?: number;
  act?: number;
  recover?: number;
  mttr?: number;
  wrong: number;
  blocked: number;
  approvals: number;
  note: string;
}

const changing = (r: Remediation) =>
  r.action !== null && !["notify_only", "collect_diagnostics", "audit_logs"].includes(r.action);

async function runScenario(s: Scenario, seed: number): Promise<Run> {
  const p = await startPipeline({ seed, stabilizationSeconds: 180 });
  try {
    await p.advance(60);
    const fault = await s.fault(p);
    const injectedAt = p.sb.clock.now().getTime();
    p.sb.inject(fault);
    const approvedAt = new Map<string, number>();
    let actAt: number | undefined;
    let recoverAt: number | undefined;
    const since = (t: number) => (t - injectedAt) / 1000;
    while (p.sb.clock.now().getTime() - injectedAt < (s.maxSeconds ?? maxSeconds) * 1000) {
      await p.advance(15);
      const now = p.sb.clock.now().getTime();
      const rems = await p.remediations();
      for (const r of rems.filter((x) => x.status === "proposed")) {
        if (!approvedAt.has(r.id)) approvedAt.set(r.id, now);
        else if (now - approvedAt.get(r.id)! >= 60_000) {
          await fetch(`${p.host.url}/api/approvals/${r.id}/approve`, {
            method: "POST",
            body: JSON.stringify({ actor: "bench:on-call" }),
          });
        }
      }
      const hit = rems.find((r) => r.status === "executed" && s.expect.includes(r.action ?? ""));
      if (hit && actAt === undefined) actAt = hit.executedAt!.getTime();
      if (actAt !== undefined && (s.escalate || (await s.recovered(p, fault)))) {
        recoverAt = now;
        break;
      }
    }
    const rems = await p.remediations();
    if (process.env.BENCH_DEBUG) {
      const inc = await p.host.deps.store.query(
        "SELECT alertname, namespace, status, subject FROM incidents",
      );
      console.error(JSON.stringify(inc.rows));
    }
    if (process.env.BENCH_DEBUG)
      for (const r of rems)
        console.error(
          JSON.stringify({
            action: r.action,
            status: r.status,
            reason: r.reason,
            rootCause: r.decision.rootCause,
            target: r.target,
            params: r.params,
            result: r.result,
            gate: r.gate.detail,
          }),
        );
    const { rows } = await p.host.deps.store.query<{ t: Date | string | null }>(
      "SELECT min(opened_at) AS t FROM incidents",
    );
    const openedAt = rows[0]?.t ? new Date(rows[0].t).getTime() : undefined;
    const wrong = rems.filter(
      (r) =>
        (r.status === "executed" || r.status === "failed") &&
        changing(r) &&
        !s.expect.includes(r.action ?? ""),
    ).length;
    const blocked = rems.filter((r) => r.status === "blocked").length;
    const ok =
      actAt !== undefined &&
      recoverAt !== undefined &&
      wrong === 0 &&
      (!s.escalate || !rems.some((r) => r.status === "executed" && changing(r)));
    return {
      ok,
      ...(openedAt !== undefined ? { detect: since(openedAt) } : {}),
      ...(actAt !== undefined ? { act: since(actAt) } : {}),
      ...(recoverAt !== undefined ? { recover: since(recoverAt) } : {}),
      ...(recoverAt !== undefined && openedAt !== undefined ? { mttr: (recoverAt - openedAt) / 1000 } : {}),
      wrong,
      blocked,
      approvals: approvedAt.size,
      note: ok
        ? ""
        : rems.map((r) => `${r.action ?? "none"}:${r.status}${r.reason ? `(${r.reason})` : ""}`).join(" ") ||
          "no decision",
    };
  } finally {
    await p.close();
  }
}

type Control = {
  name: string;
  run: (seed: number) => Promise<{ actions: number; outsidePolicy: number; note: string }>;
};

const controls: Control[] = [
  {
    name: "healthy cluster",
    async run(seed) {
      const p = await startPipeline({ seed });
      try {
        await p.advance(20 * 60);
        const rems = await p.remediations();
        return {
          actions: rems.filter((r) => r.status === "executed" && changing(r)).length,
          outsidePolicy: 0,
          note: `${rems.length} decisions`,
        };
      } finally {
        await p.close();
      }
    },
  },
  {
    name: "resolved alert",
    async run(seed) {
      const p = await startPipeline({ seed });
      try {
        p.sb.setAlertWebhook(undefined);
        p.sb.inject({ kind: "crash-loop", target: "shop/cart" });
        await p.advance(300);
        const pod = (await p.host.deps.kube!.list("Pod", "shop")).find((x) =>
          x.metadata.name.startsWith("cart-"),
        )!;
        const now = p.sb.clock.now().toISOString();
        const res = await fetch(`${p.host.url}/alertmanager`, {
          method: "POST",
          body: JSON.stringify({
            version: "4",
            receiver: "prophet",
            status: "resolved",
            groupKey: '{}:{alertname="KubePodCrashLooping"}',
            externalURL: "http://alertmanager:9093",
            alerts: [
              {
                status: "resolved",
                labels: {
                  alertname: "KubePodCrashLooping",
                  namespace: "shop",
                  pod: pod.metadata.name,
                  severity: "warning",
                },
                annotations: {},
                startsAt: now,
                endsAt: now,
                generatorURL: "",
                fingerprint: "0badc0de0badc0de",
              },
            ],
          }),
        });
        if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
        await p.advance(300);
        const rems = await p.remediations();
        return {
          actions: rems.filter((r) => r.status === "executed" && changing(r)).length,
          outsidePolicy: 0,
          note: `${rems.length} decisions`,
        };
      } finally {
        await p.close();
      }
    },
  },
  {
    name: "alert in a forbidden namespace",
    async run(seed) {
      const p = await startPipeline({
        seed,
        policies: [autonomousPolicy({ forbiddenNamespaces: ["kube-system", "payments"] })],
      });
      try {
        p.sb.inject({ kind: "crash-loop", target: "payments/fraud-scorer" });
        await p.advance(15 * 60);
        const rems = await p.remediations();
        const executed = rems.filter((r) => r.status === "executed" && changing(r));
        return {
          actions: executed.length,
          outsidePolicy: executed.filter((r) => r.target?.namespace === "payments").length,
          note: rems.map((r) => `${r.action}:${r.status}${r.reason ? `(${r.reason})` : ""}`).join(" "),
        };
      } finally {
        await p.close();
      }
    },
  },
];

const median = (xs: number[]) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (v: number | undefined) => (v === undefined ? "—" : `${Math.round(v)}`);

async function main() {
  const only = process.env.BENCH_SCENARIO;
  console.log(
    `bench:scenarios — seeds ${seeds.join(",")}, simulated seconds, rule planner, policy autonomous (shop, payments)`,
  );
  console.log("| scenario | runs | success | detect | act | recover | MTTR | wrong | blocked | approvals |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  const autonomousMttr: number[] = [];
  let runs = 0;
  let successes = 0;
  const wall = performance.now();
  for (const s of scenarios.filter((x) => !only || x.name.includes(only))) {
    const results: Run[] = [];
    for (const seed of seeds) results.push(await runScenario(s, seed));
    const good = results.filter((r) => r.ok);
    runs += results.length;
    successes += good.length;
    const mttrs = good.flatMap((r) => (r.mttr !== undefined ? [r.mttr] : []));
    if (s.autonomous && !s.escalate) autonomousMttr.push(...mttrs);
    console.log(
      `| ${s.name} | ${results.length} | ${good.length}/${results.length} | ${fmt(median(results.flatMap((r) => (r.detect !== undefined ? [r.detect] : []))))} | ${fmt(median(good.flatMap((r) => (r.act !== undefined ? [r.act] : []))))} | ${s.escalate ? "escalated" : fmt(median(good.flatMap((r) => (r.recover !== undefined ? [r.recover] : []))))} | ${s.escalate ? "—" : fmt(median(mttrs))} | ${results.reduce((a, r) => a + r.wrong, 0)} | ${results.reduce((a, r) => a + r.blocked, 0)} | ${results.reduce((a, r) => a + r.approvals, 0)} |`,
    );
    for (const r of results.filter((x) => !x.ok))
      console.log(`|   ↳ failed run: ${r.note} | | | | | | | | | |`);
  }
  let outside = 0;
  for (const c of controls.filter((x) => !only || x.name.includes(only))) {
    let actions = 0;
    const notes: string[] = [];
    for (const seed of seeds.slice(0, 2)) {
      const r = await c.run(seed);
      actions += r.actions;
      outside += r.outsidePolicy;
      notes.push(r.note);
    }
    console.log(
      `| control: ${c.name} | ${Math.min(2, seeds.length)} | ${actions === 0 ? "no action ✓" : `${actions} actions ✗`} | | | | | | | |`,
    );
  }
  const m = median(autonomousMttr);
  console.log(
    `\nsuccess ${successes}/${runs} (${((successes / Math.max(1, runs)) * 100).toFixed(1)} %, target ≥ 95 %); median MTTR of autonomous scenarios ${fmt(m)} s simulated (target < 120 s); actions outside policy: ${outside} (target 0); wall ${((performance.now() - wall) / 1000).toFixed(0)} s`,
  );
}

await main();
