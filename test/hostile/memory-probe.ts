// Loaded into the soak's operator with NODE_OPTIONS="--expose-gc --import <this file>":
// on SIGUSR2 it runs a full garbage collection and writes process.memoryUsage() as
// JSON to $WECOM_SYNCER_MEMORY_PROBE, so the soak compares memory that is really
// held, not what the collector has yet to free. It changes nothing else.
import { writeFileSync } from 'node:fs';

const target = process.env['WECOM_SYNCER_MEMORY_PROBE'];
if (target && process.argv.some((arg) => arg.endsWith('main.ts'))) {
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    writeFileSync(target, JSON.stringify({ at: Date.now(), ...process.memoryUsage() }));
  });
}
