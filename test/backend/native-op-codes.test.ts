/**
 * The addon's op codes have one meaning on both sides: every enum of native/src/op_codes.h has the
 * same names and values as its TypeScript twin in src/backend/native/op-codes.ts (a renumbered or
 * added op on one side only fails here, before a kernel silently computes the wrong op).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Activation, BinaryOp, PoolKind, UnaryOp, enumEntries } from '../../src/backend/native/op-codes.js';

const HEADER = fileURLToPath(new URL('../../native/src/op_codes.h', import.meta.url));

/** enum class Name : int32_t { A = 0, B = 1, ... } → Map(Name → [[A, 0], ...]) */
function parseHeader(text: string): Map<string, [string, number][]> {
  const out = new Map<string, [string, number][]>();
  for (const m of text.matchAll(/enum\s+class\s+(\w+)\s*:\s*int32_t\s*\{([^}]*)\}/g)) {
    const members = m[2]!.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
      const mm = /^(\w+)\s*=\s*(\d+)$/.exec(s);
      assert.ok(mm, `op_codes.h: enum ${m[1]}: member '${s}' is not 'Name = value'`);
      return [mm[1]!, Number(mm[2])] as [string, number];
    });
    out.set(m[1]!, members);
  }
  return out;
}

test('native op codes: C++ header and TypeScript enums agree', () => {
  const cpp = parseHeader(readFileSync(HEADER, 'utf8'));
  const ts: Record<string, Record<string, string | number>> = { BinaryOp, UnaryOp, Activation, PoolKind };
  assert.deepEqual([...cpp.keys()].sort(), Object.keys(ts).sort(), 'the same enums on both sides');
  for (const [name, e] of Object.entries(ts)) {
    const sort = (xs: [string, number][]) => [...xs].sort((a, b) => a[1] - b[1]);
    assert.deepEqual(sort(cpp.get(name)!), sort(enumEntries(e)), `enum ${name}`);
  }
});

test('native op codes: the parser reads what the header says (a changed value is seen)', () => {
  const text = 'enum class PoolKind : int32_t { Max = 0, Avg = 2 };';
  assert.notDeepEqual(parseHeader(text).get('PoolKind'), enumEntries(PoolKind));
});
