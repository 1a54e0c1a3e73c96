import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/** Resolves a host name to its addresses (all of them, as the system resolver answers). */
export type HostLookup = (hostname: string) => Promise<string[]>;

/** The system resolver (getaddrinfo), every address in the order it answers. */
export const systemLookup: HostLookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export type TargetCheck =
  | {
      ok: true;
      /** The URL's host, without IPv6 brackets. */
      hostname: string;
      /** The addresses checked (none when the host is allowlisted: it is not resolved). */
      addresses: string[];
      /** On the allowlist: any address is accepted, private ones included. */
      allowlisted: boolean;
    }
  /** `transient`: the name did not resolve now, which may change (a delivery retries it). */
  | { ok: false; reason: string; transient?: boolean };

/**
 * The first address that is not public unicast, with its range (ipaddr.js classifies ranges:
 * private, loopback, link-local, unique-local, carrier-grade NAT...), if any. An address that does
 * not parse counts as not public.
 */
export function firstNonPublic(addresses: readonly string[]): { address: string; range: string } | undefined {
  for (const address of addresses) {
    if (!ipaddr.isValid(address)) return { address, range: 'unparseable' };
    const range = ipaddr.process(address).range();
    if (range !== 'unicast') return { address, range };
  }
  return undefined;
}

/** The URL's host is on the allowlist, by name alone or by name and port. */
export function isAllowlisted(url: URL, allowlist: readonly string[]): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return allowlist.includes(host) || allowlist.includes(url.host);
}

/**
 * A webhook target must be http(s) and resolve only to public unicast addresses, unless its host
 * is on the allowlist. Checked at submission and again before every delivery, since DNS answers
 * can change; a delivery also connects only through a lookup that applies the same rule to the
 * addresses it connects to (see pinned-agent.ts), so an answer that changes between this check
 * and the connection (DNS rebinding) cannot reach a private address either.
 */
export async function checkWebhookTarget(
  url: string,
  allowlist: readonly string[] = [],
  lookup: HostLookup = systemLookup,
): Promise<TargetCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'is not a valid URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return { ok: false, reason: 'must use http or https' };
  if (parsed.username || parsed.password) return { ok: false, reason: 'must not carry credentials' };
  const hostname = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isAllowlisted(parsed, allowlist)) return { ok: true, hostname, addresses: [], allowlisted: true };
  let addresses: string[];
  try {
    addresses = ipaddr.isValid(hostname) ? [hostname] : await lookup(hostname);
  } catch {
    return { ok: false, reason: `host ${hostname} does not resolve`, transient: true };
  }
  if (addresses.length === 0)
    return { ok: false, reason: `host ${hostname} does not resolve`, transient: true };
  const blocked = firstNonPublic(addresses);
  if (blocked) return { ok: false, reason: `resolves to ${blocked.address}, a ${blocked.range} address` };
  return { ok: true, hostname, addresses, allowlisted: false };
}
