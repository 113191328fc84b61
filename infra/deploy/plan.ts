// What each deploy target creates and runs, built from functions/registry.ts: a list of steps,
// each a command (argv) and the resources it creates. deploy.ts prints or runs them; tests read
// them. Nothing here touches the network or the clock.
import { functions } from "../../functions/registry.js";
import type { ProphetFunction } from "../../shared/function.js";
import { awsCron, busTypes, camel, serverlessConfig, takesAlerts, triggerName } from "../build/manifests.js";
import { overlays } from "../knative/kustomize.js";

export type Target = "knative" | "aws" | "gcp" | "azure";
export const targets: readonly Target[] = ["knative", "aws", "gcp", "azure"];

export interface Step {
  /** Why the step exists, one line. */
  title: string;
  /** argv; undefined for a step that only reports (e.g. "no container tool"). */
  command?: string[];
  /** What the step creates or updates, one line each: "<kind> <name>: <detail>". */
  creates: string[];
}

export interface PlanOptions {
  /** Knative overlay, serverless stage. */
  env: string;
  /** Container tool found on PATH with a reachable engine, if any (knative image build). */
  containerTool?: "docker" | "podman" | "buildah";
  gcpProject: string;
  region: string;
  azureResourceGroup: string;
  image: string;
  fns?: readonly ProphetFunction[];
}

export const defaultPlanOptions: PlanOptions = {
  env: "staging",
  gcpProject: "${GOOGLE_CLOUD_PROJECT}",
  region: "europe-west1",
  azureResourceGroup: "prophet",
  image: "ghcr.io/prophet-aiops/prophet-functions:0.1.0",
};

const build: Step = {
  title: "bundle every function for every runtime (dist/<runtime>/<function>/)",
  command: ["npm", "run", "build"],
  creates: [],
};

function knative(o: PlanOptions): Step[] {
  const fns = o.fns ?? functions;
  const overlay = overlays.find((x) => x.name === o.env);
  if (!overlay) throw new Error(`no Knative overlay ${o.env}: ${overlays.map((x) => x.name).join(", ")}`);
  const image = o.image.replace(/:[^:/]+$/, `:${overlay.imageTag}`);
  const steps: Step[] = [build];
  if (o.containerTool) {
    const argv =
      o.containerTool === "buildah"
        ? ["buildah", "bud", "-f", "infra/knative/Dockerfile", "-t", image, "."]
        : [o.containerTool, "build", "-f", "infra/knative/Dockerfile", "-t", image, "."];
    steps.push({
      title: "build the function image (one image, FUNCTION_TARGET selects)",
      command: argv,
      creates: [`Image ${image}`],
    });
    steps.push({ title: "push the image", command: [o.containerTool, "push", image], creates: [] });
  } else
    steps.push({
      title: `no container tool (docker/podman/buildah with a running engine) found: image ${image} is not built; build and push infra/knative/Dockerfile elsewhere`,
      creates: [],
    });
  const creates = [
    `Namespace ${overlay.namespace}`,
    `Broker prophet`,
    `SinkBinding prophet-functions: K_SINK of every Prophet Service = the Broker`,
  ];
  for (const fn of fns) {
    const min = overlay.minScale[fn.name] ?? (takesAlerts(fn) ? 1 : 0);
    creates.push(`ServiceAccount prophet-${fn.name}`);
    creates.push(`Service prophet-${fn.name}: ${fn.name}, image ${image}, min-scale ${min}`);
    for (const t of busTypes(fn)) creates.push(`Trigger ${triggerName(fn, t)}: ${fn.name} on type=${t}`);
    for (const s of fn.schedules ?? []) creates.push(`PingSource ${s.name}: ${fn.name} at "${s.cron}" UTC`);
  }
  steps.push({
    title: `apply the ${overlay.name} overlay (namespace ${overlay.namespace}, remediation ${overlay.remediationMode}); RBAC per function included`,
    command: ["kubectl", "apply", "-k", `manifests/knative/overlays/${overlay.name}`],
    creates,
  });
  return steps;
}

