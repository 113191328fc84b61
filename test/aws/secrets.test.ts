// Secret references on Lambda, against a local server answering as SSM and Secrets Manager do
// (JSON 1.1 protocol, recorded response shapes): values resolved once, errors name the variable
// and the reference but never a value.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  awsSecretReader,
  resolveSecretReferences,
  secretsOnce,
  type SecretReader,
} from "../../infra/aws/secrets.js";
import { loadConfig } from "../../shared/config.js";

const account = "123456789012";
const dbUrl = "postgres://prophet:s3cr3t-pw@db.internal:5432/prophet";
const openAiKey = "sk-test-0123456789abcdef";
const dbParam = "/prophet/prod/database-url";
const openAiArn = `arn:aws:secretsmanager:eu-west-1:${account}:secret:prophet/prod/openai-AbCdEf`;
const deniedArn = `arn:aws:secretsmanager:eu-west-1:${account}:secret:prophet/prod/slack-QwErTy`;

/** Recorded shapes of GetParameter and GetSecretValue answers and errors. */
function answer(target: string, body: Record<string, unknown>): [number, Record<string, unknown>] {
  if (target === "AmazonSSM.GetParameter") {
    if (body.Name === dbParam)
      return [
        200,
        {
          Parameter: {
            ARN: `arn:aws:ssm:eu-west-1:${account}:parameter${dbParam}`,
            DataType: "text",
            LastModifiedDate: 1.700000000123e9,
            Name: dbParam,
            Type: "SecureString",
            Value: dbUrl,
            Version: 3,
          },
        },
      ];
    if (body.Name === "/prophet/prod/denied")
      return [
        400,
        {
          __type: "AccessDeniedException",
          Message: `User: arn:aws:sts::${account}:assumed-role/prophet-prod-eu-west-1-alertIntake/prophet-prod-alertIntake is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:eu-west-1:${account}:parameter/prophet/prod/denied because no identity-based policy allows the ssm:GetParameter action`,
        },
      ];
    return [400, { __type: "ParameterNotFound" }];
  }
  if (target === "secretsmanager.GetSecretValue") {
    if (body.SecretId === openAiArn)
      return [
        200,
        {
          ARN: openAiArn,
          CreatedDate: 1.69e9,
          Name: "prophet/prod/openai",
          SecretString: openAiKey,
          VersionId: "3c1b2a4e-5f6d-4e8a-9b0c-1d2e3f4a5b6c",
          VersionStages: ["AWSCURRENT"],
        },
      ];
    return [
      400,
      {
        __type: "AccessDeniedException",
        Message: `User: arn:aws:sts::${account}:assumed-role/prophet-prod-eu-west-1-alertIntake/x is not authorized to perform: secretsmanager:GetSecretValue on resource: ${String(body.SecretId)} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      },
    ];
  }
  return [400, { __type: "UnknownOperationException" }];
}

describe("secret references resolved at cold start", () => {
  let server: Server;
  let endpoint = "";
  const requests: Array<{ target: string; body: Record<string, unknown>; auth: string }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c));
      req.on("end", () => {
        const target = String(req.headers["x-amz-target"]);
        const body = JSON.parse(text) as Record<string, unknown>;
        requests.push({ target, body, auth: String(req.headers.authorization) });
        const [status, reply] = answer(target, body);
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "r-1" });
        res.end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const reader = (at = endpoint): SecretReader =>
    awsSecretReader({
      endpoint: at,
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "fake-secret" },
      maxAttempts: 1,
    });

  it("replaces <VAR>_SSM and <VAR>_SECRET_ARN with the values, which then configure Prophet", async () => {
    requests.length = 0;
    const env = {
      DATABASE_URL_SSM: dbParam,
      OPENAI_API_KEY_SECRET_ARN: openAiArn,
      OPENAI_MODEL: "gpt-4o-mini",
      AWS_LAMBDA_FUNCTION_NAME: "prophet-prod-alertIntake",
    };
    const out = await resolveSecretReferences(env, reader());
    expect(out.DATABASE_URL).toBe(dbUrl);
    expect(out.OPENAI_API_KEY).toBe(openAiKey);
    expect(out.DATABASE_URL_SSM).toBeUndefined();
    expect(out.OPENAI_API_KEY_SECRET_ARN).toBeUndefined();
    expect(env).not.toHaveProperty("DATABASE_URL"); // the input is left alone
    const cfg = loadConfig(out);
    expect(cfg.DATABASE_URL).toBe(dbUrl);
    expect(cfg.OPENAI_API_KEY).toBe(openAiKey);
    // The SDK spoke the JSON 1.1 protocol, signed, and asked SSM to decrypt.
    expect(requests.map((r) => r.target).sort()).toEqual([
      "AmazonSSM.GetParameter",
      "secretsmanager.GetSecretValue",
    ]);
    expect(requests.find((r) => r.target === "AmazonSSM.GetParameter")?.body).toEqual({
      Name: dbParam,
      WithDecryption: true,
    });
    for (const r of requests) expect(r.auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\//);
  });

  it("an environment without references is returned as it is, without a call", async () => {
    requests.length = 0;
    const env = { DATABASE_URL: dbUrl };
    expect(await resolveSecretReferences(env, reader())).toBe(env);
    expect(requests).toHaveLength(0);
  });

  it("is read once per container; a failure is retried by the next invocation", async () => {
    let calls = 0;
    let fail = true;
    const counting: SecretReader = (ref) => {
      calls++;
      if (fail) return Promise.reject(new Error("throttled"));
      return reader()(ref);
    };
    const once = secretsOnce({ DATABASE_URL_SSM: dbParam }, counting);
    await expect(once()).rejects.toThrow(/throttled/);
    fail = false;
    const [a, b] = await Promise.all([once(), once()]);
    expect(a.DATABASE_URL).toBe(dbUrl);
    expect(b).toBe(a);
    expect((await once()).DATABASE_URL).toBe(dbUrl);
    expect(calls).toBe(2);
  });

  it("AccessDeniedException stops the cold start naming the variable and the parameter, not a value", async () => {
    const err = await resolveSecretReferences(
      { DATABASE_URL_SSM: "/prophet/prod/denied", OPENAI_API_KEY_SECRET_ARN: openAiArn },
      reader(),
    ).catch((e: Error & { code?: string }) => e);
    expect(err).toMatchObject({ code: "invalid_config" });
    expect((err as Error).message).toMatch(
      /^DATABASE_URL: cannot read SSM parameter \/prophet\/prod\/denied \(DATABASE_URL_SSM\): AccessDeniedException: .*not authorized to perform: ssm:GetParameter/,
    );
    expect((err as Error).message).not.toContain(openAiKey);
  });

  it("Secrets Manager's AccessDeniedException names the secret's ARN", async () => {
    await expect(
      resolveSecretReferences({ SLACK_WEBHOOK_URL_SECRET_ARN: deniedArn }, reader()),
    ).rejects.toThrow(
      `SLACK_WEBHOOK_URL: cannot read Secrets Manager secret ${deniedArn} (SLACK_WEBHOOK_URL_SECRET_ARN): AccessDeniedException`,
    );
  });

  it("ParameterNotFound names the missing parameter", async () => {
    await expect(
      resolveSecretReferences({ PROPHET_APPROVAL_KEY_SSM: "/prophet/prod/missing" }, reader()),
    ).rejects.toThrow(
      /^PROPHET_APPROVAL_KEY: cannot read SSM parameter \/prophet\/prod\/missing \(PROPHET_APPROVAL_KEY_SSM\): ParameterNotFound/,
    );
  });

  it("a network error names the reference too", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    await expect(resolveSecretReferences({ DATABASE_URL_SSM: dbParam }, reader(dead))).rejects.toThrow(
      /^DATABASE_URL: cannot read SSM parameter \/prophet\/prod\/database-url \(DATABASE_URL_SSM\): .*ECONNREFUSED/,
    );
  });

  it("a variable given both as a value and a reference, or a malformed reference, is refused before any call", async () => {
    requests.length = 0;
    await expect(
      resolveSecretReferences({ DATABASE_URL: dbUrl, DATABASE_URL_SSM: dbParam }, reader()),
    ).rejects.toThrow(/DATABASE_URL: given more than once \(DATABASE_URL, DATABASE_URL_SSM\)/);
    const bad = await resolveSecretReferences(
      { OPENAI_API_KEY_SECRET_ARN: "arn:aws:ssm:eu-west-1:1:parameter/x" },
      reader(),
    ).catch((e: Error) => e);
    expect((bad as Error).message).toContain(
      "OPENAI_API_KEY_SECRET_ARN: expected a Secrets Manager secret ARN",
    );
    expect(requests).toHaveLength(0);
  });
});
