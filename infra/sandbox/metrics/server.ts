// A standalone loopback server for the metrics endpoints, for tests and for running the store on its own.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createMetricsHandler, type MetricsHandlerOptions } from "./http.js";

export interface MetricsServerOptions extends MetricsHandlerOptions {
  /** 0 picks a free port. */
  port?: number;
  /** Loopback by default. */
  host?: string;
}

export interface RunningMetricsServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<RunningMetricsServer> {
  const handle = createMetricsHandler(opts);
  const server = createServer((req, res) => {
    handle(req, res)
      .then((handled) => {
        if (!handled) {
          res.writeHead(404, { "content-type": "text/plain" });
          res.end("404 page not found\n");
        }
      })
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(err));
      });
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
