// The command line of `wecom-syncer sync`, parsed without touching the
// cluster, so every flag combination can be tested as a pure function.
import { parseArgs } from 'node:util';
import { parseGoDuration } from '../shared/duration.ts';

/** How long `sync` waits by default, as `flux reconcile` does. */
export const DEFAULT_TIMEOUT = '5m';

/** The usage text; `command` is how the user called us (`wecom-syncer` or `kubectl wecom`). */
export function usage(command: string): string {
  return `usage: ${command} sync [wcs/]NAME | cds/NAME [-n NAMESPACE] [--wait | --no-wait] [--timeout DURATION]
       ${' '.repeat(command.length)}      [--kubeconfig FILE] [--context NAME]

Requests a sync of the WeComSyncer NAME, or a full comparison with Casdoor of the CasdoorServer
cds/NAME (casdoorserver/NAME), by setting the annotation casdoor.org/sync-requested-at; waits until
the operator has handled it, and prints the outcome with the counts from status.

flags:
  -n, --namespace NS    the syncer's namespace (default: the kubeconfig context's, else "default")
      --wait            wait for the sync to finish (default); --no-wait or --wait=false returns
                        as soon as the request is recorded
      --timeout D       how long to wait, a Go duration such as 90s or 5m (default ${DEFAULT_TIMEOUT})
      --kubeconfig FILE the kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config)
      --context NAME    the kubeconfig context to use (default: the current context)
  -h, --help            this text

exit status: 0 synced (for a suspended syncer: the connection test passed); 1 the sync failed,
the wait timed out, or the syncer or its CRD does not exist; 2 a usage error.`;
}

/** A command line that cannot be run; the caller prints the message and the usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The kinds `sync` can ask: a WeComSyncer's sync, a CasdoorServer's full comparison. */
export type SyncKind = 'WeComSyncer' | 'CasdoorServer';

const KIND_PREFIXES: Readonly<Record<string, SyncKind>> = {
  wcs: 'WeComSyncer', wecomsyncer: 'WeComSyncer', wecomsyncers: 'WeComSyncer',
  cds: 'CasdoorServer', casdoorserver: 'CasdoorServer', casdoorservers: 'CasdoorServer',
};

/** What the command line asks for. */
export type Invocation =
  | { kind: 'help' }
  | {
      kind: 'sync';
      /** Which kind NAME is: a bare NAME is a WeComSyncer. */
      target: SyncKind;
      name: string;
      /** Undefined when not given: the kubeconfig decides. */
      namespace?: string;
      wait: boolean;
      timeoutMs: number;
      kubeconfig?: string;
      context?: string;
    };

const TRUE_WORDS = new Set(['true', 't', '1']);
const FALSE_WORDS = new Set(['false', 'f', '0']);

/**
 * Rewrites `--wait=false` and `--wait=true` (the spelling of Go's flag
 * package, which flux users type) into the `--no-wait` / `--wait` that
 * parseArgs understands.
 */
function normalizeWaitFlag(arg: string): string {
  const match = /^--wait=(.*)$/.exec(arg);
  if (!match) return arg;
  const word = match[1]!.toLowerCase();
  if (TRUE_WORDS.has(word)) return '--wait';
  if (FALSE_WORDS.has(word)) return '--no-wait';
  throw new UsageError(`--wait takes true or false, not "${match[1]}"`);
}

/** Parses the arguments after the program name. Throws UsageError on anything it cannot run. */
export function parseCommandLine(argv: readonly string[]): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.map(normalizeWaitFlag),
      allowPositionals: true,
      allowNegative: true,
      options: {
        namespace: { type: 'string', short: 'n' },
        wait: { type: 'boolean', default: true },
        timeout: { type: 'string', default: DEFAULT_TIMEOUT },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // parseArgs throws TypeErrors whose messages already name the flag.
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { kind: 'help' };

  const [command, given, ...extra] = positionals;
  if (command === undefined) throw new UsageError('missing the command: sync');
  if (command !== 'sync') throw new UsageError(`unknown command "${command}": the only command is sync`);
  if (given === undefined || given === '') throw new UsageError('missing the name of the WeComSyncer (or cds/NAME of a CasdoorServer)');
  const slash = given.indexOf('/');
  const prefix = slash < 0 ? undefined : given.slice(0, slash).toLowerCase();
  const target = prefix === undefined ? 'WeComSyncer' : KIND_PREFIXES[prefix];
  if (target === undefined) throw new UsageError(`"${given.slice(0, slash)}" is not a kind sync knows: use wcs/NAME or cds/NAME`);
  const name = slash < 0 ? given : given.slice(slash + 1);
  if (name === '') throw new UsageError(`missing the name after "${prefix}/"`);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (values.namespace === '') throw new UsageError('--namespace must not be empty');

  let timeoutMs: number;
  try {
    timeoutMs = parseGoDuration(values.timeout);
  } catch (error) {
    throw new UsageError(`--timeout: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (timeoutMs <= 0) throw new UsageError('--timeout must be more than zero');

  return {
    kind: 'sync',
    target,
    name,
    ...(values.namespace !== undefined && { namespace: values.namespace }),
    wait: values.wait,
    timeoutMs,
    ...(values.kubeconfig !== undefined && { kubeconfig: values.kubeconfig }),
    ...(values.context !== undefined && { context: values.context }),
  };
}
