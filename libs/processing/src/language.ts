import { Worker } from 'node:worker_threads';

interface Pending {
  resolve: (language: string) => void;
  sentAt: number;
}

/** One message to the worker: the detections asked for in one turn of the event loop. */
type Outgoing = { id: number; text: string }[];

export interface LanguageDetectorOptions {
  /** Past this, a detection answers `und` (a worker that hangs must not hold a request). */
  timeoutMs?: number;
  /** After the worker failed, a new one is started this long after (detections answer `und` meanwhile). */
  restartAfterMs?: number;
}

/**
 * ISO 639-1 codes of texts' languages (ELD, a maintained n-gram detector), or `und` when the
 * detector is not confident — better unknown than wrong.
 *
 * ELD's n-gram tables are about 60 MB of heap in small objects, and every major GC of the heap that
 * holds them marks them all (in the processor, incremental-marking finalisations of 18 ms with them
 * against 10 ms without, measured during 32-client runs). So they live in a worker thread, with its
 * own heap that no request allocates in: the processor's own collections never see them, and the
 * detection runs beside the event loop while the provider works. A detection never rejects: a
 * worker that fails or hangs answers `und`, and a new one is started after `restartAfterMs`, in the
 * background: a detection never waits for a worker to load its tables (most of a second), it answers
 * `und` until the new worker is ready.
 *
 * The detections asked for in one turn of the event loop (a fetched batch's requests reach this
 * point together) go to the worker as one message and come back as one: a message costs a copy,
 * a wake-up of the other thread and, on the way back, a macrotask here, so one per request was a
 * few per cent of the processor's main thread at 32 clients (`postMessage` and `makeTransferable`
 * in its CPU profile, stop 16).
 */
export class LanguageDetector {
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private restart: NodeJS.Timeout | undefined;
  private closed = false;
  private sweeper: NodeJS.Timeout | undefined;
  private outbox: Outgoing = [];
  private posted = 0;
  private readonly timeoutMs: number;
  private readonly restartAfterMs: number;

  constructor(options: LanguageDetectorOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.restartAfterMs = options.restartAfterMs ?? 5_000;
  }

  /** Starts the worker and resolves once its tables are loaded (so that no request waits for them). */
  async start(): Promise<void> {
    await this.spawn();
  }

  detect(text: string): Promise<string> {
    const sample = text.slice(0, 2_000);
    if (!hasLetters(sample, 3)) return Promise.resolve('und');
    if (this.closed || !this.worker) return Promise.resolve('und'); // not ready: never wait for a start
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, sentAt: performance.now() });
      this.sweep();
      // nextTick runs once the current cascade of promise jobs is done: every detection that the
      // same fetched batch (or the same I/O callback) asks for is in the outbox by then.
      if (this.outbox.push({ id, text: sample }) === 1) process.nextTick(() => this.flush());
    });
  }

  /** Messages sent to the worker so far (each carries every detection of one event-loop turn). */
  get messagesPosted(): number {
    return this.posted;
  }

  private flush(): void {
    const batch = this.outbox;
    this.outbox = [];
    // No worker: it failed or was closed since they were asked, and either way failAll answered them.
    if (!this.worker) return;
    this.posted++;
    this.worker.postMessage(batch);
  }

  /** Stops the worker; detections still waiting, and any later one, answer `und`. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restart);
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.failAll();
    const worker = this.worker ?? (await this.starting?.catch(() => undefined));
    this.worker = undefined;
    await worker?.terminate();
  }

  private spawn(): Promise<Worker> {
    if (this.starting) return this.starting;
    const starting = new Promise<Worker>((resolve, reject) => {
      const worker = new Worker(new URL('./language-worker.mjs', import.meta.url));
      worker.unref(); // never what keeps a process alive
      worker.on('message', (message: { ready?: true; detected?: { id: number; language: string }[] }) => {
        if (message.ready) {
          this.worker = worker;
          if (this.starting === starting) this.starting = undefined;
          resolve(worker);
        } else for (const { id, language } of message.detected ?? []) this.settle(id, language);
      });
      const failed = (error: unknown) => {
        if (this.worker === worker) this.worker = undefined;
        if (this.starting === starting) this.starting = undefined; // not a newer start's
        this.failAll();
        if (!this.closed && !this.restart) {
          this.restart = setTimeout(() => {
            this.restart = undefined;
            this.spawn().catch(() => undefined); // a failed start schedules the next one
          }, this.restartAfterMs);
          this.restart.unref();
        }
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      worker.on('error', failed);
      worker.on('exit', (code) => failed(new Error(`language worker exited with code ${code}`)));
    });
    this.starting = starting;
    return starting;
  }

  private settle(id: number, language: string): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    pending.resolve(language);
  }

  private failAll(): void {
    for (const [id] of this.pending) this.settle(id, 'und');
  }

  /** One timer for every detection in flight (not one per call), and none while nothing waits. */
  private sweep(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(
      () => {
        const now = performance.now();
        for (const [id, { sentAt }] of this.pending)
          if (now - sentAt > this.timeoutMs) this.settle(id, 'und');
        if (this.pending.size === 0) {
          clearInterval(this.sweeper);
          this.sweeper = undefined;
        }
      },
      Math.max(10, Math.floor(this.timeoutMs / 4)),
    );
    this.sweeper.unref();
  }
}

/** A character that is not white space, a digit, punctuation or a symbol: something to detect. */
const LETTER = /[^\s\d\p{P}\p{S}]/gu;

/**
 * Whether `text` has at least `count` such characters. Stops at the `count`-th: the text of a
 * prompt has them at once (removing every other character first, as this used to, walked and
 * copied the whole sample for each request).
 */
function hasLetters(text: string, count: number): boolean {
  LETTER.lastIndex = 0;
  let found = 0;
  while (found < count && LETTER.exec(text) !== null) found++;
  return found === count;
}

/**
 * Starts a detector with its tables loaded. Only the processor detects languages, so only it
 * starts one (at boot); ingest-api, which imports this library for the edge cache, never does.
 */
export async function loadLanguageDetector(options?: LanguageDetectorOptions): Promise<LanguageDetector> {
  const detector = new LanguageDetector(options);
  await detector.start();
  return detector;
}
