// What the image runs, without a Docker engine: the files the Dockerfile's
// final stage copies (package.json, and dist/, which the build stage bundles
// from src/ and the packages it imports) put in a temporary directory, made
// read-only, and run with the image's ENTRYPOINT as the image's numeric
// non-root USER. The build stage is emulated too: its COPY lines fill a
// temporary build directory from the checkout (only what .dockerignore admits),
// its `npm ci` is the checkout's full node_modules, and its `npm run build`
// runs there, so dist/ is what `docker build` would bundle. It must print its
// usage, start, and answer /healthz and /metrics: proof that no node_modules,
// no TypeScript source and no write to its own files is needed at run time.
// It checks, from esbuild's own record, that the bundle imports nothing but
// Node's modules. (The benchmark's smoke test, test/bench.cluster.test.ts, runs the same bundle
// through whole syncs on a real control plane.)
import { spawn, spawnSync } from 'node:child_process';
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from 'esbuild';
import { bundleOptions } from '../../hack/build.ts';
import { waitFor } from '../support/wait.ts';
import { freePort } from '../../hack/control-plane/cluster.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const test = suite<{ dir: string; entrypoint: string[]; user: { uid: number; gid: number } }>('image contents');

interface Stage {
  name: string | undefined;
  /** The stage's instructions, FROM first, without comments and blank lines. */
  lines: string[];
}

/** The Dockerfile's stages, in order. */
async function stages(): Promise<Stage[]> {
  const lines = (await readFile(join(ROOT, 'Dockerfile'), 'utf8')).split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const result: Stage[] = [];
  for (const line of lines) {
    if (line.startsWith('FROM ')) result.push({ name: /\sAS\s+(\S+)$/i.exec(line)?.[1], lines: [] });
    result.at(-1)?.lines.push(line);
  }
  return result;
}

/** The Dockerfile's instructions after its last FROM: the final stage. */
async function finalStage(): Promise<string[]> {
  return (await stages()).at(-1)?.lines ?? [];
}

/** A COPY line's --from stage (if any), sources and destination. */
function parseCopy(line: string): { from: string | undefined; sources: string[]; target: string } {
  const words = line.split(/\s+/).slice(1);
  const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((word) => !word.startsWith('--'));
  return { from, sources: paths.slice(0, -1), target: paths.at(-1) ?? '' };
}

/** The .dockerignore allowlist: `*`, then `!name` for each admitted file or directory. */
async function dockerignore(): Promise<string[]> {
  return (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
}

/** Copies `source`, relative to `from`, as Docker's COPY does: a directory's contents into the target. */
async function copy(from: string, source: string, dir: string, target: string): Promise<void> {
  const isDirectory = (await stat(join(from, source))).isDirectory();
  const destination = join(dir, !isDirectory && target.endsWith('/') ? join(target, basename(source)) : target);
  await cp(join(from, source), destination, { recursive: true });
}

/**
 * Runs the named stage of the Dockerfile in a temporary directory standing for
 * its /app, and returns that directory. Only the instructions a build stage
 * needs are understood; anything else fails the test rather than be skipped.
 */
async function buildStage(name: string): Promise<string> {
  const stage = (await stages()).find((candidate) => candidate.name === name);
  assert.ok(stage, `the Dockerfile has a stage named ${name}`);
  const admitted = await dockerignore();
  const dir = await mkdtemp(join(tmpdir(), `wecom-syncer-${name}-`));
  for (const line of stage.lines.slice(1)) {
    if (line === 'WORKDIR /app') continue;
    if (line.startsWith('COPY ')) {
      const { from, sources, target } = parseCopy(line);
      assert.is(from, undefined, `${name} copies from the build context only`);
      for (const source of sources) {
        assert.ok(admitted.includes(`!${source}`) || admitted.includes(`!${source}/`), `.dockerignore admits ${source}`);
        await copy(ROOT, source, dir, target);
      }
    } else if (/^RUN npm ci(?! .*--omit=dev)/.test(line)) {
      // npm ci with dev dependencies: the checkout's own install of the same lockfile.
      await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    } else if (line === 'RUN npm run build') {
      const result = spawnSync('npm', ['run', 'build'], { cwd: dir, encoding: 'utf8' });
      assert.is(result.status, 0, `npm run build failed: ${result.stdout}${result.stderr}`);
    } else {
      assert.unreachable(`the test cannot emulate this instruction of stage ${name}: ${line}`);
    }
  }
  return dir;
}

/** Makes every file under `dir` read-only to everyone (a read-only root filesystem, and files owned by root). */
async function makeReadOnly(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    await chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o555 : 0o444);
  }
  await chmod(dir, 0o555);
}


