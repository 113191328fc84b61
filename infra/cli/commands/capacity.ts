// `prophet capacity plan`: what forecast-scaling would hold in reserve for each PredictiveScale in
// the cluster, and why, computed exactly as the function computes it (same history, forecast,
// lead time, pool view and hysteresis state) but without writing anything.
import { Option, type Command } from "commander";
import { loadConfig } from "../../../shared/config.js";
import { runForecastScaling, type ScaleOutcome } from "../../../shared/capacity/scale.js";
import { createDeps } from "../../runtime/deps.js";
import { createLogger } from "../../runtime/logger.js";
import { scheduleTick } from "../../local/cron.js";

interface PlanOptions {
  kubeconfig?: string;
  prometheus?: string;
  output: "table" | "json";
}

export function register(program: Command): Command {
  const capacity = program
    .command("capacity")
    .description("capacity held ahead of forecast demand (PredictiveScale)");
  capacity
    .command("plan")
    .description(
      "per PredictiveScale: demand now, the target over the node lead time, the reserve and why (writes nothing)",
    )
    .option("--kubeconfig <file>", "cluster to read (default: $KUBECONFIG, ~/.kube/config)")
    .option("--prometheus <url>", "Prometheus-compatible API (default: $PROMETHEUS_URL)")
    .addOption(
      new Option("-o, --output <format>", "table or json").choices(["table", "json"]).default("table"),
    )
    .action(async (o: PlanOptions) => {
      process.exitCode = await runPlan(o);
    });
  return capacity;
}

export async function runPlan(o: PlanOptions): Promise<number> {
  const cfg = loadConfig(process.env);
  const deps = await createDeps(cfg, {
    log: createLogger("warn"),
    ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
    ...(o.prometheus ? { prometheusUrl: o.prometheus } : {}),
  });
  try {
    if (!deps.kube) {
      console.error("error: no cluster (give --kubeconfig or set KUBECONFIG)");
      return 1;
    }
    if (!deps.metrics) {
      console.error("error: no metrics API (give --prometheus <url> or set PROMETHEUS_URL)");
      return 1;
    }
    const report = await runForecastScaling(
      { deps, source: "/prophet/cli", actor: "cli:capacity-plan", dryRun: true },
      scheduleTick("forecast-scaling", deps.clock.now(), cfg.PROPHET_CLUSTER),
    );
    if (o.output === "json") process.stdout.write(`${JSON.stringify(report.outcomes, null, 2)}\n`);
    else process.stdout.write(renderPlan(report.outcomes));
    return report.outcomes.some((x) => x.phase === "Invalid" || x.phase === "Error") ? 2 : 0;
  } finally {
    await deps.close();
  }
}

const num = (v: unknown) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : "-");

export function renderPlan(outcomes: readonly ScaleOutcome[]): string {
  if (outcomes.length === 0) return "no PredictiveScale in the cluster\n";
  const rows = [
    ["PREDICTIVESCALE", "PHASE", "STRATEGY", "NOW", "TARGET", "BY", "RESERVE", "NEW NODES", "LEAD"],
  ];
  const why: string[] = [];
  for (const x of outcomes) {
    const d = x.detail ?? {};
    rows.push([
      x.key,
      x.phase,
      String(d.strategy ?? "-"),
      num(d.currentReplicas),
      num(d.targetReplicas),
      String(d.decidedBy ?? "-"),
      d.previousBuffer !== undefined && d.previousBuffer !== x.bufferReplicas
        ? `${num(d.previousBuffer)} → ${num(x.bufferReplicas)}`
        : num(x.bufferReplicas),
      num(d.newNodes),
      d.leadTimeSeconds !== undefined ? `${num(d.leadTimeSeconds)}s` : "-",
    ]);
    why.push(
      `${x.key}: ${String(d.reason ?? `${x.reason ?? ""}: ${x.message ?? ""}`)}${d.limitedBy ? ` (limited by ${String(d.limitedBy)})` : ""}`,
    );
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
  return `${table}\n\n${why.join("\n")}\n`;
}
