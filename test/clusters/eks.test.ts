// EKS: the bearer token is `aws eks get-token`'s byte for byte; discovery pages ListClusters and
// describes each cluster; expired AWS credentials are refreshed once; a 403 names the account,
// region and permission; an unreachable API is an error, not an empty list; cluster tokens are
// cached until two minutes before they expire and a 401 from the API server renews them once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AwsCredentialIdentity } from "@smithy/types";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ProphetError } from "../../shared/errors.js";
import { ClusterRegistry } from "../../shared/clusters/registry.js";
import { discoverEks } from "../../shared/clusters/sources/eks.js";
import { eksToken } from "../../shared/clusters/sources/eks-token.js";
import {
  deadUrl,
  fixture,
  startEksApi,
  startKubeApi,
  TLS_CA_DATA,
  type EksBehaviour,
  type FakeServer,
} from "./servers.js";

const KEYS = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const T0 = Date.parse("2026-11-23T04:33:37Z");

interface Recording {
  credentials: AwsCredentialIdentity;
  region: string;
  cluster: string;
  signedAt: string;
  execCredential: { status: { token: string; expirationTimestamp: string } };
}

/** What aws-iam-authenticator checks before calling STS: the presigned URL's shape. */
function decodeToken(token: string): URL | undefined {
  if (!token.startsWith("k8s-aws-v1.")) return undefined;
  const url = new URL(Buffer.from(token.slice("k8s-aws-v1.".length), "base64url").toString("utf8"));
  if (url.host !== "sts.eu-west-1.amazonaws.com") return undefined;
  if (url.searchParams.get("Action") !== "GetCallerIdentity") return undefined;
  if (url.searchParams.get("X-Amz-SignedHeaders") !== "host;x-k8s-aws-id") return undefined;
  return url;
}

describe("EKS bearer token", () => {
  it("is exactly the token aws eks get-token made for the same keys, cluster and instant", async () => {
    const rec = fixture<Recording>("eks-get-token.json");
    const made = await eksToken({
      cluster: rec.cluster,
      region: rec.region,
      credentials: rec.credentials,
      now: Date.parse(rec.signedAt),
    });
    expect(made.token).toBe(rec.execCredential.status.token);
    expect(new Date(made.expiresAt).toISOString()).toBe(
      rec.execCredential.status.expirationTimestamp.replace("Z", ".000Z"),
    );
  });

  it("carries the session token of temporary credentials and has no padding", async () => {
    const made = await eksToken({
      cluster: "shop-prod",
      region: "eu-west-1",
      credentials: { ...KEYS, sessionToken: "FwoGZXIvYXdzEJr//////////session+token==" },
      now: T0,
    });
    expect(made.token).not.toMatch(/=/);
    const url = decodeToken(made.token)!;
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe("FwoGZXIvYXdzEJr//////////session+token==");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("60");
  });
});

