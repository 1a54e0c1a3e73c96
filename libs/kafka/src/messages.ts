type HeaderBag = Record<string, string | Buffer | (string | Buffer)[] | undefined>;

export function headerValue(headers: HeaderBag | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}

export function toHeaders(values: Record<string, string | number | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined) headers[name] = String(value);
  return headers;
}

export function jsonValue(value: unknown): string {
  return JSON.stringify(value);
}
