// Informers (shared/kube/watch-cache.ts): label selectors applied in memory exactly as the API
// server applies them; reads after the first cost no list; changes arrive through the watch; a
// watch that expired (410), broke, or went quiet for too long is not trusted: the next read lists
// again. Against the sandbox API server through the client-node port, and a scripted port for the
// failures.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiServer, type ApiServer } from "../../infra/sandbox/apiserver/index.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import { matchesLabels, parseLabelSelector, WatchCache } from "../../shared/kube/watch-cache.js";
import {
  WatchExpiredError,
  type ClusterPort,
  type ListOptions,
  type WatchOptions,
} from "../../shared/ports/cluster.js";

const pod = (name: string, labels: Record<string, string>): KubeObject =>
  ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "shop", labels },
    spec: { containers: [{ name: "c", image: "x" }] },
  }) as KubeObject;

describe("label selectors in memory", () => {
  it("parses the API's syntax and matches as the server does", () => {
    const l = { app: "cart", tier: "web", "app.kubernetes.io/name": "cart" };
    const cases: [string, boolean][] = [
      ["app=cart", true],
      ["app==cart", true],
      ["app=shop", false],
      ["app!=shop", true],
      ["missing!=x", true],
      ["tier in (web,api)", true],
      ["tier in (api)", false],
      ["tier notin (api)", true],
      ["missing notin (api)", true],
      ["missing in (api)", false],
      ["app.kubernetes.io/name", true],
      ["!app.kubernetes.io/name", false],
      ["!missing", true],
      ["app=cart, tier in (web), !missing", true],
      ["app=cart,tier=api", false],
      ["empty=", false],
    ];
    for (const [sel, want] of cases) {
      const reqs = parseLabelSelector(sel);
      expect(reqs, sel).toBeDefined();
      expect(matchesLabels(l, reqs!), sel).toBe(want);
    }
    expect(matchesLabels({ empty: "" }, parseLabelSelector("empty=")!)).toBe(true);
    for (const bad of ["=x", "app in web", "a b", "app=(x)", "tier in (a b)"])
      expect(parseLabelSelector(bad), bad).toBeUndefined();
  });
});

describe("informers on the sandbox API server", () => {
  let api: ApiServer;
  let dir: string;
  let port: ClusterPort;
  let lists: string[];
  let counted: ClusterPort;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "prophet-informers-"));
    api = await startApiServer({ port: 0 });
    const kubeconfig = join(dir, "kubeconfig");
    api.writeKubeconfig(kubeconfig);
    port = kubeClusterPort({ kubeconfig });
    await port.create!("Namespace", undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "shop" },
    } as KubeObject);
    for (let i = 0; i < 6; i++)
      await port.create!("Pod", "shop", pod(`cart-${i}`, { app: i < 4 ? "cart" : "web", n: String(i) }));
    lists = [];
    counted = {
      ...port,
      name: port.name,
      list: (k: string, ns?: string, o?: ListOptions) => {
        lists.push(`list ${k}`);
        return port.list(k, ns, o);
      },
      get: (k, ns, n) => {
        lists.push(`get ${k}`);
        return port.get(k, ns, n);
      },
      listWithVersion: (k: string, ns?: string, o?: ListOptions) => {
        lists.push(`listWithVersion ${k}`);
        return port.listWithVersion!(k, ns, o);
      },
      watch: (k: string, ns: string | undefined, o: WatchOptions) => port.watch!(k, ns, o),
      podLogs: port.podLogs.bind(port),
      events: port.events.bind(port),
    };
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers like the server, lists once, follows changes through the watch", async () => {
    const cache = new WatchCache(counted);
    try {
      for (const sel of ["app=cart", "app in (cart,web),n!=1", "!n", ""]) {
        const want = await port.list("Pod", "shop", sel ? { labelSelector: sel } : {});
        const got = await cache.list(counted, "Pod", "shop", sel ? { labelSelector: sel } : {});
        expect(names(got), sel).toEqual(names(want));
      }
      expect(lists).toEqual(["listWithVersion Pod"]);

      // A GET of a kind the informer holds is answered from memory.
      expect((await cache.get(counted, "Pod", "shop", "cart-2"))?.metadata.labels).toMatchObject({ n: "2" });
      expect(lists).toEqual(["listWithVersion Pod"]);

      await port.create!("Pod", "shop", pod("cart-new", { app: "cart" }));
      await port.delete!("Pod", "shop", "cart-0");
      const arrived = async () => {
        const got = names(await cache.list(counted, "Pod", "shop", { labelSelector: "app=cart" }));
        return got.includes("cart-new") && !got.includes("cart-0");
      };
      // The watch delivers on the server's socket: wait for it, boundedly.
      let ok = false;
      for (let i = 0; i < 200 && !(ok = await arrived()); i++) await new Promise((r) => setTimeout(r, 10));
      expect(ok, "the watch delivered the create and the delete").toBe(true);
      expect(lists).toEqual(["listWithVersion Pod"]);
    } finally {
      cache.close();
    }
  });

  it("holds one informer per kind for the whole cluster and answers each namespace from it", async () => {
    await port.create!("Namespace", undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "web" },
    } as KubeObject);
    await port.create!("Pod", "web", {
      ...pod("front-0", { app: "front" }),
      metadata: { name: "front-0", namespace: "web", labels: { app: "front" } },
    } as KubeObject);
    const cache = new WatchCache(counted);
    lists.length = 0;
    try {
      for (const ns of ["shop", "web", "nowhere"]) {
        const want = await port.list("Pod", ns);
        const got = await cache.list(counted, "Pod", ns);
        expect(names(got), ns).toEqual(names(want));
        expect(
          got.every((o) => o.metadata.namespace === ns),
          ns,
        ).toBe(true);
      }
      // Every namespace at once, too: the same informer.
      expect(names(await cache.list(counted, "Pod", undefined))).toEqual(names(await port.list("Pod")));
      expect(lists).toEqual(["listWithVersion Pod"]);
      expect(cache.size).toBe(1);
      expect((await cache.get(counted, "Pod", "web", "front-0"))?.metadata.namespace).toBe("web");
      expect(await cache.get(counted, "Pod", "shop", "front-0")).toBeUndefined();

      // A change in one namespace reaches that namespace's reads and no other's.
      await port.delete!("Pod", "web", "front-0");
      let gone = false;
      for (let i = 0; i < 200 && !gone; i++) {
        gone = (await cache.list(counted, "Pod", "web")).length === 0;
        if (!gone) await new Promise((r) => setTimeout(r, 10));
      }
      expect(gone, "the watch delivered the delete").toBe(true);
      expect(names(await cache.list(counted, "Pod", "shop"))).toEqual(names(await port.list("Pod", "shop")));
      expect(lists).toEqual(["listWithVersion Pod"]);
    } finally {
      cache.close();
    }
  });

  it("sends a selector it cannot parse to the server", async () => {
    const cache = new WatchCache(counted);
    lists.length = 0;
    try {
      await cache.list(counted, "Pod", "shop", { labelSelector: "app in cart" }).catch(() => []);
      expect(lists).toEqual(["list Pod"]);
    } finally {
      cache.close();
    }
  });
});

