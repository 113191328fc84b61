// The deploy commands: every target's dry run names every function and its triggers; the Knative
// overlays render with kubectl's kustomize, validate against the Kubernetes/Knative schemas, and
// are accepted by the sandbox API server with `kubectl apply --dry-run=server`.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functions } from "../../functions/registry.js";
import { busTypes, knativeDocuments } from "../../infra/build/manifests.js";
import { findContainerTool, main, parseArgs } from "../../infra/deploy/deploy.js";
import { plan, renderPlan, targets } from "../../infra/deploy/plan.js";
import { overlays } from "../../infra/knative/kustomize.js";
import { startApiServer, type ApiServer } from "../../infra/sandbox/apiserver/index.js";
import { ResourceChanged } from "../../shared/events/catalog.js";
import { defineFunction } from "../../shared/function.js";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;
type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<
  string,
  unknown
>;

async function validate(doc: Doc): Promise<void> {
  const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : ["", doc.apiVersion];
  const mod = (
    group?.endsWith("knative.dev")
      ? await import(`@kubernetes-models/knative/${group}/${version}/${doc.kind}`)
      : await import(`kubernetes-models/${group ? `${group}/` : ""}${version}/${doc.kind}`)
  ) as Record<string, new (d: unknown) => { validate(): void }>;
  new mod[doc.kind]!(doc).validate();
}

describe("deploy dry runs", () => {
  for (const target of targets) {
    it(`${target}: the dry run names every function and each of its triggers`, () => {
      let printed = "";
      expect(
        main(
          [target, "--dry-run"],
          () => true,
          (s) => (printed += s),
        ),
      ).toBe(0);
      expect(printed).toMatch(new RegExp(`^Prophet deploy plan: ${target} \\(dry run`));
      expect(printed).toContain("npm run build");
      for (const fn of functions) {
        expect(printed, fn.name).toContain(fn.name);
        for (const t of busTypes(fn)) expect(printed, `${fn.name} ${t}`).toContain(t);
        for (const s of fn.schedules ?? []) {
          expect(printed, `${fn.name} ${s.name}`).toContain(s.name);
          if (target !== "aws") expect(printed).toContain(s.cron);
        }
      }
    });
  }

  it("aws: one serverless deploy; the plan lists the HTTP API, the bus, the DLQ and EventBridge cron", () => {
    const text = renderPlan("aws", plan("aws", { env: "prod" }));
    expect(text).toContain("$ npx serverless deploy --stage prod --region europe-west1");
    expect(text).toContain("HttpApi route POST /alertmanager → alert-intake");
    expect(text).toContain("SQS Queue prophet-prod-dead-letters");
    expect(text).toContain("cron(*/15 * * * ? *)");
  });

  it("gcp: gen2 functions, Eventarc on the Pub/Sub topic, Cloud Scheduler for every schedule", () => {
    const steps = plan("gcp", { gcpProject: "acme" });
    const cmds = steps.flatMap((s) => (s.command ? [s.command.join(" ")] : []));
    expect(cmds.filter((c) => c.startsWith("gcloud functions deploy"))).toHaveLength(functions.length);
    expect(cmds.every((c) => !c.startsWith("gcloud functions deploy") || c.includes("--gen2"))).toBe(true);
    const scheduled = functions.flatMap((f) => f.schedules ?? []);
    expect(cmds.filter((c) => c.startsWith("gcloud scheduler jobs create http"))).toHaveLength(
      scheduled.length,
    );
    expect(cmds.filter((c) => c.startsWith("gcloud eventarc triggers create"))).toHaveLength(
      functions.filter((f) => busTypes(f).length).length,
    );
  });

  it("azure: Bicep for the shared resources, a publish per function, Event Grid filtered on type", () => {
    const text = renderPlan("azure", plan("azure"));
    expect(text).toContain(
      "az deployment group create --resource-group prophet --template-file infra/azure/main.bicep",
    );
    expect(text.match(/func azure functionapp publish/g)).toHaveLength(functions.length);
    expect(text).toContain("--advanced-filter type StringIn io.prophet.incident.opened");
  });

  it("a missing cloud CLI turns the run into a dry run and says so", () => {
    let printed = "";
    main(
      ["gcp"],
      (cmd) => cmd !== "gcloud",
      (s) => (printed += s),
    );
    expect(printed.split("\n")[0]).toBe(
      "gcloud is not installed: printing the plan instead of running it (dry run).",
    );
    expect(printed).toContain("Prophet deploy plan: gcp");
  });

  it("knative builds the image only with a container engine, and says when there is none", () => {
    expect(findContainerTool(() => false)).toBeUndefined();
    expect(findContainerTool((cmd, args) => cmd === "podman" && args[0] === "info")).toBe("podman");
    const without = renderPlan("knative", plan("knative", {}));
    expect(without).toContain("no container tool");
    expect(without).not.toContain("docker build");
    const withTool = renderPlan("knative", plan("knative", { containerTool: "docker", env: "production" }));
    expect(withTool).toContain(
      "$ docker build -f infra/knative/Dockerfile -t ghcr.io/prophet-aiops/prophet-functions:0.1.0 .",
    );
    expect(withTool).toContain("$ kubectl apply -k manifests/knative/overlays/production");
  });

  it("bad arguments are refused with the usage", () => {
    expect(() => parseArgs(["heroku"])).toThrow(/usage: deploy.ts <knative\|aws\|gcp\|azure>/);
    expect(() => parseArgs(["aws", "--env"])).toThrow(/--env needs a value/);
    expect(() => plan("knative", { env: "qa" })).toThrow(/no Knative overlay qa/);
  });
});