describe("EKS discovery", () => {
  let eks: FakeServer;
  const b: EksBehaviour = { deny: new Set(), expiredKeys: new Set() };
  beforeAll(async () => {
    eks = await startEksApi(b);
  });
  afterAll(() => eks.close());
  afterEach(() => {
    b.deny.clear();
    b.expiredKeys.clear();
    eks.requests.length = 0;
  });

  it("follows ListClusters' nextToken and describes every cluster", async () => {
    const found = await discoverEks("eu-west-1", { endpoint: eks.url, credentials: KEYS });
    expect(found.map((c) => c.name)).toEqual(["shop-prod", "shop-staging", "batch"]);
    expect(found[0]).toEqual({
      name: "shop-prod",
      source: "eks",
      region: "eu-west-1",
      cluster: "shop-prod",
      account: "111122223333",
      server: "https://9A1B2C3D4E5F60718293A4B5C6D7E8F9.gr7.eu-west-1.eks.amazonaws.com",
      status: "ACTIVE",
      version: "1.31",
    });
    expect(eks.requests.filter((r) => r.path === "/clusters")).toHaveLength(2);
  });

  it("refreshes expired AWS credentials once and retries", async () => {
    b.expiredKeys.add("ASIAEXPIREDKEY000001");
    const calls: boolean[] = [];
    const provider = async (o?: Record<string, unknown>) => {
      calls.push(o?.forceRefresh === true);
      return o?.forceRefresh
        ? { accessKeyId: "ASIAFRESHKEY00000001", secretAccessKey: "fresh", sessionToken: "s2" }
        : { accessKeyId: "ASIAEXPIREDKEY000001", secretAccessKey: "old", sessionToken: "s1" };
    };
    const found = await discoverEks("eu-west-1", {
      endpoint: eks.url,
      credentials: provider,
      maxAttempts: 1,
    });
    expect(found).toHaveLength(3);
    expect(calls[0]).toBe(false);
    expect(calls).toContain(true);
  });

  it("gives up after one refresh when the new credentials are expired too", async () => {
    b.expiredKeys.add(KEYS.accessKeyId);
    const err = await discoverEks("eu-west-1", {
      endpoint: eks.url,
      credentials: KEYS,
      maxAttempts: 1,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProphetError);
    expect((err as ProphetError).message).toMatch(
      /EKS ListClusters .*region eu-west-1.*rejected even after refreshing/,
    );
    expect(eks.requests).toHaveLength(2);
  });

  it("names the account, region and missing permission on a 403", async () => {
    b.deny.add("ListClusters");
    const err = (await discoverEks("eu-west-1", {
      endpoint: eks.url,
      credentials: KEYS,
      maxAttempts: 1,
    }).catch((e: unknown) => e)) as ProphetError;
    expect(err.code).toBe("forbidden");
    expect(err.message).toContain("EKS ListClusters (account 111122223333, region eu-west-1)");
    expect(err.message).toContain("needs the permission eks:ListClusters");
  });

  it("reports an unreachable API as a network error", async () => {
    const err = (await discoverEks("eu-west-1", {
      endpoint: await deadUrl(),
      credentials: KEYS,
      maxAttempts: 1,
    }).catch((e: unknown) => e)) as ProphetError;
    expect(err.code).toBe("delivery_failed");
    expect(err.message).toMatch(/EKS ListClusters .* unreachable: ECONNREFUSED/);
  });
});

describe("EKS clusters in the registry", () => {
  let eks: FakeServer;
  let kube: FakeServer;
  let dir: string;
  const revoked = new Set<string>();
  const b: EksBehaviour = { deny: new Set(), expiredKeys: new Set() };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "prophet-clusters-eks-"));
    kube = await startKubeApi((t) => decodeToken(t) !== undefined && !revoked.has(t));
    b.endpoint = { url: kube.url, caData: TLS_CA_DATA };
    eks = await startEksApi(b);
  });
  afterAll(async () => {
    await eks.close();
    await kube.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const setup = (file: string) => {
    revoked.clear();
    let now = T0;
    const clock = { now: () => now };
    const registry = new ClusterRegistry({
      file: join(dir, file),
      clock,
      eks: { endpoint: eks.url, credentials: KEYS, maxAttempts: 1 },
    });
    registry.add([{ name: "shop-prod", source: "eks", region: "eu-west-1", cluster: "shop-prod" }]);
    return { registry, advance: (ms: number) => (now += ms) };
  };

  it("caches the token until two minutes before its 14-minute expiry", async () => {
    const { registry, advance } = setup("cache.json");
    const first = await registry.credentials("shop-prod");
    expect(first.cluster.server).toBe(kube.url);
    expect(first.expiresAt).toBe(T0 + 14 * 60_000);
    advance(12 * 60_000 - 1);
    expect(await registry.credentials("shop-prod")).toBe(first);
    advance(1);
    const second = await registry.credentials("shop-prod");
    expect(second.user.token).not.toBe(first.user.token);
    expect(decodeToken(second.user.token!)?.searchParams.get("X-Amz-Date")).toBe("20261123T044537Z");
  });

  it("serves the cluster port with the token, and renews a token the API server refuses once", async () => {
    const { registry, advance } = setup("port.json");
    const port = registry.port("shop-prod");
    const ns = await port.list("Namespace");
    expect(ns.map((n) => n.metadata.name)).toEqual(["default", "kube-system"]);
    const used = (await registry.credentials("shop-prod")).user.token!;
    revoked.add(used);
    advance(1000);
    kube.requests.length = 0;
    expect((await port.list("Namespace")).length).toBe(2);
    expect(kube.requests).toHaveLength(2);
    expect(kube.requests[0]!.authorization).toBe(`Bearer ${used}`);
    expect(kube.requests[1]!.authorization).not.toBe(`Bearer ${used}`);
  });

  it("does not retry a second time when the renewed token is refused too", async () => {
    const { registry } = setup("refused.json");
    const port = registry.port("shop-prod");
    revoked.add((await registry.credentials("shop-prod")).user.token!);
    kube.requests.length = 0;
    // Same instant: the renewed token is the same presigned URL, refused again.
    await expect(port.list("Namespace")).rejects.toThrow(/401/);
    expect(kube.requests).toHaveLength(2);
  });

  it("probes /version with the token and times it", async () => {
    const { registry } = setup("probe.json");
    let t = 100;
    const result = await registry.probe("shop-prod", { timer: () => (t += 7.5) });
    expect(result.version.gitVersion).toBe("v1.31.2-eks-7f9249a");
    expect(result.server).toBe(kube.url);
    expect(result.latencyMs).toBe(7.5);
  });
});
