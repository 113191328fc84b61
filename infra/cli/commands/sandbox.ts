// `prophet sandbox start|inject|revert|faults|snapshot|kubeconfig`: runs the embedded cluster and
// talks to a running one through its control API (/sandbox/* on the API server's loopback port),
// found through a state file in --state-dir (default $PROPHET_SANDBOX_DIR or <tmp>/prophet-sandbox).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { faultKinds, startSandbox, type Sandbox } from "../../sandbox/index.js";

const StateSchema = z.object({ url: z.string().url(), kubeconfigPath: z.string(), pid: z.number().int() });
type State = z.infer<typeof StateSchema>;

const StartOptions = z.object({
  scenario: z.string().optional(),
  speed: z.coerce.number().positive().default(1),
  port: z.coerce.number().int().min(0).max(65535).default(0),
  seed: z.coerce.number().int().optional(),
  stateDir: z.string().optional(),
});

const ClientOptions = z.object({ stateDir: z.string().optional(), url: z.string().url().optional() });

export function defaultStateDir(): string {
  return process.env.PROPHET_SANDBOX_DIR ?? join(tmpdir(), "prophet-sandbox");
}

function fail(message: string): void {
  process.stderr.write(`sandbox: ${message}\n`);
  process.exitCode = 1;
}

