// The local host: every function in one process on one port, with the in-process bus, cron,
// the Alertmanager webhook, CloudEvents ingress, health, metrics and a small read API.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "../../shared/config.js";
import { maxBodyBytes } from "../../shared/events/edge/http.js";
import { ProphetError } from "../../shared/errors.js";
import type { ProphetFunction } from "../../shared/function.js";
import type { Clock } from "../../shared/ports/clock.js";
import type { Logger } from "../../shared/ports/log.js";
import { findingsOfIncident } from "../../shared/diagnosis/store.js";
import { clusterHealth } from "../../shared/clusters/health.js";
import { listAudit, verifyAudit } from "../../shared/store/audit.js";
import { getIncident, listIncidents } from "../../shared/store/incidents.js";
import { mcpHttpHandler } from "../../shared/mcp/http.js";
import { mcpOptions } from "../../shared/mcp/options.js";
import { createDeps, type RuntimeDeps } from "../runtime/deps.js";
import { errorReply, handleHttpRequest, jsonReply, type HttpReply } from "../runtime/http.js";
import { consoleRoutes } from "../console/index.js";
import { hostOrigins, requestGuard } from "../console/csrf.js";
import { approvalRoutes } from "./approvals.js";
import { queryRoute } from "./query.js";
import { LocalBus } from "./bus.js";
import { startCron, ticksForClusters } from "./cron.js";
import { createHostMetrics } from "./metrics.js";

export interface HostOptions {
  config: Config;
  functions: readonly ProphetFunction[];
  clock?: Clock;
  log?: Logger;
  /** Tests pass a fixed port of 0 to get a free one. */
  port?: number;
  /** The cluster to use when KUBECONFIG names none (the sandbox's kubeconfig). */
  kubeconfig?: string;
  /** The Prometheus API to use when PROMETHEUS_URL names none (the sandbox's /prometheus). */
  prometheusUrl?: string;
  /** The sandbox's Hubble flows (JSONL over HTTP) for hubble-quarantine's tick. */
  flowsUrl?: string;
}

export interface RunningHost {
  url: string;
  port: number;
  bus: LocalBus;
  deps: RuntimeDeps;
  close(): Promise<void>;
}

