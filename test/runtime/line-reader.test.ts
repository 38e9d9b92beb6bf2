import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineReader } from '../../src/runtime/line-reader.ts';

test('LineReader gives each line once, whatever the chunks, a character split over two chunks included', () => {
  const text = '{"name":"张三"}\n{"name":"b"}\r\n\n{"name":"ü"}\n';
  const bytes = Buffer.from(text);
  const expected = ['{"name":"张三"}', '{"name":"b"}', '{"name":"ü"}'];
  for (let size = 1; size <= bytes.length; size++) {
    const lines: string[] = [];
    const reader = new LineReader((line) => lines.push(line));
    for (let at = 0; at < bytes.length; at += size) reader.push(bytes.subarray(at, at + size));
    reader.end();
    assert.equal(lines, expected, `chunks of ${size} bytes`);
  }
});

test('LineReader: a last line without its newline comes at the end, and only then', () => {
  const lines: string[] = [];
  const reader = new LineReader((line) => lines.push(line));
  reader.push(Buffer.from('a\nb'));
  reader.push(Buffer.from('c'));
  assert.equal(lines, ['a']);
  reader.end();
  assert.equal(lines, ['a', 'bc']);
  reader.end();
  assert.equal(lines, ['a', 'bc'], 'nothing is left for a second end');
});

test.run();
