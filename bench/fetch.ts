/**
 * The fetch benchmark: 10,000 members in 500 departments behind 20 ms of latency per
 * call, fetched one department after another (what Casdoor's syncer does) and with
 * bounded concurrency. `node bench/fetch.ts [--concurrency N]`; the last line is JSON.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_FETCH_CONCURRENCY } from '../src/wecom/fetch.ts';
import { startSimulator } from '../test/support/simulator/server.ts';
import { compareFetch } from './fetch-compare.ts';

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

const sim = await startSimulator({
  generate: { members, departments, depth: 4, multiDepartmentShare: 0.1, seed: 42 },
  faults: { latencyMs },
});
try {
  const { serial, concurrent, speedup } = await compareFetch(sim, concurrency);
  for (const r of [serial, concurrent]) {
    process.stdout.write(`concurrency ${r.concurrency}: ${r.ms} ms, ${r.members} members, ${r.calls} calls, ${r.tokens} gettoken, peak ${r.maxInFlight} in flight\n`);
  }
  process.stdout.write(`${JSON.stringify({ members, departments, latencyMs, serial, concurrent, speedup })}\n`);
} finally {
  await sim.close();
}