describe("Knative manifests", () => {
  it("an ApiServerSource (with its read-only account) is generated for a function taking cluster changes", async () => {
    const watcher = defineFunction({
      name: "change-watch",
      description: "test",
      accepts: [ResourceChanged.type],
      emits: [],
      handle: () => Promise.resolve([]),
    });
    const docs = knativeDocuments([watcher]) as Doc[];
    const src = docs.find((d) => d.kind === "ApiServerSource");
    expect(src?.spec).toMatchObject({
      mode: "Reference",
      serviceAccountName: "prophet-change-watch-changes",
      sink: { ref: { kind: "Service", name: "prophet-change-watch" } },
    });
    const role = docs.find(
      (d) => d.kind === "ClusterRole" && d.metadata.name === "prophet-change-watch-changes",
    );
    for (const r of role?.rules as Array<{ verbs: string[] }>)
      expect(r.verbs).toEqual(["get", "list", "watch"]);
    for (const d of docs) await validate(d);
  });

  describe.each(overlays.map((o) => [o.name, o] as const))("overlay %s", (name, overlay) => {
    let docs: Doc[] = [];
    let rendered = "";
    beforeAll(async () => {
      rendered = (await run("kubectl", ["kustomize", join(root, "manifests/knative/overlays", name)])).stdout;
      docs = parseAllDocuments(rendered).map((d) => d.toJS() as Doc);
    });

    it("renders with kustomize: namespace, image tag, scale floors and remediation mode", () => {
      expect(docs.filter((d) => d.kind === "Service")).toHaveLength(functions.length);
      for (const d of docs.filter((x) => x.metadata.namespace !== undefined))
        expect(d.metadata.namespace).toBe(overlay.namespace);
      for (const b of docs.filter((d) => d.kind === "ClusterRoleBinding"))
        expect((b.subjects as Array<{ namespace: string }>)[0]?.namespace).toBe(overlay.namespace);
      const svc = (fn: string) =>
        docs.find((d) => d.kind === "Service" && d.metadata.name === `prophet-${fn}`) as unknown as {
          spec: {
            template: {
              metadata: { annotations: Record<string, string> };
              spec: { containers: Array<{ image: string; env: Array<{ name: string; value?: string }> }> };
            };
          };
        };
      for (const [fn, n] of Object.entries(overlay.minScale))
        expect(svc(fn).spec.template.metadata.annotations["autoscaling.knative.dev/min-scale"]).toBe(
          String(n),
        );
      expect(svc("alert-intake").spec.template.spec.containers[0]?.image).toMatch(
        new RegExp(`:${overlay.imageTag}$`),
      );
      expect(svc("llm-remediation").spec.template.spec.containers[0]?.env).toContainEqual({
        name: "PROPHET_REMEDIATION_MODE",
        value: overlay.remediationMode,
      });
    });

    it("every rendered document validates against its schema", async () => {
      expect(docs.length).toBeGreaterThan(30);
      for (const d of docs)
        await expect(validate(d), `${d.kind} ${d.metadata.name}`).resolves.toBeUndefined();
    });
  });
});

