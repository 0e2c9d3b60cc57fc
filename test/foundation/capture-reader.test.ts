// Foundation: the capture reader (scripts/runtime/capture.ts readJsonLines) tolerates only the
// one thing the file exporter can leave while it flushes, a half-written last line; any other
// unparsable line is corruption and must fail the read, naming the line, not vanish from it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJsonLines } from '../../scripts/runtime/capture.js';
import { runDir } from '../../scripts/runtime/index.js';

describe('the capture reader (JSON lines)', () => {
  const file = (name: string, text: string) => {
    const path = join(runDir('capture-reader'), name);
    writeFileSync(path, text);
    return path;
  };

  it('reads every line of a complete file', () => {
    expect(readJsonLines(file('whole.jsonl', '{"a":1}\n{"a":2}\n'))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('leaves out a half-written last line (no newline yet), keeping the lines before it', () => {
    expect(readJsonLines(file('flushing.jsonl', '{"a":1}\n{"a":2}\n{"resourceSp'))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('throws on a corrupt line in the middle, naming the file and the line', () => {
    const path = file('corrupt.jsonl', '{"a":1}\n{"a":\n{"a":3}\n');
    expect(() => readJsonLines(path)).toThrow(new RegExp(`corrupt\\.jsonl, line 2, is not JSON`));
  });

  it('throws on an unparsable last line that is ended by its newline: it was written whole', () => {
    expect(() => readJsonLines(file('ended.jsonl', '{"a":1}\n{"a":\n'))).toThrow(/line 2, is not JSON/);
  });
});
