// Test harness for the API server emulator: a server on a free loopback port, a kubeconfig in a temp
// dir, kubectl runs with their own discovery cache, and spawned processes tracked so afterAll kills them.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  startApiServer,
  type ApiServer,
  type ApiServerOptions,
  type KubeObject,
} from "../../infra/sandbox/apiserver/index.js";

export const kubectlPath = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].find((p) => existsSync(p));

/** Outside CI a missing kubectl skips the kubectl suite; under CI=true it fails. */
export function requireKubectl(): string | undefined {
  if (!kubectlPath && process.env.CI === "true")
    throw new Error("kubectl is required for the sandbox tests under CI=true");
  return kubectlPath;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  server: ApiServer;
  kubeconfigPath: string;
  kubectl(args: string[], timeoutMs?: number): Promise<KubectlResult>;
  spawnKubectl(args: string[]): ChildProcess & { output(): string };
  stop(): Promise<void>;
}

export async function startSandbox(opts: ApiServerOptions = {}): Promise<Sandbox> {
  const server = await startApiServer(opts);
  const dir = mkdtempSync(join(tmpdir(), "prophet-apiserver-"));
  const kubeconfigPath = join(dir, "kubeconfig");
  server.writeKubeconfig(kubeconfigPath);
  const base = ["--kubeconfig", kubeconfigPath, "--cache-dir", join(dir, "cache")];
  const children = new Set<ChildProcess>();
  return {
    server,
    kubeconfigPath,
    kubectl: (args, timeoutMs = 20_000) =>
      new Promise((resolve) => {
        execFile(
          kubectlPath ?? "kubectl",
          [...base, ...args],
          { timeout: timeoutMs },
          (err, stdout, stderr) => {
            const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
      }),
    spawnKubectl(args) {
      const child = spawn(kubectlPath ?? "kubectl", [...base, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      children.add(child);
      child.on("exit", () => children.delete(child));
      return Object.assign(child, { output: () => out });
    },
    async stop() {
      for (const child of children) if (child.pid) process.kill(child.pid, "SIGKILL");
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `predicate` holds for the text a child has printed so far. */
export function waitForOutput(
  child: ChildProcess & { output(): string },
  predicate: (text: string) => boolean,
  timeoutMs = 10_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate(child.output())) {
        cleanup();
        resolve(child.output());
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for kubectl output; got:\n${child.output()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off("data", check);
      child.stderr?.off("data", check);
    };
    child.stdout?.on("data", check);
    child.stderr?.on("data", check);
    check();
  });
}

export function readyPod(
  name: string,
  opts: {
    namespace?: string;
    labels?: Record<string, string>;
    node?: string;
    owner?: KubeObject;
    emptyDir?: boolean;
  },
): KubeObject {
  const owner = opts.owner;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: opts.namespace ?? "default",
      labels: opts.labels ?? {},
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: owner.apiVersion,
                kind: owner.kind,
                name: owner.metadata.name ?? "",
                uid: owner.metadata.uid ?? "",
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
    },
    spec: {
      ...(opts.node ? { nodeName: opts.node } : {}),
      containers: [
        {
          name: "app",
          image: "registry.example/app:1.0",
          ...(opts.emptyDir ? { volumeMounts: [{ name: "scratch", mountPath: "/tmp" }] } : {}),
        },
      ],
      ...(opts.emptyDir ? { volumes: [{ name: "scratch", emptyDir: {} }] } : {}),
    },
    status: {
      phase: "Running",
      podIP: "10.244.0.10",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [
        {
          name: "app",
          ready: true,
          restartCount: 0,
          image: "registry.example/app:1.0",
          imageID: "",
          state: { running: { startedAt: "2025-01-01T00:00:00Z" } },
        },
      ],
    },
  };
}

export function readyNode(name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, "node-role.kubernetes.io/worker": "" } },
    spec: {},
    status: {
      conditions: [
        { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" },
      ],
      addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
      nodeInfo: {
        kubeletVersion: "v1.32.0",
        osImage: "Debian GNU/Linux 12",
        kernelVersion: "6.1.0",
        containerRuntimeVersion: "containerd://1.7.0",
      },
      allocatable: { cpu: "4", memory: "16Gi", pods: "110" },
      capacity: { cpu: "4", memory: "16Gi", pods: "110" },
    },
  };
}
