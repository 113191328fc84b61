// What each deploy target creates and runs, built from functions/registry.ts: a list of steps,
// each a command (argv) and the resources it creates. deploy.ts prints or runs them; tests read
// them. Nothing here touches the network or the clock.
import { functions } from "../../functions/registry.js";
import type { ProphetFunction } from "../../shared/function.js";
import type { ClusterDefinition } from "../../shared/clusters/definition.js";
import type { SecretReference, SecretVariable } from "../aws/secrets.js";
import {
  awsCron,
  busTypes,
  camel,
  roleStatements,
  serverlessConfig,
  takesAlerts,
  minScaleOf,
  triggerName,
} from "../build/manifests.js";
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
  /** Directory the command runs in, relative to the repository (default: the repository). */
  cwd?: string;
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
  /** The clusters file (`--clusters-file`): its path, and its clusters as read by deploy.ts. */
  clustersFile?: string;
  clusters?: readonly ClusterDefinition[];
  /** Secret variables given by reference (`--database-url-ssm`, `--secret VAR=<ref>`); AWS only. */
  secrets?: Partial<Record<SecretVariable, SecretReference>>;
}

/** The clusters every schedule fires for; [undefined] (one unscoped tick) without a clusters file. */
const scheduleClusters = (o: PlanOptions): Array<string | undefined> =>
  o.clustersFile && o.clusters?.length ? o.clusters.map((c) => c.name) : [undefined];
const forCluster = (c: string | undefined) => (c ? ` for cluster ${c}` : "");

/** `--secret` values as given: an SSM parameter name, or a Secrets Manager ARN. */
export function formatSecretRef(ref: SecretReference): string {
  return ref.kind === "ssm" ? ref.name : ref.arn;
}

/**
 * Writes what this deploy adds to the committed, generated files (infra/deploy/render.ts): the
 * clusters file beside the bundles, per-cluster schedules, secret references. After the build,
 * which empties dist/.
 */
function renderStep(target: Target, o: PlanOptions): Step | undefined {
  const needed = o.clustersFile || (target === "aws" && Object.keys(o.secrets ?? {}).length);
  if (!needed) return undefined;
  const argv = ["npx", "tsx", "infra/deploy/render.ts", target, "--env", o.env];
  if (o.clustersFile) argv.push("--clusters-file", o.clustersFile);
  for (const [v, ref] of Object.entries(o.secrets ?? {}))
    argv.push("--secret", `${v}=${formatSecretRef(ref)}`);
  const where = {
    knative: `dist/deploy/knative/${o.env}/ (the ${o.env} overlay, per-cluster PingSources, the clusters file as ConfigMap prophet-clusters)`,
    aws: `dist/serverless.yml (service directory dist/)${o.clustersFile ? ", dist/clusters.json" : ""}`,
    gcp: "dist/gcp/<function>/clusters.json",
    azure: "dist/azure/<function>/clusters.json",
  }[target];
  return { title: `write this deploy's files: ${where}`, command: argv, creates: [] };
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
    const min = overlay.minScale[fn.name] ?? minScaleOf(fn);
    creates.push(`ServiceAccount prophet-${fn.name}`);
    creates.push(`Service prophet-${fn.name}: ${fn.name}, image ${image}, min-scale ${min}`);
    for (const t of busTypes(fn)) creates.push(`Trigger ${triggerName(fn, t)}: ${fn.name} on type=${t}`);
    for (const s of fn.schedules ?? [])
      for (const c of scheduleClusters(o))
        creates.push(
          `PingSource ${c ? `${s.name}-${c}` : s.name}: ${fn.name} at "${s.cron}" UTC${forCluster(c)}`,
        );
  }
  const render = renderStep("knative", o);
  if (render) {
    creates.push(`ConfigMap prophet-clusters: the clusters file, PROPHET_CLUSTERS_FILE of every Service`);
    steps.push(render);
  }
  steps.push({
    title: `apply the ${overlay.name} overlay (namespace ${overlay.namespace}, remediation ${overlay.remediationMode}); RBAC per function included`,
    command: [
      "kubectl",
      "apply",
      "-k",
      render ? `dist/deploy/knative/${overlay.name}` : `manifests/knative/overlays/${overlay.name}`,
    ],
    creates,
  });
  return steps;
}

