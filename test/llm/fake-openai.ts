// A loopback OpenAI-compatible server for tests: it records every request and answers with the
// recorded response shapes in fixtures/. Answers name objects by their masked tokens, found in
// the request the way a model would find them: `{{wiki-tls}}` in an answer fixture becomes the
// token that HMAC(key, "wiki-tls") produced in the prompt.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Reply =
  | { status?: number; json: unknown; headers?: Record<string, string> }
  | { status?: number; text: string; contentType: string }
  | "hang";

export interface FakeOpenAi {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export async function startFakeOpenAi(
  respond: (req: Recorded, n: number) => Reply | Promise<Reply>,
): Promise<FakeOpenAi> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rec = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(rec);
      void Promise.resolve(respond(rec, requests.length)).then((reply) => {
        if (reply === "hang") return; // never answers; the client's deadline must end the call
        if ("json" in reply) {
          res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers });
          res.end(JSON.stringify(reply.json));
        } else {
          res.writeHead(reply.status ?? 200, { "content-type": reply.contentType });
          res.end(reply.text);
        }
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8"));
}

/** A recorded completion (openai-chat-completion.json, ollama-chat-completion.json) with new content. */
export function completion(file: string, content: string): unknown {
  const c = fixture(file) as { choices: Array<{ message: { content: string | null } }> };
  c.choices[0]!.message.content = content;
  return c;
}

/** The token the prompt uses for `name` under `key`; throws when the prompt has none. */
export function tokenIn(body: string, key: string, name: string): string {
  const hex = createHmac("sha256", key).update(name).digest("hex").slice(0, 6);
  const m = new RegExp(String.raw`(?<![A-Za-z0-9])[a-z]+-${hex}[0-9a-f]*(?![A-Za-z0-9])`).exec(body);
  if (!m) throw new Error(`the prompt has no token for ${name}`);
  return m[0];
}

/** An answer fixture with every {{name}} replaced by that name's token in the request. */
export function answerFor(file: string, req: Recorded, key: string): string {
  const text = readFileSync(new URL(`fixtures/${file}`, import.meta.url), "utf8");
  const answer = JSON.parse(text) as unknown;
  return JSON.stringify(answer).replace(/\{\{([^}]+)\}\}/g, (_, name: string) =>
    tokenIn(req.body, key, name),
  );
}