/** A port whose watch the test scripts: it ends, expires or breaks when told. */
function scripted() {
  const calls: string[] = [];
  let watchers: { opts: WatchOptions; end: (err?: Error) => void }[] = [];
  let rv = 1;
  const items = [pod("a", { app: "cart" })];
  const port: ClusterPort = {
    name: "scripted",
    list: async () => items,
    get: async () => undefined,
    podLogs: async () => "",
    events: async () => [],
    listWithVersion: async () => {
      calls.push("list");
      return { items: [...items], resourceVersion: String(rv) };
    },
    watch: (_k, _ns, opts) => {
      calls.push(`watch@${opts.resourceVersion}`);
      return new Promise<void>((resolve, reject) => {
        const w = { opts, end: (err?: Error) => (err ? reject(err) : resolve()) };
        watchers.push(w);
        opts.signal.addEventListener("abort", () => resolve(), { once: true });
      });
    },
  };
  return {
    port,
    calls,
    emit(type: "ADDED" | "BOOKMARK", obj: KubeObject) {
      rv++;
      for (const w of watchers)
        w.opts.onEvent({
          type,
          object: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } } as KubeObject,
        });
    },
    endAll(err?: Error) {
      const ws = watchers;
      watchers = [];
      for (const w of ws) w.end(err);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("informers that cannot be trusted", () => {
  it("watch on from the last resourceVersion when the server ends a stream", async () => {
    const s = scripted();
    const cache = new WatchCache(s.port);
    try {
      await cache.list(s.port, "Pod", "shop");
      await tick();
      s.emit("ADDED", pod("b", { app: "cart" }));
      s.endAll();
      await tick();
      expect(s.calls).toEqual(["list", "watch@1", "watch@2"]);
      expect(names(await cache.list(s.port, "Pod", "shop"))).toEqual(["a", "b"]);
      expect(s.calls.filter((c) => c === "list")).toHaveLength(1);
    } finally {
      cache.close();
    }
  });

  it("list again after a 410 or a broken connection", async () => {
    for (const err of [new WatchExpiredError("410 Gone"), new Error("socket hang up")]) {
      const s = scripted();
      const errors: string[] = [];
      const cache = new WatchCache(s.port, { onError: (_k, _n, e) => errors.push(e.message) });
      try {
        await cache.list(s.port, "Pod", "shop");
        await tick();
        s.endAll(err);
        await tick();
        await cache.list(s.port, "Pod", "shop");
        expect(
          s.calls.filter((c) => c === "list"),
          err.message,
        ).toHaveLength(2);
        // An expired version is routine; a broken connection is reported.
        expect(errors).toEqual(err instanceof WatchExpiredError ? [] : ["socket hang up"]);
      } finally {
        cache.close();
      }
    }
  });

  it("list again when the server has been silent too long (a frozen instance), but not while bookmarks arrive", async () => {
    const s = scripted();
    let now = 1_000_000;
    const cache = new WatchCache(s.port, { now: () => now, staleAfterMs: 150_000 });
    try {
      await cache.list(s.port, "Pod", "shop");
      await tick();
      now += 100_000;
      s.emit("BOOKMARK", pod("ignored", {}));
      now += 100_000;
      await cache.list(s.port, "Pod", "shop");
      expect(s.calls.filter((c) => c === "list")).toHaveLength(1);
      now += 151_000;
      await cache.list(s.port, "Pod", "shop");
      expect(s.calls.filter((c) => c === "list")).toHaveLength(2);
    } finally {
      cache.close();
    }
  });

  it("stops informers nobody reads", async () => {
    const s = scripted();
    let now = 0;
    // Per-namespace informers (credentials that may only read some namespaces): one per namespace.
    const cache = new WatchCache(s.port, {
      now: () => now,
      idleMs: 60_000,
      staleAfterMs: 1e9,
      clusterWide: false,
    });
    try {
      await cache.list(s.port, "Pod", "shop");
      now += 61_000;
      await cache.list(s.port, "Pod", "web");
      expect(cache.size).toBe(1);
    } finally {
      cache.close();
    }
  });
});

function names(os: KubeObject[]): string[] {
  return os.map((o) => o.metadata.name).sort();
}
