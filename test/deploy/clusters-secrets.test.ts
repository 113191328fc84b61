// A deploy with a clusters file and secret references: every schedule once per registered cluster
// (serverless.yml inputs, PingSources with the cluster extension, Cloud Scheduler CloudEvents), each
// Lambda its own role scoped to what it does, and the secret references wired to IAM.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { functions } from "../../functions/registry.js";
import { camel, knativeDocuments, roleStatements, serverlessConfig } from "../../infra/build/manifests.js";
import { main, parseArgs } from "../../infra/deploy/deploy.js";
import { plan, renderPlan, schedulerCloudEvent } from "../../infra/deploy/plan.js";
import { renderDeploy } from "../../infra/deploy/render.js";
import { eventsFromHttp } from "../../shared/events/edge/http.js";
import type { ClusterDefinition } from "../../shared/clusters/definition.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "prophet-deploy-clusters-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const clusters: ClusterDefinition[] = [
  { name: "shop-prod", source: "eks", region: "eu-west-1", cluster: "shop-prod", account: "111122223333" },
  { name: "dev", source: "kubeconfig", kubeconfig: "/etc/kube/dev", context: "kind-dev" },
];
const clustersFile = join(dir, "clusters.json");
writeFileSync(clustersFile, JSON.stringify({ version: 1, clusters }));
const scheduled = functions.filter((f) => f.schedules?.length);
const scheduleCount = functions.flatMap((f) => f.schedules ?? []).length;
const json = (v: unknown) => JSON.stringify(v);

