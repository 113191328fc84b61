// AKS: discovery follows ARM's nextLink; a 401 for an expired ARM token gets one new token and
// one retry; a 403 names the subscription and the RBAC action; an unreachable ARM endpoint is an
// error. Credentials come from listClusterUserCredential's kubeconfig: an Entra ID cluster gets
// a token for the AKS server application (what kubelogin does), a local-accounts one its own.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ProphetError } from "../../shared/errors.js";
import { ClusterRegistry } from "../../shared/clusters/registry.js";
import { AKS_SERVER_APP_ID, discoverAks } from "../../shared/clusters/sources/aks.js";
import {
  deadUrl,
  startArmApi,
  startKubeApi,
  TLS_CA_DATA,
  TLS_CERT,
  type ArmBehaviour,
  type FakeServer,
} from "./servers.js";

const SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const EDGE_TOKEN =
  "4c1d9e0f3b2a5c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b";

/** An Entra ID credential handing out numbered tokens per audience, valid one hour from `now()`. */
function fakeCredential(now: () => number) {
  const issued: string[] = [];
  const counts = new Map<string, number>();
  const credential: TokenCredential = {
    async getToken(scopes): Promise<AccessToken> {
      const scope = [scopes].flat()[0] ?? "";
      const kind = scope.startsWith(AKS_SERVER_APP_ID)
        ? "aks"
        : scope.startsWith("https://management")
          ? "arm"
          : "?";
      const n = (counts.get(kind) ?? 0) + 1;
      counts.set(kind, n);
      const token = `${kind}-${n}`;
      issued.push(token);
      return { token, expiresOnTimestamp: now() + 3600_000 };
    },
  };
  return { credential, issued };
}

describe("AKS discovery", () => {
  let arm: FakeServer;
  const b: ArmBehaviour = { expiredTokens: new Set(), deny: new Set() };
  beforeAll(async () => {
    arm = await startArmApi(b);
  });
  afterAll(() => arm.close());
  afterEach(() => {
    b.expiredTokens.clear();
    b.deny.clear();
    arm.requests.length = 0;
  });
  const opts = (credential: TokenCredential) => ({
    credential,
    endpoint: arm.url,
    ca: TLS_CERT,
    maxRetries: 0,
  });

  it("lists every managed cluster across nextLink pages", async () => {
    const { credential } = fakeCredential(() => Date.now());
    const found = await discoverAks(SUB, opts(credential));
    expect(found).toEqual([
      {
        name: "payments",
        source: "aks",
        subscription: SUB,
        resourceGroup: "rg-payments",
        cluster: "payments",
        location: "westeurope",
        server: "https://payments-dns-1a2b3c4d.hcp.westeurope.azmk8s.io:443",
        status: "Succeeded/Running",
        version: "1.30.6",
      },
      {
        name: "edge-eu",
        source: "aks",
        subscription: SUB,
        resourceGroup: "rg-edge",
        cluster: "edge-eu",
        location: "northeurope",
        server: "https://edge-eu-dns-9f8e7d6c.hcp.northeurope.azmk8s.io:443",
        status: "Succeeded/Stopped",
        version: "1.30.6",
      },
    ]);
    expect(arm.requests.map((r) => r.authorization)).toEqual(["Bearer arm-1", "Bearer arm-1"]);
  });

  it("asks for a new ARM token once when the old one is refused as expired", async () => {
    b.expiredTokens.add("arm-1");
    const { credential, issued } = fakeCredential(() => Date.now());
    const found = await discoverAks(SUB, opts(credential));
    expect(found.map((c) => c.name)).toEqual(["payments", "edge-eu"]);
    expect(issued).toEqual(["arm-1", "arm-2"]);
  });

  it("fails with a clear error when the renewed token is refused too", async () => {
    b.expiredTokens.add("arm-1").add("arm-2");
    const { credential } = fakeCredential(() => Date.now());
    const err = (await discoverAks(SUB, opts(credential)).catch((e: unknown) => e)) as ProphetError;
    expect(err.code).toBe("invalid_config");
    expect(err.message).toContain(`AKS managedClusters.list (subscription ${SUB})`);
    expect(err.message).toContain("ExpiredAuthenticationToken");
  });

  it("names the subscription and the missing action on a 403", async () => {
    b.deny.add("list");
    const { credential } = fakeCredential(() => Date.now());
    const err = (await discoverAks(SUB, opts(credential)).catch((e: unknown) => e)) as ProphetError;
    expect(err.code).toBe("forbidden");
    expect(err.message).toContain(`subscription ${SUB}`);
    expect(err.message).toContain("needs the permission Microsoft.ContainerService/managedClusters/read");
    expect(err.message).toContain("AuthorizationFailed");
  });

  it("reports an unreachable ARM endpoint", async () => {
    const { credential } = fakeCredential(() => Date.now());
    const err = (await discoverAks(SUB, { ...opts(credential), endpoint: await deadUrl(true) }).catch(
      (e: unknown) => e,
    )) as ProphetError;
    expect(err.code).toBe("delivery_failed");
    expect(err.message).toMatch(/AKS managedClusters.list .* unreachable: ECONNREFUSED/);
  });
});