/** Reads the whole body; past the limit it keeps draining (so the 413 can be answered) but stores nothing. */
function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= maxBodyBytes) chunks.push(c);
    });
    req.on("end", () => {
      if (size > maxBodyBytes)
        reject(new ProphetError("payload_too_large", `request body larger than ${maxBodyBytes} bytes`));
      else resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

function send(res: ServerResponse, reply: HttpReply): void {
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}

export async function startHost(opts: HostOptions): Promise<RunningHost> {
  const { config, functions } = opts;
  const deps = await createDeps(config, {
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
    ...(opts.prometheusUrl ? { prometheusUrl: opts.prometheusUrl } : {}),
    ...(opts.flowsUrl ? { flowsUrl: opts.flowsUrl } : {}),
  });
  const log = deps.log;
  const metrics = createHostMetrics(deps.store);
  const bus = new LocalBus(functions);
  const ctx = { deps, observer: metrics.observer, leaseMs: config.PROPHET_LEASE_SECONDS * 1000 };
  bus.attach(ctx);
  let ready = false;
  const approvals = approvalRoutes({ ctx, bus });
  const query = queryRoute(deps, config);
  let listeningPort = 0;
  // Refuses cross-site state changes (see infra/console/csrf.ts); the port is known after listen.
  const guard = requestGuard(() => hostOrigins(config.HOST, listeningPort, config.PROPHET_PUBLIC_URL));
  const webConsole = consoleRoutes(deps, guard);
  const mcp = mcpHttpHandler(deps, { ...mcpOptions(config), tokens: config.PROPHET_MCP_TOKENS ?? [] });

  const routes: Record<string, (req: IncomingMessage, url: URL) => Promise<HttpReply>> = {
    "GET /healthz": async () => jsonReply(200, { status: "ok" }),
    "GET /readyz": async () => {
      if (!ready) return jsonReply(503, { status: "starting" });
      await deps.store.query("SELECT 1");
      return jsonReply(200, { status: "ready", store: deps.store.kind });
    },
    "GET /metrics": async () => ({
      status: 200,
      headers: { "content-type": metrics.registry.contentType },
      body: await metrics.registry.metrics(),
    }),
    "GET /api/incidents": async (_req, url) => {
      const status = url.searchParams.get("status");
      return jsonReply(200, {
        items: await listIncidents(deps.store, {
          ...(status === "firing" || status === "resolved" ? { status } : {}),
          limit: Number(url.searchParams.get("limit") ?? 100),
        }),
      });
    },
    "GET /api/audit": async (_req, url) =>
      jsonReply(200, {
        items: await listAudit(deps.store, { limit: Number(url.searchParams.get("limit") ?? 100) }),
      }),
    "GET /api/audit/verify": async () => jsonReply(200, await verifyAudit(deps.store)),
    // The federated view: every cluster this host serves (and any its rows name), from the store.
    "GET /api/clusters": async () =>
      jsonReply(200, {
        items: await clusterHealth(deps.store, {
          clusters: [deps.cluster, ...(deps.clusters?.names() ?? [])],
          now: deps.clock.now(),
        }),
      }),
    "GET /api/functions": async () =>
      jsonReply(200, {
        items: functions.map((f) => ({
          name: f.name,
          description: f.description,
          accepts: f.accepts,
          emits: f.emits,
          schedules: f.schedules ?? [],
        })),
      }),
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    // MCP (streamable HTTP): the SDK's transport reads the request and writes the response itself.
    if (url.pathname === "/mcp") {
      mcp(req, res).catch((err: unknown) => {
        log.error({ err: (err as Error).message }, "MCP request failed");
        if (!res.headersSent) send(res, errorReply(err));
      });
      return;
    }
    const handle = async (): Promise<HttpReply> => {
      const refused = guard.refusal(req.method ?? "GET", url.pathname, req.headers);
      if (refused) {
        req.resume();
        return errorReply(refused);
      }
      if (req.method === "POST" && (url.pathname === "/query" || url.pathname === "/mcp/query"))
        return query(req, await readBody(req));
      const route = routes[`${req.method} ${url.pathname}`];
      if (route) return route(req, url);
      const page = await webConsole(req.method ?? "GET", url, req.headers);
      if (page) return page;
      const approval = await approvals(
        req.method ?? "GET",
        url,
        () => readBody(req),
        req.headers["content-type"],
        guard.fromBrowser(req.headers),
      );
      if (approval) return approval;
      const findings = /^\/api\/incidents\/([^/]+)\/findings$/.exec(url.pathname);
      if (req.method === "GET" && findings) {
        return jsonReply(200, {
          items: await findingsOfIncident(deps.store, decodeURIComponent(findings[1] ?? "")),
        });
      }
      const incident = /^\/api\/incidents\/([^/]+)$/.exec(url.pathname);
      if (req.method === "GET" && incident) {
        const found = await getIncident(deps.store, decodeURIComponent(incident[1] ?? ""));
        return found ? jsonReply(200, found) : errorReply(new ProphetError("not_found", "no such incident"));
      }
      if (
        req.method === "POST" &&
        (url.pathname === "/" || url.pathname === "/alertmanager" || url.pathname === "/events")
      ) {
        const body = await readBody(req);
        const reply = await handleHttpRequest(
          { method: "POST", path: url.pathname, headers: req.headers, body },
          bus.route,
          { ...ctx, sink: bus },
        );
        log[reply.status < 400 ? "debug" : "warn"](
          { path: url.pathname, status: reply.status },
          reply.status < 400 ? "request handled" : `request rejected: ${reply.body.slice(0, 300)}`,
        );
        return reply;
      }
      return errorReply(new ProphetError("not_found", `no route for ${req.method} ${url.pathname}`));
    };
    handle()
      .then((reply) => send(res, reply))
      .catch((err) => {
        log.error({ err: (err as Error).message }, "request failed");
        send(res, errorReply(err));
      });
  });

  const port = opts.port ?? config.PORT;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, config.HOST, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  listeningPort = actualPort;
  const url = `http://${config.HOST}:${actualPort}`;
  // Approval links point at this host unless a public URL is configured.
  if (deps.remediation && !config.PROPHET_PUBLIC_URL)
    deps.remediation = { ...deps.remediation, publicUrl: url };

  const cron = config.PROPHET_CRON
    ? startCron(functions, async (tick) => {
        await bus
          .send(ticksForClusters(tick, deps))
          .catch((err) =>
            log.warn({ err: (err as Error).message, schedule: tick.data.schedule }, "scheduled run failed"),
          );
      })
    : { stop() {} };
  const redelivered = await bus.redeliverPending();
  const redeliveryTimer = setInterval(() => void bus.redeliverPending(), 30_000);
  redeliveryTimer.unref();
  ready = true;

  log.info(
    {
      url,
      store: deps.store.kind === "pglite" ? `pglite (${config.PROPHET_DATA_DIR})` : "postgres",
      functions: functions.map((f) => f.name),
      cluster: config.PROPHET_CLUSTER,
      redelivered,
    },
    `Prophet is listening on ${url} — open ${url}/ for the console; POST Alertmanager webhooks to ${url}/alertmanager, CloudEvents to ${url}/`,
  );
  if (deps.kube) log.info({ cluster: deps.kube.name }, `diagnosing cluster ${deps.kube.name}`);
  else
    log.warn(
      {},
      "no Kubernetes cluster configured (KUBECONFIG unset, PROPHET_SANDBOX=false): diagnoses will be Unavailable",
    );
  if (deps.metrics) log.info({ prometheus: deps.metrics.name }, `reading metrics from ${deps.metrics.name}`);

  return {
    url,
    port: actualPort,
    bus,
    deps,
    async close() {
      ready = false;
      cron.stop();
      clearInterval(redeliveryTimer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await deps.close();
    },
  };
}
