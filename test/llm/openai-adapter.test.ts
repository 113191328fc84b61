// The OpenAI-compatible adapter against a loopback server with recorded response shapes: what it
// sends, what it accepts, and the typed error each kind of failure becomes.
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { openAiCompatible, type OpenAiCompatibleOptions } from "../../shared/llm/openai.js";
import { LlmError } from "../../shared/ports/llm.js";
import { completion, fixture, startFakeOpenAi, type FakeOpenAi, type Reply } from "./fake-openai.js";

const schema = z.object({ summary: z.string(), findings: z.array(z.number().int()) });
const request = {
  messages: [{ role: "user" as const, content: "Explain finding [0]." }],
  schema,
  schemaName: "test_answer",
};
const good = JSON.stringify({ summary: "ok", findings: [0] });

let fake: FakeOpenAi | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function adapter(respond: (n: number) => Reply, opts: Partial<OpenAiCompatibleOptions> = {}) {
  await fake?.close();
  fake = await startFakeOpenAi((_req, n) => respond(n));
  return openAiCompatible({
    baseURL: fake.url,
    apiKey: "sk-test-key",
    model: "gpt-4o-mini",
    timeoutMs: 2000,
    retryDelayMs: 5,
    ...opts,
  });
}

async function failure(p: Promise<unknown>): Promise<LlmError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LlmError);
  return err as LlmError;
}

describe("openAiCompatible", () => {
  it("asks for strict json_schema output and returns the validated object with usage", async () => {
    const llm = await adapter(() => ({ json: completion("openai-chat-completion.json", good) }));
    const res = await llm.complete({ ...request, maxTokens: 300 });
    expect(res).toEqual({
      value: { summary: "ok", findings: [0] },
      model: "gpt-4o-mini-2024-07-18",
      usage: { promptTokens: 1187, completionTokens: 214, totalTokens: 1401 },
    });
    const body = JSON.parse(fake!.requests[0]!.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      model: "gpt-4o-mini",
      max_tokens: 300,
      temperature: 0,
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "test_answer",
          strict: true,
          schema: { type: "object", additionalProperties: false },
        },
      },
    });
    expect(fake!.requests[0]!.headers.authorization).toBe("Bearer sk-test-key");
  });

  it("accepts Ollama's answer shape (no refusal, no details) and works without an API key", async () => {
    fake = await startFakeOpenAi(() => ({ json: completion("ollama-chat-completion.json", good) }));
    const llm = openAiCompatible({ baseURL: fake.url, model: "llama3.1:8b", responseFormat: "json_object" });
    const res = await llm.complete(request);
    expect(res.model).toBe("llama3.1:8b");
    expect(res.value.findings).toEqual([0]);
    expect(JSON.parse(fake.requests[0]!.body)).toMatchObject({ response_format: { type: "json_object" } });
  });

  it("falls back to json_object once an endpoint rejects json_schema, and remembers it", async () => {
    const llm = await adapter((n) =>
      n === 1
        ? { status: 400, json: fixture("openai-error-json-schema-unsupported.json") }
        : { json: completion("openai-chat-completion.json", good) },
    );
    await llm.complete(request);
    await llm.complete(request);
    const formats = fake!.requests.map(
      (r) => (JSON.parse(r.body) as { response_format: { type: string } }).response_format.type,
    );
    expect(formats).toEqual(["json_schema", "json_object", "json_object"]);
  });

  it("retries 429 and 5xx a bounded number of times", async () => {
    const llm = await adapter((n) =>
      n === 1
        ? { status: 429, json: fixture("openai-error-429.json") }
        : { json: completion("openai-chat-completion.json", good) },
    );
    expect((await llm.complete(request)).value.summary).toBe("ok");
    const failing = await adapter(() => ({ status: 503, json: fixture("openai-error-500.json") }), {
      maxRetries: 1,
    });
    const err = await failure(failing.complete(request));
    expect(err.code).toBe("unavailable");
    expect(err.message).toMatch(/503.*gave up after 2 attempts/);
    expect(fake!.requests).toHaveLength(2);
  });

  it("does not retry what a retry cannot fix (401, bad JSON, wrong shape, refusal)", async () => {
    const cases: Array<[Reply, string, RegExp]> = [
      [{ status: 401, json: { error: { message: "Incorrect API key provided" } } }, "rejected", /401/],
      [
        { json: completion("openai-chat-completion.json", "Sure! Here is the JSON: {") },
        "invalid_json",
        /not JSON: Sure!/,
      ],
      [
        { json: completion("openai-chat-completion.json", '{"summary": 3}') },
        "schema_mismatch",
        /test_answer: summary/,
      ],
      [{ json: fixture("openai-refusal.json") }, "refused", /can't assist/],
    ];
    for (const [reply, code, message] of cases) {
      const llm = await adapter(() => reply);
      const err = await failure(llm.complete(request));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      expect(fake!.requests).toHaveLength(1);
    }
  });

  it("says clearly when the endpoint is not an OpenAI-compatible API", async () => {
    const html = await adapter(() => ({
      text: "<html><body>Welcome to nginx!</body></html>",
      contentType: "text/html",
    }));
    const err = await failure(html.complete(request));
    expect(err.code).toBe("bad_response");
    expect(err.message).toMatch(/answered with non-JSON .*OpenAI-compatible.*Welcome to nginx/);
    const other = await adapter(() => ({ json: { status: "ok" } }));
    expect((await failure(other.complete(request))).message).toMatch(/not a chat completion/);
  });

  it("gives up at the deadline when the server never answers", async () => {
    const llm = await adapter(() => "hang");
    const started = performance.now();
    const err = await failure(llm.complete({ ...request, timeoutMs: 200 }));
    expect(err.code).toBe("timeout");
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
