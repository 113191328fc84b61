// Real Prometheus and Alertmanager binaries (Debian packages) on loopback for the end-to-end tests:
// started with a config written to a temp dir, polled until ready, killed by pid. Outside CI a
// missing binary makes the caller skip; under CI=true it is an error.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../setup/postgres.js";

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";
export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? "/usr/bin/prometheus-alertmanager";
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? "/usr/bin/promtool";

/** The binaries that are missing; throws under CI=true when any is. */
export function missingBinaries(...paths: string[]): string[] {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0 && process.env.CI === "true")
    throw new Error(
      `required under CI=true: ${missing.join(", ")} (apt-get install -y prometheus prometheus-alertmanager)`,
    );
  return missing;
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 20_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface RunningProcess {
  url: string;
  child: ChildProcess;
  /** The last lines the process wrote to stderr (both binaries log there), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

function launch(bin: string, args: string[], url: string, readyPath: string): Promise<RunningProcess> {
  const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  let tail = "";
  child.stderr?.on("data", (b: Buffer) => {
    tail = (tail + b.toString()).slice(-8_000);
  });
  const running: RunningProcess = {
    url,
    child,
    log: () => tail,
    stop: async () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      process.kill(child.pid, "SIGTERM");
      const timer = setTimeout(() => {
        if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
      }, 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return until(
    `${bin} to be ready`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}: ${tail}`);
      return (await fetch(`${url}${readyPath}`)).ok ? running : undefined;
    },
    30_000,
  ).catch(async (e: unknown) => {
    await running.stop();
    throw new Error(`${String(e)}\n${tail}`);
  });
}

export async function startAlertmanager(dir: string, webhookUrl: string): Promise<RunningProcess> {
  const port = await freePort();
  writeFileSync(
    join(dir, "alertmanager.yml"),
    `route:
  receiver: prophet
  group_by: [alertname, namespace]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: prophet
    webhook_configs:
      - url: ${webhookUrl}
        send_resolved: true
`,
  );
  return launch(
    ALERTMANAGER_BIN,
    [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "alertmanager")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
    ],
    `http://127.0.0.1:${port}`,
    "/-/ready",
  );
}

export interface ScrapeTarget {
  job: string;
  /** host:port */
  target: string;
  metricsPath: string;
}

/**
 * Prometheus scraping `targets` every second (keeping their `job` labels), evaluating `rulesYaml`,
 * alerting `alertmanager` when given. Its TSDB is `<dir>/prometheus`: blocks backfilled there
 * beforehand (promtool tsdb create-blocks-from) are served.
 */
export async function startPrometheus(
  dir: string,
  targets: ScrapeTarget[],
  rulesYaml: string,
  alertmanager?: string,
  extraArgs: string[] = [],
): Promise<RunningProcess> {
  const port = await freePort();
  writeFileSync(join(dir, "rules.yml"), rulesYaml);
  const scrape = targets
    .map(
      (t) => `  - job_name: ${t.job}
    honor_labels: true
    metrics_path: ${t.metricsPath}
    static_configs:
      - targets: ["${t.target}"]`,
    )
    .join("\n");
  const alerting = alertmanager
    ? `alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ["${new URL(alertmanager).host}"]\n`
    : "";
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [${JSON.stringify(join(dir, "rules.yml"))}]
${alerting}scrape_configs:
${scrape}
`,
  );
  return launch(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "prometheus")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--rules.alert.resend-delay=1s",
      "--log.level=warn",
      ...extraArgs,
    ],
    `http://127.0.0.1:${port}`,
    "/-/ready",
  );
}
