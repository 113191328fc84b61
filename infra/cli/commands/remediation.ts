// `prophet actions`, `prophet approvals` and `prophet remediations`. The action catalogue is read
// from the registry; approvals and remediations live in a running host's store, so those commands
// ask the host over HTTP (a local host owns its PGlite directory: opening it twice is not safe).
// Every failure is one line on stderr and exit code 1.
import { Option, type Command } from "commander";
import { z } from "zod";
import { actions } from "../../../shared/remediation/actions/index.js";

export class HostRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostRequestError";
  }
}

/** --url, else PROPHET_URL, else the local host on $PORT (8080). */
export function hostUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const url = flag ?? env.PROPHET_URL ?? `http://127.0.0.1:${env.PORT || "8080"}`;
  return url.replace(/\/+$/, "");
}

const errorBodySchema = z.object({ error: z.string().optional(), message: z.string() });

/** One JSON request to the host; every failure becomes a HostRequestError a person can act on. */
export async function requestHost(
  base: string,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      ...(body !== undefined
        ? { headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) }
        : { headers }),
      // Approving runs the action, which may wait for a rollout.
      signal: AbortSignal.timeout(method === "POST" ? 120_000 : 10_000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === "TimeoutError")
      throw new HostRequestError(`the Prophet host at ${base} did not answer in time`);
    const code = e.cause?.code ?? e.cause?.message ?? e.message;
    throw new HostRequestError(
      code === "ECONNREFUSED"
        ? `no Prophet host is running at ${base} (connection refused); start one with \`prophet start\` or pass --url`
        : `cannot reach the Prophet host at ${base}: ${code}`,
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const parsed = errorBodySchema.safeParse(json);
    const message = parsed.success ? parsed.data.message : text.slice(0, 200) || res.statusText;
    throw new HostRequestError(`${message} (HTTP ${res.status} from ${base}${path})`);
  }
  if (json === undefined) throw new HostRequestError(`${base}${path} did not answer with JSON`);
  return json;
}

const targetSchema = z.object({ kind: z.string(), namespace: z.string(), name: z.string() });

/** Fields the host's summary (infra/local/approvals.ts) and its full row have in common. */
const remediationFields = {
  id: z.string(),
  incidentId: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  action: z.string().nullable(),
  target: targetSchema.nullable(),
  params: z.record(z.string(), z.unknown()).nullable(),
  decider: z.string(),
  confidence: z.number(),
  mode: z.string(),
  expiresAt: z.string().nullable(),
  decidedBy: z.string().nullable(),
  createdAt: z.string(),
};

/** The fields the CLI shows of the host's remediation summary. */
const summarySchema = z.looseObject({
  ...remediationFields,
  rootCause: z.string(),
  rationale: z.string().nullable(),
  approvalReasons: z.array(z.string()),
  changes: z.array(z.string()),
});
type Summary = z.infer<typeof summarySchema>;

const listSchema = z.object({ items: z.array(summarySchema) });
const reviewSchema = z.object({ remediation: summarySchema.nullable() });
const detailSchema = z.looseObject({
  ...remediationFields,
  policyId: z.string(),
  executedAt: z.string().nullable(),
  score: z.number().nullable(),
  decision: z.looseObject({ rootCause: z.string() }),
  gate: z.looseObject({ verdict: z.string(), reason: z.string(), detail: z.string() }),
  result: z.looseObject({ changes: z.array(z.string()).optional(), error: z.string().optional() }).nullable(),
  audit: z.array(z.looseObject({ at: z.string(), action: z.string(), actor: z.string() })),
});

function parseAnswer<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HostRequestError(`unexpected answer from the host (${what})`);
  return parsed.data;
}

/** Aligned columns; the last one is not padded (it holds free text). */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return `${[header, ...rows].map(line).join("\n")}\n`;
}

const targetText = (t: z.infer<typeof targetSchema> | null) =>
  t ? `${t.kind}/${t.namespace ? `${t.namespace}/` : ""}${t.name}` : "-";

const outputOption = () =>
  new Option("-o, --output <format>", "table or json").choices(["table", "json"]).default("table");
const urlOption = () =>
  new Option("--url <url>", "the Prophet host (default $PROPHET_URL or http://127.0.0.1:$PORT, port 8080)");

const print = (text: string): void => {
  process.stdout.write(text);
};
const printJson = (value: unknown): void => print(`${JSON.stringify(value, null, 2)}\n`);

