// README.md and docs/**/*.md as GitHub renders them: every relative link reaches
// a file or directory of the checkout, every anchor a heading (GitHub's slugs),
// and every `make TARGET` and `npm run SCRIPT` named in code exists today.
// A problem is reported as FILE:LINE: the link (or command) and why.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = join(import.meta.dirname, '..', '..');

/** A markdown file as the checks read it. */
interface Doc {
  /** Path relative to the checkout, for messages. */
  name: string;
  /** Absolute path. */
  path: string;
  text: string;
}

/** A piece of code in a markdown file: a fenced block's line or an inline code span. */
interface Code {
  line: number;
  text: string;
}

/** The markdown files checked: README.md and every .md below docs/. */
function docs(): Doc[] {
  const names = ['README.md', ...readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.md')).map((name) => join('docs', name))];
  return names.sort().map((name) => ({ name, path: join(ROOT, name), text: readFileSync(join(ROOT, name), 'utf8') }));
}

/**
 * Which lines are in a fenced code block (the fences included), by CommonMark's rule:
 * a run of three or more backticks or tildes, closed by a run of the same character
 * at least as long with nothing after it.
 */
export function fencedLines(text: string): boolean[] {
  let fence: { char: string; length: number } | undefined;
  return text.split('\n').map((line) => {
    const match = /^\s*(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence) {
      if (match?.[1] && match[1][0] === fence.char && match[1].length >= fence.length && match[2]?.trim() === '') fence = undefined;
      return true;
    }
    if (match?.[1] && !(match[1][0] === '`' && match[2]?.includes('`'))) {
      fence = { char: match[1][0] ?? '`', length: match[1].length };
      return true;
    }
    return false;
  });
}

/** 1-based line number of an offset in text. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text[i] === '\n') line++;
  return line;
}

/**
 * The prose of a file (fenced blocks blanked, line breaks kept, so offsets still give
 * line numbers) and its inline code spans: a run of N backticks up to the next run of
 * exactly N, within one paragraph.
 */
export function splitCode(text: string): { prose: string; spans: Array<{ offset: number; text: string }> } {
  const fenced = fencedLines(text);
  const unfenced = text
    .split('\n')
    .map((line, i) => (fenced[i] ? ' '.repeat(line.length) : line))
    .join('\n');
  const spans: Array<{ offset: number; text: string }> = [];
  let prose = '';
  let i = 0;
  while (i < unfenced.length) {
    if (unfenced[i] !== '`') {
      prose += unfenced[i];
      i++;
      continue;
    }
    let n = 0;
    while (unfenced[i + n] === '`') n++;
    const ticks = '`'.repeat(n);
    let close = -1;
    for (let j = unfenced.indexOf(ticks, i + n); j !== -1; j = unfenced.indexOf(ticks, j + 1)) {
      if (/\n[ \t]*\n/.test(unfenced.slice(i + n, j))) break;
      if (unfenced[j - 1] !== '`' && unfenced[j + n] !== '`') {
        close = j;
        break;
      }
    }
    if (close === -1) {
      prose += ticks;
      i += n;
      continue;
    }
    spans.push({ offset: i, text: unfenced.slice(i + n, close) });
    prose += unfenced.slice(i, close + n).replace(/[^\n]/g, ' ');
    i = close + n;
  }
  return { prose, spans };
}

/** GitHub's anchor for a heading: its text lowercased, punctuation and symbols dropped (not `-` or `_`), spaces made `-`. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]*>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a markdown file's ATX headings, in order; a repeated slug gets -1, -2, ... as on GitHub. */
export function anchors(text: string): string[] {
  const fenced = fencedLines(text);
  const seen = new Map<string, number>();
  const result: string[] = [];
  text.split('\n').forEach((line, i) => {
    const match = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (fenced[i] || !match) return;
    const base = slug(match[1] ?? '');
    let anchor = base;
    while (seen.has(anchor)) {
      const count = (seen.get(base) ?? 0) + 1;
      seen.set(base, count);
      anchor = `${base}-${count}`;
    }
    seen.set(anchor, 0);
    result.push(anchor);
  });
  return result;
}

/** The links of a file's prose: inline `[text](target)` and reference definitions `[label]: target`, with their lines. */
export function links(text: string): Array<{ line: number; target: string }> {
  const { prose } = splitCode(text);
  const found: Array<{ line: number; target: string }> = [];
  const inline = /\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^\s)>]*)>?(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
  for (const match of prose.matchAll(inline)) found.push({ line: lineAt(prose, match.index), target: match[1] ?? '' });
  for (const match of prose.matchAll(/^ {0,3}\[[^\]]+\]:[ \t]*<?(\S+?)>?(?:[ \t].*)?$/gm)) found.push({ line: lineAt(prose, match.index), target: match[1] ?? '' });
  return found;
}

