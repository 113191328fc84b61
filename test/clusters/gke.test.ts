// GKE: listClusters over every location through the client's REST transport; an expired access
// token (401 UNAUTHENTICATED) is replaced once; PERMISSION_DENIED names the project and the IAM
// permission; an unreachable API is an error. Credentials are the endpoint and CA from
// getCluster with the Google access token, cached until near its expiry.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ProphetError } from "../../shared/errors.js";
import { ClusterRegistry } from "../../shared/clusters/registry.js";
import { discoverGke, type GoogleTokenSource } from "../../shared/clusters/sources/gke.js";
import {
  deadUrl,
  startGkeApi,
  startKubeApi,
  TLS_CA_DATA,
  type FakeServer,
  type GkeBehaviour,
} from "./servers.js";

const PROJECT = "shop-prod-4711";

function fakeTokens(now: () => number) {
  let n = 0;
  const asked: boolean[] = [];
  const source: GoogleTokenSource = {
    async getToken({ forceRefresh }) {
      asked.push(forceRefresh);
      n++;
      return { token: `ya29.token-${n}`, expiresAt: now() + 3600_000 };
    },
  };
  return { source, asked };
}

describe("GKE discovery", () => {
  let gke: FakeServer;
  const b: GkeBehaviour = { expiredTokens: new Set(), deny: false };
  beforeAll(async () => {
    gke = await startGkeApi(b);
  });
  afterAll(() => gke.close());
  afterEach(() => {
    b.expiredTokens.clear();
    b.deny = false;
    gke.requests.length = 0;
  });
  const opts = (tokenSource: GoogleTokenSource) => ({
    tokenSource,
    apiEndpoint: gke.url.replace("http://", ""),
    protocol: "http" as const,
    retries: false,
  });

  it("lists the clusters of every location of the project", async () => {
    const { source } = fakeTokens(() => Date.now());
    const found = await discoverGke(PROJECT, opts(source));
    expect(found).toEqual([
      {
        name: "web",
        source: "gke",
        project: PROJECT,
        location: "europe-west1",
        cluster: "web",
        server: "https://34.76.12.34",
        status: "RUNNING",
        version: "1.30.5-gke.1014001",
      },
      {
        name: "jobs",
        source: "gke",
        project: PROJECT,
        location: "us-central1-a",
        cluster: "jobs",
        server: "https://35.202.1.2",
        status: "RECONCILING",
        version: "1.30.5-gke.1014001",
      },
    ]);
    expect(gke.requests).toEqual([
      {
        method: "GET",
        path: `/v1/projects/${PROJECT}/locations/-/clusters`,
        authorization: "Bearer ya29.token-1",
      },
    ]);
  });

  it("replaces an expired access token once and retries", async () => {
    b.expiredTokens.add("ya29.token-1");
    const { source, asked } = fakeTokens(() => Date.now());
    const found = await discoverGke(PROJECT, opts(source));
    expect(found).toHaveLength(2);
    expect(asked).toEqual([false, true]);
    expect(gke.requests.map((r) => r.authorization)).toEqual(["Bearer ya29.token-1", "Bearer ya29.token-2"]);
  });

  it("fails with a clear error when the new token is refused too", async () => {
    b.expiredTokens.add("ya29.token-1").add("ya29.token-2");
    const { source } = fakeTokens(() => Date.now());
    const err = (await discoverGke(PROJECT, opts(source)).catch((e: unknown) => e)) as ProphetError;
    expect(err.code).toBe("invalid_config");
    expect(err.message).toContain(`GKE listClusters (project ${PROJECT})`);
    expect(gke.requests).toHaveLength(2);
  });

  it("names the project and the permission on PERMISSION_DENIED", async () => {
    b.deny = true;
    const { source } = fakeTokens(() => Date.now());
    const err = (await discoverGke(PROJECT, opts(source)).catch((e: unknown) => e)) as ProphetError;
    expect(err.code).toBe("forbidden");
    expect(err.message).toContain(`project ${PROJECT}`);
    expect(err.message).toContain("needs the permission container.clusters.list");
  });

  it("reports an unreachable API", async () => {
    const { source } = fakeTokens(() => Date.now());
    const dead = (await deadUrl()).replace("http://", "");
    const err = (await discoverGke(PROJECT, { ...opts(source), apiEndpoint: dead }).catch(
      (e: unknown) => e,
    )) as ProphetError;
    expect(err.code).toBe("delivery_failed");
    expect(err.message).toMatch(/GKE listClusters .* unreachable: ECONNREFUSED/);
  });
});

describe("GKE clusters in the registry", () => {
  let gke: FakeServer;
  let kube: FakeServer;
  let dir: string;
  const b: GkeBehaviour = { expiredTokens: new Set(), deny: false };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "prophet-clusters-gke-"));
    kube = await startKubeApi((t) => t.startsWith("ya29."));
    b.endpoint = { host: kube.url.replace("https://", ""), caData: TLS_CA_DATA };
    gke = await startGkeApi(b);
  });
  afterAll(async () => {
    await gke.close();
    await kube.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("resolves endpoint, CA and token through getCluster and caches the token until near expiry", async () => {
    let now = Date.parse("2026-11-23T05:00:00Z");
    const { source, asked } = fakeTokens(() => now);
    const registry = new ClusterRegistry({
      file: join(dir, "clusters.json"),
      clock: { now: () => now },
      gke: {
        tokenSource: source,
        apiEndpoint: gke.url.replace("http://", ""),
        protocol: "http",
        retries: false,
      },
    });
    registry.add([
      { name: "jobs", source: "gke", project: PROJECT, location: "us-central1-a", cluster: "jobs" },
    ]);
    const creds = await registry.credentials("jobs");
    expect(creds.cluster.server).toBe(kube.url);
    expect(creds.user.token).toBe("ya29.token-1");
    expect(gke.requests.at(-1)?.path).toBe(`/v1/projects/${PROJECT}/locations/us-central1-a/clusters/jobs`);
    expect((await registry.probe("jobs")).version.minor).toBe("31");
    now += 57 * 60_000;
    expect((await registry.credentials("jobs")).user.token).toBe("ya29.token-1");
    now += 60_000;
    expect((await registry.credentials("jobs")).user.token).toBe("ya29.token-2");
    expect(asked).toEqual([false, false]);
  });
});