describe("per-cluster schedules", () => {
  it("serverless.yml: one schedule per function schedule × cluster, the cluster in the input", () => {
    const cfg = serverlessConfig(functions, { clusters }) as {
      functions: Record<string, { events: Array<{ schedule?: { input: Record<string, string> } }> }>;
    };
    for (const fn of scheduled) {
      const inputs = cfg.functions[camel(fn.name)]!.events.flatMap((e) =>
        e.schedule ? [e.schedule.input] : [],
      );
      expect(inputs).toEqual(
        fn.schedules!.flatMap((s) => clusters.map((c) => ({ schedule: s.name, cluster: c.name }))),
      );
    }
    // Without a clusters file: one unscoped schedule each, as committed.
    const plain = serverlessConfig() as typeof cfg;
    expect(plain.functions.sloCheck!.events.flatMap((e) => (e.schedule ? [e.schedule.input] : []))).toEqual([
      { schedule: "slo-check" },
    ]);
  });

  it("Knative: a PingSource per schedule × cluster with the cluster CloudEvents extension", () => {
    const pings = knativeDocuments(functions, { clusters }).filter((d) => d.kind === "PingSource") as Array<{
      metadata: { name: string };
      spec: { data: string; ceOverrides?: { extensions: { cluster: string } } };
    }>;
    expect(pings).toHaveLength(scheduleCount * clusters.length);
    const slo = pings.find((p) => p.metadata.name === "slo-check-shop-prod");
    expect(slo?.spec.ceOverrides).toEqual({ extensions: { cluster: "shop-prod" } });
    expect(JSON.parse(slo!.spec.data)).toEqual({ schedule: "slo-check" });
    expect(knativeDocuments().filter((d) => d.kind === "PingSource")).toHaveLength(scheduleCount);
  });

  it("Knative deploy overlay: kustomize renders it, unscoped PingSources replaced, clusters file mounted", async () => {
    const out = join(dir, "out");
    renderDeploy("knative", { env: "production", clustersFile }, out);
    const rendered = (await run("kubectl", ["kustomize", join(out, "deploy/knative/production")])).stdout;
    const docs = parseAllDocuments(rendered).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec?: unknown },
    );
    const pings = docs.filter((d) => d.kind === "PingSource");
    expect(pings.map((p) => p.metadata.name).sort()).toEqual(
      functions
        .flatMap((f) => f.schedules ?? [])
        .flatMap((s) => clusters.map((c) => `${s.name}-${c.name}`))
        .sort(),
    );
    for (const p of pings) expect(p.metadata.namespace).toBe("prophet");
    const cm = docs.find(
      (d) => d.kind === "ConfigMap" && d.metadata.name === "prophet-clusters",
    ) as unknown as {
      data: Record<string, string>;
    };
    expect(JSON.parse(cm.data["clusters.json"]!)).toMatchObject({
      clusters: [{ name: "shop-prod" }, { name: "dev" }],
    });
    const services = docs.filter((d) => d.kind === "Service" && d.metadata.name.startsWith("prophet-"));
    expect(services.length).toBe(functions.length);
    for (const s of services) {
      const text = json(s.spec);
      expect(text).toContain('{"name":"PROPHET_CLUSTERS_FILE","value":"/etc/prophet/clusters.json"}');
      expect(text).toContain('"configMap":{"name":"prophet-clusters"}');
    }
  });

  it("Cloud Scheduler: a job per schedule × cluster posting a structured CloudEvent the edge turns into that cluster's tick", () => {
    const steps = plan("gcp", { gcpProject: "acme", clustersFile, clusters });
    const jobs = steps.filter(
      (s) => s.command?.slice(0, 5).join(" ") === "gcloud scheduler jobs create http",
    );
    expect(jobs).toHaveLength(scheduleCount * clusters.length);
    const job = jobs.find((s) => s.command!.includes("prophet-slo-check-dev"))!.command!;
    expect(job).toContain("--headers=content-type=application/cloudevents+json");
    const body = job.find((a) => a.startsWith("--message-body="))!.slice("--message-body=".length);
    expect(JSON.parse(body)).toEqual(
      schedulerCloudEvent(
        { gcpProject: "acme", region: "europe-west1" },
        "prophet-slo-check-dev",
        "slo-check",
        "dev",
      ),
    );
    // What the function's HTTP edge makes of two deliveries of that body: ticks for `dev`, each new.
    const deliver = () =>
      eventsFromHttp(
        { method: "POST", path: "/", headers: { "content-type": "application/cloudevents+json" }, body },
        { now: new Date("2026-11-22T10:15:00Z"), cluster: "default" },
      )[0]!;
    const [a, b] = [deliver(), deliver()];
    expect(a).toMatchObject({
      type: "io.prophet.schedule.tick",
      cluster: "dev",
      data: { schedule: "slo-check" },
    });
    expect(a.id).not.toBe(b.id);
    const deploys = steps.filter((s) => s.command?.slice(0, 3).join(" ") === "gcloud functions deploy");
    for (const d of deploys)
      expect(d.command!.join(" ")).toContain("PROPHET_CLUSTERS_FILE=/workspace/clusters.json");
  });

  it("the dry runs list the per-cluster schedules; Azure says its timers stay unscoped", () => {
    let printed = "";
    main(
      ["aws", "--dry-run", "--clusters-file", clustersFile],
      () => true,
      (s) => (printed += s),
    );
    expect(printed).toContain("$ npx tsx infra/deploy/render.ts aws --env staging --clusters-file");
    expect(printed).toContain("$ (cd dist && npx serverless deploy --stage staging --region europe-west1)");
    expect(printed).toContain("Schedule slo-check → slo-check: cron(* * * * ? *) for cluster shop-prod");
    expect(printed).toContain("Schedule slo-check → slo-check: cron(* * * * ? *) for cluster dev");
    const knative = renderPlan("knative", plan("knative", { clustersFile, clusters }));
    expect(knative).toContain("PingSource audit-verify-dev: audit-verify");
    expect(knative).toContain("$ kubectl apply -k dist/deploy/knative/staging");
    const azure = renderPlan("azure", plan("azure", { clustersFile, clusters }));
    expect(azure).toContain("(a v4 timer carries no cluster: the adapter fans it out per cluster, ADR 0013)");
    expect(azure).toContain("PROPHET_CLUSTERS_FILE=/home/site/wwwroot/clusters.json");
    expect(() =>
      main(
        ["aws", "--dry-run", "--clusters-file", join(dir, "none.json")],
        () => true,
        () => 0,
      ),
    ).toThrow(/registers no cluster/);
  });
});

