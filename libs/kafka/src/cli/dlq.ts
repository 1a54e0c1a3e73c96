// npm run dlq -- list [--topic requests|results|webhooks] [--limit N] [--json]
// npm run dlq -- show requests:0:42 [--json]
// npm run dlq -- replay requests (--offset 0:42 ... | --all) [--dry-run]
// (npm run dlq -- --help for everything)
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { destination, pino } from 'pino';
import { ConfigError, KafkaConfig, loadConfig } from '@sps/config';
import { topicNames } from '@sps/contracts';
import { createKafka } from '../client.js';
import { createProducer } from '../producer.js';
import {
  DLQ_NAMES,
  UsageError,
  USAGE,
  allRanges,
  formatList,
  formatReplayLine,
  formatShow,
  latestRanges,
  latestRecords,
  listView,
  mergeRanges,
  parseCommand,
  planReplay,
  readDeadLetter,
  refRanges,
  replayMessage,
  selectRecords,
  type Command,
  type DeadLetter,
  type DlqName,
  type DlqSummary,
  type PartitionOffsets,
  type RawRecord,
  type ReadRange,
} from './dlq-format.js';

const PRODUCE_CHUNK = 500;

/** The Kafka connections of one run, closed together whether it succeeds, fails or times out. */
class Session {
  /** What the command is doing, for the timeout message. */
  activity = 'connecting to Kafka';
  /** Records a replay has produced so far. */
  produced = 0;
  private admin: Admin | undefined;
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(
    readonly kafka: Kafka,
    readonly prefix: string,
  ) {}

