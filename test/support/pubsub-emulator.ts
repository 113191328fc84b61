// Real servers for the Google path: the Cloud SDK's Pub/Sub emulator, a stand-in for Eventarc, and
// a function served by the Functions Framework from the gcp bundle's entry. Everything listens on
// 127.0.0.1; every process is started detached and stopped by its process group.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
import { runtimes } from "../../infra/build/bundle.js";
import { pubsubMessagePublishedType } from "../../shared/events/edge/pubsub.js";
import { freePort } from "../setup/postgres.js";

const root = new URL("../../", import.meta.url).pathname;
const pollMs = 100;

/** The path of an executable on PATH; throws (never skips) when the tool is missing. */
export function requireTool(name: string, hint: string): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      /* not in this directory */
    }
  }
  throw new Error(`${name} is not on PATH: the Pub/Sub emulator test needs it (${hint})`);
}

/** Polls `ready` at most `attempts` times; the error says what never became ready and why. */
export async function pollUntil<T>(
  what: string,
  attempts: number,
  ready: () => Promise<T | undefined>,
  alive: () => string | undefined = () => undefined,
): Promise<T> {
  let last = "";
  for (let i = 0; i < attempts; i++) {
    const dead = alive();
    if (dead) throw new Error(`${what}: ${dead}`);
    try {
      const value = await ready();
      if (value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`${what} was not ready after ${attempts} attempts${last ? ` (last error: ${last})` : ""}`);
}

/** A detached child whose output is kept (last 4 KiB) for failure messages. */
interface Spawned {
  child: ChildProcess;
  output(): string;
  exited(): string | undefined;
  /** SIGTERM to the whole process group, SIGKILL if it is still there after ~5 s. */
  stop(): Promise<void>;
}

function spawnGroup(cmd: string, args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv }): Spawned {
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (c: Buffer) => (out = (out + c.toString("utf8")).slice(-4096));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exit: string | undefined;
  child.on("exit", (code, signal) => (exit = `exited (${signal ?? code})`));
  child.on("error", (err) => (exit = `could not start: ${err.message}`));
  const groupAlive = () => {
    try {
      process.kill(-child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  return {
    child,
    output: () => out,
    exited: () => (exit ? `${cmd} ${exit}: ${out.slice(-1500)}` : undefined),
    async stop() {
      if (child.pid === undefined || !groupAlive()) return;
      process.kill(-child.pid, "SIGTERM");
      for (let i = 0; i < 50 && groupAlive(); i++) await new Promise((r) => setTimeout(r, pollMs));
      if (groupAlive()) process.kill(-child.pid, "SIGKILL");
    },
  };
}

/** gcloud and java, or an error saying which is missing (locally and under CI=true alike). */
export function requireEmulatorTools(): { gcloud: string; java: string } {
  return {
    gcloud: requireTool("gcloud", "install the Google Cloud CLI with the pubsub-emulator component"),
    java: requireTool("java", "the emulator is a Java program: install a JRE, e.g. openjdk-17-jre-headless"),
  };
}

export interface PubsubEmulator {
  /** host:port, as PUBSUB_EMULATOR_HOST. */
  host: string;
  pid: number;
  api(project: string): PubsubApi;
  stop(): Promise<void>;
}

/** Starts `gcloud beta emulators pubsub start` on a free loopback port, with its own data dir. */
export async function startPubsubEmulator(): Promise<PubsubEmulator> {
  const { gcloud } = requireEmulatorTools();
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "prophet-pubsub-"));
  const host = `127.0.0.1:${port}`;
  const proc = spawnGroup(
    gcloud,
    ["beta", "emulators", "pubsub", "start", `--host-port=${host}`, `--data-dir=${dataDir}`, "--quiet"],
    { env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: "1" } },
  );
  const stop = async () => {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // The emulator answers "Ok" on / once its HTTP server is up (the JVM takes a few seconds).
    await pollUntil(
      `the Pub/Sub emulator on ${host}`,
      300,
      async () =>
        (await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) })).ok ? true : undefined,
      proc.exited,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, pid: proc.child.pid!, api: (project) => new PubsubApi(host, project), stop };
}

