/**
 * The fetch benchmark: 10,000 members in 500 departments behind 20 ms of latency per
 * call, fetched one department after another (what Casdoor's syncer does) and with
 * bounded concurrency. `node bench/fetch.ts [--concurrency N]`; the last line is JSON.
 */
import { parseArgs } from 'node:util';
import { WeComClient } from '../src/wecom/client.ts';
import { DEFAULT_FETCH_CONCURRENCY, fetchOrganization } from '../src/wecom/fetch.ts';
import { startSimulator, type Simulator } from '../test/support/simulator/server.ts';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: String(DEFAULT_FETCH_CONCURRENCY) },
    members: { type: 'string', default: '10000' },
    departments: { type: 'string', default: '500' },
    latency: { type: 'string', default: '20' },
  },
});
const members = Number(values.members);
const departments = Number(values.departments);
const latencyMs = Number(values.latency);
const concurrency = Number(values.concurrency);

interface Run {
  concurrency: number;
  ms: number;
  members: number;
  calls: number;
  tokens: number;
  maxInFlight: number;
}

async function run(sim: Simulator, lanes: number): Promise<Run> {
  sim.resetCounters();
  const client = new WeComClient({ apiURL: sim.url, corpId: sim.corpId, secret: sim.corpSecret });
  const started = performance.now();
  const org = await fetchOrganization(client, { concurrency: lanes });
  const ms = Math.round(performance.now() - started);
  const calls = Object.values(sim.counters.calls).reduce((a, b) => a + b, 0);
  return { concurrency: lanes, ms, members: org.members.length, calls, tokens: sim.counters.tokensIssued, maxInFlight: sim.counters.maxInFlight };
}

const sim = await startSimulator({
  generate: { members, departments, depth: 4, multiDepartmentShare: 0.1, seed: 42 },
  faults: { latencyMs },
});
try {
  const serial = await run(sim, 1);
  const concurrent = await run(sim, concurrency);
  for (const r of [serial, concurrent]) {
    process.stdout.write(`concurrency ${r.concurrency}: ${r.ms} ms, ${r.members} members, ${r.calls} calls, ${r.tokens} gettoken, peak ${r.maxInFlight} in flight\n`);
  }
  const speedup = Math.round((serial.ms / concurrent.ms) * 10) / 10;
  process.stdout.write(`${JSON.stringify({ members, departments, latencyMs, serial, concurrent, speedup })}\n`);
} finally {
  await sim.close();
}
