// `prophet slo`: SLO specs (Sloth prometheus/v1 files, Sloth PrometheusServiceLevel, OpenSLO v1,
// SLOViolation) → Prometheus rules in Sloth's layout. `register` returns the `slo` command so more
// subcommands (status, …) can be added to it.

import { writeFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { generateRules } from "../../../shared/slo/rules.js";
import type { SloEvaluatedData } from "../../../shared/events/schemas/slo.js";
import type { SloEvaluation } from "../../../shared/slo/evaluate.js";
import type { SloSpecError } from "../../../shared/slo/model.js";
import { loadSloFiles } from "../../../shared/slo/spec/index.js";

interface RulesOptions {
  output?: string;
  optimizedPeriod?: boolean;
  exactPeriod?: boolean;
  extraLabel: string[];
}

/** Adds `prophet slo` with its `rules` subcommand; returns the `slo` command. */
export function register(program: Command): Command {
  const slo = program.command("slo").description("service level objectives: Prometheus rules from SLO specs");
  addRulesCommand(slo);
  addStatusCommand(slo);
  return slo;
}

interface StatusOptions {
  prometheus?: string;
  at?: string;
  output: "table" | "json";
  exhaustion: boolean;
}

/** `prophet slo status <spec...>`: evaluates the SLOs now, through the metrics API, as slo-check does. */
export function addStatusCommand(slo: Command): Command {
  return slo
    .command("status")
    .description("error budgets, burn rates per window, firing tiers and time to exhaustion, evaluated now")
    .argument("[spec...]", "spec files or directories (default: $PROPHET_SLO_FILES)")
    .option("--prometheus <url>", "Prometheus-compatible API (default: $PROMETHEUS_URL)")
    .option("--at <time>", "evaluate at this RFC 3339 time instead of now")
    .addOption(
      new Option("-o, --output <format>", "table or json").choices(["table", "json"]).default("table"),
    )
    .option("--no-exhaustion", "skip the time-to-exhaustion projection (two range queries per SLO)")
    .action(async (specs: string[], o: StatusOptions) => {
      process.exitCode = await runStatus(specs, o);
    });
}

export async function runStatus(specs: string[], o: StatusOptions): Promise<number> {
  const files = specs.length
    ? specs
    : (process.env.PROPHET_SLO_FILES ?? "")
        .split(",")
        .map((f) => f.trim())
        .filter(Boolean);
  if (files.length === 0) {
    console.error("error: give SLO spec files (or set PROPHET_SLO_FILES)");
    return 1;
  }
  const url = o.prometheus ?? process.env.PROMETHEUS_URL;
  if (!url) {
    console.error("error: give --prometheus <url> (or set PROMETHEUS_URL)");
    return 1;
  }
  const requested = o.at ? new Date(o.at) : undefined;
  if (requested && Number.isNaN(requested.getTime())) {
    console.error(`error: --at ${o.at} is not a time`);
    return 1;
  }
  const { slos, errors } = loadSloFiles(files);
  for (const e of errors) console.error(describeError(e));
  if (slos.length === 0) return 1;
  const { prometheusMetrics } = await import("../../../shared/metrics/prometheus.js");
  const { evaluateSlos, serverNow } = await import("../../../shared/slo/evaluate.js");
  const { exhaustionFor, exhaustionData } = await import("../../../shared/slo/check.js");
  const metrics = prometheusMetrics({
    url,
    ...(process.env.PROMETHEUS_BEARER_TOKEN && !o.prometheus
      ? { bearerToken: process.env.PROMETHEUS_BEARER_TOKEN }
      : {}),
  });
  try {
    const at = requested ?? (await serverNow(metrics, new Date()));
    const { results } = await evaluateSlos(metrics, slos, at);
    const tte = o.exhaustion ? (await exhaustionFor(metrics, slos, results, at)).byId : new Map();
    const rows = slos.map((s) => ({
      ...results.get(s.id)!,
      service: s.service,
      slo: s.name,
      objective: s.target,
      timeToExhaustion: exhaustionData(tte.get(s.id), at),
    }));
    if (o.output === "json") console.log(JSON.stringify(rows, null, 2));
    else console.log(statusTable(rows));
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
  return errors.length > 0 ? 1 : 0;
}

const pct = (v: number | null, digits = 1) => (v === null ? "-" : `${(v * 100).toFixed(digits)}%`);
const burn = (v: number | null) => (v === null ? "-" : v >= 100 ? v.toFixed(0) : v.toFixed(2));

function humanSeconds(s: number): string {
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 2 * 86_400) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86_400).toFixed(1)}d`;
}

type StatusRow = SloEvaluation & {
  service: string;
  slo: string;
  objective: number;
  timeToExhaustion: SloEvaluatedData["timeToExhaustion"];
};

/** A fixed-width table: one SLO per line, burn rates per Sloth window. */
export function statusTable(rows: StatusRow[]): string {
  const head = [
    "SLO",
    "OBJECTIVE",
    "BUDGET LEFT",
    "5m",
    "30m",
    "1h",
    "2h",
    "6h",
    "1d",
    "3d",
    "FIRING",
    "EXHAUSTED IN",
  ];
  const lines = rows.map((r) => {
    const t = r.timeToExhaustion;
    const tte = !t
      ? "-"
      : t.status === "exhausted"
        ? "now"
        : t.status === "projected" && t.seconds !== null
          ? `${humanSeconds(t.seconds)}${t.earliestSeconds !== null ? ` (${humanSeconds(t.earliestSeconds)}–${t.latestSeconds !== null ? humanSeconds(t.latestSeconds) : "∞"})` : ""}`
          : t.status === "not_within_horizon"
            ? "not within period"
            : "no data";
    return [
      `${r.service}/${r.slo}`,
      pct(r.objective, 2),
      pct(r.budgetRemaining),
      ...r.windows.map((w) => burn(w.burnRate)),
      r.firing ?? (r.problems.length ? "error" : "-"),
      tte,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const problems = rows.flatMap((r) => r.problems.map((p) => `${r.service}/${r.slo}: ${p}`));
  return [fmt(head), ...lines.map(fmt), ...(problems.length ? ["", ...problems] : [])].join("\n");
}

export function addRulesCommand(slo: Command): Command {
  return slo
    .command("rules")
    .description("generate Prometheus recording and alerting rules (Sloth's layout) from SLO spec files")
    .argument("<spec...>", "spec files, or directories of .yml/.yaml files")
    .option("-o, --output <file>", "write the rule file here instead of stdout")
    .option("--optimized-period", "period ratio as the mean of the 5m ratios (Sloth's default; the default)")
    .option("--exact-period", "period ratio of the queries over the whole period, as slo-check evaluates it")
    .option(
      "-l, --extra-label <key=value>",
      "a label added to every recording rule (repeatable)",
      collect,
      [],
    )
    .action((specs: string[], o: RulesOptions) => {
      process.exitCode = runRules(specs, o);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The exit code: 0 when every spec was valid and the rules were written, 1 otherwise. */
export function runRules(specs: string[], o: RulesOptions): number {
  if (o.optimizedPeriod && o.exactPeriod) {
    console.error("error: give --optimized-period or --exact-period, not both");
    return 1;
  }
  const extraLabels: Record<string, string> = {};
  for (const kv of o.extraLabel) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)=(.*)$/.exec(kv);
    if (!m) {
      console.error(`error: --extra-label ${kv} is not key=value with a Prometheus label name`);
      return 1;
    }
    extraLabels[m[1]!] = m[2]!;
  }
  const { slos, errors } = loadSloFiles(specs);
  // No partial rule file: a spec that does not parse would silently lose its alerts.
  if (errors.length > 0) {
    for (const e of errors) console.error(describeError(e));
    return 1;
  }
  const yaml = generateRules(slos, { optimizedPeriod: !o.exactPeriod, extraLabels });
  if (o.output) {
    writeFileSync(o.output, yaml);
    console.error(`slo rules: ${slos.length} SLOs -> ${o.output}`);
  } else process.stdout.write(yaml);
  return 0;
}

export function describeError(e: SloSpecError): string {
  return e.path ? `${e.origin}: ${e.path}: ${e.reason}` : `${e.origin}: ${e.reason}`;
}
