// The fetch comparison that bench/fetch.ts and bench/sync.ts share: the same
// organization fetched one department after another (Casdoor's syncer's way)
// and with the operator's bounded concurrency.
import { WeComClient } from '../src/wecom/client.ts';
import { fetchOrganization } from '../src/wecom/fetch.ts';
import type { Simulator } from '../test/support/simulator/server.ts';

/** One fetch of the whole organization. */
export interface FetchRun {
  concurrency: number;
  ms: number;
  members: number;
  calls: number;
  tokens: number;
  maxInFlight: number;
}

/** The serial and the concurrent fetch, and how much faster the second is. */
export interface FetchComparison {
  serial: FetchRun;
  concurrent: FetchRun;
  /** serial time / concurrent time, one decimal. */
  speedup: number;
}

/** Fetches the simulator's organization with `lanes` departments at once; resets the simulator's counters first. */
export async function fetchRun(sim: Simulator, lanes: number): Promise<FetchRun> {
  sim.resetCounters();
  const client = new WeComClient({ apiURL: sim.url, corpId: sim.corpId, secret: sim.corpSecret });
  const started = performance.now();
  const org = await fetchOrganization(client, { concurrency: lanes });
  const ms = Math.round(performance.now() - started);
  const calls = Object.values(sim.counters.calls).reduce((a, b) => a + b, 0);
  return { concurrency: lanes, ms, members: org.members.length, calls, tokens: sim.counters.tokensIssued, maxInFlight: sim.counters.maxInFlight };
}

/** Fetches at concurrency 1, then at `concurrency`, from a fresh client each time. */
export async function compareFetch(sim: Simulator, concurrency: number): Promise<FetchComparison> {
  const serial = await fetchRun(sim, 1);
  const concurrent = await fetchRun(sim, concurrency);
  return { serial, concurrent, speedup: Math.round((serial.ms / concurrent.ms) * 10) / 10 };
}
