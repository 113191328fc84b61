// Local stand-ins for the cloud APIs and a cluster's API server, on 127.0.0.1 only. They replay
// the recorded response shapes in test/fixtures/clusters/ and can be told to refuse: expired
// credentials (401 / ExpiredToken), missing permissions (403), or no answer at all (closed port).
import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

const FIXTURES = new URL("../fixtures/clusters/", import.meta.url);
export const fixture = <T = unknown>(name: string): T =>
  JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as T;
export const TLS_CERT = readFileSync(new URL("tls-cert.pem", FIXTURES), "utf8");
const TLS_KEY = readFileSync(new URL("tls-key.pem", FIXTURES), "utf8");
/** The test CA as kubeconfig certificate-authority-data. */
export const TLS_CA_DATA = Buffer.from(TLS_CERT).toString("base64");

export interface Seen {
  method: string;
  path: string;
  authorization: string;
}

export interface FakeServer {
  url: string;
  requests: Seen[];
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, body: string, url: URL, res: http.ServerResponse) => void;

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

async function serve(handler: Handler, tls: boolean): Promise<FakeServer> {
  const requests: Seen[] = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      requests.push({
        method: req.method ?? "GET",
        path: url.pathname,
        authorization: req.headers.authorization ?? "",
      });
      try {
        handler(req, Buffer.concat(chunks).toString("utf8"), url, res);
      } catch (err) {
        sendJson(res, 500, { message: (err as Error).message });
      }
    });
  };
  const server = tls
    ? https.createServer({ cert: TLS_CERT, key: TLS_KEY }, listener)
    : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A URL on which nothing listens: a server started and closed at once. */
export async function deadUrl(tls = false): Promise<string> {
  const s = await serve(() => undefined, tls);
  await s.close();
  return s.url;
}

const bearer = (req: http.IncomingMessage) => (req.headers.authorization ?? "").replace(/^Bearer /, "");