describe("AKS clusters in the registry", () => {
  let arm: FakeServer;
  let kube: FakeServer;
  let dir: string;
  const b: ArmBehaviour = { expiredTokens: new Set(), deny: new Set() };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "prophet-clusters-aks-"));
    kube = await startKubeApi((t) => t.startsWith("aks-") || t === EDGE_TOKEN);
    b.endpoint = { url: kube.url, caData: TLS_CA_DATA };
    arm = await startArmApi(b);
  });
  afterAll(async () => {
    await arm.close();
    await kube.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const setup = async (file: string) => {
    let now = Date.parse("2026-11-23T05:00:00Z");
    const clock = { now: () => now };
    const { credential, issued } = fakeCredential(clock.now);
    const registry = new ClusterRegistry({
      file: join(dir, file),
      clock,
      aks: { credential, endpoint: arm.url, ca: TLS_CERT, maxRetries: 0 },
    });
    const found = await registry.discover([{ source: "aks", subscription: SUB }]);
    expect(found.errors).toEqual([]);
    registry.add(found.clusters);
    return { registry, issued, advance: (ms: number) => (now += ms) };
  };

  it("gets an Entra ID cluster's token for the AKS server application, cached until near expiry", async () => {
    const { registry, issued, advance } = await setup("aad.json");
    const creds = await registry.credentials("payments");
    expect(creds.user).toEqual({ token: "aks-1" });
    expect(creds.user.exec).toBeUndefined();
    expect(creds.cluster.server).toBe(kube.url);
    expect((await registry.port("payments").list("Namespace")).length).toBe(2);
    advance(58 * 60_000 - 1);
    expect((await registry.credentials("payments")).user.token).toBe("aks-1");
    advance(1);
    expect((await registry.credentials("payments")).user.token).toBe("aks-2");
    expect(issued.filter((t) => t.startsWith("aks-"))).toEqual(["aks-1", "aks-2"]);
  });

  it("uses a local-accounts cluster's own token from its kubeconfig", async () => {
    const { registry } = await setup("local.json");
    const creds = await registry.credentials("edge-eu");
    expect(creds.user.token).toBe(EDGE_TOKEN);
    expect(creds.expiresAt).toBeUndefined();
    const probe = await registry.probe("edge-eu");
    expect(probe.version.major).toBe("1");
  });

  it("names the action when the cluster-user credential is refused", async () => {
    const { registry } = await setup("denied.json");
    b.deny.add("listClusterUserCredential");
    try {
      await expect(registry.credentials("payments")).rejects.toThrow(
        /listClusterUserCredential.*needs the permission Microsoft\.ContainerService\/managedClusters\/listClusterUserCredential\/action/,
      );
    } finally {
      b.deny.clear();
    }
  });
});
