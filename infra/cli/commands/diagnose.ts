// `prophet diagnose`: runs every analyzer over a snapshot file (a Kubernetes List, as
// `kubectl get … -A -o json` prints it) or over the live cluster of a kubeconfig, and prints the
// findings as readable text or as the stable JSON report ({status, problems, results}).
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { describeIssues, issuesFromZod, ProphetError } from "../../../shared/errors.js";
import { viewFromList, type ClusterView } from "../../../shared/diagnosis/cluster-view.js";
import { diagnose } from "../../../shared/diagnosis/diagnose.js";
import { explain } from "../../../shared/diagnosis/explain.js";
import { inScope, scopeOf } from "../../../shared/diagnosis/scope.js";
import { alertTarget, parseAlertmanagerWebhook } from "../../../shared/events/edge/alertmanager.js";
import { toReport, type Finding } from "../../../shared/diagnosis/finding.js";
import { kubeClusterPort } from "../../../shared/kube/cluster-port.js";
import { viewFromCluster } from "../../../shared/kube/snapshot.js";

const OptionsSchema = z.object({
  snapshot: z.string().optional(),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
  namespace: z.string().optional(),
  alert: z.string().optional(),
  output: z.enum(["json", "text"]).default("text"),
});
type Options = z.infer<typeof OptionsSchema>;

/** Reads a snapshot file: a List in JSON or YAML, or a scenario file holding one in `snapshot`. */
export function readSnapshot(path: string): ClusterView {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ProphetError("not_found", `cannot read snapshot ${path}: ${(err as Error).message}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    try {
      body = parseYaml(text);
    } catch (err) {
      throw new ProphetError("bad_request", `${path} is neither JSON nor YAML: ${(err as Error).message}`);
    }
  }
  if (body && typeof body === "object" && "snapshot" in body) body = (body as { snapshot: unknown }).snapshot;
  return viewFromList(body);
}

export async function runDiagnose(opts: Options): Promise<Finding[]> {
  const view = opts.snapshot
    ? readSnapshot(opts.snapshot)
    : await viewFromCluster(
        kubeClusterPort({
          ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
          ...(opts.context ? { context: opts.context } : {}),
        }),
        opts.namespace ? { namespace: opts.namespace } : {},
      );
  const findings = diagnose(view, opts.namespace ? { namespace: opts.namespace } : {});
  return opts.alert ? alertFindings(view, findings, opts.alert) : findings;
}

/** Keeps the findings about the objects the webhook's alerts name (and their neighbours). */
function alertFindings(view: ClusterView, findings: Finding[], path: string): Finding[] {
  let body: unknown;
  try {
    body = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ProphetError(
      "bad_request",
      `cannot read Alertmanager webhook ${path}: ${(err as Error).message}`,
    );
  }
  const webhook = parseAlertmanagerWebhook(body);
  const keys = new Set<string>();
  for (const a of webhook.alerts) for (const k of scopeOf(view, alertTarget(a.labels)).objects) keys.add(k);
  return inScope(findings, { objects: keys, basis: "object" });
}

export function formatText(findings: readonly Finding[], colour: boolean): string {
  const c = (code: string, s: string) => (colour ? `\u001b[${code}m${s}\u001b[0m` : s);
  if (findings.length === 0) return `${c("32", "OK")}: no problems found\n`;
  const lines = [
    `${c("31", "ProblemDetected")}: ${findings.length} problem${findings.length === 1 ? "" : "s"}`,
    "",
  ];
  findings.forEach((f, i) => {
    const obj = f.namespace ? `${f.kind} ${f.namespace}/${f.name}` : `${f.kind} ${f.name}`;
    lines.push(`${i + 1}. ${c("1", obj)}${f.parent ? c("2", ` (${f.parent})`) : ""}  ${c("33", f.reason)}`);
    lines.push(`   ${f.message}`);
    for (const e of f.evidence.events.slice(-3)) lines.push(c("2", `   event: ${e}`));
    for (const l of (f.evidence.logs ?? []).slice(-3)) lines.push(c("2", `   log:   ${l}`));
  });
  const ex = explain(findings);
  lines.push("", ex.summary);
  for (const s of ex.nextSteps) lines.push(`  - ${s}`);
  return `${lines.join("\n")}\n`;
}

export function register(program: Command): void {
  program
    .command("diagnose")
    .description("find what is broken in a cluster (live via kubeconfig, or a snapshot file)")
    .option("--snapshot <file>", "a Kubernetes List (kubectl get … -A -o json) to analyse offline")
    .option("--kubeconfig <file>", "kubeconfig for a live cluster (default $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context")
    .option("-n, --namespace <ns>", "only this namespace (cluster-scoped objects are always analysed)")
    .option(
      "--alert <file>",
      "an Alertmanager webhook (v4): only the objects its alerts name, and their neighbours",
    )
    .option("-o, --output <format>", "text | json", "text")
    .action(async (raw: unknown) => {
      const parsed = OptionsSchema.safeParse(raw);
      if (!parsed.success) {
        const issues = issuesFromZod(parsed.error.issues);
        throw new ProphetError("bad_request", `diagnose: ${describeIssues(issues)}`, issues);
      }
      const findings = await runDiagnose(parsed.data);
      if (parsed.data.output === "json") process.stdout.write(`${JSON.stringify(toReport(findings))}\n`);
      else process.stdout.write(formatText(findings, process.stdout.isTTY === true && !process.env.NO_COLOR));
    });
}
