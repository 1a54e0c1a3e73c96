/** What a progress reporter is told. */
export interface ProgressState {
  done: number;
  total: number;
  ok: number;
  failed: number;
  skipped: number;
}

export interface ProgressOptions {
  /** Where to write (stderr). */
  stream: NodeJS.WriteStream | NodeJS.WritableStream;
  /** bar: one redrawn line (TTY); lines: a plain line every `everyMs`; none. Default: bar on a TTY, else lines. */
  mode?: 'bar' | 'lines' | 'none' | 'auto';
  /** Plain lines at most this often (default 2 s); the last state is always written. */
  everyMs?: number;
  label?: string;
}

/**
 * Progress on stderr: on a terminal one line redrawn in place (a bar, counts, rate and ETA); piped
 * or redirected, a plain `progress done/total …` line at most every `everyMs` and once at the end,
 * so logs stay readable and scripts can parse them.
 */
export class Progress {
  private readonly mode: 'bar' | 'lines' | 'none';
  private readonly started = Date.now();
  private lastWrite = 0;
  private lastLine = '';
  private state: ProgressState = { done: 0, total: 0, ok: 0, failed: 0, skipped: 0 };

  constructor(private readonly options: ProgressOptions) {
    const tty = (options.stream as NodeJS.WriteStream).isTTY === true;
    this.mode = !options.mode || options.mode === 'auto' ? (tty ? 'bar' : 'lines') : options.mode;
  }

  update(state: ProgressState): void {
    this.state = state;
    const now = Date.now();
    const every = this.mode === 'bar' ? 100 : (this.options.everyMs ?? 2000);
    if (now - this.lastWrite >= every) this.write(now);
  }

  /** Writes the final state (and ends the bar's line). */
  finish(): void {
    this.write(Date.now());
    if (this.mode === 'bar') this.options.stream.write('\n');
  }

  private write(now: number): void {
    if (this.mode === 'none') return;
    this.lastWrite = now;
    const { done, total, ok, failed, skipped } = this.state;
    const seconds = (now - this.started) / 1000;
    const worked = done - skipped;
    const rate = seconds > 0 ? worked / seconds : 0;
    const eta = rate > 0 ? Math.ceil((total - done) / rate) : undefined;
    const counts = `ok ${ok} failed ${failed} skipped ${skipped}`;
    if (this.mode === 'lines') {
      const line = `${this.options.label ?? 'progress'} ${done}/${total} ${counts} ${rate.toFixed(1)}/s`;
      if (line === this.lastLine) return;
      this.lastLine = line;
      this.options.stream.write(`${line}\n`);
      return;
    }
    const width = 24;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    const tail = eta === undefined ? '' : ` eta ${eta}s`;
    this.options.stream.write(
      `\r\x1b[2K${bar} ${pct}% ${done}/${total} ${counts} ${rate.toFixed(1)}/s${tail}`,
    );
  }
}
