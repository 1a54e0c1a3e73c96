/** Thrown when a schema (or a part that cannot be dropped) has no native form: the provider gets JSON mode. */
export class Unsupported extends Error {
  constructor(
    message: string,
    readonly path = '',
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'Unsupported';
  }
}

/** The human-readable record of what a transform dropped or rewrote (each line once, in order). */
export class Notes {
  private readonly seen = new Set<string>();
  readonly list: string[] = [];

  add(path: string, message: string): void {
    const line = `${path || '#'}: ${message}`;
    if (this.seen.has(line)) return;
    this.seen.add(line);
    this.list.push(line);
  }

  /** Adds every line of another record (a lowering attempt that was kept), in order. */
  absorb(other: Notes): void {
    for (const line of other.list) {
      if (this.seen.has(line)) continue;
      this.seen.add(line);
      this.list.push(line);
    }
  }
}

/** JSON Pointer style path of a child: `#/properties/name`. */
export function childPath(path: string, ...tokens: (string | number)[]): string {
  const escaped = tokens.map((t) => String(t).replace(/~/g, '~0').replace(/\//g, '~1'));
  return `${path || '#'}/${escaped.join('/')}`;
}
