import { suite, type Test } from 'uvu';
import { startSimulator, type Simulator, type SimulatorOptions } from './server.ts';

/** The context of a {@link simulatorSuite}'s tests. */
export interface SimulatorContext {
  sim: Simulator;
}

/**
 * A uvu suite with one simulator for all its tests, started before the first and closed
 * after the last; faults and counters are reset before each test, and `beforeEach` runs then.
 */
export function simulatorSuite(
  name: string,
  options: SimulatorOptions,
  beforeEach?: (sim: Simulator) => void,
): Test<SimulatorContext> {
  const test = suite<SimulatorContext>(name, { sim: undefined as unknown as Simulator });
  test.before(async (ctx) => {
    ctx.sim = await startSimulator(options);
  });
  test.before.each((ctx) => {
    ctx.sim.resetFaults();
    ctx.sim.resetCounters();
    beforeEach?.(ctx.sim);
  });
  test.after(async (ctx) => {
    await ctx.sim.close();
  });
  return test;
}
