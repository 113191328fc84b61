// The LLM port: one structured chat completion — messages in, a zod-validated JSON object out.
// Callers never see HTTP, retries or the provider; failures are LlmError values with a code the
// caller can branch on (every one of them means "use the rule-based answer instead").
import type { z } from "zod";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
  /**
   * Product text built only from code (an action catalogue, instructions) with no cluster or
   * alert data in it: sent as is, because masking its ordinary words ("a pod that …") would only
   * garble it. Never set this on a message that interpolates anything read at run time.
   */
  fixed?: true;
}

/** A user-defined name the caller knows is in the prompt (masked even when it looks like a word). */
export interface NameHint {
  /** Kubernetes kind or a category (Namespace, Pod, Node, Container, Image, Secret, …). */
  kind: string;
  value: string;
}

export interface LlmRequest<T> {
  messages: ChatMessage[];
  /** Validates the answer; also sent as the JSON schema when the endpoint supports it. */
  schema: z.ZodType<T>;
  /** A short identifier for the schema ([a-zA-Z0-9_-]), required by json_schema output. */
  schemaName: string;
  /** Upper bound for the completion's tokens; the adapter's default when absent. */
  maxTokens?: number;
  /** Deadline for the whole call, retries included; the adapter's default when absent. */
  timeoutMs?: number;
  /** Names to mask in addition to what the masking layer recognises by shape. */
  names?: readonly NameHint[];
  /**
   * The prompt's own snake_case identifiers (action, tool and answer field names such as
   * scale_deployment), sent as they are: the masking layer would otherwise take them for names.
   * Only words with an underscore count; a Kubernetes object name never has one.
   */
  vocabulary?: readonly string[];
}

export interface LlmResult<T> {
  value: T;
  /** The model that answered, as the endpoint reports it. */
  model: string;
  usage?: { promptTokens: number; completionTokens: number; totalTokens: number };
}

export interface LlmPort {
  /** The configured model, e.g. "gpt-4o-mini" or "llama3.1:8b". */
  readonly model: string;
  complete<T>(req: LlmRequest<T>): Promise<LlmResult<T>>;
}

export type LlmErrorCode =
  | "timeout"
  | "unavailable" // connection refused, 5xx, 429 after the bounded retries
  | "rejected" // 4xx other than 429: bad key, unknown model, unsupported request
  | "bad_response" // the endpoint answered something that is not a chat completion (HTML, text)
  | "invalid_json" // the model's content is not JSON
  | "schema_mismatch" // JSON, but not the requested shape
  | "refused" // the model refused, hit the token limit or the content filter
  | "ungrounded"; // valid shape, but it cites evidence that does not exist

export class LlmError extends Error {
  readonly code: LlmErrorCode;
  constructor(code: LlmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LlmError";
    this.code = code;
  }
}
