import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type Invocation, parseCommandLine, UsageError, usage } from '../../src/cli/args.ts';

const test = suite('cli arguments');

function usageError(argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (error) {
    assert.instance(error, UsageError);
    return (error as UsageError).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

test('sync NAME waits 5 minutes by default and leaves the namespace to the kubeconfig', () => {
  assert.equal(parseCommandLine(['sync', 'acme']), { kind: 'sync', target: 'WeComSyncer', name: 'acme', wait: true, timeoutMs: 300_000 } satisfies Invocation);
});

test('-n, --namespace and --namespace=NS all set the namespace, before or after the name', () => {
  for (const argv of [['sync', 'acme', '-n', 'casdoor'], ['-n', 'casdoor', 'sync', 'acme'], ['sync', '--namespace', 'casdoor', 'acme'], ['sync', 'acme', '--namespace=casdoor']]) {
    const invocation = parseCommandLine(argv);
    assert.is(invocation.kind === 'sync' && invocation.namespace, 'casdoor', argv.join(' '));
  }
});

test('--no-wait, --wait=false and --wait=0 turn waiting off; --wait=true keeps it on', () => {
  const wait = (argv: string[]) => {
    const invocation = parseCommandLine(['sync', 'acme', ...argv]);
    return invocation.kind === 'sync' && invocation.wait;
  };
  assert.is(wait(['--no-wait']), false);
  assert.is(wait(['--wait=false']), false);
  assert.is(wait(['--wait=False']), false);
  assert.is(wait(['--wait=0']), false);
  assert.is(wait(['--wait=true']), true);
  assert.is(wait(['--wait']), true);
  assert.match(usageError(['sync', 'acme', '--wait=maybe']), /--wait takes true or false/);
});

test('--timeout takes Go durations', () => {
  const timeout = (text: string) => {
    const invocation = parseCommandLine(['sync', 'acme', '--timeout', text]);
    return invocation.kind === 'sync' && invocation.timeoutMs;
  };
  assert.is(timeout('60s'), 60_000);
  assert.is(timeout('1m30s'), 90_000);
  assert.is(timeout('2h'), 7_200_000);
  assert.match(usageError(['sync', 'acme', '--timeout', '60']), /--timeout: "60" is not a Go duration/);
  assert.match(usageError(['sync', 'acme', '--timeout', '0s']), /more than zero/);
});

test('--kubeconfig and --context are passed through', () => {
  assert.equal(parseCommandLine(['sync', 'acme', '--kubeconfig', '/tmp/kc', '--context', 'prod']), {
    kind: 'sync', target: 'WeComSyncer', name: 'acme', wait: true, timeoutMs: 300_000, kubeconfig: '/tmp/kc', context: 'prod',
  } satisfies Invocation);
});

test('-h, --help and help ask for the usage, whatever else is there', () => {
  for (const argv of [['-h'], ['--help'], ['help'], ['sync', '--help'], ['sync', 'acme', '-h']]) {
    assert.equal(parseCommandLine(argv), { kind: 'help' }, argv.join(' '));
  }
});

test('a missing or unknown command, a missing name, extra words and unknown flags are usage errors', () => {
  assert.match(usageError([]), /missing the command: sync/);
  assert.match(usageError(['reconcile', 'acme']), /unknown command "reconcile"/);
  assert.match(usageError(['sync']), /missing the name/);
  assert.match(usageError(['sync', 'acme', 'beta']), /unexpected arguments: beta/);
  assert.match(usageError(['sync', 'acme', '--all']), /--all/);
  assert.match(usageError(['sync', 'acme', '-n']), /-n/);
  assert.match(usageError(['sync', 'acme', '-n', '']), /--namespace must not be empty/);
});

test('cds/NAME and casdoorserver/NAME name a CasdoorServer; wcs/NAME and a bare NAME a WeComSyncer', () => {
  const target = (name: string) => {
    const invocation = parseCommandLine(['sync', name]);
    return invocation.kind === 'sync' ? [invocation.target, invocation.name] : undefined;
  };
  assert.equal(target('cds/main'), ['CasdoorServer', 'main']);
  assert.equal(target('casdoorserver/main'), ['CasdoorServer', 'main']);
  assert.equal(target('CasdoorServers/main'), ['CasdoorServer', 'main']);
  assert.equal(target('wcs/acme'), ['WeComSyncer', 'acme']);
  assert.equal(target('acme'), ['WeComSyncer', 'acme']);
  assert.match(usageError(['sync', 'pods/x']), /"pods" is not a kind sync knows: use wcs\/NAME or cds\/NAME/);
  assert.match(usageError(['sync', 'cds/']), /missing the name after "cds\/"/);
});

test('the usage names the command the user typed', () => {
  assert.match(usage('kubectl wecom'), /^usage: kubectl wecom sync \[wcs\/\]NAME \| cds\/NAME/);
  assert.match(usage('wecom-syncer'), /^usage: wecom-syncer sync \[wcs\/\]NAME/);
});

test.run();