export interface PulledMessage {
  ackId: string;
  message: { data?: string; attributes?: Record<string, string>; messageId: string; publishTime: string };
}

/** The Pub/Sub REST API (v1) as the emulator serves it. */
export class PubsubApi {
  constructor(
    readonly host: string,
    readonly project: string,
  ) {}

  topicPath(topic: string): string {
    return `projects/${this.project}/topics/${topic}`;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`http://${this.host}/v1/projects/${this.project}/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Pub/Sub emulator: ${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text || "{}") as T;
  }

  createTopic(topic: string): Promise<unknown> {
    return this.call("PUT", `topics/${topic}`);
  }

  createSubscription(name: string, topic: string, pushEndpoint?: string): Promise<unknown> {
    return this.call("PUT", `subscriptions/${name}`, {
      topic: this.topicPath(topic),
      ackDeadlineSeconds: 10,
      ...(pushEndpoint ? { pushConfig: { pushEndpoint } } : {}),
    });
  }

  async publish(topic: string, messages: Array<{ data?: string; attributes?: Record<string, string> }>) {
    return (await this.call<{ messageIds: string[] }>("POST", `topics/${topic}:publish`, { messages }))
      .messageIds;
  }

  /** What is waiting now, acknowledged (returnImmediately: the emulator does not long-poll). */
  async pullNow(subscription: string): Promise<PulledMessage[]> {
    const got = await this.call<{ receivedMessages?: PulledMessage[] }>(
      "POST",
      `subscriptions/${subscription}:pull`,
      { maxMessages: 100, returnImmediately: true },
    );
    const received = got.receivedMessages ?? [];
    if (received.length)
      await this.call("POST", `subscriptions/${subscription}:acknowledge`, {
        ackIds: received.map((m) => m.ackId),
      });
    return received;
  }
}

/** One push the emulator made, as the Eventarc stand-in forwarded it, and the function's answer. */
export interface Delivery {
  target: string;
  subscription: string;
  messageId: string;
  attributes: Record<string, string>;
  /** The emulator's push body, unchanged (Eventarc's messagePublished data). */
  body: string;
  status: number;
  reply: string;
}

export interface EventarcStandIn {
  /** Push endpoint for a subscription whose messages go to `target`. */
  endpoint(target: string): string;
  route(target: string, url: string, topicPath: string): void;
  deliveries: Delivery[];
  /** Resolves when `done(deliveries)` holds; rejects after `ms` listing what was delivered. */
  until(what: string, done: (d: Delivery[]) => boolean, ms?: number): Promise<void>;
  /** Forwards a push body again, as Pub/Sub's at-least-once delivery may. */
  redeliver(d: Delivery): Promise<Delivery>;
  close(): Promise<void>;
}

/** The binary-mode CloudEvent Eventarc sends to a Cloud Run service for a Pub/Sub message. */
export function eventarcHeaders(
  topicPath: string,
  message: { messageId: string; publishTime: string },
): Record<string, string> {
  return {
    "content-type": "application/json; charset=utf-8",
    "ce-specversion": "1.0",
    "ce-id": message.messageId,
    "ce-source": `//pubsub.googleapis.com/${topicPath}`,
    "ce-type": pubsubMessagePublishedType,
    "ce-time": message.publishTime,
  };
}

/**
 * Stands in for Eventarc, which the emulator does not have: the emulator's plain push body
 * `{message, subscription}` is forwarded unchanged as the data of a binary-mode
 * `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent (what an Eventarc Pub/Sub trigger
 * posts to its Cloud Run destination), and the function's status goes back to the emulator, so a
 * non-2xx answer is a nack and the message is pushed again, as with Eventarc.
 */