describe("per-function IAM and secret references", () => {
  const secrets = {
    DATABASE_URL: { kind: "ssm" as const, name: "/prophet/prod/database-url" },
    OPENAI_API_KEY: {
      kind: "secretsmanager" as const,
      arn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prophet/openai-AbCdEf",
    },
  };

  it("a function that emits nothing cannot put events; one that emits can, on this bus only", () => {
    for (const fn of functions) {
      const actions = roleStatements(fn).flatMap((s) => s.Action);
      expect(actions.includes("events:PutEvents"), fn.name).toBe(fn.emits.length > 0);
      expect(actions.includes("sqs:SendMessage"), fn.name).toBe(
        fn.accepts.some((t) => t !== "io.prophet.schedule.tick"),
      );
      expect(
        actions.some((a) => a.startsWith("ssm:") || a.startsWith("eks:")),
        fn.name,
      ).toBe(false);
    }
    expect(functions.find((f) => f.name === "incident-notify")?.emits).toEqual([]);
  });

  it("secret references: env names the reference instead of the value; IAM reads exactly that parameter and secret", () => {
    const cfg = serverlessConfig(functions, { secrets }) as {
      provider: { environment: Record<string, string> };
    };
    expect(cfg.provider.environment).not.toHaveProperty("DATABASE_URL");
    expect(cfg.provider.environment.DATABASE_URL_SSM).toBe("/prophet/prod/database-url");
    expect(cfg.provider.environment.OPENAI_API_KEY_SECRET_ARN).toBe(secrets.OPENAI_API_KEY.arn);
    for (const fn of functions) {
      const st = roleStatements(fn, { secrets });
      const ssm = st.filter((s) => s.Action.some((a) => a.startsWith("ssm:")));
      expect(ssm).toHaveLength(1);
      expect(ssm[0]!.Action).toEqual(["ssm:GetParameter"]);
      expect(json(ssm[0]!.Resource)).toContain('":parameter/prophet/prod/database-url"');
      const sm = st.find((s) => s.Action.includes("secretsmanager:GetSecretValue"));
      expect(sm?.Resource).toEqual([secrets.OPENAI_API_KEY.arn]);
    }
  });

  it("eks:DescribeCluster on the registered EKS clusters, for functions that reach a cluster only", () => {
    const diag = roleStatements(
      functions.find((f) => f.name === "alert-diagnosis")!,
      { clusters },
    );
    const eks = diag.find((s) => s.Action.includes("eks:DescribeCluster"));
    expect(json(eks?.Resource)).toContain('"eu-west-1",":","111122223333",":cluster/shop-prod"');
    const audit = roleStatements(
      functions.find((f) => f.name === "audit-verify")!,
      { clusters },
    );
    expect(audit.some((s) => s.Action.includes("eks:DescribeCluster"))).toBe(false);
  });

  it("the deploy flags: --database-url-ssm and --secret; bad ones are refused", () => {
    expect(parseArgs(["aws", "--database-url-ssm", "/prophet/prod/database-url"]).opts.secrets).toEqual({
      DATABASE_URL: { kind: "ssm", name: "/prophet/prod/database-url" },
    });
    expect(
      parseArgs(["aws", "--secret", `OPENAI_API_KEY=${secrets.OPENAI_API_KEY.arn}`]).opts.secrets,
    ).toEqual({
      OPENAI_API_KEY: secrets.OPENAI_API_KEY,
    });
    expect(() => parseArgs(["aws", "--secret", "HOME=/x"])).toThrow(/HOME is not a secret variable/);
    expect(() => parseArgs(["aws", "--secret", "OPENAI_API_KEY=arn:aws:iam::1:role/x"])).toThrow(
      /expected a Secrets Manager secret ARN/,
    );
    expect(() => parseArgs(["knative", "--database-url-ssm", "/x"])).toThrow(/resolved on AWS Lambda only/);
    const text = renderPlan("aws", plan("aws", { env: "prod", secrets }));
    expect(text).toContain("DATABASE_URL from SSM parameter /prophet/prod/database-url");
    expect(text).toContain("--secret DATABASE_URL=/prophet/prod/database-url");
    expect(text).toMatch(
      /IAM Role prophet-prod-europe-west1-incidentNotify: logs:CreateLogStream, logs:PutLogEvents, sqs:SendMessage, ssm:GetParameter, secretsmanager:GetSecretValue\n/,
    );
  });
});
