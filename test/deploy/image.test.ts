// What the image runs, without a Docker engine: the files the Dockerfile's
// final stage copies (package.json, src/, production node_modules only) put in
// a temporary directory, made read-only, and run with the image's ENTRYPOINT
// as the image's numeric non-root USER. It must print its usage, start, and
// answer /healthz and /metrics: proof that no dev dependency and no write to
// its own files is needed at run time.
import { spawn, spawnSync } from 'node:child_process';
import { chmod, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/wait.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const test = suite<{ dir: string; entrypoint: string[]; user: { uid: number; gid: number } }>('image contents');

/** The Dockerfile's instructions after its last FROM: the final stage. */
async function finalStage(): Promise<string[]> {
  const lines = (await readFile(join(ROOT, 'Dockerfile'), 'utf8')).split('\n').map((line) => line.trim());
  const from = lines.findLastIndex((line) => line.startsWith('FROM '));
  return lines.slice(from).filter((line) => line !== '' && !line.startsWith('#'));
}

/** The package directories `npm ci --omit=dev` installs, relative to the project root. */
function productionPackages(): string[] {
  const result = spawnSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: ROOT, encoding: 'utf8' });
  assert.is(result.status, 0, `npm ls failed: ${result.stderr}`);
  return [...new Set(result.stdout.split('\n').filter((line) => line.startsWith(join(ROOT, 'node_modules'))))].map((path) => relative(ROOT, path));
}

/** Makes every file under `dir` read-only to everyone (a read-only root filesystem, and files owned by root). */
async function makeReadOnly(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    await chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o555 : 0o444);
  }
  await chmod(dir, 0o555);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

test.before(async (context) => {
  const stage = await finalStage();
  const entrypoint = stage.find((line) => line.startsWith('ENTRYPOINT '));
  context.entrypoint = JSON.parse(entrypoint?.slice('ENTRYPOINT '.length) ?? '[]') as string[];
  const user = /^USER (\d+):(\d+)$/.exec(stage.find((line) => line.startsWith('USER ')) ?? '');
  assert.ok(user, 'the final stage sets a numeric USER uid:gid');
  context.user = { uid: Number(user[1]), gid: Number(user[2]) };

  context.dir = await mkdtemp(join(tmpdir(), 'wecom-syncer-image-'));
  const copies = stage.filter((line) => line.startsWith('COPY '));
  for (const copy of copies) {
    const [source = '', target = ''] = copy.split(/\s+/).slice(-2);
    if (copy.includes('--from=')) {
      // The deps stage: npm ci --omit=dev, i.e. the production packages of the lockfile.
      assert.is(source.replace(/^\/app\//, ''), 'node_modules');
      for (const pkg of productionPackages()) {
        await cp(join(ROOT, pkg), join(context.dir, pkg), { recursive: true, filter: (path) => path !== join(ROOT, pkg, 'node_modules') });
      }
    } else {
      await cp(join(ROOT, source), join(context.dir, target.endsWith('/') ? join(target, source) : target), { recursive: true });
    }
  }
  await makeReadOnly(context.dir);
});

test.after(async ({ dir }) => {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isDirectory()) await chmod(join(entry.parentPath, entry.name), 0o755);
  }
  await rm(dir, { recursive: true, force: true });
});

test('the Dockerfile pins the toolchain Node 24 base, runs as a numeric non-root user, and has no build step', async ({ entrypoint, user }) => {
  const stage = await finalStage();
  const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, new RegExp(`^ARG NODE_IMAGE=node:${process.versions.node.replace(/\./g, '\\.')}-bookworm-slim$`, 'm'), 'the base is the Node this test runs on');
  assert.match(dockerfile, /npm ci --omit=dev/);
  assert.equal(entrypoint, ['node', 'src/main.ts']);
  assert.ok(user.uid > 0 && user.gid > 0);
  assert.equal(stage.filter((line) => line.startsWith('COPY ')).map((line) => line.split(/\s+/).slice(-2).join(' ')), [
    '/app/node_modules ./node_modules',
    'package.json ./',
    'src ./src',
  ]);
});

test('.dockerignore admits only what the Dockerfile copies', async () => {
  const patterns = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
  assert.equal(patterns, ['*', '!package.json', '!package-lock.json', '!src/']);
});

test('holds no dev dependency', async ({ dir }) => {
  const installed = await readdir(join(dir, 'node_modules'));
  for (const dev of ['typescript', 'uvu', 'testdouble']) assert.not.ok(installed.includes(dev), `${dev} is not in the image`);
  assert.ok(installed.includes('@kubernetes'));
});

/** Runs the entrypoint in the image directory as the image's user, with a bare environment. */
function runImage(context: { dir: string; entrypoint: string[]; user: { uid: number; gid: number } }, args: string[], env: Record<string, string> = {}) {
  const [, ...nodeArgs] = context.entrypoint;
  const asUser = process.getuid?.() === 0 ? context.user : {};
  return spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: context.dir,
    ...asUser,
    env: { PATH: '/usr/bin:/bin', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('prints its usage with --help', async (context) => {
  const child = runImage(context, ['--help']);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.is(code, 0, output);
  assert.match(output, /^usage: wecom-syncer/);
});

test('starts, answers /healthz and /metrics, and exits 0 on SIGTERM', async (context) => {
  // A kubeconfig for an API server that is not there: the probes answer all the same.
  const config = join(await mkdtemp(join(tmpdir(), 'wecom-syncer-kubeconfig-')), 'kubeconfig');
  await writeFile(config, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'none',
    clusters: [{ name: 'none', cluster: { server: 'https://127.0.0.1:9' } }],
    users: [{ name: 'none', user: { token: 'none' } }],
    contexts: [{ name: 'none', context: { cluster: 'none', user: 'none' } }],
  }), { mode: 0o644 });
  await chmod(join(config, '..'), 0o755);
  const [health, metrics] = [await freePort(), await freePort()];
  const child = runImage(context, [`--health-probe-bind-address=127.0.0.1:${health}`, `--metrics-bind-address=127.0.0.1:${metrics}`, '--namespace=default'], { KUBECONFIG: config });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const healthz = await waitFor('/healthz', async () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${output}`);
      const response = await fetch(`http://127.0.0.1:${health}/healthz`).catch(() => undefined);
      return response?.status === 200 ? response.text() : undefined;
    }, 20_000);
    assert.is(healthz, 'ok');
    const readyz = await fetch(`http://127.0.0.1:${health}/readyz`);
    assert.is(readyz.status, 503, 'not ready without an API server');
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    assert.match(text, /process_cpu_seconds_total/);
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, output);
  await rm(join(config, '..'), { recursive: true, force: true });
});

test.run();