function aws(o: PlanOptions): Step[] {
  const cfg = serverlessConfig() as {
    functions: Record<string, { events: Array<Record<string, unknown>> }>;
  };
  const fns = o.fns ?? functions;
  const creates = [
    `EventBus prophet-${o.env}`,
    `SQS Queue prophet-${o.env}-dead-letters: failed EventBridge deliveries`,
    `HttpApi: POST /alertmanager`,
  ];
  for (const fn of fns) {
    const events = cfg.functions[camel(fn.name)]?.events ?? [];
    creates.push(
      `Lambda prophet-${o.env}-${camel(fn.name)}: ${fn.name}, role prophet-${o.env}-${camel(fn.name)}`,
    );
    for (const e of events) {
      if (e.httpApi) {
        const h = e.httpApi as { method: string; path: string };
        creates.push(`HttpApi route ${h.method} ${h.path} → ${fn.name}`);
      }
      if (e.eventBridge)
        creates.push(
          `EventBridge rule → ${fn.name}: detail-type ${busTypes(fn).join(", ")} (DLQ, 8 retries)`,
        );
    }
    for (const s of fn.schedules ?? []) creates.push(`Schedule ${s.name} → ${fn.name}: ${awsCron(s.cron)}`);
  }
  return [
    build,
    {
      title: `serverless deploy (framework v3) to stage ${o.env}, region ${o.region}; DATABASE_URL from SSM /prophet/${o.env}/database-url`,
      command: ["npx", "serverless", "deploy", "--stage", o.env, "--region", o.region],
      creates,
    },
  ];
}

function gcp(o: PlanOptions): Step[] {
  const fns = o.fns ?? functions;
  const p = ["--project", o.gcpProject];
  const topic = `prophet-${o.env}-events`;
  const steps: Step[] = [
    build,
    {
      title: "the event topic every function publishes to (PUBSUB_TOPIC)",
      command: ["gcloud", "pubsub", "topics", "create", topic, ...p],
      creates: [`Pub/Sub topic ${topic}`],
    },
  ];
  for (const fn of fns) {
    const name = `prophet-${fn.name}`;
    steps.push({
      title: `deploy ${fn.name} (Cloud Functions gen2 on Cloud Run)`,
      command: [
        "gcloud",
        "functions",
        "deploy",
        name,
        "--gen2",
        "--runtime=nodejs22",
        `--region=${o.region}`,
        `--source=dist/gcp/${fn.name}`,
        `--entry-point=${fn.name}`,
        "--trigger-http",
        takesAlerts(fn) ? "--allow-unauthenticated" : "--no-allow-unauthenticated",
        `--service-account=${name}@${o.gcpProject}.iam.gserviceaccount.com`,
        `--set-env-vars=PUBSUB_TOPIC=${topic},PROPHET_CLUSTER=default`,
        "--set-secrets=DATABASE_URL=prophet-database-url:latest",
        ...p,
      ],
      creates: [`Cloud Function ${name}: ${fn.name}`],
    });
    if (busTypes(fn).length)
      steps.push({
        title: `Eventarc: ${fn.name} receives the topic's events (its edge takes ${busTypes(fn).join(", ")})`,
        command: [
          "gcloud",
          "eventarc",
          "triggers",
          "create",
          `${name}-events`,
          `--location=${o.region}`,
          `--destination-run-service=${name}`,
          `--destination-run-region=${o.region}`,
          "--event-filters=type=google.cloud.pubsub.topic.v1.messagePublished",
          `--transport-topic=${topic}`,
          `--service-account=${name}@${o.gcpProject}.iam.gserviceaccount.com`,
          ...p,
        ],
        creates: [`Eventarc trigger ${name}-events → ${fn.name}: ${busTypes(fn).join(", ")}`],
      });
    for (const s of fn.schedules ?? [])
      steps.push({
        title: `Cloud Scheduler: ${s.name} ticks ${fn.name}`,
        command: [
          "gcloud",
          "scheduler",
          "jobs",
          "create",
          "http",
          `prophet-${s.name}`,
          `--location=${o.region}`,
          `--schedule=${s.cron}`,
          "--time-zone=Etc/UTC",
          `--uri=https://${o.region}-${o.gcpProject}.cloudfunctions.net/${name}`,
          "--http-method=POST",
          `--message-body={"schedule":"${s.name}"}`,
          "--headers=content-type=application/json",
          `--oidc-service-account-email=prophet-scheduler@${o.gcpProject}.iam.gserviceaccount.com`,
          ...p,
        ],
        creates: [`Scheduler job prophet-${s.name} → ${fn.name}: "${s.cron}" UTC`],
      });
  }
  return steps;
}