function aws(o: PlanOptions): Step[] {
  const fns = o.fns ?? functions;
  const deploy = {
    ...(o.clusters && o.clustersFile ? { clusters: o.clusters } : {}),
    secrets: o.secrets ?? {},
  };
  const cfg = serverlessConfig(fns, deploy) as {
    functions: Record<string, { events: Array<Record<string, unknown>> }>;
  };
  const creates = [
    `EventBus prophet-${o.env}`,
    `SQS Queue prophet-${o.env}-dead-letters: failed EventBridge deliveries and failed bus invocations`,
    `HttpApi: POST /alertmanager`,
  ];
  for (const fn of fns) {
    const events = cfg.functions[camel(fn.name)]?.events ?? [];
    const may = roleStatements(fn, deploy).flatMap((st) => st.Action);
    creates.push(`Lambda prophet-${o.env}-${camel(fn.name)}: ${fn.name}`);
    creates.push(`IAM Role prophet-${o.env}-${o.region}-${camel(fn.name)}: ${may.join(", ")}`);
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
    for (const s of fn.schedules ?? [])
      for (const c of scheduleClusters(o))
        creates.push(`Schedule ${s.name} → ${fn.name}: ${awsCron(s.cron)}${forCluster(c)}`);
  }
  const secrets = Object.entries(o.secrets ?? {}).map(
    ([v, ref]) =>
      `${v} from ${ref.kind === "ssm" ? "SSM parameter" : "Secrets Manager secret"} ${formatSecretRef(ref)}`,
  );
  const render = renderStep("aws", o);
  return [
    build,
    ...(render ? [render] : []),
    {
      title: `serverless deploy (framework v3) to stage ${o.env}, region ${o.region}; ${secrets.length ? `${secrets.join("; ")} (read at cold start)` : "DATABASE_URL from the environment"}`,
      command: ["npx", "serverless", "deploy", "--stage", o.env, "--region", o.region],
      creates,
      ...(render ? { cwd: "dist" } : {}),
    },
  ];
}

/**
 * What a Cloud Scheduler job posts: a structured CloudEvent (a ping, as Knative's PingSource sends,
 * which the edge turns into io.prophet.schedule.tick) with the cluster extension. It has no `id`
 * and no `time`: Cloud Scheduler cannot vary its body, and the CloudEvents SDK at the edge gives
 * each delivery a new id and the time it arrives, so every run is a new tick.
 */
export function schedulerCloudEvent(
  o: Pick<PlanOptions, "gcpProject" | "region">,
  job: string,
  schedule: string,
  cluster?: string,
): Record<string, unknown> {
  return {
    specversion: "1.0",
    type: "dev.knative.sources.ping",
    source: `//cloudscheduler.googleapis.com/projects/${o.gcpProject}/locations/${o.region}/jobs/${job}`,
    datacontenttype: "application/json",
    ...(cluster ? { cluster } : {}),
    data: { schedule },
  };
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
  const render = renderStep("gcp", o);
  if (render) steps.splice(1, 0, render);
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
        `--set-env-vars=PUBSUB_TOPIC=${topic},PROPHET_CLUSTER=default${o.clustersFile ? ",PROPHET_CLUSTERS_FILE=/workspace/clusters.json" : ""}`,
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
      for (const c of scheduleClusters(o)) {
        const job = c ? `prophet-${s.name}-${c}` : `prophet-${s.name}`;
        steps.push({
          title: `Cloud Scheduler: ${s.name} ticks ${fn.name}${forCluster(c)}`,
          command: [
            "gcloud",
            "scheduler",
            "jobs",
            "create",
            "http",
            job,
            `--location=${o.region}`,
            `--schedule=${s.cron}`,
            "--time-zone=Etc/UTC",
            `--uri=https://${o.region}-${o.gcpProject}.cloudfunctions.net/${name}`,
            "--http-method=POST",
            `--message-body=${JSON.stringify(schedulerCloudEvent(o, job, s.name, c))}`,
            "--headers=content-type=application/cloudevents+json",
            `--oidc-service-account-email=prophet-scheduler@${o.gcpProject}.iam.gserviceaccount.com`,
            ...p,
          ],
          creates: [`Scheduler job ${job} → ${fn.name}: "${s.cron}" UTC${forCluster(c)}`],
        });
      }
  }
  return steps;
}

function azure(o: PlanOptions): Step[] {
  const fns = o.fns ?? functions;
  const g = ["--resource-group", o.azureResourceGroup];
  const topic = `prophet-${o.env}-events`;
  const render = renderStep("azure", o);
  const steps: Step[] = [
    build,
    ...(render ? [render] : []),
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
        ...(fn.schedules ?? []).map(
          (s) =>
            `Timer ${fn.name}-${s.name} → ${fn.name}: "${s.cron}" UTC${o.clustersFile ? " (a v4 timer carries no cluster: the adapter fans it out per cluster, ADR 0013)" : ""}`,
        ),
      ],
    });
    if (o.clustersFile)
      steps.push({
        title: `${fn.name} serves the registered clusters (the clusters file published with the bundle)`,
        command: [
          "az",
          "functionapp",
          "config",
          "appsettings",
          "set",
          "--name",
          app,
          ...g,
          "--settings",
          "PROPHET_CLUSTERS_FILE=/home/site/wwwroot/clusters.json",
        ],
        creates: [`App setting ${app}: PROPHET_CLUSTERS_FILE`],
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
    const cmd = s.command?.map(shellQuote).join(" ");
    if (cmd) lines.push(`   $ ${s.cwd ? `(cd ${s.cwd} && ${cmd})` : cmd}`);
    for (const c of s.creates) lines.push(`   + ${c}`);
  });
  return lines.join("\n") + "\n";
}

function shellQuote(a: string): string {
  if (/^\$\(.*\)/.test(a) || /^[\w@%+=:,./-]+$/.test(a)) return a.startsWith("$(") ? `"${a}"` : a;
  return `'${a.replace(/'/g, `'\\''`)}'`;
}
