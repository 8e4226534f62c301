/** demo_plan.json: which earlier record a demo re-run resumes, and what it says when it does not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogolabError } from '../../src/errors.js';
import { checkEarlierPlan, type PlanRecord } from '../../src/demo/plan-record.js';

const OUT = '/runs/demo';
const record = (backend: string, requested: string, native = false): PlanRecord => ({ mode: 'tiny', backend, backend_requested: requested, native_kernels: native, baseline: '/m', out: OUT, plan: { a: 1 }, contents: { train_config: 'abc' } });
const text = (p: Record<string, unknown>) => JSON.stringify(p, null, 2) + '\n';
const fails = (fn: () => unknown, message: string) => assert.throws(fn, (e: unknown) => e instanceof LogolabError && e.message === message);

test("demo plan: auto is compared by the backend it picked, not by the word 'auto'", () => {
  const auto = '--backend auto';
  // the same pick resumes; so does the pick asked for by name
  assert.equal(checkEarlierPlan(text(record('cpu', 'auto')), record('cpu', 'auto'), OUT, auto), null);
  assert.equal(checkEarlierPlan(text(record('cpu', 'auto')), record('cpu', 'cpu'), OUT, '--backend cpu'), null);
  // auto picking another backend now (the native addon gone: wasm) is refused, naming both picks
  fails(() => checkEarlierPlan(text(record('cpu', 'auto')), record('wasm', 'auto'), OUT, 'backend auto (the default)'),
    `backend auto (the default) picks wasm: ${OUT} holds a demo run on backend cpu (auto's pick then); resuming would mix the two backends' stages: give --backend cpu to resume it, or use another --out`);
  fails(() => checkEarlierPlan(text(record('wasm', 'wasm')), record('cpu', 'cpu'), OUT, '--backend cpu'),
    `--backend cpu: ${OUT} holds a demo run on backend wasm; resuming would mix the two backends' stages: give --backend wasm to resume it, or use another --out`);
});

test('demo plan: records of an earlier logolab resume with a warning when they cannot say which backend ran', () => {
  const { backend: _b, backend_requested: _r, ...none } = record('cpu', 'auto');
  assert.match(checkEarlierPlan(text(none), record('cpu', 'auto'), OUT, 'x')!, /did not record the backend; resuming on cpu \(auto's pick\) \(the stages already done/);
  // before backend_requested, `backend` was the request: 'auto' names no backend
  const { backend_requested: _q, ...requestOnly } = record('auto', 'auto');
  assert.match(checkEarlierPlan(text(requestOnly), record('wasm', 'auto'), OUT, 'x')!, /recorded backend auto, not the backend auto picked; resuming on wasm \(auto's pick\)/);
  // … and a backend asked for by name is the one its stages ran on
  const { backend_requested: _w, ...named } = record('wasm', 'wasm');
  assert.equal(checkEarlierPlan(text(named), record('wasm', 'auto'), OUT, 'x'), null);
  fails(() => checkEarlierPlan(text(named), record('cpu', 'auto'), OUT, 'x'), `x picks cpu: ${OUT} holds a demo run on backend wasm; resuming would mix the two backends' stages: give --backend wasm to resume it, or use another --out`);
});

test("demo plan: cpu with and without the native kernels are not one backend; records without native_kernels resume", () => {
  assert.equal(checkEarlierPlan(text(record('cpu', 'auto', true)), record('cpu', 'cpu', true), OUT, '--backend cpu'), null);
  fails(() => checkEarlierPlan(text(record('cpu', 'cpu', true)), record('cpu', 'cpu', false), OUT, '--backend cpu'),
    `--backend cpu: ${OUT} holds a demo run on backend cpu with the native kernels, and they are off now; resuming would mix the two kernel sets' stages: turn them on (LOGOLAB_NATIVE unset or 1, the addon built: node scripts/build-native.mjs) to resume it, or use another --out`);
  fails(() => checkEarlierPlan(text(record('cpu', 'cpu', false)), record('cpu', 'cpu', true), OUT, 'LOGOLAB_BACKEND=cpu'),
    `LOGOLAB_BACKEND=cpu: ${OUT} holds a demo run on backend cpu without the native kernels, and they are on now; resuming would mix the two kernel sets' stages: set LOGOLAB_NATIVE=0 to resume it, or use another --out`);
  // a record from before native_kernels: compared by backend name as before; on cpu, a warning that the kernels then are not known
  const { native_kernels: _n, ...older } = record('cpu', 'auto');
  assert.match(checkEarlierPlan(text(older), record('cpu', 'auto', true), OUT, 'x')!, /did not record whether the native kernels ran; resuming on cpu with them/);
  const { native_kernels: _w, ...olderWasm } = record('wasm', 'auto');
  assert.equal(checkEarlierPlan(text(olderWasm), record('wasm', 'auto'), OUT, 'x'), null);
  fails(() => checkEarlierPlan(text(older), record('wasm', 'auto'), OUT, 'x'), `x picks wasm: ${OUT} holds a demo run on backend cpu (auto's pick then); resuming would mix the two backends' stages: give --backend cpu to resume it, or use another --out`);
});

test('demo plan: another run (or an unreadable record) is refused whatever its backend', () => {
  const another = `${OUT}: holds a demo run of another mode, baseline, config or work folder (a copied run names the original's files; see demo_plan.json); use another --out or delete it`;
  fails(() => checkEarlierPlan(text({ ...record('cpu', 'auto'), mode: 'quick' }), record('cpu', 'auto'), OUT, 'x'), another);
  fails(() => checkEarlierPlan('{', record('cpu', 'auto'), OUT, 'x'), another);
  fails(() => checkEarlierPlan('[]', record('cpu', 'auto'), OUT, 'x'), another);
  assert.equal(checkEarlierPlan(null, record('cpu', 'auto'), OUT, 'x'), null);
});