function azure(o: PlanOptions): Step[] {
  const fns = o.fns ?? functions;
  const g = ["--resource-group", o.azureResourceGroup];
  const topic = `prophet-${o.env}-events`;
  const steps: Step[] = [
    build,
    {
      title: "resource group, storage, Event Grid topic (CloudEvents schema) from infra/azure/main.bicep",
      command: [
        "az",
        "deployment",
        "group",
        "create",
        ...g,
        "--template-file",
        "infra/azure/main.bicep",
        "--parameters",
        `env=${o.env}`,
        `functionNames=${JSON.stringify(fns.map((f) => f.name))}`,
      ],
      creates: [
        `Event Grid topic ${topic}`,
        `Storage account for the function apps`,
        ...fns.map((f) => `Function app prophet-${o.env}-${f.name} (Node 22, v4 model, managed identity)`),
      ],
    },
  ];
  for (const fn of fns) {
    const app = `prophet-${o.env}-${fn.name}`;
    steps.push({
      title: `publish ${fn.name} (HTTP trigger${fn.schedules?.length ? ", timers" : ""}${busTypes(fn).length ? ", Event Grid trigger" : ""} registered by the bundle)`,
      command: [
        "func",
        "azure",
        "functionapp",
        "publish",
        app,
        "--javascript",
        "--script-root",
        `dist/azure/${fn.name}`,
      ],
      creates: [
        `Function ${app}/${fn.name}: HTTP /api/${fn.name}`,
        ...(fn.schedules ?? []).map((s) => `Timer ${fn.name}-${s.name} → ${fn.name}: "${s.cron}" UTC`),
      ],
    });
    if (busTypes(fn).length)
      steps.push({
        title: `Event Grid subscription: ${fn.name} on its types`,
        command: [
          "az",
          "eventgrid",
          "event-subscription",
          "create",
          "--name",
          `${app}-events`,
          "--source-resource-id",
          `$(az eventgrid topic show -n ${topic} -g ${o.azureResourceGroup} --query id -o tsv)`,
          "--endpoint-type",
          "azurefunction",
          "--endpoint",
          `$(az functionapp show -n ${app} -g ${o.azureResourceGroup} --query id -o tsv)/functions/${fn.name}-events`,
          "--event-delivery-schema",
          "cloudeventschemav1_0",
          "--advanced-filter",
          "type",
          "StringIn",
          ...busTypes(fn),
          "--deadletter-endpoint",
          `$(az storage account show -n prophet${o.env} -g ${o.azureResourceGroup} --query id -o tsv)/blobServices/default/containers/dead-letters`,
        ],
        creates: [`Event Grid subscription ${app}-events → ${fn.name}: ${busTypes(fn).join(", ")}`],
      });
  }
  return steps;
}

export function plan(target: Target, opts: Partial<PlanOptions> = {}): Step[] {
  const o = { ...defaultPlanOptions, ...opts };
  return { knative, aws, gcp, azure }[target](o);
}

/** The plan as a person reads it: numbered steps, the command, what it creates. */
export function renderPlan(target: Target, steps: Step[]): string {
  const lines = [`Prophet deploy plan: ${target} (dry run: nothing is run)`];
  steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s.title}`);
    if (s.command) lines.push(`   $ ${s.command.map(shellQuote).join(" ")}`);
    for (const c of s.creates) lines.push(`   + ${c}`);
  });
  return lines.join("\n") + "\n";
}

function shellQuote(a: string): string {
  if (/^\$\(.*\)/.test(a) || /^[\w@%+=:,./-]+$/.test(a)) return a.startsWith("$(") ? `"${a}"` : a;
  return `'${a.replace(/'/g, `'\\''`)}'`;
}