describe("Knative manifests on the sandbox API server (kubectl apply --dry-run=server)", () => {
  let api: ApiServer;
  let dir = "";
  let kubeconfig = "";
  beforeAll(async () => {
    api = await startApiServer({ port: 0 });
    dir = mkdtempSync(join(tmpdir(), "prophet-knative-"));
    kubeconfig = join(dir, "kubeconfig");
    api.writeKubeconfig(kubeconfig);
    // What installing Knative Serving/Eventing brings: its CRDs (schemas kept open here; the
    // documents were validated against the Knative schemas above).
    const crds = [
      ["serving.knative.dev", "services", "Service"],
      ["eventing.knative.dev", "brokers", "Broker"],
      ["eventing.knative.dev", "triggers", "Trigger"],
      ["sources.knative.dev", "pingsources", "PingSource"],
      ["sources.knative.dev", "sinkbindings", "SinkBinding"],
      ["sources.knative.dev", "apiserversources", "ApiServerSource"],
    ].map(([group, plural, kind]) => ({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${plural}.${group}` },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural, kind, singular: kind!.toLowerCase(), listKind: `${kind}List` },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    }));
    await kubectl(["apply", "-f", "-"], crds.map((c) => stringify(c)).join("---\n"));
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function kubectl(args: string[], stdin?: string): Promise<string> {
    const child = execFile("kubectl", ["--kubeconfig", kubeconfig, ...args], { timeout: 60_000 });
    const out = new Promise<string>((resolve, reject) => {
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (c: Buffer) => (stdout += c));
      child.stderr?.on("data", (c: Buffer) => (stderr += c));
      child.on("close", (code) =>
        code === 0 ? resolve(stdout) : reject(new Error(`kubectl ${args.join(" ")}: ${stderr}`)),
      );
    });
    child.stdin?.end(stdin ?? "");
    return out;
  }

  for (const overlay of overlays)
    it(`${overlay.name}: the server accepts every document it serves; RBAC kinds are reported, not skipped silently`, async () => {
      const rendered = (
        await run("kubectl", ["kustomize", join(root, "manifests/knative/overlays", overlay.name)])
      ).stdout;
      const docs = parseAllDocuments(rendered).map((d) => d.toJS() as Doc);
      // The sandbox serves no rbac.authorization.k8s.io (see infra/sandbox/apiserver/resources.ts):
      // those documents are checked by schema (above) and by the RBAC tests.
      const served = docs.filter((d) => !d.apiVersion.startsWith("rbac.authorization.k8s.io/"));
      const rbac = docs.length - served.length;
      expect(rbac).toBeGreaterThan(0);
      const ns = served.filter((d) => d.kind === "Namespace");
      // Dry-run does not create the namespace its objects need: create it for real first.
      expect(await kubectl(["apply", "-f", "-"], ns.map((d) => stringify(d)).join("---\n"))).toContain(
        `namespace/${overlay.namespace}`,
      );
      const rest = served.filter((d) => d.kind !== "Namespace");
      const out = await kubectl(
        ["apply", "--dry-run=server", "-f", "-"],
        rest.map((d) => stringify(d)).join("---\n"),
      );
      const lines = out.trim().split("\n");
      expect(lines).toHaveLength(rest.length);
      for (const l of lines) expect(l).toMatch(/ (created|configured|unchanged) \(server dry run\)$/);
      // Nothing was stored by the dry run.
      expect(
        await kubectl(["get", "services.serving.knative.dev", "-n", overlay.namespace, "-o", "name"]),
      ).toBe("");
    });
});