/** The code of a file: each line of its fenced blocks, and each inline code span. */
function code(text: string): Code[] {
  const fenced = fencedLines(text);
  const lines = text.split('\n');
  const blocks = lines.flatMap((line, i) => (fenced[i] ? [{ line: i + 1, text: line }] : []));
  const spans = splitCode(text).spans.map((span) => ({ line: lineAt(text, span.offset), text: span.text }));
  return [...blocks, ...spans].sort((a, b) => a.line - b.line);
}

/** What is wrong with one link of `doc`, or undefined. */
function brokenLink(doc: Doc, target: string, anchorsOf: (path: string) => string[]): string | undefined {
  if (/^(?:https?|mailto):/i.test(target)) return undefined;
  if (target === '') return 'empty target';
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return 'a scheme other than http, https or mailto';
  const hash = target.indexOf('#');
  const pathPart = (hash === -1 ? target : target.slice(0, hash)).replace(/\?.*$/, '');
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  let path: string;
  try {
    path = pathPart === '' ? doc.path : pathPart.startsWith('/') ? join(ROOT, decodeURIComponent(pathPart)) : resolve(dirname(doc.path), decodeURIComponent(pathPart));
  } catch {
    return 'not a valid URL path';
  }
  if (relative(ROOT, path).startsWith('..')) return 'leads out of the checkout';
  if (pathPart !== '' && !existsSync(path)) return `no such file or directory: ${relative(ROOT, path)}`;
  if (anchor === undefined || !path.endsWith('.md') || (pathPart !== '' && statSync(path).isDirectory())) return undefined;
  if (!anchorsOf(path).includes(anchor)) return `no heading with the anchor #${anchor} in ${relative(ROOT, path)}`;
  return undefined;
}

/** Every broken link of the given files, as `FILE:LINE: [link](target): why`. */
export function brokenLinks(files: Doc[]): string[] {
  const cache = new Map<string, string[]>();
  const anchorsOf = (path: string): string[] => {
    let list = cache.get(path);
    if (!list) {
      list = anchors(files.find((file) => file.path === path)?.text ?? readFileSync(path, 'utf8'));
      cache.set(path, list);
    }
    return list;
  };
  return files.flatMap((doc) =>
    links(doc.text).flatMap(({ line, target }) => {
      const why = brokenLink(doc, target, anchorsOf);
      return why ? [`${doc.name}:${line}: (${target}): ${why}`] : [];
    }),
  );
}

