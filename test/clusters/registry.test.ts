// The registry: kubeconfig contexts become clusters with DNS-label names; the clusters file holds
// references and never a credential, and a broken file or kubeconfig is named precisely; names
// are unique and adding twice is harmless; the in-cluster service account's token is re-read as
// the kubelet rotates it; one failing source is reported without hiding the clusters of others.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProphetError } from "../../shared/errors.js";
import { clusterNameFrom } from "../../shared/clusters/definition.js";
import { ClusterRegistry } from "../../shared/clusters/registry.js";
import {
  deadUrl,
  startEksApi,
  startGkeApi,
  startKubeApi,
  TLS_CA_DATA,
  TLS_CERT,
  type FakeServer,
} from "./servers.js";

let dir: string;
let kube: FakeServer;
const SECRET = "kubeconfig-user-secret-token-1234";
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "prophet-clusters-registry-"));
  kube = await startKubeApi((t) => t === SECRET || t.startsWith("sa-token-") || t.startsWith("ya29."));
});
afterAll(async () => {
  await kube.close();
  rmSync(dir, { recursive: true, force: true });
});

function kubeconfig(file: string, server: string): string {
  const path = join(dir, file);
  const contexts = [
    "arn:aws:eks:eu-west-1:111122223333:cluster/shop-prod",
    "kind-dev",
    "gke_shop_europe-west1_web",
  ];
  writeFileSync(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "  - name: only",
      "    cluster:",
      `      server: ${server}`,
      `      certificate-authority-data: ${TLS_CA_DATA}`,
      "contexts:",
      ...contexts.flatMap((c) => [
        `  - name: ${c}`,
        "    context:",
        "      cluster: only",
        "      user: me",
        "      namespace: shop",
      ]),
      `current-context: kind-dev`,
      "users:",
      "  - name: me",
      "    user:",
      `      token: ${SECRET}`,
      "",
    ].join("\n"),
  );
  return path;
}

describe("cluster names", () => {
  it("derives DNS labels from contexts and cloud names", () => {
    expect(clusterNameFrom("arn:aws:eks:eu-west-1:111122223333:cluster/shop-prod")).toBe("shop-prod");
    expect(clusterNameFrom("gke_shop_europe-west1_web")).toBe("gke-shop-europe-west1-web");
    expect(clusterNameFrom("Kind_Dev", "lab-")).toBe("lab-kind-dev");
    expect(clusterNameFrom("x".repeat(80))).toHaveLength(63);
  });
});

describe("kubeconfig clusters", () => {
  it("registers every context, stores references only, and resolves the context's credentials", async () => {
    const file = join(dir, "kc-all.json");
    const registry = new ClusterRegistry({ file });
    const found = await registry.discover([{ source: "kubeconfig", path: kubeconfig("all.yaml", kube.url) }]);
    expect(found.errors).toEqual([]);
    expect(registry.add(found.clusters)).toEqual({
      added: ["shop-prod", "kind-dev", "gke-shop-europe-west1-web"],
      unchanged: [],
    });
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TLS_CA_DATA.slice(0, 40));
    expect(JSON.parse(text).clusters[0]).toEqual({
      name: "shop-prod",
      source: "kubeconfig",
      kubeconfig: join(dir, "all.yaml"),
      context: "arn:aws:eks:eu-west-1:111122223333:cluster/shop-prod",
      server: kube.url,
    });
    expect((await registry.list()).map((c) => [c.name, c.context, c.status])).toEqual([
      ["gke-shop-europe-west1-web", "gke_shop_europe-west1_web", "registered"],
      ["kind-dev", "kind-dev", "registered"],
      ["shop-prod", "arn:aws:eks:eu-west-1:111122223333:cluster/shop-prod", "registered"],
    ]);
    const creds = await registry.credentials("kind-dev");
    expect(creds.user.token).toBe(SECRET);
    expect(creds.namespace).toBe("shop");
    const pods = await new ClusterRegistry({ file }).port("shop-prod").list("Namespace");
    expect(pods.map((p) => p.metadata.name)).toEqual(["default", "kube-system"]);
  });

  it("registers one context under a given name", async () => {
    const registry = new ClusterRegistry({ file: join(dir, "kc-one.json") });
    const found = await registry.discover([
      { source: "kubeconfig", path: kubeconfig("one.yaml", kube.url), context: "kind-dev", name: "lab" },
    ]);
    registry.add(found.clusters);
    expect(registry.get("lab")).toMatchObject({ source: "kubeconfig", context: "kind-dev" });
    expect(registry.get("kind-dev")).toBeUndefined();
  });

  it("names the field at fault in a broken kubeconfig, and an unknown context", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "clusters:\n  - name: a\n    cluster: { server: not-a-url }\ncontexts:\n  - name: c\n    context: { cluster: b }\n",
    );
    const registry = new ClusterRegistry({ file: join(dir, "kc-bad.json") });
    const { clusters, errors } = await registry.discover([
      { source: "kubeconfig", path: bad },
      { source: "kubeconfig", path: kubeconfig("ctx.yaml", kube.url), context: "nope" },
    ]);
    expect(clusters).toEqual([]);
    expect(errors[0]!.source).toBe(`kubeconfig:${bad}`);
    expect(errors[0]!.error.message).toContain(
      "clusters.0.cluster.server: expected the API server's http(s) URL",
    );
    expect(errors[0]!.error.message).toContain('contexts.0.context.cluster: names cluster "b"');
    expect(errors[1]!.error.code).toBe("not_found");
    expect(errors[1]!.error.message).toMatch(/has no context "nope"; it has: arn:aws:eks/);
  });
});

