// The `prophet` command. Each capability adds its subcommands in infra/cli/commands/.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { findFunction, functions } from "../../functions/registry.js";
import { loadConfig, type Config } from "../../shared/config.js";
import { catalog } from "../../shared/events/catalog.js";
import { eventsFromHttp } from "../../shared/events/edge/http.js";
import { parseEnvelope, type ProphetEvent } from "../../shared/events/envelope.js";
import { looksLikeAlertmanagerWebhook } from "../../shared/events/edge/alertmanager.js";
import { ProphetError } from "../../shared/errors.js";
import { invokeFunction } from "../../shared/invocation/invoke.js";
import { CollectingSink } from "../../shared/ports/sink.js";
import { verifyAudit, type AuditVerification } from "../../shared/store/audit.js";
import { createDeps } from "../runtime/deps.js";
import { createLogger } from "../runtime/logger.js";
import { startHost } from "../local/host.js";
import { register as registerAnomalies } from "./commands/anomalies.js";
import { register as registerAsk } from "./commands/ask.js";
import { register as registerCapacity } from "./commands/capacity.js";
import { register as registerClusters } from "./commands/clusters.js";
import { register as registerDiagnose } from "./commands/diagnose.js";
import { register as registerForecast } from "./commands/forecast.js";
import { register as registerMcp } from "./commands/mcp.js";
import { register as registerNetpol } from "./commands/netpol.js";
import { register as registerRemediation } from "./commands/remediation.js";
import { register as registerSandbox } from "./commands/sandbox.js";
import { register as registerSlo } from "./commands/slo.js";

function config(): Config {
  return loadConfig(process.env);
}

