// One JSON POST to a notification endpoint, with the answer mapped to NotifyError. Webhook URLs
// are credentials (a Slack webhook URL is its own token), so no message here ever contains one.
import { NotifyError } from "../ports/notify.js";

export interface PostResult {
  status: number;
  body: string;
}

export interface PostOptions {
  /** Deadline of the request; a notifier must not hold a function for long. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

function retryAfterSeconds(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** POSTs `body` as JSON; resolves on 2xx, otherwise throws a NotifyError naming the channel's answer. */
export async function postJson(
  channel: string,
  url: string,
  body: unknown,
  opts: PostOptions = {},
): Promise<PostResult> {
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === "TimeoutError" ? "timed out" : (e.cause?.code ?? "could not connect").toString();
    throw new NotifyError("unavailable", channel, `${channel}: ${why}`, { cause: err });
  }
  const text = (await res.text().catch(() => "")).slice(0, 200).trim();
  const answer = `HTTP ${res.status}${text ? ` ${text}` : ""}`;
  if (res.ok) return { status: res.status, body: text };
  if (res.status === 429) {
    const after = retryAfterSeconds(res.headers.get("retry-after"));
    throw new NotifyError(
      "rate_limited",
      channel,
      `${channel}: rate limited (${answer})${after !== undefined ? `; retry after ${after}s` : ""}`,
      after !== undefined ? { retryAfterSeconds: after } : {},
    );
  }
  if (res.status >= 500) throw new NotifyError("unavailable", channel, `${channel}: ${answer}`);
  throw new NotifyError("rejected", channel, `${channel} refused the message: ${answer}`);
}
