import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { StatusFields, pollDelayMs, prefillPercent, stalePercent, statusBarView, statusDetails, statusListItems } from '../src/lib/status';

const ready: StatusFields = {
  repo: '/src/proj',
  pid: 4242,
  state: 'ready',
  model: 'qwen3-30b-a3b',
  model_path: '/models/qwen3-30b-a3b-q4_k_m.gguf',
  context_size: 131072,
  pack_tokens: 12_345,
  pack_version: '7',
  kv_tokens: 12_345,
  prefilled_tokens: 345,
  restored_tokens: 12_000,
  segments: 40,
  files: 210,
  skipped: 3,
  omitted: [
    { path: 'vendor/big.go', reason: 'signatures' },
    { path: 'docs/huge.md', reason: 'map' },
  ],
  snapshot_bytes: 1.5 * 1024 ** 3,
  uptime_seconds: 3700,
  prefill_tokens_per_sec: 1234.5,
  decode_tokens_per_sec: 21.75,
  active_questions: 0,
  memory_bytes: 3 * 1024 ** 3,
  stale_tokens: 0,
  overlay_tokens: 120,
  queued_questions: 0,
  buffers: 2,
  sessions: 1,
};

test('ready: tokens and "ready"', () => {
  const v = statusBarView(ready);
  assert.equal(v.text, '$(book) lore 12.3k tok ready');
  assert.equal(v.kind, 'ok');
  assert.match(v.tooltip, /^State: ready$/m);
  assert.match(v.tooltip, /^Model: qwen3-30b-a3b \(\/models\/qwen3-30b-a3b-q4_k_m\.gguf\)$/m);
  assert.match(v.tooltip, /^Pack: version 7 · 12\.3k tokens · 210 files \(2 reduced to fit\) · 3 skipped$/m);
  assert.match(v.tooltip, /^KV prefix: 12\.3k tokens of 131k context \(12k restored, 345 prefilled\)$/m);
  assert.match(v.tooltip, /^Freshness: overlay 120 tokens \(edits not folded in\) · stale 0 tokens$/m);
  assert.match(v.tooltip, /^Questions: 0 running · 0 queued · 1 sessions · 2 open buffers$/m);
  assert.match(v.tooltip, /^Speed: prefill 1\.2k tok\/s · decode 21\.8 tok\/s$/m);
  assert.match(v.tooltip, /^Memory: 3 GiB resident · snapshot 1\.5 GiB$/m);
  assert.match(v.tooltip, /^Uptime: 1h 1m \(pid 4242\)$/m);
  assert.match(v.tooltip, /Click for Lore: Status$/);
});

test('ready with stale tokens shows the stale share', () => {
  const s = { ...ready, pack_tokens: 10_000, stale_tokens: 300 };
  assert.equal(stalePercent(s), 3);
  const v = statusBarView(s);
  assert.equal(v.text, '$(book) lore 10k tok stale 3%');
  assert.equal(v.kind, 'warning');
  assert.match(v.tooltip, /stale 300 tokens \(superseded, 3%\)/);
});

test('running and queued questions are counted', () => {
  const v = statusBarView({ ...ready, active_questions: 1, queued_questions: 2 });
  assert.equal(v.text, '$(book) lore 12.3k tok ready $(comment-discussion) 3');
});

test('prefilling uses progress, else the KV tokens', () => {
  const s: StatusFields = { ...ready, state: 'prefilling', progress: { done: 450, total: 1000 } };
  assert.equal(prefillPercent(s), 45);
  assert.equal(statusBarView(s).text, '$(sync~spin) lore prefilling 45%');
  assert.equal(statusBarView(s).kind, 'busy');
  assert.match(statusBarView(s).tooltip, /^State: prefilling 45% \(450 of 1k tokens\)$/m);
  const noProgress: StatusFields = { ...ready, state: 'prefilling', progress: undefined, kv_tokens: 2000, pack_tokens: 8000 };
  assert.equal(statusBarView(noProgress).text, '$(sync~spin) lore prefilling 25%');
});

test('loading, stopping, failed and unknown states', () => {
  assert.equal(statusBarView({ state: 'loading' }).text, '$(sync~spin) lore loading');
  assert.equal(statusBarView({ state: 'stopping' }).text, '$(book) lore stopping');
  const failed = statusBarView({ state: 'failed', error: 'model file not found' });
  assert.equal(failed.text, '$(error) lore failed');
  assert.equal(failed.kind, 'error');
  assert.match(failed.tooltip, /^Error: model file not found$/m);
  assert.equal(statusBarView({ state: 'dreaming' }).text, '$(book) lore dreaming');
});

test('no status: off, with the reason in the tooltip', () => {
  const v = statusBarView(undefined, 'lore not found');
  assert.equal(v.text, '$(book) lore off');
  assert.equal(v.kind, 'off');
  assert.match(v.tooltip, /lore: lore not found/);
});

test('a minimal status (fields missing) still renders', () => {
  const v = statusBarView({ state: 'ready' });
  assert.equal(v.text, '$(book) lore ready');
  assert.deepEqual(statusDetails({}), [{ label: 'State', value: 'unknown' }]);
});

test('model: the name and the file, or the file alone', () => {
  const rows = statusDetails({ state: 'ready', model_path: '/m/tiny.gguf' });
  assert.deepEqual(rows.find((r) => r.label === 'Model'), { label: 'Model', value: '/m/tiny.gguf' });
  assert.equal(statusDetails({ model: 'tiny' }).find((r) => r.label === 'Model')?.value, 'tiny');
});

test('poll delay: fast while busy, the setting otherwise', () => {
  assert.equal(pollDelayMs(ready, 5), 5000);
  assert.equal(pollDelayMs({ ...ready, state: 'prefilling' }, 5), 1000);
  assert.equal(pollDelayMs({ ...ready, stale_tokens: 10 }, 5), 5000);
  assert.equal(pollDelayMs({ ...ready, state: 'loading' }, 5), 1000);
  assert.equal(pollDelayMs(undefined, 2), 5000);
  assert.equal(pollDelayMs(ready, 0), 1000);
  assert.equal(pollDelayMs(ready, NaN), 5000);
});

test('status list: details, then the reduced files with their paths', () => {
  const items = statusListItems(ready);
  assert.equal(items[0].label, 'State');
  const files = items.filter((i) => i.path);
  assert.deepEqual(files, [
    { label: '$(file) vendor/big.go', description: 'signatures', path: 'vendor/big.go' },
    { label: '$(file) docs/huge.md', description: 'map', path: 'docs/huge.md' },
  ]);
});
