/**
 * Offsets of one partition handed out in order and finished in any order. The committable
 * offset is one past the end of the contiguous finished prefix: everything below it is done.
 */
export class PartitionOffsetTracker {
  private readonly queue: { offset: bigint; done: boolean }[] = [];
  private readonly byOffset = new Map<bigint, { offset: bigint; done: boolean }>();
  private committable: bigint | undefined;
  private lastCommitted: bigint | undefined;

  get inFlight(): number {
    return this.queue.length;
  }

  start(offset: string): void {
    const entry = { offset: BigInt(offset), done: false };
    this.queue.push(entry);
    this.byOffset.set(entry.offset, entry);
  }

  finish(offset: string): void {
    const entry = this.byOffset.get(BigInt(offset));
    if (!entry) return;
    entry.done = true;
    while (this.queue[0]?.done) {
      const head = this.queue.shift()!;
      this.byOffset.delete(head.offset);
      this.committable = head.offset + 1n;
    }
  }

  /** The offset to commit if it moved since the last commit, else undefined. */
  takeCommit(): string | undefined {
    if (this.committable === undefined || this.committable === this.lastCommitted) return undefined;
    this.lastCommitted = this.committable;
    return this.committable.toString();
  }

  /** Undo takeCommit after a failed commit so that it is tried again. */
  commitFailed(offset: string): void {
    if (this.lastCommitted === BigInt(offset)) this.lastCommitted = undefined;
  }
}
