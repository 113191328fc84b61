// The EKS bearer token, made exactly as `aws eks get-token` makes it: a presigned STS
// GetCallerIdentity URL (SigV4 query signing, X-Amz-Expires=60) whose signed headers include
// `x-k8s-aws-id: <cluster>`, base64url-encoded without padding and prefixed `k8s-aws-v1.`. The
// cluster's authenticator calls STS with it to learn who we are. It accepts the URL for 15 minutes
// from X-Amz-Date; like aws-cli we report 14, so a token is never sent in its last minute.
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, Checksum, SourceData } from "@smithy/types";

export const EKS_TOKEN_PREFIX = "k8s-aws-v1.";
export const EKS_TOKEN_LIFETIME_MS = 14 * 60_000;

/** SHA-256 / HMAC-SHA-256 over node:crypto, in the shape SignatureV4 wants. */
class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(this.secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

function toBuffer(d: SourceData): Buffer {
  if (typeof d === "string") return Buffer.from(d, "utf8");
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

/** STS's regional endpoint, as aws-cli v1.x (regional endpoints) and v2 use. */
export function stsHost(region: string): string {
  return region.startsWith("cn-") ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

// RFC 3986 encoding, as SigV4 canonicalises the query.
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export interface EksTokenRequest {
  cluster: string;
  region: string;
  credentials: AwsCredentialIdentity;
  /** Signing time (epoch ms). */
  now: number;
  /** Default: STS's regional endpoint for the region. */
  stsHost?: string;
}

export async function eksToken(req: EksTokenRequest): Promise<{ token: string; expiresAt: number }> {
  const host = req.stsHost ?? stsHost(req.region);
  const signer = new SignatureV4({
    service: "sts",
    region: req.region,
    credentials: req.credentials,
    sha256: NodeSha256,
    uriEscapePath: true,
  });
  const signed = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname: host,
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host, "x-k8s-aws-id": req.cluster },
    },
    { expiresIn: 60, signingDate: new Date(req.now) },
  );
  // botocore's order: the request's parameters, the X-Amz-* ones, the signature last.
  const entries = Object.entries(signed.query as Record<string, string>);
  const signature = entries.filter(([k]) => k === "X-Amz-Signature");
  const rest = entries
    .filter(([k]) => k !== "X-Amz-Signature")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = [...rest, ...signature].map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");
  const url = `https://${host}/?${query}`;
  return {
    token: EKS_TOKEN_PREFIX + Buffer.from(url, "utf8").toString("base64url"),
    expiresAt: req.now + EKS_TOKEN_LIFETIME_MS,
  };
}