function readState(stateDir: string): State {
  const path = join(stateDir, "sandbox.json");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new Error(
      `no running sandbox found (${path} is missing); start one with \`prophet sandbox start\``,
    );
  }
  const parsed = StateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${path} is not a sandbox state file`);
  return parsed.data;
}

async function call(raw: unknown, method: string, path: string, body?: unknown): Promise<string> {
  const opts = ClientOptions.parse(raw);
  const url = opts.url ?? readState(resolve(opts.stateDir ?? defaultStateDir())).url;
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }
        : {}),
    });
  } catch (err) {
    throw new Error(
      `the sandbox at ${url} does not answer (${(err as Error).message}); is it still running?`,
    );
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = String((JSON.parse(text) as { error?: unknown }).error ?? text);
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`${method} ${path}: ${res.status} ${message}`);
  }
  return text;
}

function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      fail(
        err instanceof z.ZodError
          ? err.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; ")
          : (err as Error).message,
      );
    }
  };
}

function parseParams(pairs: string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const p of pairs) {
    const i = p.indexOf("=");
    if (i <= 0) throw new Error(`--param expects key=value, got "${p}"`);
    const v = p.slice(i + 1);
    out[p.slice(0, i)] = v !== "" && !Number.isNaN(Number(v)) ? Number(v) : v;
  }
  return out;
}

/**
 * Starts a sandbox and records it in `<stateDir>/sandbox.json`, where `prophet sandbox inject|
 * snapshot|kubeconfig` find it. Used by `prophet sandbox start` and by `prophet start`, whose
 * embedded default cluster this is.
 */
export async function launchSandbox(opts: {
  port?: number;
  speed?: number;
  seed?: number;
  scenario?: string;
  stateDir?: string;
}): Promise<{ sandbox: Sandbox; statePath: string }> {
  const stateDir = resolve(opts.stateDir ?? defaultStateDir());
  mkdirSync(stateDir, { recursive: true });
  const sandbox = await startSandbox({
    port: opts.port ?? 0,
    ...(opts.speed !== undefined ? { speed: opts.speed } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.scenario ? { scenario: opts.scenario } : {}),
    kubeconfigPath: join(stateDir, "kubeconfig"),
  });
  const statePath = join(stateDir, "sandbox.json");
  writeFileSync(
    statePath,
    JSON.stringify(
      {
        url: sandbox.url,
        kubeconfigPath: sandbox.kubeconfigPath,
        prometheusUrl: sandbox.prometheusUrl,
        pid: process.pid,
      },
      null,
      2,
    ),
  );
  return { sandbox, statePath };
}

export function register(program: Command): void {
  const sandbox = program.command("sandbox").description("the embedded simulated Kubernetes cluster");
  const withClient = (c: Command) =>
    c
      .option(
        "--state-dir <dir>",
        "where the running sandbox keeps its state file (default $PROPHET_SANDBOX_DIR or <tmp>/prophet-sandbox)",
      )
      .option("--url <url>", "the sandbox's address (instead of the state file)");

  sandbox
    .command("start")
    .description("start the sandbox and keep it running until SIGINT/SIGTERM")
    .option("--scenario <file>", "scenario YAML (default: the built-in default scenario)")
    .option("--speed <n>", "simulated seconds per wall second", "1")
    .option("--port <n>", "API server port on 127.0.0.1 (0 = any free port)", "0")
    .option("--seed <n>", "override the scenario's random seed")
    .option("--state-dir <dir>", "where to write sandbox.json and the kubeconfig")
    .action(
      action(async (raw: unknown) => {
        const opts = StartOptions.parse(raw);
        const { sandbox: sb, statePath } = await launchSandbox({
          port: opts.port,
          speed: opts.speed,
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          ...(opts.scenario ? { scenario: resolve(opts.scenario) } : {}),
          ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
        });
        process.stdout.write(`${sb.kubeconfigPath}\n`);
        process.stderr.write(
          `sandbox: scenario "${sb.scenario.name}" at ${sb.url}, ${opts.speed}× real time, clock ${sb.clock.now().toISOString()}\n` +
            `sandbox: export KUBECONFIG=${sb.kubeconfigPath}\n`,
        );
        const stop = () => {
          rmSync(statePath, { force: true });
          void sb.close().then(() => process.exit(0));
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      }),
    );

  withClient(
    sandbox
      .command("inject <fault>")
      .description(`inject a fault into the running sandbox: ${faultKinds.join(", ")}`)
      .option("--target <target>", "namespace/name of the workload (or HPA), or a node name")
      .option("--param <key=value...>", "fault parameters (e.g. factor=5, exitCode=2, cpu=64)"),
  ).action(
    action(async (fault: string, raw: { target?: string; param?: string[] }) => {
      if (!(faultKinds as readonly string[]).includes(fault))
        throw new Error(`unknown fault "${fault}"; one of: ${faultKinds.join(", ")}`);
      const body = {
        kind: fault,
        ...(raw.target ? { target: raw.target } : {}),
        ...(raw.param ? { params: parseParams(raw.param) } : {}),
      };
      process.stdout.write(`${await call(raw, "POST", "/sandbox/faults", body)}\n`);
    }),
  );

  withClient(sandbox.command("revert <id>").description("revert an injected fault")).action(
    action(async (id: string, raw: unknown) => {
      process.stdout.write(`${await call(raw, "DELETE", `/sandbox/faults/${encodeURIComponent(id)}`)}\n`);
    }),
  );

  withClient(sandbox.command("faults").description("list the active faults")).action(
    action(async (raw: unknown) => {
      process.stdout.write(`${await call(raw, "GET", "/sandbox/faults")}\n`);
    }),
  );

  withClient(
    sandbox
      .command("snapshot")
      .description("print every object as a `kubectl get … -A -o json` List")
      .option("--events", "include Events"),
  ).action(
    action(async (raw: { events?: boolean }) => {
      process.stdout.write(
        `${await call(raw, "GET", `/sandbox/snapshot${raw.events ? "?events=true" : ""}`)}\n`,
      );
    }),
  );

  withClient(
    sandbox
      .command("kubeconfig")
      .description("print the running sandbox's kubeconfig")
      .option("--path", "print the kubeconfig file's path instead"),
  ).action(
    action(async (raw: { path?: boolean; stateDir?: string }) => {
      if (raw.path) {
        process.stdout.write(`${readState(resolve(raw.stateDir ?? defaultStateDir())).kubeconfigPath}\n`);
        return;
      }
      process.stdout.write(await call(raw, "GET", "/sandbox/kubeconfig"));
    }),
  );
}