/** A Kubernetes API server (HTTPS, the test CA) that admits the bearer tokens `accept` allows. */
export async function startKubeApi(accept: (token: string) => boolean): Promise<FakeServer> {
  return serve((req, _body, url, res) => {
    if (!accept(bearer(req)))
      return sendJson(res, 401, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    if (url.pathname === "/version")
      return sendJson(res, 200, {
        major: "1",
        minor: "31",
        gitVersion: "v1.31.2-eks-7f9249a",
        platform: "linux/amd64",
      });
    if (url.pathname === "/api/v1/namespaces")
      return sendJson(res, 200, {
        kind: "NamespaceList",
        apiVersion: "v1",
        metadata: { resourceVersion: "1" },
        items: ["default", "kube-system"].map((name) => ({ metadata: { name } })),
      });
    sendJson(res, 404, {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      code: 404,
      reason: "NotFound",
    });
  }, true);
}

export interface EksBehaviour {
  /** Operations answered 403 AccessDeniedException. */
  deny: Set<"ListClusters" | "DescribeCluster">;
  /** Access key ids answered 403 ExpiredTokenException. */
  expiredKeys: Set<string>;
  /** Replaces each described cluster's endpoint and CA (to point at a local API server). */
  endpoint?: { url: string; caData: string };
}

/** EKS's REST-JSON API: ListClusters in two pages, DescribeCluster per cluster. */
export async function startEksApi(b: EksBehaviour): Promise<FakeServer> {
  return serve((req, _body, url, res) => {
    const keyId = (req.headers.authorization ?? "").match(/Credential=([^/]+)\//)?.[1] ?? "";
    const error = (type: string, file: string) =>
      sendJson(res, 403, fixture(file), { "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/` });
    if (b.expiredKeys.has(keyId)) return error("ExpiredTokenException", "eks-error-expired-token.json");
    if (req.method === "GET" && url.pathname === "/clusters") {
      if (b.deny.has("ListClusters")) return error("AccessDeniedException", "eks-error-access-denied.json");
      const page1 = fixture<{ nextToken: string }>("eks-list-clusters-page1.json");
      const token = url.searchParams.get("nextToken");
      if (!token) return sendJson(res, 200, page1);
      if (token === page1.nextToken) return sendJson(res, 200, fixture("eks-list-clusters-page2.json"));
      return sendJson(
        res,
        400,
        { message: "invalid nextToken" },
        { "x-amzn-errortype": "InvalidParameterException" },
      );
    }
    const m = url.pathname.match(/^\/clusters\/([^/]+)$/);
    if (req.method === "GET" && m) {
      if (b.deny.has("DescribeCluster"))
        return error("AccessDeniedException", "eks-error-access-denied.json");
      const name = decodeURIComponent(m[1]!);
      let out: { cluster: { endpoint: string; certificateAuthority: { data: string } } };
      try {
        out = fixture(`eks-describe-cluster-${name}.json`);
      } catch {
        return sendJson(
          res,
          404,
          { message: `No cluster found for name: ${name}.` },
          { "x-amzn-errortype": "ResourceNotFoundException" },
        );
      }
      if (b.endpoint) {
        out.cluster.endpoint = b.endpoint.url;
        out.cluster.certificateAuthority.data = b.endpoint.caData;
      }
      return sendJson(res, 200, out);
    }
    sendJson(
      res,
      404,
      { message: "UnknownOperationException" },
      { "x-amzn-errortype": "UnknownOperationException" },
    );
  }, false);
}

export interface ArmBehaviour {
  /** Bearer tokens answered 401 ExpiredAuthenticationToken. */
  expiredTokens: Set<string>;
  deny: Set<"list" | "listClusterUserCredential">;
  /** Replaces the API server URL and CA inside the returned kubeconfigs. */
  endpoint?: { url: string; caData: string };
}

/** Azure Resource Manager (HTTPS: the SDK sends bearer tokens only over TLS). */
export async function startArmApi(b: ArmBehaviour): Promise<FakeServer> {
  let self = "";
  const server = await serve((req, _body, url, res) => {
    const token = bearer(req);
    if (!token || b.expiredTokens.has(token))
      return sendJson(res, 401, fixture("arm-error-expired-token.json"), {
        "www-authenticate":
          'Bearer authorization_uri="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", error="invalid_token", error_description="The access token has expired."',
      });
    const p = url.pathname;
    if (
      req.method === "GET" &&
      /^\/subscriptions\/[^/]+\/providers\/Microsoft\.ContainerService\/managedClusters$/.test(p)
    ) {
      if (b.deny.has("list")) return sendJson(res, 403, fixture("arm-error-authorization-failed.json"));
      if (!url.searchParams.get("api-version"))
        return sendJson(res, 400, { error: { code: "MissingApiVersionParameter" } });
      const page = url.searchParams.get("$skipToken")
        ? "arm-managed-clusters-page2.json"
        : "arm-managed-clusters-page1.json";
      const body = JSON.parse(
        JSON.stringify(fixture(page)).replaceAll("https://management.azure.com", self),
      ) as unknown;
      return sendJson(res, 200, body);
    }
    const m = p.match(
      /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ContainerService\/managedClusters\/([^/]+)\/listClusterUserCredential$/i,
    );
    if (req.method === "POST" && m) {
      if (b.deny.has("listClusterUserCredential"))
        return sendJson(res, 403, fixture("arm-error-authorization-failed.json"));
      const out = fixture<{ kubeconfigs: { name: string; value: string }[] }>(
        `arm-list-cluster-user-credential-${m[1]}.json`,
      );
      if (b.endpoint) {
        const ep = b.endpoint;
        for (const k of out.kubeconfigs) {
          const yaml = Buffer.from(k.value, "base64")
            .toString("utf8")
            .replace(/server: .*/, `server: ${ep.url}`)
            .replace(/certificate-authority-data: .*/, `certificate-authority-data: ${ep.caData}`);
          k.value = Buffer.from(yaml).toString("base64");
        }
      }
      return sendJson(res, 200, out);
    }
    sendJson(res, 404, { error: { code: "ResourceNotFound", message: `no route ${p}` } });
  }, true);
  self = server.url;
  return server;
}

export interface GkeBehaviour {
  /** Access tokens answered 401 UNAUTHENTICATED. */
  expiredTokens: Set<string>;
  deny: boolean;
  endpoint?: { host: string; caData: string };
}

/** The GKE v1 REST API (what ClusterManagerClient's REST fallback calls). */
export async function startGkeApi(b: GkeBehaviour): Promise<FakeServer> {
  return serve((req, _body, url, res) => {
    const token = bearer(req);
    if (!token || b.expiredTokens.has(token))
      return sendJson(res, 401, fixture("gke-error-unauthenticated.json"));
    if (b.deny) return sendJson(res, 403, fixture("gke-error-permission-denied.json"));
    const list = fixture<{
      clusters: {
        name: string;
        location: string;
        endpoint: string;
        masterAuth: { clusterCaCertificate: string };
      }[];
    }>("gke-list-clusters.json");
    if (b.endpoint)
      for (const c of list.clusters) {
        c.endpoint = b.endpoint.host;
        c.masterAuth.clusterCaCertificate = b.endpoint.caData;
      }
    if (req.method === "GET" && /^\/v1\/projects\/[^/]+\/locations\/-\/clusters$/.test(url.pathname))
      return sendJson(res, 200, list);
    const m = url.pathname.match(/^\/v1\/projects\/[^/]+\/locations\/([^/]+)\/clusters\/([^/]+)$/);
    const found = m && list.clusters.find((c) => c.location === m[1] && c.name === m[2]);
    if (req.method === "GET" && found) return sendJson(res, 200, found);
    sendJson(res, 404, { error: { code: 404, message: `Not found: ${url.pathname}.`, status: "NOT_FOUND" } });
  }, false);
}