describe("the clusters file", () => {
  it("refuses a definition that carries a credential, naming the field", async () => {
    const file = join(dir, "with-token.json");
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        clusters: [{ name: "x", source: "eks", region: "eu-west-1", cluster: "x", token: "k8s-aws-v1.abc" }],
      }),
    );
    const err = (await new ClusterRegistry({ file }).list().catch((e: unknown) => e)) as ProphetError;
    expect(err.code).toBe("invalid_config");
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/clusters\.0: Unrecognized key: "token"/);
  });

  it("refuses duplicate and non-DNS names", async () => {
    const file = join(dir, "dupes.json");
    const c = { source: "in-cluster" };
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        clusters: [
          { name: "a", ...c },
          { name: "a", ...c },
          { name: "B_1", ...c },
        ],
      }),
    );
    const err = (await new ClusterRegistry({ file }).list().catch((e: unknown) => e)) as ProphetError;
    expect(err.message).toContain('clusters.1.name: duplicate name "a"');
    expect(err.message).toContain("clusters.2.name: expected a DNS label");
  });

  it("keeps names unique: the same definition twice is harmless, another one is a conflict", () => {
    const registry = new ClusterRegistry({ file: join(dir, "unique.json") });
    const eks = { name: "prod", source: "eks" as const, region: "eu-west-1", cluster: "prod" };
    expect(registry.add([eks])).toEqual({ added: ["prod"], unchanged: [] });
    expect(registry.add([{ ...eks, server: "https://x.example" }])).toEqual({
      added: [],
      unchanged: ["prod"],
    });
    const err = (() => {
      try {
        registry.add([
          { name: "other", source: "in-cluster" },
          { ...eks, region: "us-east-1" },
        ]);
      } catch (e) {
        return e as ProphetError;
      }
    })();
    expect(err?.code).toBe("conflict");
    expect(err?.message).toMatch(/"prod" is already registered for EKS cluster prod in eu-west-1/);
    expect(registry.get("other")).toBeUndefined();
    expect(() => registry.add([{ ...eks, name: "Prod" }])).toThrow(/clusters\.0\.name: expected a DNS label/);
  });

  it("says which clusters exist when asked for an unknown one", async () => {
    const registry = new ClusterRegistry({ file: join(dir, "unique.json") });
    await expect(registry.credentials("nope")).rejects.toThrow(/no cluster "nope" .*known: prod/);
  });
});