  async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin;
      this.closers.push(() => admin.disconnect());
      await admin.connect();
    }
    return this.admin;
  }

  onClose(closer: () => Promise<void>): void {
    this.closers.push(closer);
  }

  async close(): Promise<void> {
    // Last opened, first closed: consumers leave their groups before the admin deletes them.
    while (this.closers.length > 0) {
      const closer = this.closers.pop()!;
      await closer().catch((error: unknown) => warn(`while closing: ${messageOf(error)}`));
    }
  }

  topic(name: DlqName): string {
    return topicNames(this.prefix)[DLQ_NAMES[name]];
  }

  /** Partition watermarks, or undefined when the topic does not exist. */
  async offsets(topic: string): Promise<PartitionOffsets[] | undefined> {
    const admin = await this.connectedAdmin();
    this.activity = `reading the offsets of ${topic}`;
    // Asking for the offsets of a missing topic would retry for a long time: look first.
    if (!(await admin.listTopics()).includes(topic)) return undefined;
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets
      .map(({ partition, low, high }) => ({ partition, low: BigInt(low), high: BigInt(high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  async existingOffsets(topic: string): Promise<PartitionOffsets[]> {
    const offsets = await this.offsets(topic);
    if (!offsets)
      throw new UsageError(
        `topic ${topic} does not exist (KAFKA_TOPIC_PREFIX='${this.prefix}': is it the service's prefix?)`,
      );
    return offsets;
  }

  /**
   * Reads the given offset ranges without any lasting consumer group: a throwaway group seeks
   * each partition to the start of its range and the read ends when every range is covered
   * (ranges end at watermarks captured before, so records arriving meanwhile do not prolong it).
   */
  async read(topic: string, partitions: PartitionOffsets[], ranges: ReadRange[]): Promise<DeadLetter[]> {
    const pending = new Map(mergeRanges(ranges).map((range) => [range.partition, range]));
    if (pending.size === 0) return [];
    this.activity = `reading ${topic}`;
    const groupId = `sps-dlq-cli-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
    this.onClose(() => this.deleteGroup(groupId));
    this.onClose(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });

    // Keyed by offset: a consumer that restarts after a crash reads some records again.
    const records = new Map<string, RawRecord>();
    const next = new Map([...pending.values()].map((range) => [range.partition, range.from]));
    let finish = () => {};
    let fail = (_error: unknown) => {};
    const done = new Promise<void>((resolve, reject) => ([finish, fail] = [resolve, reject]));
    // Each time the group is joined (the first time, and again if kafkajs restarts the consumer
    // after a retriable crash), before the first fetch: position every partition that still has
    // records to read at the next one, and leave the others alone.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      try {
        const idle = partitions.map((p) => p.partition).filter((p) => !pending.has(p));
        if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
        for (const [partition, offset] of next)
          consumer.seek({ topic, partition, offset: offset.toString() });
      } catch (error) {
        fail(error);
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) fail(payload.error);
    });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const range = pending.get(partition);
        if (!range) return;
        const offset = BigInt(message.offset);
        // Merged ranges may hold offsets nobody asked for; the caller picks what it needs.
        if (offset >= range.from && offset < range.to)
          records.set(`${partition}:${message.offset}`, {
            partition,
            offset: message.offset,
            timestamp: message.timestamp,
            key: message.key,
            value: message.value,
            headers: message.headers,
          });
        next.set(partition, offset + 1n);
        if (offset + 1n >= range.to) {
          pending.delete(partition);
          next.delete(partition);
          consumer.pause([{ topic, partitions: [partition] }]);
          if (pending.size === 0) finish();
        }
      },
    });
    await done;
    await consumer.disconnect();
    return [...records.values()].map((record) => readDeadLetter(topic, record));
  }

  private async deleteGroup(groupId: string): Promise<void> {
    const admin = await this.connectedAdmin();
    try {
      await admin.deleteGroups([groupId]);
    } catch (error) {
      // A group that never committed is gone as soon as its only member leaves.
      const groups = (error as { groups?: { error?: { type?: string } }[] }).groups;
      if (groups?.every((group) => group.error?.type === 'GROUP_ID_NOT_FOUND')) return;
      throw error;
    }
  }

  async produce(target: string, letters: DeadLetter[]): Promise<void> {
    const producer: Producer = createProducer(this.kafka);
    this.onClose(() => producer.disconnect());
    this.activity = `producing to ${target}`;
    await producer.connect();
    for (let start = 0; start < letters.length; start += PRODUCE_CHUNK) {
      const chunk = letters.slice(start, start + PRODUCE_CHUNK);
      await producer.send({ topic: target, acks: -1, messages: chunk.map(replayMessage) });
      this.produced += chunk.length;
    }
  }
}

type Out = (text: string) => void;

async function list(session: Session, command: Extract<Command, { kind: 'list' }>, out: Out): Promise<void> {
  const summaries: DlqSummary[] = [];
  for (const name of command.topics) {
    const topic = session.topic(name);
    const partitions = await session.offsets(topic);
    if (!partitions) {
      summaries.push({ name, topic, exists: false, partitions: [], records: [] });
      continue;
    }
    const read = await session.read(topic, partitions, latestRanges(partitions, command.limit));
    summaries.push({ name, topic, exists: true, partitions, records: latestRecords(read, command.limit) });
  }
  out(command.json ? JSON.stringify(listView(summaries)) : formatList(summaries));
  if (summaries.every((summary) => !summary.exists))
    warn(`no DLQ topic exists with KAFKA_TOPIC_PREFIX='${session.prefix}': is it the service's prefix?`);
}

async function show(session: Session, command: Extract<Command, { kind: 'show' }>, out: Out): Promise<void> {
  const topic = session.topic(command.topic);
  const partitions = await session.existingOffsets(topic);
  const ranges = refRanges(topic, partitions, [command.ref]);
  const [letter] = selectRecords(topic, await session.read(topic, partitions, ranges), [command.ref]);
  out(formatShow(letter!, command.json));
}

async function replay(
  session: Session,
  command: Extract<Command, { kind: 'replay' }>,
  out: Out,
): Promise<void> {
  const topic = session.topic(command.topic);
  const partitions = await session.existingOffsets(topic);
  const { selection } = command;
  const letters = selection.all
    ? await session.read(topic, partitions, allRanges(partitions))
    : selectRecords(
        topic,
        await session.read(topic, partitions, refRanges(topic, partitions, selection.refs)),
        selection.refs,
      );
  const plan = planReplay(letters, session.prefix);
  for (const [target, group] of plan.byTarget) {
    if (!command.dryRun) await session.produce(target, group);
    for (const letter of group) out(formatReplayLine(letter, target, command.dryRun));
  }
  const records = `${plan.count} record${plan.count === 1 ? '' : 's'}`;
  out(
    command.dryRun
      ? `dry run: ${records} of ${topic} would be replayed; nothing was produced`
      : `replayed ${records} from ${topic}`,
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function warn(text: string): void {
  process.stderr.write(`dlq: ${text}\n`);
}

async function main(argv: string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`dlq: ${error.message}\n${error.showUsage ? `\n${USAGE}\n` : ''}`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  let config;
  try {
    config = loadConfig(Type.Object(KafkaConfig));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    warn(error.message);
    return 2;
  }
  const logger = pino(
    { level: command.verbose ? 'warn' : 'silent', base: { service: 'sps-dlq' } },
    destination({ dest: 2, sync: true }),
  );
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? 'sps-dlq-cli',
    logger,
  });
  const session = new Session(kafka, config.KAFKA_TOPIC_PREFIX);
  const out: Out = (text) => process.stdout.write(`${text}\n`);

  const run = async () => {
    if (command.kind === 'list') await list(session, command, out);
    else if (command.kind === 'show') await show(session, command, out);
    else await replay(session, command, out);
  };
  let timer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), command.timeoutMs);
  });
  try {
    const outcome = await Promise.race([run(), timedOut]);
    if (outcome === 'timeout') {
      const produced = session.produced > 0 ? `; ${session.produced} record(s) were already replayed` : '';
      warn(
        `timed out after ${command.timeoutMs / 1000} s while ${session.activity} ` +
          `(KAFKA_BROKERS=${config.KAFKA_BROKERS})${produced}; check the broker or raise --timeout`,
      );
      // Leave the throwaway group if the broker still answers, but do not wait long for it.
      closing = session.close();
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 3_000).unref())]);
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      warn(error.message);
      return 2;
    }
    const produced = session.produced > 0 ? ` (${session.produced} record(s) were already replayed)` : '';
    warn(`${messageOf(error)}${produced}`);
    return 1;
  } finally {
    clearTimeout(timer);
    if (!closing) await session.close();
  }
}

const code = await main(process.argv.slice(2)).catch((error: unknown) => {
  warn(messageOf(error));
  return 1;
});
// After a timeout kafkajs may still hold sockets and retry timers: do not wait for them.
if (code === 1) process.exit(code);
process.exitCode = code;
