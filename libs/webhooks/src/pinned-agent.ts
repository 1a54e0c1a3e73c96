import type { LookupAddress, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';
import { firstNonPublic, systemLookup, type HostLookup } from './target-check.js';

/** A connection refused because its host resolved to an address that is not public. */
export class TargetRefusedError extends Error {
  readonly code = 'ERR_WEBHOOK_TARGET_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefusedError';
  }
}

/** The connection's host did not resolve (worth another try later). */
export class TargetUnresolvedError extends Error {
  readonly code = 'ERR_WEBHOOK_TARGET_UNRESOLVED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TargetUnresolvedError';
  }
}

export interface PinnedLookupOptions {
  /** The resolver (default: the system's). */
  lookup?: HostLookup;
  /** Hosts whose addresses are not checked (the allowlisted target of this delivery). */
  trustedHosts?: readonly string[];
}

/**
 * A `net.connect` lookup that resolves the host, checks every address it got with the rules of
 * target-check.ts and hands the socket exactly those addresses, or fails the connection
 * (TargetRefusedError) when any of them is not public. The addresses connected to are therefore
 * always ones that were checked, whatever the name resolved to a moment earlier.
 * (IP literals never reach a lookup: checkWebhookTarget has checked them, and they cannot change.)
 */
export function pinnedLookup(options: PinnedLookupOptions = {}): LookupFunction {
  const resolve = options.lookup ?? systemLookup;
  const trusted = new Set(options.trustedHosts ?? []);
  return (hostname: string, lookupOptions: LookupOptions, callback) => {
    const checked = async (): Promise<LookupAddress[]> => {
      let addresses: string[];
      try {
        addresses = await resolve(hostname);
      } catch (error) {
        throw new TargetUnresolvedError(`host ${hostname} does not resolve`, { cause: error });
      }
      if (addresses.length === 0) throw new TargetUnresolvedError(`host ${hostname} does not resolve`);
      if (!trusted.has(hostname)) {
        const blocked = firstNonPublic(addresses);
        if (blocked)
          throw new TargetRefusedError(
            `${hostname} resolved to ${blocked.address}, a ${blocked.range} address, when connecting`,
          );
      }
      const family = familyNumber(lookupOptions.family);
      const usable = addresses
        .map((address) => ({ address, family: ipaddr.parse(address).kind() === 'ipv6' ? 6 : 4 }))
        .filter((entry) => family === 0 || entry.family === family);
      if (usable.length === 0)
        throw new TargetUnresolvedError(`host ${hostname} has no IPv${family} address`);
      return usable;
    };
    checked().then(
      (addresses) => {
        if (lookupOptions.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: Error) => callback(error, lookupOptions.all ? [] : ''),
    );
  };
}

function familyNumber(family: LookupOptions['family']): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

/**
 * An undici dispatcher whose every connection goes through `pinnedLookup`. One per delivery
 * attempt, destroyed afterwards: no connection outlives the attempt whose lookup checked it.
 */
export function createPinnedAgent(options: PinnedLookupOptions & { connectTimeoutMs?: number }): Agent {
  return new Agent({
    connect: { lookup: pinnedLookup(options), timeout: options.connectTimeoutMs ?? 10_000 },
    pipelining: 0,
  });
}

/** The TargetRefusedError or TargetUnresolvedError behind a failed fetch, if that is why it failed. */
export function targetErrorOf(failure: unknown): TargetRefusedError | TargetUnresolvedError | undefined {
  for (let error = failure, depth = 0; error instanceof Error && depth < 5; depth++) {
    if (error instanceof TargetRefusedError || error instanceof TargetUnresolvedError) return error;
    error = error.cause;
  }
  return undefined;
}
