// Runs the operator as users run it (`node src/main.ts`, or the image's compiled `dist/main.js`), as a
// child process watching one namespace, and keeps its log for assertions.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { inCgroup, type MemoryCgroup } from './memory-cgroup.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.ts');

/** How an operator process ended: its exit code, or the signal that ended it. */
export interface OperatorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running operator process. */
export interface OperatorProcess {
  /** The child's process id (for /proc readings), once spawned. */
  readonly pid: number | undefined;
  /** Settles once the process has exited and all it printed is in the log. */
  readonly exited: Promise<OperatorExit>;
  /** Everything it printed so far. */
  log(): string;
  /** Sends a signal and waits for the process to exit; resolves with its exit code. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** How to run the operator's Node beyond its flags. */
export interface OperatorRuntime {
  /** The entry script. Default src/main.ts; the benchmark runs dist/main.js, as the image does. */
  main?: string;
  /** NODE_OPTIONS for the operator alone (e.g. the Deployment's); inherited when absent. */
  nodeOptions?: string;
  /** More environment variables for the operator alone (e.g. the Deployment's). */
  env?: Record<string, string>;
  /** A cgroup to start it in, as a container's memory limit would. */
  cgroup?: MemoryCgroup;
}

/** Starts the operator against `kubeconfig`, watching `namespace`. */
export function startOperator(kubeconfig: string, namespace: string, extraArgs: string[] = [], runtime: OperatorRuntime = {}): OperatorProcess {
  let output = '';
  const node = [process.execPath, runtime.main ?? MAIN, `--namespace=${namespace}`, '--metrics-bind-address=0', '--health-probe-bind-address=0', '--webhook-bind-address=0', '--log-level=debug', ...extraArgs];
  const [command, ...args] = runtime.cgroup ? inCgroup(runtime.cgroup, node) : node;
  const child: ChildProcess = spawn(
    command!,
    args,
    { env: { ...process.env, ...runtime.env, KUBECONFIG: kubeconfig, ...(runtime.nodeOptions !== undefined && { NODE_OPTIONS: runtime.nodeOptions }) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close', not 'exit': it comes once stdout and stderr are drained, so the log holds the last words
  // (a V8 "heap out of memory" report, say) by the time anyone hears of the exit.
  const exited = new Promise<OperatorExit>((resolve) =>
    child.once('close', (code, signal) => {
      // In the log too, so a test that finds the operator gone can tell how it went.
      output += `\n[operator exited: code ${code}, signal ${signal}]\n`;
      resolve({ code, signal });
    }),
  );
  return {
    pid: child.pid,
    exited,
    log: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return (await exited).code;
    },
  };
}
