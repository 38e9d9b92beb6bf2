// The operator process as the benchmark watches it: waits that give up the
// moment it exits (a V8 heap abort, an OOM kill) rather than poll on for an
// answer that cannot come, and its heap read through the inspector.
import type { OperatorExit, OperatorProcess } from '../test/support/operator.ts';
import { waitFor } from '../test/support/wait.ts';
import { heapAfterFullGc, inspectorUrl, type ProfileKind, startProfile } from './heap.ts';

/** Lines of the operator's log an error about its exit carries: enough for a V8 heap report or the last few reconciles. */
const LAST_LINES = 30;
/** How often the log is polled. */
const POLL_MS = 100;
/** How long the operator may take to list everything stored (tens of thousands of objects at a restart). */
const START_TIMEOUT_MS = 120_000;

/** NODE_OPTIONS plus the inspector on a free port of the loopback, so {@link operatorHeapAfterGc} can reach it. */
export function withInspector(nodeOptions: string): string {
  return `${nodeOptions} --inspect=127.0.0.1:0`.trim();
}

/** `wait`, unless the operator exits first: then a rejection at once, telling how it exited and what it last said. */
export function whileRunning<T>(operator: OperatorProcess, wait: Promise<T>): Promise<T> {
  const exited = operator.exited.then((exit): never => {
    throw new Error(`the operator exited (${describeExit(exit)}); the last ${LAST_LINES} lines of its log:\n${lastLines(operator.log(), LAST_LINES)}`);
  });
  return Promise.race([wait, exited]);
}

/**
 * Waits until every informer of the operator has listed and its controllers run. The manager's own line
 * says so once all have synced, however many informers this version wires.
 */
export async function waitControllersStarted(operator: OperatorProcess): Promise<void> {
  const started = async (): Promise<true | undefined> => operator.log().includes('"msg":"controllers started"') || undefined;
  await whileRunning(operator, waitFor('the operator\'s caches to sync and its controllers to start', started, START_TIMEOUT_MS, POLL_MS));
}

/** Bytes of the operator's V8 heap after a full garbage collection; it must run {@link withInspector}. */
export async function operatorHeapAfterGc(operator: OperatorProcess): Promise<number> {
  const url = inspectorUrl(operator.log());
  if (url === undefined) throw new Error('the operator printed no inspector URL: was it started withInspector()?');
  return whileRunning(operator, heapAfterFullGc(url));
}

/** Starts a profiler in the operator (it must run {@link withInspector}); `stop` returns the profile. */
export async function operatorProfile(operator: OperatorProcess, kind: ProfileKind): Promise<{ stop(): Promise<unknown> }> {
  const url = inspectorUrl(operator.log());
  if (url === undefined) throw new Error('the operator printed no inspector URL: was it started withInspector()?');
  return whileRunning(operator, startProfile(url, kind));
}

function describeExit(exit: OperatorExit): string {
  return exit.signal === null ? `exit code ${exit.code}` : `killed by ${exit.signal}`;
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
