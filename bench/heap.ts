// The live heap of another Node process, read through its inspector (started
// with --inspect) over the Chrome DevTools Protocol: what the process holds
// once garbage is gone, whatever its heap limit lets it leave lying around.
// And its CPU or allocation profile over a step, by the same way.

/** The inspector's WebSocket URL, as Node prints it on stderr: `Debugger listening on ws://…`; undefined until it has. */
export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

/** Bytes used by the V8 heap of the process whose inspector is at `url`, right after a full garbage collection. */
export async function heapAfterFullGc(url: string): Promise<number> {
  const session = await connect(url);
  try {
    await session.call('HeapProfiler.collectGarbage');
    const usage = (await session.call('Runtime.getHeapUsage')) as { usedSize: number };
    return usage.usedSize;
  } finally {
    // Closed at once: a process that exits with a session open waits for it to go.
    session.close();
  }
}

/** What {@link startProfile} records: V8's CPU profile, or its sampling heap profile of every allocation. */
export type ProfileKind = 'cpu' | 'allocations';

/**
 * Starts a profiler in the process whose inspector is at `url`; `stop` ends it and returns the profile, in
 * the format Chrome's DevTools open: `.cpuprofile` for `cpu`, as `node --cpu-prof` writes it; `.heapprofile`
 * for `allocations`, sampled every 32 KB allocated, objects the collector has freed since included, so that
 * it shows who allocates (and so who makes the collector work), not only who holds.
 */
export async function startProfile(url: string, kind: ProfileKind): Promise<{ stop(): Promise<unknown> }> {
  const session = await connect(url);
  const [domain, start, stop] = kind === 'cpu'
    ? ['Profiler', { method: 'Profiler.start' }, 'Profiler.stop']
    : ['HeapProfiler', { method: 'HeapProfiler.startSampling', params: { samplingInterval: 32_768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } }, 'HeapProfiler.stopSampling'];
  try {
    await session.call(`${domain}.enable`);
    await session.call(start.method, start.params);
  } catch (error) {
    session.close();
    throw error;
  }
  return {
    async stop() {
      try {
        const { profile } = (await session.call(stop)) as { profile: unknown };
        return profile;
      } finally {
        session.close();
      }
    },
  };
}

/** A DevTools Protocol session: calls by method name, each answered by the message of the same id. */
interface Session {
  call(method: string, params?: Record<string, unknown>): Promise<unknown>;
  close(): void;
}

async function connect(url: string): Promise<Session> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`inspector at ${url}: could not connect`)), { once: true });
  });
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  socket.addEventListener('message', (event: MessageEvent) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    const waiting = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiting) return; // an event, not an answer
    pending.delete(message.id!);
    if (message.error) waiting.reject(new Error(`inspector: ${message.error.message}`));
    else waiting.resolve(message.result);
  });
  socket.addEventListener('close', () => {
    for (const waiting of pending.values()) waiting.reject(new Error(`inspector at ${url}: the connection closed`));
    pending.clear();
  });
  let lastId = 0;
  return {
    call(method, params) {
      const id = ++lastId;
      const answer = new Promise<unknown>((resolve, reject) => pending.set(id, { resolve, reject }));
      socket.send(JSON.stringify({ id, method, ...(params && { params }) }));
      return answer;
    },
    close: () => socket.close(),
  };
}

