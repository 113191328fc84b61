// A minimal kube-state-metrics for Endpoints, which the sandbox's telemetry does not export: on each
// scrape it lists the cluster's Endpoints through the Kubernetes API (as kube-state-metrics does)
// and answers `kube_endpoint_address_available{namespace, endpoint}` — the number of ready
// addresses — for every Endpoints object whose Service has a selector. With it a real Prometheus
// can alert on a Service whose selector matches no pod.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

interface List<T> {
  items: T[];
}
interface Endpoints {
  metadata: { namespace: string; name: string };
  subsets?: Array<{ addresses?: unknown[] }>;
}
interface Service {
  metadata: { namespace: string; name: string };
  spec?: { selector?: Record<string, string> };
}

export interface RunningExporter {
  /** host:port */
  target: string;
  close(): Promise<void>;
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

export async function startEndpointsExporter(apiUrl: string): Promise<RunningExporter> {
  const get = async <T>(path: string): Promise<List<T>> => {
    const res = await fetch(`${apiUrl}${path}`);
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return (await res.json()) as List<T>;
  };
  const server: Server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    Promise.all([get<Service>("/api/v1/services"), get<Endpoints>("/api/v1/endpoints")])
      .then(([services, endpoints]) => {
        const selected = new Set(
          services.items
            .filter((s) => Object.keys(s.spec?.selector ?? {}).length > 0)
            .map((s) => `${s.metadata.namespace}/${s.metadata.name}`),
        );
        const available = new Map<string, number>();
        for (const key of selected) available.set(key, 0);
        for (const e of endpoints.items) {
          const key = `${e.metadata.namespace}/${e.metadata.name}`;
          if (!selected.has(key)) continue;
          const n = (e.subsets ?? []).reduce((sum, s) => sum + (s.addresses?.length ?? 0), 0);
          available.set(key, n);
        }
        const lines = [
          "# HELP kube_endpoint_address_available Number of addresses available in endpoint.",
          "# TYPE kube_endpoint_address_available gauge",
          ...[...available].map(([key, n]) => {
            const [ns = "", name = ""] = key.split("/");
            return `kube_endpoint_address_available{job="kube-state-metrics",namespace="${esc(ns)}",endpoint="${esc(name)}"} ${n}`;
          }),
        ];
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(`${lines.join("\n")}\n`);
      })
      .catch((e: unknown) => res.writeHead(503).end(String(e)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