/** An event file may hold a structured CloudEvent, a batch, or an Alertmanager webhook. */
export function eventsFromFile(path: string, cluster: string): ProphetEvent[] {
  const text = readFileSync(path, "utf8");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ProphetError("bad_request", `${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (looksLikeAlertmanagerWebhook(body)) {
    return eventsFromHttp(
      { method: "POST", path: "/alertmanager", headers: {}, body: text },
      { now: new Date(), cluster },
    );
  }
  const list = Array.isArray(body) ? body : [body];
  return list
    .map((e, i) => parseEnvelope(e, `${path}[${i}]`))
    .flatMap((e) =>
      eventsFromHttp(
        {
          method: "POST",
          path: "/",
          headers: { "content-type": "application/cloudevents+json" },
          body: JSON.stringify(e),
        },
        { now: new Date(), cluster },
      ),
    );
}

export function buildProgram(): Command {
  const program = new Command("prophet")
    .description("AIOps for Kubernetes: diagnose alerts, remediate safely, scale ahead of demand")
    .showHelpAfterError();

  program
    .command("start")
    .description("run every function in one process (local host) on $PORT")
    .option("-p, --port <port>", "port to listen on (default $PORT or 8080)")
    .action(async (opts: { port?: string }) => {
      const cfg = config();
      const log = createLogger(cfg.LOG_LEVEL);
      // The embedded default cluster: a simulated one, unless a real one is configured.
      const useSandbox = cfg.PROPHET_SANDBOX && !cfg.KUBECONFIG && !process.env.KUBERNETES_SERVICE_HOST;
      let stopSandbox = async () => {};
      let kubeconfig: string | undefined;
      let prometheusUrl: string | undefined;
      let flowsUrl: string | undefined;
      let setAlertWebhook: (url: string) => void = () => {};
      if (useSandbox) {
        const { launchSandbox } = await import("./commands/sandbox.js");
        const { sandbox, statePath } = await launchSandbox({ speed: cfg.PROPHET_SANDBOX_SPEED });
        kubeconfig = sandbox.kubeconfigPath;
        prometheusUrl = sandbox.prometheusUrl;
        flowsUrl = `${sandbox.url}/sandbox/flows`;
        setAlertWebhook = (url) => sandbox.setAlertWebhook(url);
        log.info(
          {
            url: sandbox.url,
            prometheus: sandbox.prometheusUrl,
            kubeconfig,
            scenario: sandbox.scenario.name,
            speed: cfg.PROPHET_SANDBOX_SPEED,
          },
          `sandbox cluster running: kubectl --kubeconfig ${kubeconfig} get pods -A; inject faults with \`npx prophet sandbox inject <fault>\``,
        );
        stopSandbox = async () => {
          rmSync(statePath, { force: true });
          await sandbox.close();
        };
      }
      // On the sandbox, slo-check has the demo services' SLOs unless others are configured.
      const sandboxSlos = fileURLToPath(new URL("../../manifests/slos/sandbox.yaml", import.meta.url));
      const host = await startHost({
        config:
          useSandbox && !cfg.PROPHET_SLO_FILES && existsSync(sandboxSlos)
            ? { ...cfg, PROPHET_SLO_FILES: sandboxSlos }
            : cfg,
        functions,
        log,
        ...(kubeconfig ? { kubeconfig } : {}),
        ...(prometheusUrl ? { prometheusUrl } : {}),
        ...(flowsUrl ? { flowsUrl } : {}),
        ...(opts.port ? { port: Number(opts.port) } : {}),
      });
      // The sandbox's alert rules notify this host, as a cluster's Alertmanager would.
      setAlertWebhook(`${host.url.replace(/\/\/(0\.0\.0\.0|\[::\])(?=:)/, "//127.0.0.1")}/alertmanager`);
      const stop = async (signal: string) => {
        log.info({ signal }, "shutting down");
        await host.close();
        await stopSandbox();
        process.exit(0);
      };
      process.once("SIGINT", () => void stop("SIGINT"));
      process.once("SIGTERM", () => void stop("SIGTERM"));
    });

  program
    .command("invoke")
    .description("run one function on the events in a file and print what it emits")
    .argument("<function>", `one of: ${functions.map((f) => f.name).join(", ")}`)
    .argument("<event-file>", "a CloudEvent (structured JSON), a batch, or an Alertmanager webhook")
    .action(async (name: string, file: string) => {
      const fn = findFunction(name);
      if (!fn)
        throw new ProphetError(
          "not_found",
          `no function "${name}"; known: ${functions.map((f) => f.name).join(", ")}`,
        );
      const cfg = config();
      const deps = await createDeps(cfg, {
        log: createLogger(cfg.LOG_LEVEL === "info" ? "warn" : cfg.LOG_LEVEL),
      });
      try {
        const sink = new CollectingSink();
        for (const event of eventsFromFile(file, cfg.PROPHET_CLUSTER)) {
          const out = await invokeFunction(fn, event, { deps, sink });
          process.stderr.write(`${event.type} ${event.id}: ${out.status}\n`);
        }
        process.stdout.write(`${JSON.stringify(sink.events, null, 2)}\n`);
      } finally {
        await deps.close();
      }
    });

  const events = program.command("events").description("the event catalog");
  events
    .command("list")
    .description("list every event type with its direction and description")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) => {
      const rows = catalog.map((d) => ({
        type: d.type,
        version: d.version,
        direction: d.direction,
        description: d.description,
      }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const width = Math.max(...rows.map((r) => r.type.length));
      for (const r of rows)
        process.stdout.write(`${r.type.padEnd(width)}  ${r.direction.padEnd(8)}  ${r.description}\n`);
    });

  const audit = program.command("audit").description("the hash-chained audit log");
  audit
    .command("verify")
    .description("verify the audit log's hash chain; exits 1 if it is broken")
    .option("--url <url>", "ask this running host (default: the local host on $HOST:$PORT, if it answers)")
    .action(async (opts: { url?: string }) => {
      const cfg = config();
      // A running local host owns the PGlite data directory; ask it rather than open the files twice.
      const url = opts.url ?? `http://${cfg.HOST}:${cfg.PORT}`;
      let result: AuditVerification | undefined = await fetch(`${url}/api/audit/verify`, {
        signal: AbortSignal.timeout(2_000),
      })
        .then((r) => (r.ok ? (r.json() as Promise<AuditVerification>) : undefined))
        .catch(() => undefined);
      if (!result && opts.url) throw new ProphetError("not_found", `no Prophet host answered at ${opts.url}`);
      if (!result) {
        const deps = await createDeps(cfg, { log: createLogger("warn") });
        try {
          result = await verifyAudit(deps.store);
        } finally {
          await deps.close();
        }
      }
      if (result.ok)
        process.stdout.write(`audit log intact: ${result.rows} rows, head ${result.headHash ?? "(empty)"}\n`);
      else {
        process.stdout.write(
          `audit log BROKEN at seq ${result.firstBadSeq}: ${result.reason} (${result.rows} rows verified before it)\n`,
        );
        process.exitCode = 1;
      }
    });
  registerForecast(program);
  registerDiagnose(program);
  registerAnomalies(program);
  registerSandbox(program);
  registerRemediation(program);
  registerSlo(program);
  registerCapacity(program);
  registerNetpol(program);
  registerClusters(program);
  registerMcp(program);
  registerAsk(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    const message = err instanceof ProphetError ? err.message : ((err as Error).stack ?? String(err));
    process.stderr.write(`prophet: ${message}\n`);
    process.exit(err instanceof ProphetError && err.status < 500 ? 2 : 1);
  }
}
