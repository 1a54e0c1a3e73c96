import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export type TargetCheck =
  | { ok: true; addresses: string[] }
  /** `transient`: the name did not resolve now, which may change (a delivery retries it). */
  | { ok: false; reason: string; transient?: boolean };

/**
 * A webhook target must be http(s) and resolve only to public unicast addresses (ipaddr.js
 * classifies ranges: private, loopback, link-local, unique-local, carrier-grade NAT...), unless
 * its host is on the allowlist. Checked at submission and again before every delivery, since DNS
 * answers can change.
 */
export async function checkWebhookTarget(url: string, allowlist: string[] = []): Promise<TargetCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'is not a valid URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return { ok: false, reason: 'must use http or https' };
  if (parsed.username || parsed.password) return { ok: false, reason: 'must not carry credentials' };
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (allowlist.includes(host) || allowlist.includes(parsed.host)) return { ok: true, addresses: [] };
  let addresses: string[];
  try {
    addresses = ipaddr.isValid(host)
      ? [host]
      : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return { ok: false, reason: `host ${host} does not resolve`, transient: true };
  }
  const blocked = addresses.find((address) => ipaddr.process(address).range() !== 'unicast');
  if (blocked)
    return { ok: false, reason: `resolves to ${blocked}, a ${ipaddr.process(blocked).range()} address` };
  return { ok: true, addresses };
}
