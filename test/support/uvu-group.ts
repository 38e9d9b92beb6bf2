// Runs the uvu suites of the files named on the command line in this one
// process, then exits, so a handle a test left open cannot hang the run. A file
// that throws as it loads counts as one failed test of its own: the others still run.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

declare global {
  var UVU_DEFER: number;
  var UVU_INDEX: number;
  var UVU_QUEUE: unknown[][];
}

globalThis.UVU_DEFER = 1;
const uvu = await import('uvu');
let index = 0;
for (const file of process.argv.slice(2)) {
  globalThis.UVU_INDEX = index++;
  globalThis.UVU_QUEUE.push([file]);
  try {
    await import(pathToFileURL(resolve(file)).href);
  } catch (error) {
    const loading = uvu.suite(file);
    loading('loads', () => {
      throw error;
    });
    loading.run();
  }
}
await uvu.exec(false);
process.exit(process.exitCode ?? 0);
