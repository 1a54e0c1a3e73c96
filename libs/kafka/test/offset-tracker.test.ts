import { describe, expect, it } from 'vitest';
import { PartitionOffsetTracker } from '../src/offset-tracker.js';

describe('PartitionOffsetTracker', () => {
  it('commits only the contiguous finished prefix', () => {
    const tracker = new PartitionOffsetTracker();
    for (const offset of ['10', '11', '12', '13']) tracker.start(offset);
    tracker.finish('12');
    tracker.finish('13');
    expect(tracker.takeCommit()).toBeUndefined();
    tracker.finish('10');
    expect(tracker.takeCommit()).toBe('11');
    tracker.finish('11');
    expect(tracker.takeCommit()).toBe('14');
    expect(tracker.inFlight).toBe(0);
  });

  it('does not report the same commit twice, and offers it again after a failure', () => {
    const tracker = new PartitionOffsetTracker();
    tracker.start('0');
    tracker.finish('0');
    expect(tracker.takeCommit()).toBe('1');
    expect(tracker.takeCommit()).toBeUndefined();
    tracker.commitFailed('1');
    expect(tracker.takeCommit()).toBe('1');
  });

  it('handles offset gaps left by compaction or transactions', () => {
    const tracker = new PartitionOffsetTracker();
    tracker.start('5');
    tracker.start('9');
    tracker.finish('9');
    tracker.finish('5');
    expect(tracker.takeCommit()).toBe('10');
  });
});