/** The Makefile's explicit targets (not special ones such as .PHONY, nor patterns or variables). */
function makeTargets(makefile: string): Set<string> {
  const targets = new Set<string>();
  for (const line of makefile.split('\n')) {
    const match = /^([^\s#:=][^#:=]*?)[ \t]*::?(?!=)/.exec(line);
    if (!match?.[1]) continue;
    for (const name of match[1].split(/\s+/)) if (name && !name.startsWith('.') && !/[%$]/.test(name)) targets.add(name);
  }
  return targets;
}

/** Every `make TARGET` or `npm run SCRIPT` (and `npm start`) in the code of the given files that names nothing, as `FILE:LINE: command: why`. */
export function unknownCommands(files: Doc[], targets: Set<string>, scripts: Set<string>): string[] {
  const problems: string[] = [];
  for (const doc of files) {
    for (const { line, text } of code(doc.text)) {
      for (const match of text.matchAll(/(?<![\w-])make((?:[ \t]+(?:-\S+|[A-Za-z_]\w*=\S*))*)[ \t]+([A-Za-z0-9][\w./-]*)/g)) {
        if (match[2] && !targets.has(match[2])) problems.push(`${doc.name}:${line}: make ${match[2]}: no such target in the Makefile`);
      }
      for (const match of text.matchAll(/(?<![\w-])npm[ \t]+(?:run(?:-script)?[ \t]+([\w:.-]+)|(start|test|stop|restart)\b)/g)) {
        const script = match[1] ?? match[2];
        if (script && !scripts.has(script)) problems.push(`${doc.name}:${line}: npm run ${script}: no such script in package.json`);
      }
    }
  }
  return problems;
}

const test = suite('docs: links, anchors, make targets, npm scripts');

test('slugs as GitHub makes them', () => {
  const cases: Array<[heading: string, anchor: string]> = [
    ['Command line: `wecom-syncer sync`', 'command-line-wecom-syncer-sync'],
    ["The operator's flags", 'the-operators-flags'],
    ['GitOps: Argo CD, Flux, `kubectl wait`', 'gitops-argo-cd-flux-kubectl-wait'],
    ['1. Install the CRDs and run the operator', '1-install-the-crds-and-run-the-operator'],
    ['3. Test the connection (Casdoor\'s "Test Connection")', '3-test-the-connection-casdoors-test-connection'],
    ['Users already in Casdoor: Skip or Adopt', 'users-already-in-casdoor-skip-or-adopt'],
    ['snake_case and a [link](x.md)', 'snake_case-and-a-link'],
    ['企业微信 events', '企业微信-events'],
  ];
  for (const [heading, anchor] of cases) assert.is(slug(heading), anchor, heading);
});

test('repeated headings get -1, -2; headings in code blocks are not headings', () => {
  assert.equal(anchors('# A\n## A\n```sh\n# A\n```\n### A\n## A-1\n'), ['a', 'a-1', 'a-2', 'a-1-1']);
});

test('a broken link is reported with its file, line and target; code, http and mailto are not links', () => {
  const text = [
    '# Title',
    '## Second one',
    '[fine](#second-one) and [here](#title) and [web](https://example.com/x) [mail](mailto:a@b.c)',
    '`[in a span](nowhere.md)`',
    '```md',
    '[in a block](nowhere.md)',
    '```',
    '[missing file](no/such/file.md) and [a',
    'wrapped one](#no-such-heading)',
    '[readme](../README.md#commands) [bad anchor](../README.md#nope) [dir](../deploy/) [code line](../Makefile#L3)',
  ].join('\n');
  const doc = { name: 'docs/fixture.md', path: join(ROOT, 'docs', 'fixture.md'), text };
  assert.equal(brokenLinks([doc]), [
    'docs/fixture.md:8: (no/such/file.md): no such file or directory: docs/no/such/file.md',
    'docs/fixture.md:8: (#no-such-heading): no heading with the anchor #no-such-heading in docs/fixture.md',
    'docs/fixture.md:10: (../README.md#nope): no heading with the anchor #nope in README.md',
  ]);
});

test('an unknown make target or npm script in code is reported; prose is not code', () => {
  const text = 'Run `make test`, `DEMO_EXIT=1 make demo` or `make nope`; make believe.\n```sh\nnpm run build\nnpm run bench -- --users 10\nnpm run nope --\nnpm start\n```\n';
  const doc = { name: 'docs/fixture.md', path: join(ROOT, 'docs', 'fixture.md'), text };
  assert.equal(unknownCommands([doc], new Set(['test', 'demo']), new Set(['build', 'bench', 'start'])), [
    'docs/fixture.md:1: make nope: no such target in the Makefile',
    'docs/fixture.md:5: npm run nope: no such script in package.json',
  ]);
});

test('every relative link of README.md and docs/ reaches a file, and every anchor a heading', () => {
  const files = docs();
  assert.ok(files.length >= 7, `README.md and the guides: ${files.map((file) => file.name).join(', ')}`);
  assert.ok(files.reduce((count, file) => count + links(file.text).length, 0) > 50, 'the links are found');
  const problems = brokenLinks(files);
  assert.ok(problems.length === 0, `${problems.length} broken link(s):\n${problems.join('\n')}`);
});

test('README.md links to every guide in docs/', () => {
  const files = docs();
  const readme = files.find((file) => file.name === 'README.md');
  assert.ok(readme);
  const linked = new Set(links(readme.text).map(({ target }) => resolve(ROOT, target.replace(/#.*$/, ''))));
  const missing = files.filter((file) => file.name !== 'README.md' && !linked.has(file.path)).map((file) => file.name);
  assert.equal(missing, [], `README.md links to no ${missing.join(', ')}`);
});

test('every `make TARGET` is a Makefile target and every `npm run SCRIPT` a package.json script', () => {
  const targets = makeTargets(readFileSync(join(ROOT, 'Makefile'), 'utf8'));
  assert.ok(targets.has('test') && targets.has('demo'), `targets read: ${[...targets].join(', ')}`);
  const scripts = new Set(Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts));
  const problems = unknownCommands(docs(), targets, scripts);
  assert.ok(problems.length === 0, `${problems.length} unknown command(s):\n${problems.join('\n')}`);
});

test.run();
