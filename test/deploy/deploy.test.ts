// Deployment artifacts: generated files are current, Knative manifests pass the Kubernetes/Knative
// schemas, `serverless package` works offline, and the built bundles really run.
import { execFile, spawn } from "node:child_process";
import { readFileSync, mkdtempSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleAll } from "../../infra/build/bundle.js";
import { camel, renderKnative, renderServerless } from "../../infra/build/manifests.js";
import { renderDeploy } from "../../infra/deploy/render.js";
import { functions } from "../../functions/registry.js";
import { kustomizeFiles } from "../../infra/knative/kustomize.js";
import { freePort } from "../setup/postgres.js";
import { freshPostgresUrl } from "../support/stores.js";
import { sampleText } from "../support/samples.js";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;

describe("generated deployment files", () => {
  it("serverless.yml and manifests/knative/ match the registry (run `npm run gen:deploy`)", () => {
    expect(readFileSync(join(root, "serverless.yml"), "utf8")).toBe(renderServerless());
    for (const [path, text] of Object.entries(kustomizeFiles(renderKnative())))
      expect(readFileSync(join(root, path), "utf8"), path).toBe(text);
    expect(existsSync(join(root, "manifests/knative/prophet.yaml"))).toBe(false);
  });

  it("every Knative manifest validates against the Kubernetes and Knative schemas", async () => {
    const docs = parseAllDocuments(
      readFileSync(join(root, "manifests/knative/base/prophet.yaml"), "utf8"),
    ).map((d) => d.toJS() as { apiVersion: string; kind: string });
    expect(docs.length).toBeGreaterThan(5);
    for (const doc of docs) {
      const [group, version] = doc.apiVersion.includes("/")
        ? doc.apiVersion.split("/")
        : ["", doc.apiVersion];
      const mod = (
        group?.endsWith("knative.dev")
          ? await import(`@kubernetes-models/knative/${group}/${version}/${doc.kind}`)
          : await import(`kubernetes-models/${group || ""}${group ? "/" : ""}${version}/${doc.kind}`)
      ) as Record<string, new (d: unknown) => { validate(): void }>;
      const Model = mod[doc.kind];
      expect(Model, `${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(
        () => new Model!(doc).validate(),
        `${doc.kind} ${(doc as { metadata?: { name?: string } }).metadata?.name}`,
      ).not.toThrow();
    }
    const kinds = docs.map((d) => d.kind);
    expect(kinds.filter((k) => k === "Service")).toHaveLength(functions.length);
    expect(kinds).toContain("PingSource");
    expect(kinds).toContain("Trigger");
  });

  it("a bad manifest is caught by the same validation", async () => {
    const { Service } = await import("@kubernetes-models/knative/serving.knative.dev/v1/Service");
    expect(() =>
      new Service({
        metadata: { name: "x" },
        spec: { template: { spec: { containers: "nope" } } },
      } as never).validate(),
    ).toThrow();
  });
});

describe("built bundles", () => {
  beforeAll(async () => {
    await bundleAll();
  }, 120_000);

  it("packages every function for AWS offline with serverless v3", async () => {
    const out = mkdtempSync(join(tmpdir(), "prophet-sls-"));
    try {
      await run("npx", ["serverless", "package", "--package", out], {
        cwd: root,
        env: {
          ...process.env,
          SLS_TELEMETRY_DISABLED: "1",
          SLS_NOTIFICATIONS_MODE: "off",
          SLS_DEPRECATION_DISABLE: "*",
        },
        timeout: 120_000,
      });
      const cfn = JSON.parse(
        readFileSync(join(out, "cloudformation-template-update-stack.json"), "utf8"),
      ) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
      const types = Object.values(cfn.Resources).map((r) => r.Type);
      expect(types.filter((t) => t === "AWS::Lambda::Function")).toHaveLength(functions.length);
      expect(types).toContain("AWS::Events::Rule");
      expect(types).toContain("AWS::ApiGatewayV2::Route");
      for (const fn of ["alertIntake", "auditVerify"]) expect(existsSync(join(out, `${fn}.zip`))).toBe(true);
      const rules = Object.values(cfn.Resources)
        .filter((r) => r.Type === "AWS::Events::Rule")
        .map((r) => JSON.stringify(r.Properties));
      expect(rules.some((r) => r.includes("io.prophet.alert.firing"))).toBe(true);
      expect(rules.some((r) => r.includes("cron(*/15 * * * ? *)"))).toBe(true);
      // Every bus rule: Prophet's bus, retries, and the dead-letter queue.
      const resources = Object.entries(cfn.Resources);
      const dlq = resources.find(([, r]) => r.Type === "AWS::SQS::Queue");
      expect(dlq?.[0]).toBe("ProphetDeadLetterQueue");
      const busRules = resources.filter(
        ([, r]) => r.Type === "AWS::Events::Rule" && JSON.stringify(r.Properties).includes("detail-type"),
      );
      expect(busRules.length).toBe(
        functions.filter((f) => f.accepts.some((t) => t !== "io.prophet.schedule.tick")).length,
      );
      for (const [, r] of busRules) {
        const targets = JSON.stringify(r.Properties.Targets);
        expect(targets).toContain("ProphetDeadLetterQueue");
        expect(targets).toContain('"MaximumRetryAttempts":8');
        expect(JSON.stringify(r.Properties.EventBusName)).toContain("prophet-dev");
      }
      expect(types).toContain("AWS::ApiGatewayV2::Api");
      const routes = resources
        .filter(([, r]) => r.Type === "AWS::ApiGatewayV2::Route")
        .map(([, r]) => r.Properties.RouteKey);
      expect(routes).toContain("POST /alertmanager");
      // IAM: no wildcard action, every resource an ARN of this stack (no bare "*").
      const statements = resources
        .filter(([, r]) => r.Type === "AWS::IAM::Role")
        .flatMap(([, r]) =>
          (
            r.Properties.Policies as Array<{
              PolicyDocument: { Statement: Array<{ Action: string[]; Resource: unknown }> };
            }>
          ).flatMap((p) => p.PolicyDocument.Statement),
        );
      expect(statements.length).toBeGreaterThan(0);
      for (const st of statements) {
        for (const a of st.Action) expect(a, JSON.stringify(st)).not.toMatch(/\*/);
        for (const res of [st.Resource].flat()) {
          expect(res).not.toBe("*");
          if (typeof res === "string") expect(res).toMatch(/^arn:/);
        }
      }
      const putEvents = statements.find((st) => st.Action.includes("events:PutEvents"));
      expect(JSON.stringify(putEvents?.Resource)).toContain("AWS::AccountId");
      expect(JSON.stringify(putEvents?.Resource)).not.toContain(":*:");
      // One role per function, scoped to it: its own log streams; events only if it emits.
      for (const fn of functions) {
        const lambda = Object.values(cfn.Resources).find(
          (r) =>
            r.Type === "AWS::Lambda::Function" &&
            r.Properties.FunctionName === `prophet-dev-${camel(fn.name)}`,
        );
        const roleRef = (lambda?.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
        expect(roleRef, fn.name).toBe(`${camel(fn.name).replace(/^./, (c) => c.toUpperCase())}Role`);
        const policy = (
          cfn.Resources[roleRef]!.Properties.Policies as Array<{
            PolicyDocument: { Version: unknown; Statement: Array<{ Action: string[]; Resource: unknown }> };
          }>
        )[0]!.PolicyDocument;
        expect(policy.Version).toBe("2012-10-17");
        const actions = policy.Statement.flatMap((st) => st.Action);
        expect(actions.includes("events:PutEvents"), fn.name).toBe(fn.emits.length > 0);
        const logs = policy.Statement.find((st) => st.Action.includes("logs:PutLogEvents"));
        expect(JSON.stringify(logs?.Resource)).toContain(
          `:log-group:/aws/lambda/prophet-dev-${camel(fn.name)}:*"`,
        );
      }
      expect(types).not.toContain("AWS::IAM::Policy");
      expect(resources.find(([id]) => id === "IamRoleLambdaExecution")).toBeUndefined();
      expect(types).toContain("AWS::SQS::QueuePolicy");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 150_000);

  it("packages a deploy with a clusters file and DATABASE_URL from SSM (dist/ as the service directory)", async () => {
    const out = mkdtempSync(join(tmpdir(), "prophet-sls-"));
    const clustersFile = join(out, "clusters-in.json");
    writeFileSync(
      clustersFile,
      JSON.stringify({
        version: 1,
        clusters: [
          { name: "shop-prod", source: "eks", region: "eu-west-1", cluster: "shop-prod" },
          { name: "dev", source: "in-cluster" },
        ],
      }),
    );
    try {
      renderDeploy("aws", {
        env: "dev",
        clustersFile,
        secrets: { DATABASE_URL: { kind: "ssm", name: "/prophet/dev/database-url" } },
      });
      await run("npx", ["serverless", "package", "--package", join(out, "pkg")], {
        cwd: join(root, "dist"),
        env: {
          ...process.env,
          SLS_TELEMETRY_DISABLED: "1",
          SLS_NOTIFICATIONS_MODE: "off",
          SLS_DEPRECATION_DISABLE: "*",
        },
        timeout: 120_000,
      });
      const cfn = JSON.parse(
        readFileSync(join(out, "pkg/cloudformation-template-update-stack.json"), "utf8"),
      ) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
      const all = Object.values(cfn.Resources);
      const scheduleRules = all.filter(
        (r) => r.Type === "AWS::Events::Rule" && JSON.stringify(r.Properties).includes("ScheduleExpression"),
      );
      expect(scheduleRules).toHaveLength(functions.flatMap((f) => f.schedules ?? []).length * 2);
      const inputs = scheduleRules.map(
        (r) => JSON.parse((r.Properties.Targets as Array<{ Input: string }>)[0]!.Input) as unknown,
      );
      expect(inputs).toContainEqual({ schedule: "slo-check", cluster: "shop-prod" });
      expect(inputs).toContainEqual({ schedule: "slo-check", cluster: "dev" });
      const fn = all.find((r) => r.Type === "AWS::Lambda::Function") as {
        Properties: Record<string, unknown>;
      };
      const env = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(env.DATABASE_URL_SSM).toBe("/prophet/dev/database-url");
      expect(env).not.toHaveProperty("DATABASE_URL");
      expect(env.PROPHET_CLUSTERS_FILE).toBe("/var/task/clusters.json");
      const roles = all.filter((r) => r.Type === "AWS::IAM::Role");
      expect(roles).toHaveLength(functions.length);
      for (const role of roles) {
        const text = JSON.stringify(role.Properties.Policies);
        expect(text).toContain('"ssm:GetParameter"');
        expect(text).toContain(':parameter/prophet/dev/database-url"');
      }
      // The package carries the clusters file beside the bundle.
      expect(existsSync(join(out, "pkg/sloCheck.zip"))).toBe(true);
      const { stdout } = await run("unzip", ["-l", join(out, "pkg/sloCheck.zip")]);
      expect(stdout).toContain("clusters.json");
      expect(stdout).toContain("lambda/slo-check/index.js");
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(join(root, "dist/serverless.yml"), { force: true });
      rmSync(join(root, "dist/clusters.json"), { force: true });
      rmSync(join(root, "dist/.serverless"), { recursive: true, force: true });
    }
  }, 150_000);

  describe("running the bundles", () => {
    const children: Array<{ pid?: number; kill(): void }> = [];
    let eventbridge: ReturnType<typeof createServer>;
    let ebUrl = "";
    const put: string[] = [];
    beforeAll(async () => {
      eventbridge = createServer((req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c));
        req.on("end", () => {
          const entries = (JSON.parse(body) as { Entries: Array<{ DetailType: string }> }).Entries;
          put.push(...entries.map((e) => e.DetailType));
          res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
          res.end(
            JSON.stringify({ Entries: entries.map((_, i) => ({ EventId: `e${i}` })), FailedEntryCount: 0 }),
          );
        });
      });
      await new Promise<void>((r) => eventbridge.listen(0, "127.0.0.1", () => r()));
      ebUrl = `http://127.0.0.1:${(eventbridge.address() as AddressInfo).port}`;
    });
    afterAll(() => {
      for (const c of children) c.kill();
      eventbridge?.close();
    });

    it("the Lambda bundle handles the API Gateway sample and puts incident.opened on EventBridge", async () => {
      const url = await freshPostgresUrl();
      if (!url) throw new Error("needs PostgreSQL");
      const harness = `const { handler } = await import(process.argv[1]);
const out = await handler(JSON.parse(process.argv[2]), { functionName: "t" });
process.stdout.write(JSON.stringify(out));
process.exit(0);`;
      const { stdout } = await run(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          harness,
          join(root, "dist/lambda/alert-intake/index.js"),
          sampleText("platform/aws/apigw-v2-alertmanager.json"),
        ],
        {
          env: {
            PATH: process.env.PATH,
            DATABASE_URL: url,
            AWS_LAMBDA_FUNCTION_NAME: "prophet-dev-alertIntake",
            AWS_REGION: "eu-west-1",
            AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
            AWS_SECRET_ACCESS_KEY: "x",
            EVENTBRIDGE_ENDPOINT: ebUrl,
            LOG_LEVEL: "silent",
          },
          timeout: 30_000,
        },
      );
      expect(JSON.parse(stdout)).toMatchObject({ statusCode: 200 });
      expect(put).toEqual(["io.prophet.incident.opened", "io.prophet.incident.opened"]);
    });

    it("a Lambda without DATABASE_URL says so instead of failing obscurely", async () => {
      const harness = `const { handler } = await import(process.argv[1]);
try { await handler({ schedule: "audit-verify" }, {}); } catch (e) { process.stdout.write(e.message); }
process.exit(0);`;
      const { stdout } = await run(
        process.execPath,
        ["--input-type=module", "-e", harness, join(root, "dist/lambda/audit-verify/index.js")],
        {
          env: { PATH: process.env.PATH, AWS_LAMBDA_FUNCTION_NAME: "x", LOG_LEVEL: "silent" },
          timeout: 30_000,
        },
      );
      expect(stdout).toMatch(/DATABASE_URL is required on AWS Lambda/);
    });

    it("the image's entrypoint (infra/knative/serve.ts) serves the function FUNCTION_TARGET names", async () => {
      const url = await freshPostgresUrl();
      if (!url) throw new Error("needs PostgreSQL");
      const port = await freePort();
      const received: string[] = [];
      const sink = createServer((req, res) => {
        received.push(String(req.headers["ce-type"]));
        req.resume();
        req.on("end", () => {
          res.writeHead(202);
          res.end();
        });
      });
      await new Promise<void>((r) => sink.listen(0, "127.0.0.1", () => r()));
      const child = spawn(process.execPath, ["--import", "tsx", join(root, "infra/knative/serve.ts")], {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          FUNCTION_TARGET: "audit-verify",
          PORT: String(port),
          DATABASE_URL: url,
          K_SINK: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
          K_SERVICE: "prophet-audit-verify",
          LOG_LEVEL: "silent",
        },
        stdio: "ignore",
      });
      children.push(child);
      try {
        let res: Response | undefined;
        const deadline = Date.now() + 20_000;
        while (!res) {
          // A PingSource tick, as Knative delivers it.
          res = await fetch(`http://127.0.0.1:${port}/`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "ce-specversion": "1.0",
              "ce-id": "x1",
              "ce-source": "/apis/v1/namespaces/prophet/pingsources/audit-verify",
              "ce-type": "dev.knative.sources.ping",
              "ce-time": "2026-11-22T10:15:00Z",
            },
            body: JSON.stringify({ schedule: "audit-verify" }),
          }).catch(() => undefined);
          if (!res) {
            if (Date.now() > deadline) throw new Error("serve.ts did not start");
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        const body = JSON.stringify(await res.json());
        expect(res.status, body).toBe(200);
        expect(JSON.parse(body)).toMatchObject({ results: [{ status: "handled" }] });
        expect(received).toEqual(["io.prophet.audit.verified"]);
      } finally {
        child.kill();
        sink.close();
      }
      const bad = await run(process.execPath, ["--import", "tsx", join(root, "infra/knative/serve.ts")], {
        cwd: root,
        env: { PATH: process.env.PATH, FUNCTION_TARGET: "nope" },
      }).catch((e: { code: number; stderr: string }) => e);
      expect(bad).toMatchObject({ code: 66 });
      expect((bad as { stderr: string }).stderr).toContain("no bundle for nope");
    });

    it("the Functions Framework bundle serves as the container does (functions-framework --target)", async () => {
      const url = await freshPostgresUrl();
      if (!url) throw new Error("needs PostgreSQL");
      const port = await freePort();
      const sink = createServer((req, res) => {
        req.resume();
        req.on("end", () => {
          res.writeHead(202);
          res.end();
        });
      });
      await new Promise<void>((r) => sink.listen(0, "127.0.0.1", () => r()));
      const child = spawn(
        join(root, "node_modules/.bin/functions-framework"),
        ["--target=alert-intake", `--source=dist/gcp/alert-intake/index.js`, `--port=${port}`],
        {
          cwd: root,
          env: {
            PATH: process.env.PATH,
            DATABASE_URL: url,
            K_SERVICE: "prophet-alert-intake",
            K_SINK: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
            LOG_LEVEL: "silent",
          },
          stdio: "ignore",
        },
      );
      children.push(child);
      try {
        let res: Response | undefined;
        const deadline = Date.now() + 20_000;
        while (!res) {
          res = await fetch(`http://127.0.0.1:${port}/alertmanager`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: sampleText("alertmanager/webhook-v4-kube-pod-crashlooping.json"),
          }).catch(() => undefined);
          if (!res) {
            if (Date.now() > deadline) throw new Error("functions-framework did not start");
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({
          accepted: 2,
          results: [{ status: "handled" }, { status: "handled" }],
        });
      } finally {
        child.kill();
        sink.close();
      }
    });

    it("the MCP server is its own function: dist/gcp/mcp served by functions-framework --target=mcp", async () => {
      const url = await freshPostgresUrl();
      if (!url) throw new Error("needs PostgreSQL");
      const port = await freePort();
      const token = "deploy-mcp-token-0123456789";
      const child = spawn(
        join(root, "node_modules/.bin/functions-framework"),
        ["--target=mcp", `--source=dist/gcp/mcp/index.js`, `--port=${port}`],
        {
          cwd: root,
          env: {
            PATH: process.env.PATH,
            DATABASE_URL: url,
            K_SERVICE: "prophet-mcp",
            PROPHET_MCP_TOKENS: `agent:${token}=*`,
            LOG_LEVEL: "silent",
          },
          stdio: "ignore",
        },
      );
      children.push(child);
      try {
        const endpoint = `http://127.0.0.1:${port}/`;
        const deadline = Date.now() + 20_000;
        let refused: Response | undefined;
        while (!refused) {
          refused = await fetch(endpoint, { method: "POST", body: "{}" }).catch(() => undefined);
          if (!refused) {
            if (Date.now() > deadline) throw new Error("functions-framework did not start");
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        expect(refused.status).toBe(401);
        const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
        const { StreamableHTTPClientTransport } =
          await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
        const client = new Client({ name: "deploy-spec", version: "1.0.0" });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(endpoint), {
            requestInit: { headers: { authorization: `Bearer ${token}` } },
          }),
        );
        try {
          const { tools } = await client.listTools();
          expect(tools.map((t) => t.name)).toContain("propose_remediation");
          expect(tools).toHaveLength(12);
          const r = (await client.callTool({ name: "list_clusters", arguments: {} })) as {
            isError?: boolean;
            content: { text: string }[];
          };
          expect(r.isError).toBeFalsy();
          expect(JSON.parse(r.content[0]!.text)).toMatchObject({ default: "local" });
        } finally {
          await client.close();
        }
        // Audited in the deployment's store, as the agent named by its token.
        const { Client: Pg } = await import("pg");
        const pg = new Pg({ connectionString: url });
        await pg.connect();
        try {
          const { rows } = await pg.query(
            "SELECT actor FROM audit_log WHERE action = 'mcp.tool.list_clusters'",
          );
          expect(rows).toEqual([{ actor: "mcp:agent" }]);
        } finally {
          await pg.end();
        }
      } finally {
        child.kill();
      }
    });
  });
});
