// The `wecom-syncer` command (and the `kubectl wecom` plugin): wiring only.
// See src/cli/args.ts for the flags and src/cli/sync.ts for what sync does.
import { KubeConfig } from '@kubernetes/client-node';
import { parseCommandLine, usage, UsageError } from './args.ts';
import { ExitCode, kubeSyncerClient, runSync, type Terminal } from './sync.ts';

/** Set by bin/kubectl-wecom, so usage and errors name the command the user typed. */
const ENV_COMMAND = 'WECOM_SYNCER_COMMAND';

const terminal: Terminal = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Loads the kubeconfig the way kubectl does: --kubeconfig, else $KUBECONFIG, else ~/.kube/config (or in-cluster). */
function loadKubeConfig(file: string | undefined, context: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (file !== undefined) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (error) {
    throw new Error(`cannot load the kubeconfig: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (context !== undefined) {
    if (!kc.getContextObject(context)) throw new UsageError(`context "${context}" not found in the kubeconfig`);
    kc.setCurrentContext(context);
  }
  return kc;
}

async function main(argv: readonly string[]): Promise<ExitCode> {
  const command = process.env[ENV_COMMAND] || 'wecom-syncer';
  try {
    const invocation = parseCommandLine(argv);
    if (invocation.kind === 'help') {
      terminal.out(usage(command));
      return ExitCode.Ok;
    }
    const kc = loadKubeConfig(invocation.kubeconfig, invocation.context);
    const namespace = invocation.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    return await runSync(
      kubeSyncerClient(kc, invocation.target),
      { kind: invocation.target, name: invocation.name, namespace, wait: invocation.wait, timeoutMs: invocation.timeoutMs },
      terminal,
    );
  } catch (error) {
    if (error instanceof UsageError) {
      terminal.err(`${command}: ${error.message}`);
      terminal.err(`run "${command} --help" for usage`);
      return ExitCode.Usage;
    }
    // A kubeconfig that cannot be read, or a bug: say what, without a stack for the former.
    terminal.err(`✗ ${error instanceof Error ? error.message : String(error)}`);
    return ExitCode.Failed;
  }
}

process.exitCode = await main(process.argv.slice(2));
