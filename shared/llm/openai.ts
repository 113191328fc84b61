// The LLM port over the `openai` client, for any OpenAI-compatible chat-completions endpoint:
// OpenAI, Azure OpenAI (its /openai/v1/ endpoint), Ollama and vLLM (…/v1). The client module is
// imported on the first call, so functions that never explain anything never load it.
//
// Structured output: `response_format: json_schema` (strict) first; an endpoint that rejects it
// with a 400 is asked again with `json_object` and the schema spelled out in the prompt, and is
// remembered as such. Either way the content is parsed and validated with zod here.

// Types only: erased at build time, so the module still loads on the first call.
import type * as OpenAiTypes from "openai";
import { z } from "zod";
import { redactUrl } from "../ports/log.js";
import { LlmError, type ChatMessage, type LlmPort, type LlmRequest, type LlmResult } from "../ports/llm.js";

export interface OpenAiCompatibleOptions {
  /** e.g. https://api.openai.com/v1, http://localhost:11434/v1; the OpenAI API when absent. */
  baseURL?: string;
  /** Optional for local servers (Ollama, vLLM) that ignore it. */
  apiKey?: string;
  model: string;
  /** Deadline per call, retries included. */
  timeoutMs?: number;
  /** Attempts after the first, for 429, 5xx and connection errors only. */
  maxRetries?: number;
  /** Base of the exponential back-off between attempts. */
  retryDelayMs?: number;
  maxTokens?: number;
  /** Start with json_object (for servers known not to support json_schema). */
  responseFormat?: "json_schema" | "json_object";
}

/** What a chat completion must look like; anything else is not an OpenAI-compatible answer. */
const completionSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullable().optional(),
        message: z.object({
          content: z.string().nullable().optional(),
          refusal: z.string().nullable().optional(),
        }),
      }),
    )
    .min(1),
  usage: z
    .object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() })
    .optional()
    .nullable(),
});

type OpenAiModule = typeof OpenAiTypes;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "output" }) as Record<string, unknown>;
  return rest;
}

function preview(text: string): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > 120 ? `${t.slice(0, 120)}…` : t;
}

