// Accumulates the partial results of a streamed answer and hands the text to
// the view at most every intervalMs, so a fast model does not re-render the
// panel for every token.

export interface Scheduler {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const timerScheduler: Scheduler = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * The text of one `$/progress` value of a `lore/ask` partial result:
 * `{text: "chunk"}` per the contract; a bare string is accepted too.
 * Anything else carries no text (undefined).
 */
export function chunkText(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  if (value !== null && typeof value === 'object' && typeof (value as { text?: unknown }).text === 'string') {
    return (value as { text: string }).text;
  }
  return undefined;
}

export type UpdateHandler = (text: string, done: boolean) => void;

export class StreamBuffer {
  private acc = '';
  private pending: unknown = undefined;
  private hasPending = false;
  private done = false;
  private chunkCount = 0;

  constructor(
    private readonly onUpdate: UpdateHandler,
    private readonly intervalMs = 50,
    private readonly scheduler: Scheduler = timerScheduler,
  ) {}

  /** The text received so far. */
  get text(): string {
    return this.acc;
  }

  /** How many chunks arrived. */
  get chunks(): number {
    return this.chunkCount;
  }

  get finished(): boolean {
    return this.done;
  }

  /** Adds one partial result (a `$/progress` value); ignored after finish. */
  append(value: unknown): void {
    if (this.done) {
      return;
    }
    const t = chunkText(value);
    if (t === undefined || t === '') {
      return;
    }
    this.acc += t;
    this.chunkCount++;
    if (!this.hasPending) {
      this.hasPending = true;
      this.pending = this.scheduler.set(() => this.flush(), this.intervalMs);
    }
  }

  private flush(): void {
    this.hasPending = false;
    this.pending = undefined;
    if (!this.done) {
      this.onUpdate(this.acc, false);
    }
  }

  private cancelTimer(): void {
    if (this.hasPending) {
      this.scheduler.clear(this.pending);
      this.hasPending = false;
      this.pending = undefined;
    }
  }

  /**
   * Ends the stream. The final result's text is authoritative when it is not
   * empty (the chunks concatenate to it; a server may also send no chunks);
   * otherwise the accumulated chunks are the answer. Calls the handler once
   * more with done=true and returns the text. Later calls return the same text.
   */
  finish(finalText?: string): string {
    if (this.done) {
      return this.acc;
    }
    this.cancelTimer();
    if (typeof finalText === 'string' && finalText !== '') {
      this.acc = finalText;
    }
    this.done = true;
    this.onUpdate(this.acc, true);
    return this.acc;
  }

  /** Stops without a last update (the view is gone). */
  dispose(): void {
    this.cancelTimer();
    this.done = true;
  }
}
