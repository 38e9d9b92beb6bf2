// Builds the image's one file, dist/main.js: src/main.ts and every package it imports, bundled by esbuild
// (`npm run build`, the Dockerfile's build stage, the benchmark). Why a bundle and not one compiled file per
// source: @kubernetes/client-node's entry imports every generated API and model, about 2,700 modules and 25 MB
// of JavaScript, and Node keeps each module's record and source for the life of the process. Bundled, only
// what the operator reaches is kept, in one module: `node dist/main.js --help` peaks at 102 MB of RSS
// against 156 MB compiled file by file (docs/operating.md, "The image"). Types are checked by `make typecheck`
// and `make test` (tsc), not here: esbuild only strips them.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';

const root = join(import.meta.dirname, '..');

/** The bundle's options; the image test builds with them too, to read what the bundle imports. */
export const bundleOptions = {
  entryPoints: [join(root, 'src', 'main.ts')],
  outfile: join(root, 'dist', 'main.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  // Short identifiers make the file smaller, and Node holds all of it; function and class names stay, for stack traces.
  minify: true,
  keepNames: true,
  // The packages' licence notices, at the end of the file.
  legalComments: 'eof',
  // Packages written as CommonJS call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
} satisfies BuildOptions;

if (import.meta.main) {
  await rm(join(root, 'dist'), { recursive: true, force: true });
  await build(bundleOptions);
}