export async function startEventarcStandIn(): Promise<EventarcStandIn> {
  const routes = new Map<string, { url: string; topicPath: string }>();
  const deliveries: Delivery[] = [];
  const waiters = new Set<() => void>();
  const forward = async (target: string, body: string): Promise<Delivery> => {
    const route = routes.get(target);
    if (!route) throw new Error(`no route for ${target}`);
    const push = JSON.parse(body) as {
      subscription: string;
      message: { messageId: string; publishTime: string; attributes?: Record<string, string> };
    };
    const res = await fetch(route.url, {
      method: "POST",
      headers: eventarcHeaders(route.topicPath, push.message),
      body,
      signal: AbortSignal.timeout(20_000),
    });
    const d: Delivery = {
      target,
      subscription: push.subscription,
      messageId: push.message.messageId,
      attributes: push.message.attributes ?? {},
      body,
      status: res.status,
      reply: await res.text(),
    };
    deliveries.push(d);
    for (const w of waiters) w();
    return d;
  };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      forward((req.url ?? "/").slice(1), body).then(
        (d) => {
          res.writeHead(d.status >= 200 && d.status < 300 ? 204 : d.status);
          res.end();
        },
        (err: Error) => {
          res.writeHead(502);
          res.end(err.message);
        },
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint: (target) => `${base}/${target}`,
    route: (target, url, topicPath) => void routes.set(target, { url, topicPath }),
    deliveries,
    until(what, done, ms = 20_000) {
      if (done(deliveries)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done(deliveries)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const seen = deliveries.map(
            (d) =>
              `${d.target} ← ${d.attributes["ce-type"]} (message ${d.messageId}): ${d.status} ${d.reply}`,
          );
          // A nacked message is pushed again and again: list each distinct answer once.
          const distinct = [...new Set(seen)];
          reject(new Error(`${what}: not seen within ${ms} ms; deliveries:\n${distinct.join("\n")}`));
        }, ms);
        waiters.add(check);
      });
    },
    redeliver: (d) => forward(d.target, d.body),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface ServedFunction {
  name: string;
  url: string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

const requireHere = createRequire(import.meta.url);

/**
 * Serves one function as its Cloud Functions container does: the gcp bundle's entry
 * (infra/build/bundle.ts, run from source with tsx) registers it with the Functions Framework,
 * whose own server answers on 127.0.0.1 (`getTestServer` is the server `functions-framework`
 * builds, without the CLI's bind to every interface). Configuration comes from `env` only.
 */
export async function serveFunction(name: string, env: Record<string, string>): Promise<ServedFunction> {
  const ff = pathToFileURL(requireHere.resolve("@google-cloud/functions-framework")).href;
  const ffTesting = pathToFileURL(requireHere.resolve("@google-cloud/functions-framework/testing")).href;
  const dir = mkdtempSync(join(tmpdir(), `prophet-gcf-${name}-`));
  // The bundle's entry verbatim, except that the framework is imported by path from this checkout.
  writeFileSync(
    join(dir, "entry.ts"),
    runtimes.gcp(name).replace(`"@google-cloud/functions-framework"`, JSON.stringify(ff)),
  );
  const port = await freePort();
  writeFileSync(
    join(dir, "serve.ts"),
    `import "./entry.ts";
import { getTestServer } from ${JSON.stringify(ffTesting)};
getTestServer(${JSON.stringify(name)}).listen(${port}, "127.0.0.1");
`,
  );
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  const proc = spawnGroup(process.execPath, ["--import", "tsx", join(dir, "serve.ts")], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Any HTTP answer means the server is up (a GET is refused by the edge with 400).
    await pollUntil(
      `function ${name} on ${url}`,
      300,
      async () => (await fetch(url, { signal: AbortSignal.timeout(1000) })).status,
      proc.exited,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { name, url, pid: proc.child.pid!, output: proc.output, stop };
}
