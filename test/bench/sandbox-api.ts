// Benchmark of the sandbox API server over loopback HTTP on a 5,000-pod cluster:
// GET one pod, LIST (namespace, label-selected, cluster-wide, Table) and PATCH (merge, strategic).
// Run: npx tsx test/bench/sandbox-api.ts   (target: ≥ 2,000 GETs/s)
import { Agent, request } from "node:http";
import { startApiServer } from "../../infra/sandbox/apiserver/index.js";

const PODS = 5_000;
const NAMESPACES = 10;
const CONCURRENCY = 16;

interface Result {
  name: string;
  requests: number;
  seconds: number;
  bytes: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function send(
  base: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      base + path,
      { method, agent, headers: body ? { "Content-Type": "application/json", ...headers } : headers },
      (res) => {
        let bytes = 0;
        res.on("data", (d: Buffer) => (bytes += d.length));
        res.on("end", () =>
          res.statusCode && res.statusCode < 300
            ? resolve(bytes)
            : reject(new Error(`${method} ${path}: ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function run(name: string, requests: number, one: (i: number) => Promise<number>): Promise<Result> {
  let next = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests) {
        const size = await one(next++);
        bytes += size;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { name, requests, seconds, bytes };
}

async function main(): Promise<void> {
  const server = await startApiServer();
  const { store } = server;
  const seedStart = Date.now();
  for (let n = 0; n < NAMESPACES; n++)
    store.create(store.resource("namespaces"), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: `ns-${n}` },
    });
  const pods = store.resource("pods");
  for (let i = 0; i < PODS; i++) {
    store.create(pods, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `pod-${i}`,
        namespace: `ns-${i % NAMESPACES}`,
        labels: { app: `app-${i % 50}`, tier: i % 2 ? "web" : "worker" },
      },
      spec: {
        nodeName: `node-${i % 100}`,
        containers: [
          {
            name: "app",
            image: "registry.example/app:1.0",
            ports: [{ containerPort: 8080 }],
            env: [{ name: "MODE", value: "prod" }],
            resources: { requests: { cpu: "100m", memory: "128Mi" } },
          },
        ],
      },
      status: {
        phase: "Running",
        podIP: `10.244.${i % 250}.${i % 200}`,
        conditions: [{ type: "Ready", status: "True" }],
      },
    });
  }
  const seedMs = Date.now() - seedStart;
  const base = server.url;
  const pathOf = (i: number) => {
    const n = (i * 7919) % PODS;
    return `/api/v1/namespaces/ns-${n % NAMESPACES}/pods/pod-${n}`;
  };
  const table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
  const results: Result[] = [];
  await run("warm-up", 500, (i) => send(base, "GET", pathOf(i)));
  results.push(await run("GET pod", 10_000, (i) => send(base, "GET", pathOf(i))));
  results.push(
    await run("LIST pods in a namespace (500)", 200, (i) =>
      send(base, "GET", `/api/v1/namespaces/ns-${i % NAMESPACES}/pods`),
    ),
  );
  results.push(
    await run("LIST pods -l app=app-7 (100 of 5,000)", 500, () =>
      send(base, "GET", "/api/v1/pods?labelSelector=app%3Dapp-7"),
    ),
  );
  results.push(
    await run("LIST pods spec.nodeName=node-3 (50)", 500, () =>
      send(base, "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-3"),
    ),
  );
  results.push(await run("LIST all pods (5,000)", 40, () => send(base, "GET", "/api/v1/pods")));
  results.push(
    await run("LIST all pods as Table (5,000)", 20, () =>
      send(base, "GET", "/api/v1/pods", undefined, { Accept: table }),
    ),
  );
  results.push(
    await run("PATCH merge (labels)", 5_000, (i) =>
      send(base, "PATCH", pathOf(i), JSON.stringify({ metadata: { labels: { rev: String(i) } } }), {
        "Content-Type": "application/merge-patch+json",
      }),
    ),
  );
  results.push(
    await run("PATCH strategic (container image)", 5_000, (i) =>
      send(
        base,
        "PATCH",
        pathOf(i),
        JSON.stringify({ spec: { containers: [{ name: "app", image: `registry.example/app:${i}` }] } }),
        {
          "Content-Type": "application/strategic-merge-patch+json",
        },
      ),
    ),
  );
  agent.destroy();
  await server.close();

  console.log(
    `Sandbox API server on loopback: ${PODS} pods in ${NAMESPACES} namespaces (seeded in ${seedMs} ms), ${CONCURRENCY} concurrent keep-alive connections\n`,
  );
  const rows = results.map((r) => [
    r.name,
    String(r.requests),
    (r.requests / r.seconds).toFixed(0),
    ((r.seconds / r.requests) * 1000).toFixed(2),
    (r.bytes / r.requests / 1024).toFixed(1),
  ]);
  const header = ["operation", "requests", "req/s", "ms/req", "KiB/resp"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number)))
      .join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
  const gets = results[0] as Result;
  const getsPerSecond = gets.requests / gets.seconds;
  console.log(
    `\nGET target ≥ 2,000/s: ${getsPerSecond >= 2000 ? "met" : "NOT met"} (${getsPerSecond.toFixed(0)}/s)`,
  );
  if (getsPerSecond < 2000) process.exitCode = 1;
}

await main();