describe("the in-cluster service account", () => {
  it("uses the mounted token and CA, and re-reads the token after the cache's max age", async () => {
    const sa = join(dir, "serviceaccount");
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, "token"), "sa-token-1\n");
    writeFileSync(join(sa, "ca.crt"), TLS_CERT);
    writeFileSync(join(sa, "namespace"), "prophet");
    let now = 0;
    const port = new URL(kube.url).port;
    const registry = new ClusterRegistry({
      file: join(dir, "in-cluster.json"),
      clock: { now: () => now },
      inCluster: {
        env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: port },
        serviceAccountDir: sa,
      },
    });
    const found = await registry.discover([{ source: "in-cluster" }]);
    registry.add(found.clusters);
    expect(registry.get("in-cluster")).toEqual({
      name: "in-cluster",
      source: "in-cluster",
      server: kube.url,
    });
    expect((await registry.probe("in-cluster")).version.gitVersion).toMatch(/^v1\.31/);
    expect((await registry.credentials("in-cluster")).namespace).toBe("prophet");
    writeFileSync(join(sa, "token"), "sa-token-2\n");
    now += 5 * 60_000 - 1;
    expect((await registry.credentials("in-cluster")).user.token).toBe("sa-token-1");
    now += 1;
    expect((await registry.credentials("in-cluster")).user.token).toBe("sa-token-2");
  });

  it("is an error outside a pod", async () => {
    const registry = new ClusterRegistry({ file: join(dir, "none.json"), inCluster: { env: {} } });
    const { errors } = await registry.discover([{ source: "in-cluster" }]);
    expect(errors[0]!.error.message).toMatch(/KUBERNETES_SERVICE_HOST is unset/);
  });
});

describe("several sources at once", () => {
  let eks: FakeServer;
  let gke: FakeServer;
  beforeAll(async () => {
    eks = await startEksApi({ deny: new Set(["ListClusters", "DescribeCluster"]), expiredKeys: new Set() });
    gke = await startGkeApi({
      expiredTokens: new Set(),
      deny: false,
      endpoint: { host: kube.url.replace("https://", ""), caData: TLS_CA_DATA },
    });
  });
  afterAll(async () => {
    await eks.close();
    await gke.close();
  });

  const registryFor = async (file: string) =>
    new ClusterRegistry({
      file: join(dir, file),
      eks: {
        endpoint: eks.url,
        credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s" },
        maxAttempts: 1,
      },
      aks: {
        credential: { getToken: async () => ({ token: "arm", expiresOnTimestamp: Date.now() + 3600_000 }) },
        endpoint: await deadUrl(true),
        maxRetries: 0,
      },
      gke: {
        tokenSource: { getToken: async () => ({ token: "ya29.x" }) },
        apiEndpoint: gke.url.replace("http://", ""),
        protocol: "http",
        retries: false,
      },
    });

  it("reports each failing source and keeps the clusters the others found", async () => {
    const registry = await registryFor("mixed.json");
    const found = await registry.discover([
      { source: "kubeconfig", path: kubeconfig("mixed.yaml", kube.url), context: "kind-dev" },
      { source: "eks", region: "eu-west-1" },
      { source: "gke", project: "shop-prod-4711" },
      { source: "aks", subscription: "0b1f6471-1bf0-4dda-aec3-cb9272f09590" },
    ]);
    expect(found.clusters.map((c) => `${c.source}/${c.name}`)).toEqual([
      "kubeconfig/kind-dev",
      "gke/web",
      "gke/jobs",
    ]);
    expect(found.errors.map((e) => [e.source, e.error.code])).toEqual([
      ["eks:eu-west-1", "forbidden"],
      ["aks:0b1f6471-1bf0-4dda-aec3-cb9272f09590", "delivery_failed"],
    ]);
    expect(found.errors[0]!.error.message).toContain("eks:ListClusters");
  });

  it("lists every cluster with its own status when one source's credentials fail", async () => {
    const registry = await registryFor("status.json");
    registry.add([
      { name: "shop", source: "eks", region: "eu-west-1", cluster: "shop-prod" },
      { name: "web", source: "gke", project: "shop-prod-4711", location: "europe-west1", cluster: "web" },
    ]);
    const rows = await registry.list({ check: true });
    expect(rows).toEqual([
      {
        name: "shop",
        source: "eks",
        server: null,
        context: null,
        cloud: "aws",
        region: "eu-west-1",
        account: null,
        status: "error",
        error: expect.stringMatching(/EKS DescribeCluster .*needs the permission eks:DescribeCluster/),
      },
      {
        name: "web",
        source: "gke",
        server: kube.url,
        context: null,
        cloud: "gcp",
        region: "europe-west1",
        account: "shop-prod-4711",
        status: "ready",
        error: null,
      },
    ]);
    expect(rows[0]!.error).toContain("account 111122223333");
  });
});