export function openAiCompatible(opts: OpenAiCompatibleOptions): LlmPort {
  const endpoint = opts.baseURL ?? "https://api.openai.com/v1";
  const shown = redactUrl(endpoint);
  // Error messages end up in logs and in the diagnosis: never with the key in them.
  const hide = (text: string) => (opts.apiKey ? text.split(opts.apiKey).join("[redacted]") : text);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const maxRetries = opts.maxRetries ?? 2;
  const retryDelayMs = opts.retryDelayMs ?? 300;
  // OpenAI's reasoning models reject max_tokens; other servers know only max_tokens.
  const host = new URL(endpoint).hostname;
  const azure = host.endsWith(".openai.azure.com") || host.endsWith(".services.ai.azure.com");
  const tokenParam = host === "api.openai.com" || azure ? "max_completion_tokens" : "max_tokens";
  let format = opts.responseFormat ?? "json_schema";
  let client: Promise<{ mod: OpenAiModule; api: InstanceType<OpenAiModule["default"]> }> | undefined;

  const connect = () =>
    (client ??= import("openai").then((mod) => ({
      mod,
      api: new mod.default({
        baseURL: endpoint,
        // The client insists on a key; local servers accept any.
        apiKey: opts.apiKey ?? "unused",
        maxRetries: 0,
        logLevel: "off",
        // Azure's /openai/v1/ takes the key as `api-key` as well as a bearer token.
        ...(azure && opts.apiKey ? { defaultHeaders: { "api-key": opts.apiKey } } : {}),
      }),
    })));

  async function attempt<T>(
    req: LlmRequest<T>,
    signal: AbortSignal,
  ): Promise<{ body: unknown; content: string }> {
    const { mod, api } = await connect();
    const messages: ChatMessage[] =
      format === "json_object"
        ? [
            ...req.messages,
            {
              role: "system",
              content: `Answer with one JSON object only, matching this JSON schema:\n${JSON.stringify(jsonSchemaOf(req.schema))}`,
            },
          ]
        : req.messages;
    const response_format =
      format === "json_schema"
        ? {
            type: "json_schema" as const,
            json_schema: { name: req.schemaName, strict: true, schema: jsonSchemaOf(req.schema) },
          }
        : { type: "json_object" as const };
    let body: unknown;
    try {
      body = await api.chat.completions.create(
        {
          model: opts.model,
          messages,
          response_format,
          temperature: 0,
          [tokenParam]: req.maxTokens ?? opts.maxTokens ?? 800,
        },
        { signal },
      );
    } catch (err) {
      if (err instanceof mod.APIUserAbortError || signal.aborted)
        throw new LlmError("timeout", `${shown} did not answer within ${req.timeoutMs ?? timeoutMs} ms`, {
          cause: err,
        });
      if (err instanceof mod.APIConnectionError)
        throw new LlmError("unavailable", `cannot reach ${shown}: ${hide(err.message)}`, { cause: err });
      if (err instanceof mod.APIError) {
        const status = err.status ?? 0;
        if (status === 400 && format === "json_schema" && /response_format|json_schema/i.test(err.message)) {
          format = "json_object";
          return attempt(req, signal);
        }
        const code = status === 429 || status >= 500 ? "unavailable" : "rejected";
        throw new LlmError(code, `${shown} answered ${status}: ${hide(err.message)}`, { cause: err });
      }
      // A JSON content type with a body that does not parse.
      throw new LlmError("bad_response", `${shown} answered a body that is not JSON: ${String(err)}`, {
        cause: err,
      });
    }
    if (typeof body === "string")
      throw new LlmError(
        "bad_response",
        `${shown} answered with non-JSON (is it an OpenAI-compatible /v1 endpoint?): ${preview(body)}`,
      );
    const parsed = completionSchema.safeParse(body);
    if (!parsed.success)
      throw new LlmError(
        "bad_response",
        `${shown} answered JSON that is not a chat completion: ${preview(JSON.stringify(body))}`,
      );
    const choice = parsed.data.choices[0]!;
    if (choice.message.refusal) throw new LlmError("refused", `the model refused: ${choice.message.refusal}`);
    if (choice.finish_reason === "length")
      throw new LlmError("refused", "the answer was cut off at the token limit");
    if (choice.finish_reason === "content_filter")
      throw new LlmError("refused", "the answer was withheld by the content filter");
    return { body: parsed.data, content: choice.message.content ?? "" };
  }

  return {
    model: opts.model,
    async complete<T>(req: LlmRequest<T>): Promise<LlmResult<T>> {
      const deadline = AbortSignal.timeout(req.timeoutMs ?? timeoutMs);
      let lastError: LlmError | undefined;
      for (let i = 0; i <= maxRetries; i++) {
        if (i > 0) await sleep(retryDelayMs * 2 ** (i - 1));
        if (deadline.aborted)
          throw lastError ?? new LlmError("timeout", `no answer from ${shown} within the deadline`);
        let out: { body: unknown; content: string };
        try {
          out = await attempt(req, deadline);
        } catch (err) {
          if (!(err instanceof LlmError)) throw err;
          if (err.code !== "unavailable") throw err;
          lastError = err;
          continue;
        }
        const { body, content } = out;
        let json: unknown;
        try {
          json = JSON.parse(content);
        } catch {
          throw new LlmError("invalid_json", `the model's answer is not JSON: ${preview(content)}`);
        }
        const value = req.schema.safeParse(json);
        if (!value.success)
          throw new LlmError(
            "schema_mismatch",
            `the model's answer does not match ${req.schemaName}: ${value.error.issues
              .slice(0, 3)
              .map((x) => `${x.path.join(".") || "(root)"}: ${x.message}`)
              .join("; ")}`,
          );
        const c = body as z.infer<typeof completionSchema>;
        return {
          value: value.data,
          model: c.model ?? opts.model,
          ...(c.usage
            ? {
                usage: {
                  promptTokens: c.usage.prompt_tokens,
                  completionTokens: c.usage.completion_tokens,
                  totalTokens: c.usage.total_tokens,
                },
              }
            : {}),
        };
      }
      throw new LlmError(
        "unavailable",
        `${lastError?.message ?? endpoint} (gave up after ${maxRetries + 1} attempts)`,
        { cause: lastError },
      );
    },
  };
}
