// `prophet ask "<question>"`: a question in plain language to a running host (POST /query), e.g.
// "Why is latency high in shop?", "What changed?", "Is capacity enough?", "Are we burning budget?".
import type { Command } from "commander";
import { z } from "zod";
import { HostRequestError, hostUrl, requestHost } from "./remediation.js";

const AnswerSchema = z.looseObject({
  answer: z.string(),
  answeredBy: z.union([z.literal("rules"), z.object({ llm: z.string() })]),
  fallback: z.string().optional(),
  steps: z.array(z.looseObject({ tool: z.string(), error: z.string().optional() })),
});

export function register(program: Command): void {
  program
    .command("ask")
    .description("ask a running host a question in plain language (POST /query)")
    .argument("<question...>", 'e.g. "why is latency high in shop?"')
    .option("--url <url>", "the Prophet host (default $PROPHET_URL or http://127.0.0.1:$PORT, port 8080)")
    .option("--token <token>", "bearer token when the host sets PROPHET_MCP_TOKENS (default $PROPHET_TOKEN)")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (words: string[], opts: { url?: string; token?: string; output: string }) => {
      try {
        const token = opts.token ?? process.env.PROPHET_TOKEN;
        const raw = await requestHost(
          hostUrl(opts.url),
          "POST",
          "/query",
          { question: words.join(" ") },
          token ? { authorization: `Bearer ${token}` } : undefined,
        );
        const a = AnswerSchema.safeParse(raw);
        if (!a.success) throw new HostRequestError("unexpected answer from the host (query)");
        if (opts.output === "json") {
          process.stdout.write(`${JSON.stringify(raw, null, 2)}\n`);
          return;
        }
        const by = a.data.answeredBy === "rules" ? "rules" : `model ${a.data.answeredBy.llm}`;
        const used = a.data.steps.map((s) => (s.error ? `${s.tool} (failed)` : s.tool)).join(", ");
        process.stdout.write(
          `${a.data.answer}\n\n— answered by ${by}${used ? ` from ${used}` : ""}` +
            `${a.data.fallback ? ` (the model's answer was not used: ${a.data.fallback})` : ""}\n`,
        );
      } catch (err) {
        process.stderr.write(`prophet: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
}
