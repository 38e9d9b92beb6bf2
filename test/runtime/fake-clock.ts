import type { CancelTimer, Clock } from '../../src/runtime/clock.ts';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A {@link Clock} that moves only when a test calls `advance`, firing due timers in time order. */
export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): CancelTimer {
    const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** The delays, from now, of the timers still pending, soonest first. */
  pending(): number[] {
    return this.#sorted().map((t) => t.at - this.#now);
  }

  /**
   * Moves time forward by `ms`, firing each timer that falls due and letting promise callbacks run after each,
   * so that code awaiting a fake sleep gets to its next step before later timers fire.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await flush();
      const next = this.#sorted()[0];
      if (!next || next.at > end) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
    await flush();
  }

  #sorted(): Timer[] {
    return [...this.#timers].sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
}

/** Lets every pending promise callback (and those they schedule) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
