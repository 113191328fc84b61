// Secrets on Lambda: a secret variable may be given as a reference instead of its value,
// `<VAR>_SSM` (an SSM Parameter Store name, read with decryption) or `<VAR>_SECRET_ARN` (a Secrets
// Manager secret's ARN, its SecretString). References are resolved once per container, before the
// configuration is loaded; values are never logged, and a failed read stops the cold start naming
// the variable and the reference, never a value.
import { ProphetError } from "../../shared/errors.js";

/** The variables that may be given by reference: the credentials of shared/config.ts. */
export const secretVariables = [
  "DATABASE_URL",
  "OPENAI_API_KEY",
  "SLACK_WEBHOOK_URL",
  "PROPHET_NOTIFY_WEBHOOK_URL",
  "PROPHET_APPROVAL_KEY",
  "PROPHET_MASK_KEY",
  "PROMETHEUS_BEARER_TOKEN",
  "PROPHET_MCP_TOKENS",
] as const;
export type SecretVariable = (typeof secretVariables)[number];

export type SecretReference = { kind: "ssm"; name: string } | { kind: "secretsmanager"; arn: string };

/** `<VAR>_SSM` / `<VAR>_SECRET_ARN`: the environment variable that carries a reference. */
export const referenceVariable = (v: SecretVariable, ref: SecretReference["kind"]) =>
  ref === "ssm" ? `${v}_SSM` : `${v}_SECRET_ARN`;

export const secretArnPattern = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/;
export const parameterNamePattern = /^\/?[\w.\-/]+$/;

type Env = Record<string, string | undefined>;
const set = (v: string | undefined): v is string => v !== undefined && v !== "";

/** The references an environment gives, checked; a variable given twice over is refused. */
export function secretReferences(env: Env): Map<SecretVariable, SecretReference> {
  const refs = new Map<SecretVariable, SecretReference>();
  const problems: Array<{ path: string; message: string }> = [];
  for (const v of secretVariables) {
    const ssm = env[referenceVariable(v, "ssm")];
    const arn = env[referenceVariable(v, "secretsmanager")];
    const given = [set(env[v]) && v, set(ssm) && `${v}_SSM`, set(arn) && `${v}_SECRET_ARN`].filter(
      (x): x is string => typeof x === "string",
    );
    if (given.length > 1) {
      problems.push({ path: v, message: `given more than once (${given.join(", ")}): set one` });
      continue;
    }
    if (set(ssm)) {
      if (!parameterNamePattern.test(ssm))
        problems.push({ path: `${v}_SSM`, message: `expected an SSM parameter name; got ${ssm}` });
      else refs.set(v, { kind: "ssm", name: ssm });
    } else if (set(arn)) {
      if (!secretArnPattern.test(arn))
        problems.push({
          path: `${v}_SECRET_ARN`,
          message: `expected a Secrets Manager secret ARN; got ${arn}`,
        });
      else refs.set(v, { kind: "secretsmanager", arn });
    }
  }
  if (problems.length)
    throw new ProphetError(
      "invalid_config",
      `invalid secret references:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`,
      problems,
    );
  return refs;
}

export interface SecretClientOptions {
  region?: string;
  /** Tests point the SDK clients at a local server; deployments use the AWS_ENDPOINT_URL_* defaults. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts?: number;
}

export type SecretReader = (ref: SecretReference) => Promise<string>;

/** Reads references with the AWS SDK (loaded only when a reference is given). */
export function awsSecretReader(opts: SecretClientOptions = {}): SecretReader {
  const config = {
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
  };
  let ssm: Promise<(name: string) => Promise<string | undefined>> | undefined;
  let sm: Promise<(arn: string) => Promise<string | undefined>> | undefined;
  return async (ref) => {
    if (ref.kind === "ssm") {
      ssm ??= import("@aws-sdk/client-ssm").then(({ SSMClient, GetParameterCommand }) => {
        const client = new SSMClient(config);
        return async (name) =>
          (await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;
      });
      const value = await (await ssm)(ref.name);
      if (value === undefined) throw new Error("the parameter has no value");
      return value;
    }
    sm ??= import("@aws-sdk/client-secrets-manager").then(
      ({ SecretsManagerClient, GetSecretValueCommand }) => {
        const client = new SecretsManagerClient(config);
        return async (arn) => (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
      },
    );
    const value = await (await sm)(ref.arn);
    if (value === undefined)
      throw new Error("the secret has no SecretString (binary secrets are not supported)");
    return value;
  };
}

const describe = (v: SecretVariable, ref: SecretReference) =>
  ref.kind === "ssm"
    ? `SSM parameter ${ref.name} (${v}_SSM)`
    : `Secrets Manager secret ${ref.arn} (${v}_SECRET_ARN)`;

/**
 * The environment with every reference replaced by its value (`<VAR>` set, `<VAR>_SSM` /
 * `<VAR>_SECRET_ARN` removed). The input is not changed. All references are read in parallel.
 */
export async function resolveSecretReferences(
  env: Env,
  read: SecretReader = awsSecretReader(),
): Promise<Env> {
  const refs = secretReferences(env);
  if (refs.size === 0) return env;
  const out: Env = { ...env };
  await Promise.all(
    [...refs].map(async ([v, ref]) => {
      let value: string;
      try {
        value = await read(ref);
      } catch (err) {
        const e = err as { name?: string; message?: string };
        // The SDK's message names the reference and the denied principal, never the value.
        const why = [e.name && e.name !== "Error" ? e.name : "", e.message ?? ""].filter(Boolean).join(": ");
        throw new ProphetError("invalid_config", `${v}: cannot read ${describe(v, ref)}: ${why}`, [
          { path: v, message: `cannot read ${describe(v, ref)}` },
        ]);
      }
      out[v] = value;
      delete out[referenceVariable(v, ref.kind)];
    }),
  );
  return out;
}

/** Resolves once per container; a failure is retried by the next invocation (a cold start again). */
export function secretsOnce(env: Env, read?: SecretReader): () => Promise<Env> {
  let pending: Promise<Env> | undefined;
  return () => {
    pending ??= resolveSecretReferences(env, read).catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}
