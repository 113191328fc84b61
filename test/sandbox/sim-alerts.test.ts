// The sandbox's alert rules, evaluator and Alertmanager-like notifier, on the manual clock: a fault
// injected at simulated time T reaches a webhook receiver as the matching alert once the rule's `for`
// has passed (plus detection, evaluation and group_wait), and as `resolved` after the fault is reverted.
// The same rules ship as a PrometheusRule that promtool accepts.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AlertNotifier,
  RuleEvaluator,
  allRules,
  fingerprint,
  type WebhookPayload,
} from "../../infra/sandbox/alerts/index.js";
import { TimeSeriesStore } from "../../infra/sandbox/metrics/index.js";
import {
  PROMETHEUS_RULE_PATH,
  prometheusRuleYaml,
  ruleFileYaml,
} from "../../infra/sandbox/alerts/prometheus-rule.js";
import { startSandbox, type Sandbox } from "../../infra/sandbox/index.js";
import { parseDurationMs } from "../../infra/sandbox/metrics/promql/duration.js";
import { alertmanagerWebhookSchema } from "../../shared/events/schemas/alert.js";

const received: { at: number; payload: WebhookPayload }[] = [];
let receiver: Server;
let sb: Sandbox;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        at: sb.clock.now().getTime(),
        payload: JSON.parse(Buffer.concat(chunks).toString()) as WebhookPayload,
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alertmanager`;
  sb = await startSandbox({ seed: 3, alertWebhookUrl: url });
});
afterAll(async () => {
  await sb?.close();
  await new Promise((r) => receiver?.close(r));
});

/** Advances the clock in 15 s steps until `done` holds (webhooks delivered first), at most `maxS`. */
async function advanceUntil(maxS: number, done: () => boolean): Promise<void> {
  for (let s = 0; s < maxS && !done(); s += 15) {
    sb.clock.advance(15_000);
    await sb.alerting.notifier.idle();
  }
}

const forOf = (alert: string) => parseDurationMs(allRules().find((r) => r.alert === alert)?.for ?? "") ?? 0;
const alertsNamed = (name: string, status: "firing" | "resolved") =>
  received.flatMap((r) =>
    r.payload.alerts
      .filter((a) => a.labels.alertname === name && a.status === status)
      .map((a) => ({ ...a, at: r.at })),
  );

describe("alerts from the simulated cluster", () => {
  it("fingerprints label sets exactly as Alertmanager (prometheus/common) does", () => {
    // Vectors from prometheus/common model/signature_test.go.
    expect(BigInt(`0x${fingerprint({})}`).toString()).toBe("14695981039346656037");
    expect(
      BigInt(`0x${fingerprint({ name: "garland, briggs", fear: "love is not enough" })}`).toString(),
    ).toBe("5799056148416392346");
  });

  it("a healthy cluster sends nothing", async () => {
    await advanceUntil(300, () => false);
    expect(received.map((r) => r.payload.groupKey)).toEqual([]);
  });

  it("a crash loop injected at T fires KubePodCrashLooping after `for`, then resolves after the revert", async () => {
    const t = sb.clock.now().getTime();
    const fault = sb.inject({ kind: "crash-loop", target: "shop/cart" });
    await advanceUntil(900, () => alertsNamed("KubePodCrashLooping", "firing").length > 0);
    const firing = alertsNamed("KubePodCrashLooping", "firing");
    expect(firing.length).toBeGreaterThan(0);
    const first = firing[0]!;
    const forMs = forOf("KubePodCrashLooping");
    // Not before the rule's `for`; within `for` + detection (first back-off) + evaluation + group_wait.
    expect(first.at - t).toBeGreaterThanOrEqual(forMs);
    expect(first.at - t).toBeLessThanOrEqual(forMs + 120_000);
    expect(first.labels).toMatchObject({ namespace: "shop", container: "cart", severity: "warning" });
    expect(first.labels.pod).toMatch(/^cart-/);
    expect(first.fingerprint).toBe(fingerprint(first.labels));
    expect(first.annotations.description).toContain(`shop/${first.labels.pod} (cart)`);
    expect(first.endsAt).toBe("0001-01-01T00:00:00Z");
    const payload = received.find((r) => r.payload.groupLabels.alertname === "KubePodCrashLooping")!.payload;
    expect(payload.groupKey).toBe('{}:{alertname="KubePodCrashLooping", namespace="shop"}');
    expect(payload.groupLabels).toEqual({ alertname: "KubePodCrashLooping", namespace: "shop" });
    // The product's own webhook schema accepts what the sandbox sends.
    for (const r of received) expect(alertmanagerWebhookSchema.safeParse(r.payload).success).toBe(true);

    sb.revert(fault.id);
    const revertedAt = sb.clock.now().getTime();
    await advanceUntil(1200, () =>
      firing.every((f) =>
        alertsNamed("KubePodCrashLooping", "resolved").some((r) => r.fingerprint === f.fingerprint),
      ),
    );
    const resolved = alertsNamed("KubePodCrashLooping", "resolved");
    for (const f of firing) expect(resolved.map((r) => r.fingerprint)).toContain(f.fingerprint);
    const last = resolved[resolved.length - 1]!;
    // max_over_time[5m] keeps matching 5 m after the last back-off, then one group_interval at most.
    expect(last.at - revertedAt).toBeLessThanOrEqual(5 * 60_000 + 3 * 60_000);
    expect(Date.parse(last.endsAt)).toBeGreaterThan(Date.parse(last.startsAt));
  });

  it("a node that stops reporting fires KubeNodeNotReady for that node", async () => {
    const node = sb.api.store.list(sb.api.store.resource("nodes"))[0]!.metadata.name!;
    const t = sb.clock.now().getTime();
    const fault = sb.inject({ kind: "node-not-ready", target: node });
    await advanceUntil(900, () => alertsNamed("KubeNodeNotReady", "firing").length > 0);
    const [alert] = alertsNamed("KubeNodeNotReady", "firing");
    expect(alert?.labels.node).toBe(node);
    expect((alert?.at ?? 0) - t).toBeGreaterThanOrEqual(forOf("KubeNodeNotReady"));
    sb.revert(fault.id);
  });

  it("keeps one notification per change: an unchanged firing group is not re-sent before repeat_interval", async () => {
    const before = received.filter((r) => r.payload.groupLabels.alertname === "KubeNodeNotReady").length;
    await advanceUntil(120, () => false);
    const groups = received.filter((r) => r.payload.groupLabels.alertname === "KubeNodeNotReady");
    // At most the resolution of the reverted node was added.
    expect(groups.length - before).toBeLessThanOrEqual(1);
    expect(groups.slice(before).every((g) => g.payload.status === "resolved")).toBe(true);
  });
});

describe("rule evaluation and notification semantics", () => {
  const rule = {
    alert: "QueueTooLong",
    expr: "queue_length > 10",
    for: "1m",
    labels: { severity: "warning" },
    annotations: { summary: "Queue long", description: "{{ $labels.queue }} holds {{ $value }} items." },
  };

  it("pending → firing after `for` → resolved; a blip shorter than `for` never notifies", async () => {
    const store = new TimeSeriesStore();
    const evaluator = new RuleEvaluator(store, [rule]);
    const sent: WebhookPayload[] = [];
    const notifier = new AlertNotifier({
      url: "http://receiver.invalid/",
      groupWaitMs: 30_000,
      groupIntervalMs: 60_000,
      post: async (_url, p) => void sent.push(p),
    });
    const values: Record<string, number[]> = {
      // 15 s steps: "a" is long for 2.5 min, "b" only for 30 s.
      a: [1, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      b: [1, 20, 20, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    };
    const states: string[] = [];
    for (let i = 0; i < 22; i++) {
      const t = i * 15_000;
      for (const [queue, v] of Object.entries(values))
        store.append({ __name__: "queue_length", namespace: "ops", queue }, t, v[i]!);
      evaluator.evaluate(t);
      notifier.update(t, evaluator.list());
      await notifier.idle();
      states.push(
        evaluator
          .list()
          .map((a) => `${a.labels.queue}:${a.state}`)
          .join(","),
      );
    }
    expect(states[1]).toBe("a:pending,b:pending");
    expect(states[3]).toBe("a:pending"); // b stopped matching while pending: dropped
    expect(states[5]).toBe("a:firing"); // 60 s after activeAt
    expect(states[11]).toBe("a:inactive");
    expect(sent.map((p) => [p.status, p.alerts.map((a) => `${a.labels.queue}:${a.status}`).join()])).toEqual([
      ["firing", "a:firing"],
      ["resolved", "a:resolved"],
    ]);
    expect(sent[0]?.alerts[0]?.annotations.description).toBe("a holds 20 items.");
    expect(sent[0]?.groupKey).toBe('{}:{alertname="QueueTooLong", namespace="ops"}');
  });
});

describe("the PrometheusRule manifest", () => {
  it("matches the rules the sandbox evaluates", () => {
    expect(readFileSync(PROMETHEUS_RULE_PATH, "utf8")).toBe(prometheusRuleYaml());
  });

  it("passes promtool check rules", () => {
    const promtool = "/usr/bin/promtool";
    if (!existsSync(promtool)) {
      if (process.env.CI === "true") throw new Error(`${promtool} is missing (apt-get install prometheus)`);
      console.warn(`${promtool} not installed: rule file not validated`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "prophet-rules-"));
    try {
      const file = join(dir, "rules.yaml");
      writeFileSync(file, ruleFileYaml());
      const out = execFileSync(promtool, ["check", "rules", file], { encoding: "utf8" });
      expect(out).toContain(`SUCCESS: ${allRules().length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
