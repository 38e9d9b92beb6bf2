// `npm run control-plane -- up|down|build --dir DIR`: a local etcd,
// kube-apiserver and kube-controller-manager on loopback, for tests and demos.
import { parseArgs } from 'node:util';
import { ensureBinaries } from './binaries.ts';
import { down, up } from './cluster.ts';

const USAGE = `usage: control-plane up|down --dir DIR [--apiserver-arg=FLAG ...]
       control-plane build`;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      'apiserver-arg': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [verb] = positionals;
  const log = (line: string): void => console.error(`control-plane: ${line}`);
  if (values.help) return void console.log(USAGE);
  if (verb === 'build') {
    await ensureBinaries(log);
    return;
  }
  if ((verb !== 'up' && verb !== 'down') || !values.dir) throw new Error(USAGE);
  if (verb === 'down') return down(values.dir);
  const started = Date.now();
  const plane = await up(values.dir, { apiserverArgs: values['apiserver-arg'] ?? [], log });
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${plane.server}`);
  console.log(`KUBECONFIG=${plane.kubeconfig}`);
}

main().catch((error: unknown) => {
  console.error(`control-plane: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
