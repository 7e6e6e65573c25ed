import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { chunkText, Scheduler, StreamBuffer } from '../src/lib/stream';

/** A scheduler the test advances by hand. */
function manualScheduler() {
  const timers = new Map<number, () => void>();
  let next = 1;
  const s: Scheduler & { fire(): void; pending(): number } = {
    set(fn) {
      const id = next++;
      timers.set(id, fn);
      return id;
    },
    clear(h) {
      timers.delete(h as number);
    },
    fire() {
      const fns = [...timers.values()];
      timers.clear();
      for (const f of fns) {
        f();
      }
    },
    pending() {
      return timers.size;
    },
  };
  return s;
}

test('chunkText accepts {text} and strings only', () => {
  assert.equal(chunkText({ text: 'a' }), 'a');
  assert.equal(chunkText('b'), 'b');
  assert.equal(chunkText({ text: 3 }), undefined);
  assert.equal(chunkText(null), undefined);
  assert.equal(chunkText([{ text: 'x' }]), undefined);
});

test('chunks are coalesced into one update per interval', () => {
  const sched = manualScheduler();
  const updates: Array<[string, boolean]> = [];
  const b = new StreamBuffer((t, d) => updates.push([t, d]), 50, sched);
  b.append({ text: 'Hel' });
  b.append({ text: 'lo' });
  assert.equal(sched.pending(), 1);
  assert.deepEqual(updates, []);
  sched.fire();
  assert.deepEqual(updates, [['Hello', false]]);
  b.append({ text: ', world' });
  sched.fire();
  assert.deepEqual(updates.at(-1), ['Hello, world', false]);
  assert.equal(b.chunks, 3);
  assert.equal(b.text, 'Hello, world');
});

test('finish prefers the final text and cancels the pending update', () => {
  const sched = manualScheduler();
  const updates: Array<[string, boolean]> = [];
  const b = new StreamBuffer((t, d) => updates.push([t, d]), 50, sched);
  b.append({ text: 'Hel' });
  assert.equal(b.finish('Hello'), 'Hello');
  assert.equal(sched.pending(), 0);
  assert.deepEqual(updates, [['Hello', true]]);
  // Later chunks and finishes change nothing.
  b.append({ text: 'zzz' });
  assert.equal(b.finish('other'), 'Hello');
  assert.equal(updates.length, 1);
  assert.ok(b.finished);
});

test('finish without a final text keeps the chunks', () => {
  const sched = manualScheduler();
  const updates: Array<[string, boolean]> = [];
  const b = new StreamBuffer((t, d) => updates.push([t, d]), 50, sched);
  b.append('a');
  b.append({ text: '' });
  b.append({ nope: 1 });
  b.append('b');
  assert.equal(b.finish(''), 'ab');
  assert.equal(b.finish(), 'ab');
  assert.deepEqual(updates, [['ab', true]]);
});

test('dispose drops the pending update', () => {
  const sched = manualScheduler();
  const updates: string[] = [];
  const b = new StreamBuffer((t) => updates.push(t), 50, sched);
  b.append('x');
  b.dispose();
  sched.fire();
  assert.deepEqual(updates, []);
});

test('the default scheduler uses real timers', async () => {
  const updates: string[] = [];
  const b = new StreamBuffer((t) => updates.push(t), 5);
  b.append('a');
  b.append('b');
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(updates, ['ab']);
  b.finish();
});
