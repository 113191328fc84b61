// `prophet clusters test`: one GET /version with the cluster's credentials, timed. A 401 gets the
// same single refresh-and-retry as the cluster port.
import * as http from "node:http";
import * as https from "node:https";
import { z } from "zod";
import { ProphetError } from "../errors.js";
import { kubeConfigOf, type ClusterCredentials } from "./credentials.js";
import type { CredentialSource } from "./port.js";

const VersionSchema = z
  .object({ major: z.string(), minor: z.string(), gitVersion: z.string(), platform: z.string().optional() })
  .loose();
export type ServerVersion = z.infer<typeof VersionSchema>;

export interface ProbeResult {
  name: string;
  server: string;
  version: ServerVersion;
  latencyMs: number;
}

async function getVersion(
  name: string,
  creds: ClusterCredentials,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const kc = kubeConfigOf(name, creds);
  const opts: https.RequestOptions = { method: "GET", headers: { accept: "application/json" } };
  await kc.applyToHTTPSOptions(opts);
  const base = new URL(creds.cluster.server);
  const url = new URL(`${base.pathname.replace(/\/$/, "")}/version`, base);
  const mod = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { ...opts, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(
        new ProphetError("delivery_failed", `cluster ${name}: ${url.host} did not answer in ${timeoutMs} ms`),
      ),
    );
    req.on("error", (err) =>
      reject(
        err instanceof ProphetError
          ? err
          : new ProphetError("delivery_failed", `cluster ${name}: ${url.host} unreachable: ${err.message}`),
      ),
    );
    req.end();
  });
}

export async function probeCluster(
  name: string,
  source: CredentialSource,
  opts: { timeoutMs?: number; timer?: () => number } = {},
): Promise<ProbeResult> {
  const timer = opts.timer ?? (() => performance.now());
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let creds = await source.credentials(name);
  let start = timer();
  let res = await getVersion(name, creds, timeoutMs);
  if (res.status === 401) {
    source.invalidate(name, creds);
    creds = await source.credentials(name);
    start = timer();
    res = await getVersion(name, creds, timeoutMs);
  }
  const latencyMs = Math.round((timer() - start) * 10) / 10;
  if (res.status === 401 || res.status === 403)
    throw new ProphetError(
      "forbidden",
      `cluster ${name}: the API server at ${creds.cluster.server} refused the credentials (${res.status})`,
    );
  if (res.status !== 200)
    throw new ProphetError(
      "delivery_failed",
      `cluster ${name}: GET /version answered ${res.status}: ${res.body.slice(0, 200)}`,
    );
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    throw new ProphetError("delivery_failed", `cluster ${name}: GET /version did not answer JSON`);
  }
  const version = VersionSchema.safeParse(json);
  if (!version.success)
    throw new ProphetError(
      "delivery_failed",
      `cluster ${name}: GET /version is not a Kubernetes version object`,
    );
  return { name, server: creds.cluster.server, version: version.data, latencyMs };
}
