// The whole pipeline on real parts, driven by the sandbox's simulated clock: the sandbox cluster
// (API server, controllers, metrics, alert rules and an Alertmanager-like notifier) posts its
// webhooks to the local host (every function, the bus, the store), which reads and changes the
// cluster through @kubernetes/client-node. Used by the pipeline specs and `npm run bench:scenarios`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { functions } from "../../functions/registry.js";
import { startHost, type RunningHost } from "../../infra/local/host.js";
import { scheduleTick } from "../../infra/local/cron.js";
import { startSandbox, type Sandbox } from "../../infra/sandbox/index.js";
import type { Scenario } from "../../infra/sandbox/scenario.js";
import { loadConfig } from "../../shared/config.js";
import { silentLogger } from "../../shared/ports/log.js";
import { defaultPolicy, type RemediationPolicy } from "../../shared/remediation/policy.js";
import { listRemediations, type Remediation } from "../../shared/remediation/store.js";

export interface Pipeline {
  sb: Sandbox;
  host: RunningHost;
  /** Simulated seconds since start. */
  elapsed(): number;
  /** Advances the simulated clock in 15 s steps; webhooks are handled before the next step, and
   * the assessor's minute tick runs as the local cron would run it. */
  advance(seconds: number): Promise<void>;
  /** Advances until `done` holds or `maxSeconds` passed; returns the simulated seconds it took. */
  advanceUntil(maxSeconds: number, done: () => Promise<boolean>): Promise<number | undefined>;
  remediations(): Promise<Remediation[]>;
  close(): Promise<void>;
}

export function autonomousPolicy(over: Partial<RemediationPolicy> = {}): RemediationPolicy {
  return {
    ...defaultPolicy("autonomous"),
    id: "test/autonomous",
    source: "file",
    cooldownSeconds: 120,
    ...over,
  };
}

export async function startPipeline(
  opts: {
    seed?: number;
    scenario?: Scenario | string;
    policies?: RemediationPolicy[];
    databaseUrl?: string;
    stabilizationSeconds?: number;
    env?: Record<string, string>;
    /** Schedules ticked every simulated minute (default: the assessor's). */
    ticks?: string[];
  } = {},
): Promise<Pipeline> {
  const dir = mkdtempSync(join(tmpdir(), "prophet-pipeline-"));
  const sb = await startSandbox({
    seed: opts.seed ?? 1,
    ...(opts.scenario ? { scenario: opts.scenario } : {}),
    flowLog: false,
    alerting: { groupWaitMs: 10_000, groupIntervalMs: 30_000, repeatIntervalMs: 10 * 60_000 },
  });
  let host: RunningHost;
  try {
    host = await startHost({
      config: loadConfig({
        ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : { PROPHET_DATA_DIR: join(dir, "data") }),
        KUBECONFIG: sb.kubeconfigPath,
        PROMETHEUS_URL: sb.prometheusUrl,
        PROPHET_CRON: "false",
        PROPHET_SANDBOX: "false",
        LOG_LEVEL: "silent",
        PROPHET_STABILIZATION_SECONDS: String(opts.stabilizationSeconds ?? 120),
        ...opts.env,
      }),
      functions,
      log: silentLogger,
      port: 0,
      clock: sb.clock,
    });
  } catch (err) {
    await sb.close();
    throw err;
  }
  const policies = opts.policies ?? [autonomousPolicy()];
  host.deps.remediation = { ...host.deps.remediation!, policies: async () => policies };
  sb.setAlertWebhook(`${host.url}/alertmanager`);
  const start = sb.clock.now().getTime();
  let lastTick = start;

  const step = async () => {
    sb.clock.advance(15_000);
    await sb.alerting.notifier.idle();
    const now = sb.clock.now().getTime();
    if (now - lastTick >= 60_000) {
      lastTick = now;
      await host.bus.send(
        (opts.ticks ?? ["remediation-assess"]).map((name) => scheduleTick(name, new Date(now))),
      );
    }
  };
  const p: Pipeline = {
    sb,
    host,
    elapsed: () => (sb.clock.now().getTime() - start) / 1000,
    async advance(seconds) {
      for (let s = 0; s < seconds; s += 15) await step();
    },
    async advanceUntil(maxSeconds, done) {
      const from = sb.clock.now().getTime();
      for (let s = 0; s <= maxSeconds; s += 15) {
        if (await done()) return (sb.clock.now().getTime() - from) / 1000;
        await step();
      }
      return undefined;
    },
    remediations: () => listRemediations(host.deps.store, { limit: 1000 }),
    async close() {
      sb.setAlertWebhook(undefined);
      await host.close();
      await sb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return p;
}
