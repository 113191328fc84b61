// The subset of OpenAPI v3 (as Kubernetes structural schemas use it) that our CRDs use, enough to
// check that the examples mean what the CRDs say — the sandbox API server does not validate
// custom resources. Unlike a real API server, unknown fields are errors, not silently pruned,
// because in an example they are typos.

export interface Schema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

const known = new Set<string>([
  "type",
  "description",
  "properties",
  "additionalProperties",
  "required",
  "items",
  "enum",
  "default",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "x-kubernetes-preserve-unknown-fields",
]);

/** Structural-schema problems: missing types, keywords this subset does not know, bad defaults. */
export function schemaProblems(schema: Schema, path = ""): string[] {
  const out: string[] = [];
  for (const k of Object.keys(schema))
    if (!known.has(k)) out.push(`${path || "."}: unsupported keyword ${k}`);
  if (!schema.type && !schema["x-kubernetes-preserve-unknown-fields"]) out.push(`${path || "."}: no type`);
  if (schema.type === "array" && !schema.items) out.push(`${path}: array without items`);
  for (const [k, s] of Object.entries(schema.properties ?? {}))
    out.push(...schemaProblems(s, `${path}.${k}`));
  if (schema.items) out.push(...schemaProblems(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === "object")
    out.push(...schemaProblems(schema.additionalProperties, `${path}.*`));
  if (schema.default !== undefined)
    out.push(...validate(schema, schema.default, `${path} default`).map((e) => `${e}`));
  return out;
}

/** Every way value fails schema, as "path: reason"; [] when it conforms. */
export function validate(schema: Schema, value: unknown, path = ""): string[] {
  const at = path || ".";
  if (schema.enum && !schema.enum.some((e) => e === value))
    return [`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`];
  switch (schema.type) {
    case "object":
      return validateObject(schema, value, path);
    case "array":
      if (!Array.isArray(value)) return [`${at}: expected array, got ${typeName(value)}`];
      return value.flatMap((v, i) => (schema.items ? validate(schema.items, v, `${path}[${i}]`) : []));
    case "string":
      if (typeof value !== "string") return [`${at}: expected string, got ${typeName(value)}`];
      return stringProblems(schema, value, at);
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value))
        return [`${at}: expected integer, got ${typeName(value)}`];
      return numberProblems(schema, value, at);
    case "number":
      if (typeof value !== "number") return [`${at}: expected number, got ${typeName(value)}`];
      return numberProblems(schema, value, at);
    case "boolean":
      return typeof value === "boolean" ? [] : [`${at}: expected boolean, got ${typeName(value)}`];
    default:
      return [];
  }
}

function validateObject(schema: Schema, value: unknown, path: string): string[] {
  const at = path || ".";
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return [`${at}: expected object, got ${typeName(value)}`];
  const obj = value as Record<string, unknown>;
  const out: string[] = [];
  for (const r of schema.required ?? []) if (obj[r] === undefined) out.push(`${path}.${r}: required`);
  for (const [k, v] of Object.entries(obj)) {
    const prop = schema.properties?.[k];
    if (prop) out.push(...validate(prop, v, `${path}.${k}`));
    else if (typeof schema.additionalProperties === "object")
      out.push(...validate(schema.additionalProperties, v, `${path}.${k}`));
    else if (
      schema.properties &&
      !schema.additionalProperties &&
      !schema["x-kubernetes-preserve-unknown-fields"]
    )
      out.push(`${path}.${k}: unknown field`);
  }
  return out;
}

function stringProblems(schema: Schema, value: string, at: string): string[] {
  const out: string[] = [];
  if (schema.minLength !== undefined && value.length < schema.minLength)
    out.push(`${at}: shorter than ${schema.minLength}`);
  if (schema.maxLength !== undefined && value.length > schema.maxLength)
    out.push(`${at}: longer than ${schema.maxLength}`);
  if (schema.pattern && !new RegExp(schema.pattern, "u").test(value))
    out.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  if (schema.format === "date-time" && Number.isNaN(Date.parse(value))) out.push(`${at}: not a date-time`);
  return out;
}

function numberProblems(schema: Schema, value: number, at: string): string[] {
  const out: string[] = [];
  if (schema.minimum !== undefined) {
    if (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)
      out.push(`${at}: below the minimum ${schema.minimum}`);
  }
  if (schema.maximum !== undefined) {
    if (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)
      out.push(`${at}: above the maximum ${schema.maximum}`);
  }
  return out;
}

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}
