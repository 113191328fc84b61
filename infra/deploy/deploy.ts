// `npm run deploy:<target> [-- --dry-run] [--env staging|production] [--region r] [--project p]
//   [--clusters-file f] [--database-url-ssm /path] [--secret VAR=<SSM name|Secrets Manager ARN>]`.
// Prints the plan (plan.ts) and runs it; prints only with --dry-run, or when the target's CLI is
// missing (saying which), so every target's dry run works on a machine without any cloud.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readClustersFile } from "../../shared/clusters/file.js";
import {
  parameterNamePattern,
  secretArnPattern,
  secretVariables,
  type SecretReference,
  type SecretVariable,
} from "../aws/secrets.js";
import { plan, renderPlan, targets, type PlanOptions, type Step, type Target } from "./plan.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The CLI each target runs; absent → dry run. */
export const requiredCli: Record<Target, string> = {
  knative: "kubectl",
  aws: "npx",
  gcp: "gcloud",
  azure: "az",
};

export type Probe = (cmd: string, args: string[]) => boolean;

function has(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: "ignore", timeout: 20_000 });
  return r.status === 0;
}

/** A container tool whose engine answers (a docker client without a daemon does not count). */
export function findContainerTool(probe: Probe = has): PlanOptions["containerTool"] {
  if (probe("docker", ["info"])) return "docker";
  if (probe("podman", ["info"])) return "podman";
  if (probe("buildah", ["--version"])) return "buildah";
  return undefined;
}

export interface CliArgs {
  target: Target;
  dryRun: boolean;
  opts: Partial<PlanOptions>;
}

export function parseArgs(argv: string[]): CliArgs {
  const [target, ...rest] = argv;
  if (!targets.includes(target as Target))
    throw new Error(
      `usage: deploy.ts <${targets.join("|")}> [--dry-run] [--env e] [--region r] [--project p] [--clusters-file f] [--database-url-ssm /path] [--secret VAR=<ssm name|secret arn>]`,
    );
  const opts: Partial<PlanOptions> = {};
  let dryRun = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const value = () => {
      const v = rest[++i];
      if (!v) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--dry-run") dryRun = true;
    else if (a === "--env") opts.env = value();
    else if (a === "--region") opts.region = value();
    else if (a === "--project") opts.gcpProject = value();
    else if (a === "--resource-group") opts.azureResourceGroup = value();
    else if (a === "--clusters-file") opts.clustersFile = value();
    else if (a === "--database-url-ssm") addSecret(opts, `DATABASE_URL=${value()}`, target as Target);
    else if (a === "--secret") addSecret(opts, value(), target as Target);
    else throw new Error(`unknown option ${a}`);
  }
  return { target: target as Target, dryRun, opts };
}

/** `VAR=<ref>`: an ARN of Secrets Manager, anything else an SSM parameter name. */
export function parseSecretRef(spec: string): [SecretVariable, SecretReference] {
  const eq = spec.indexOf("=");
  const v = spec.slice(0, eq);
  const ref = spec.slice(eq + 1);
  if (eq < 1 || !ref)
    throw new Error(`--secret expects VAR=<SSM parameter name|Secrets Manager ARN>; got ${spec}`);
  if (!(secretVariables as readonly string[]).includes(v))
    throw new Error(`--secret: ${v} is not a secret variable (${secretVariables.join(", ")})`);
  if (ref.startsWith("arn:")) {
    if (!secretArnPattern.test(ref))
      throw new Error(`--secret ${v}: expected a Secrets Manager secret ARN; got ${ref}`);
    return [v as SecretVariable, { kind: "secretsmanager", arn: ref }];
  }
  if (!parameterNamePattern.test(ref))
    throw new Error(`--secret ${v}: expected an SSM parameter name; got ${ref}`);
  return [v as SecretVariable, { kind: "ssm", name: ref }];
}

function addSecret(opts: Partial<PlanOptions>, spec: string, target: Target): void {
  if (target !== "aws")
    throw new Error(
      "secret references are resolved on AWS Lambda only; Knative, Google and Azure take secrets from their own stores (README, Deploy)",
    );
  const [v, ref] = parseSecretRef(spec);
  opts.secrets = { ...opts.secrets, [v]: ref };
}

/** The options with the clusters file read (a bad file stops the deploy, naming it). */
export function withClusters(opts: Partial<PlanOptions>): Partial<PlanOptions> {
  if (!opts.clustersFile) return opts;
  const { clusters } = readClustersFile(opts.clustersFile);
  if (!clusters.length) throw new Error(`clusters file ${opts.clustersFile} registers no cluster`);
  return { ...opts, clusters };
}

function run(step: Step): void {
  const argv = step.command!;
  // Azure's ids are looked up by `$(az … -o tsv)`: those steps go through bash.
  const viaShell = argv.some((a) => a.startsWith("$("));
  const r = viaShell
    ? spawnSync("bash", ["-c", argv.map((a) => (a.startsWith("$(") ? `"${a}"` : `'${a}'`)).join(" ")], {
        cwd: join(root, step.cwd ?? ""),
        stdio: "inherit",
      })
    : spawnSync(argv[0]!, argv.slice(1), { cwd: join(root, step.cwd ?? ""), stdio: "inherit" });
  if (r.status !== 0) throw new Error(`step failed (${r.status ?? r.signal}): ${step.title}`);
}

export function main(
  argv: string[],
  probe: Probe = has,
  out: (s: string) => unknown = (s) => process.stdout.write(s),
): number {
  const { target, dryRun, opts: given } = parseArgs(argv);
  const opts = withClusters(given);
  const cli = requiredCli[target];
  const missing = !probe(cli, cli === "kubectl" ? ["version", "--client"] : ["--version"]);
  const containerTool = target === "knative" ? findContainerTool(probe) : undefined;
  const steps = plan(target, { ...opts, ...(containerTool ? { containerTool } : {}) });
  if (dryRun || missing) {
    if (missing && !dryRun)
      out(`${cli} is not installed: printing the plan instead of running it (dry run).\n`);
    out(renderPlan(target, steps));
    return 0;
  }
  for (const s of steps) {
    out(`==> ${s.title}\n`);
    if (s.command) run(s);
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