function fail(err: unknown): void {
  process.stderr.write(`prophet: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}

/** Runs a command body; any error is reported as one line and exit code 1. */
const guarded =
  <A extends unknown[]>(fn: (...args: A) => Promise<void> | void) =>
  async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (err) {
      fail(err);
    }
  };

export function actionCatalogue() {
  return actions.map((a) => ({
    name: a.name,
    scope: a.scope,
    targetKinds: [...a.targetKinds],
    requiresApproval: a.requiresApproval,
    readOnly: a.readOnly,
    description: a.description,
    whenToUse: a.whenToUse,
    whenNotToUse: a.whenNotToUse,
    params: z.toJSONSchema(a.params, { unrepresentable: "any", io: "input" }),
  }));
}

function registerActions(program: Command): void {
  const cmd = program.command("actions").description("the remediation actions Prophet can take");
  cmd
    .command("list")
    .description("list every action: scope, target kinds, approval, read-only, description")
    .addOption(outputOption())
    .action(
      guarded((opts: { output: "table" | "json" }) => {
        const list = actionCatalogue();
        if (opts.output === "json") return printJson(list);
        print(
          formatTable(
            ["NAME", "SCOPE", "TARGETS", "APPROVAL", "READ-ONLY", "DESCRIPTION"],
            list.map((a) => [
              a.name,
              a.scope,
              a.targetKinds.join(",") || "-",
              a.requiresApproval ? "required" : "policy",
              a.readOnly ? "yes" : "no",
              a.description,
            ]),
          ),
        );
      }),
    );
}

function verdictLine(id: string, rem: Summary | null): string {
  if (!rem) return `remediation ${id}: no longer recorded\n`;
  const by = rem.decidedBy ? ` by ${rem.decidedBy}` : "";
  const why = rem.reason && rem.reason !== rem.status ? ` (${rem.reason})` : "";
  const changes = rem.changes.map((c) => `  ${c}\n`).join("");
  return `remediation ${rem.id}: ${rem.status}${by}${why}\n${changes}`;
}

function registerApprovals(program: Command): void {
  const cmd = program.command("approvals").description("proposals waiting for a human, on a running host");
  cmd
    .command("list")
    .description("list the proposals waiting for approval")
    .addOption(urlOption())
    .addOption(outputOption())
    .action(
      guarded(async (opts: { url?: string; output: "table" | "json" }) => {
        const { items } = parseAnswer(
          listSchema,
          await requestHost(hostUrl(opts.url), "GET", "/api/approvals"),
          "approvals",
        );
        if (opts.output === "json") return printJson(items);
        if (items.length === 0) return print("no proposals waiting for approval\n");
        print(
          formatTable(
            ["ID", "ACTION", "TARGET", "CONFIDENCE", "EXPIRES", "WHY APPROVAL"],
            items.map((r) => [
              r.id,
              r.action ?? "-",
              targetText(r.target),
              r.confidence.toFixed(2),
              r.expiresAt ?? "-",
              r.approvalReasons.join("; "),
            ]),
          ),
        );
      }),
    );
  for (const verdict of ["approve", "reject"] as const) {
    cmd
      .command(verdict)
      .description(
        verdict === "approve"
          ? "approve a proposal: the host re-checks the gate and executes it"
          : "reject a proposal",
      )
      .argument("<id>", "the remediation id (see `prophet approvals list`)")
      .option("--actor <name>", "who decides (default cli:$USER)")
      .option("--comment <text>", "why, for the audit log")
      .addOption(urlOption())
      .action(
        guarded(async (id: string, opts: { actor?: string; comment?: string; url?: string }) => {
          const actor = opts.actor ?? `cli:${process.env.USER || "unknown"}`;
          const answer = await requestHost(
            hostUrl(opts.url),
            "POST",
            `/api/approvals/${encodeURIComponent(id)}/${verdict}`,
            { actor, ...(opts.comment ? { comment: opts.comment } : {}) },
          );
          print(verdictLine(id, parseAnswer(reviewSchema, answer, verdict).remediation));
        }),
      );
  }
}

function registerRemediations(program: Command): void {
  const cmd = program.command("remediations").description("remediation decisions, on a running host");
  cmd
    .command("list")
    .description("list remediations, newest first")
    .option("--status <list>", "only these statuses, comma-separated (proposed,executed,failed,…)")
    .option("--limit <n>", "at most this many", "100")
    .addOption(urlOption())
    .addOption(outputOption())
    .action(
      guarded(async (opts: { status?: string; limit: string; url?: string; output: "table" | "json" }) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new Error("--limit must be a positive integer");
        const query = new URLSearchParams({
          limit: String(limit),
          ...(opts.status ? { status: opts.status } : {}),
        });
        const { items } = parseAnswer(
          listSchema,
          await requestHost(hostUrl(opts.url), "GET", `/api/remediations?${query.toString()}`),
          "remediations",
        );
        if (opts.output === "json") return printJson(items);
        if (items.length === 0) return print("no remediations\n");
        print(
          formatTable(
            ["ID", "STATUS", "ACTION", "TARGET", "DECIDER", "CREATED", "REASON"],
            items.map((r) => [
              r.id,
              r.status,
              r.action ?? "-",
              targetText(r.target),
              r.decider,
              r.createdAt,
              r.reason ?? "",
            ]),
          ),
        );
      }),
    );
  cmd
    .command("show")
    .description("one remediation: decision, gate verdict, result and audit trail")
    .argument("<id>", "the remediation id")
    .addOption(urlOption())
    .addOption(outputOption())
    .action(
      guarded(async (id: string, opts: { url?: string; output: "table" | "json" }) => {
        const answer = await requestHost(
          hostUrl(opts.url),
          "GET",
          `/api/remediations/${encodeURIComponent(id)}`,
        );
        const r = parseAnswer(detailSchema, answer, "remediation");
        if (opts.output === "json") return printJson(answer);
        const rows: [string, string][] = [
          ["id", r.id],
          ["incident", r.incidentId],
          ["status", `${r.status}${r.reason ? ` (${r.reason})` : ""}`],
          ["action", r.action ?? "-"],
          ["target", targetText(r.target)],
          ["params", JSON.stringify(r.params ?? {})],
          ["decider", `${r.decider} (confidence ${r.confidence})`],
          ["mode", `${r.mode}, policy ${r.policyId}`],
          ["root cause", r.decision.rootCause],
          ["gate", `${r.gate.verdict} (${r.gate.reason}): ${r.gate.detail}`],
          ["expires", r.expiresAt ?? "-"],
          ["decided by", r.decidedBy ?? "-"],
          ["created", r.createdAt],
          ["executed", r.executedAt ?? "-"],
          ["score", r.score === null ? "-" : String(r.score)],
        ];
        const width = Math.max(...rows.map(([k]) => k.length));
        let text = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join("");
        const changes = r.result?.changes ?? [];
        if (changes.length) text += `changes:\n${changes.map((c) => `  ${c}\n`).join("")}`;
        if (r.result?.error) text += `error: ${r.result.error}\n`;
        if (r.audit.length)
          text += `audit:\n${r.audit.map((a) => `  ${a.at}  ${a.action}  ${a.actor}\n`).join("")}`;
        print(text);
      }),
    );
}

const quarantineListSchema = z.object({
  items: z.array(
    z.object({
      namespace: z.string(),
      pod: z.string(),
      remediationId: z.string().nullable(),
      expires: z.string().nullable(),
    }),
  ),
});
const releaseSchema = z.object({
  results: z.array(z.looseObject({ function: z.string(), status: z.string() })),
});

function registerQuarantine(program: Command): void {
  const cmd = program
    .command("quarantine")
    .description("pods quarantined by quarantine_pod, on a running host (hubble-quarantine)");
  cmd
    .command("list")
    .description("list the quarantined pods")
    .addOption(urlOption())
    .addOption(outputOption())
    .action(
      guarded(async (opts: { url?: string; output: "table" | "json" }) => {
        const { items } = parseAnswer(
          quarantineListSchema,
          await requestHost(hostUrl(opts.url), "GET", "/api/quarantines"),
          "quarantines",
        );
        if (opts.output === "json") return printJson(items);
        if (items.length === 0) return print("no pods quarantined\n");
        print(
          formatTable(
            ["POD", "REMEDIATION", "EXPIRES"],
            items.map((q) => [`${q.namespace}/${q.pod}`, q.remediationId ?? "-", q.expires ?? "never"]),
          ),
        );
      }),
    );
  cmd
    .command("release")
    .description("release a quarantined pod now: its labels restored, its deny policy removed")
    .argument("<namespace/pod>", "the pod (see `prophet quarantine list`)")
    .requiredOption("--reason <text>", "why the quarantine can end, for the audit log")
    .option("--actor <name>", "who releases (default cli:$USER)")
    .addOption(urlOption())
    .action(
      guarded(async (ref: string, opts: { reason: string; actor?: string; url?: string }) => {
        const [namespace, pod, ...extra] = ref.split("/");
        if (!namespace || !pod || extra.length)
          throw new HostRequestError(`expected <namespace>/<pod>, got "${ref}"`);
        const answer = parseAnswer(
          releaseSchema,
          await requestHost(
            hostUrl(opts.url),
            "POST",
            `/api/quarantines/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}/release`,
            { actor: opts.actor ?? `cli:${process.env.USER || "unknown"}`, reason: opts.reason },
          ),
          "release",
        );
        if (!answer.results.some((r) => r.function === "hubble-quarantine"))
          throw new HostRequestError("the host runs no hubble-quarantine function to release the pod");
        print(`released ${namespace}/${pod}\n`);
      }),
    );
}

export function register(program: Command): void {
  registerActions(program);
  registerApprovals(program);
  registerRemediations(program);
  registerQuarantine(program);
}
