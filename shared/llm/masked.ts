// The LLM port that functions get: it masks every message before the inner port sees it and
// unmasks the answer before the caller does. Built around the adapter in infra/runtime/deps.ts,
// so no caller can send an unmasked prompt by forgetting to mask it.
import type { LlmPort, LlmRequest, LlmResult } from "../ports/llm.js";
import { createMasker, mapStrings } from "./masking.js";

export function maskedLlm(inner: LlmPort, key: string | Uint8Array): LlmPort {
  return {
    model: inner.model,
    async complete<T>(req: LlmRequest<T>): Promise<LlmResult<T>> {
      // One masker per call: the mapping lives only as long as the call.
      const masker = createMasker(key, req.vocabulary);
      for (const n of req.names ?? []) if (n.value) masker.token(n.kind, n.value);
      const { names: _names, vocabulary: _vocabulary, ...rest } = req;
      const res = await inner.complete({
        ...rest,
        messages: req.messages.map((m) => ({
          role: m.role,
          content: m.fixed ? m.content : masker.maskText(m.content),
        })),
      });
      // Validated masked; unmasking swaps strings only, so the shape stays the schema's.
      return { ...res, value: mapStrings(res.value, masker.unmaskText) };
    },
  };
}