test.before(async (context) => {
  const stage = await finalStage();
  const entrypoint = stage.find((line) => line.startsWith('ENTRYPOINT '));
  context.entrypoint = JSON.parse(entrypoint?.slice('ENTRYPOINT '.length) ?? '[]') as string[];
  const user = /^USER (\d+):(\d+)$/.exec(stage.find((line) => line.startsWith('USER ')) ?? '');
  assert.ok(user, 'the final stage sets a numeric USER uid:gid');
  context.user = { uid: Number(user[1]), gid: Number(user[2]) };

  context.dir = await mkdtemp(join(tmpdir(), 'wecom-syncer-image-'));
  const built = new Map<string, string>();
  try {
    for (const line of stage.filter((instruction) => instruction.startsWith('COPY '))) {
      const { from, sources, target } = parseCopy(line);
      if (from !== undefined) {
        if (!built.has(from)) built.set(from, await buildStage(from));
        for (const source of sources) {
          assert.ok(source.startsWith('/app/'), `${source} is under the stage's WORKDIR`);
          await copy(built.get(from) ?? '', source.slice('/app/'.length), context.dir, target);
        }
      } else {
        for (const source of sources) await copy(ROOT, source, context.dir, target);
      }
    }
  } finally {
    for (const dir of built.values()) {
      await unlink(join(dir, 'node_modules')).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
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

test('the Dockerfile pins the toolchain Node 24 base, runs as a numeric non-root user, and ships one bundled file', async ({ entrypoint, user }) => {
  const stage = await finalStage();
  const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, new RegExp(`^ARG NODE_IMAGE=node:${process.versions.node.replace(/\./g, '\\.')}-bookworm-slim$`, 'm'), 'the base is the Node this test runs on');
  assert.equal(entrypoint, ['node', 'dist/main.js']);
  assert.ok(user.uid > 0 && user.gid > 0);
  assert.equal(stage.filter((line) => line.startsWith('COPY ')).map((line) => line.split(/\s+/).slice(1).join(' ')), [
    'package.json ./',
    '--from=build /app/dist ./dist',
  ]);
  // The build stage bundles with the project's own build script.
  const build = (await stages()).find((candidate) => candidate.name === 'build')?.lines ?? [];
  assert.ok(build.includes('COPY hack/build.ts ./hack/') && build.includes('RUN npm run build'));
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.is(pkg.scripts['build'], 'node hack/build.ts');
});

test('.dockerignore admits only what the Dockerfile copies', async () => {
  assert.equal(await dockerignore(), ['*', '!package.json', '!package-lock.json', '!tsconfig.json', '!hack/build.ts', '!src/']);
  const copied = new Set<string>();
  for (const stage of await stages()) {
    for (const line of stage.lines.filter((instruction) => instruction.startsWith('COPY '))) {
      const { from, sources } = parseCopy(line);
      if (from === undefined) for (const source of sources) copied.add(source);
    }
  }
  assert.equal([...copied].sort(), ['hack/build.ts', 'package-lock.json', 'package.json', 'src', 'tsconfig.json']);
});

/**
 * Packages the bundle may still require, each only inside a try/catch of the package that wants it, which runs
 * on without: ws's optional native helpers (bufferutil, utf-8-validate), debug's supports-color.
 */
const OPTIONAL_PACKAGES = ['bufferutil', 'supports-color', 'utf-8-validate'];

test('holds one bundled file, which needs no package at run time', async ({ dir }) => {
  assert.equal((await readdir(dir)).sort(), ['dist', 'package.json'], 'no node_modules: the bundle carries its packages');
  assert.equal(await readdir(join(dir, 'dist'), { recursive: true }), ['main.js'], 'no sources, no declarations, no maps');
  // What the bundle leaves to be loaded at run time, as esbuild records it (minified code renames require).
  const { metafile } = await build({ ...bundleOptions, write: false, metafile: true, logLevel: 'silent' });
  const external = new Set(Object.values(metafile.outputs).flatMap((output) => output.imports).filter((entry) => entry.external).map((entry) => entry.path));
  assert.ok(external.has('node:crypto'), 'the fingerprints\' import is among them: the record is read');
  assert.equal([...external].filter((path) => !isBuiltin(path)).sort(), OPTIONAL_PACKAGES, 'every other import is built into Node');
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
  const child = runImage(context, [`--health-probe-bind-address=127.0.0.1:${health}`, `--metrics-bind-address=127.0.0.1:${metrics}`, '--webhook-bind-address=0', '--namespace=default'], { KUBECONFIG: config });
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
