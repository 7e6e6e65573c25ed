import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { commandResultMarkdown, formatAnswerStats } from '../src/lib/answer';

test('answer statistics', () => {
  assert.equal(
    formatAnswerStats(
      {
        text: 'x',
        ttftMs: 123.4,
        promptTokens: 12_345,
        cachedTokens: 12_265,
        prefilledTokens: 80,
        generatedTokens: 64,
        stopReason: 'eos',
        packVersion: '7',
        session: 'plan',
        sessionTurn: 3,
        omitted: [{ path: 'a', reason: 'map' }],
      },
      2500,
    ),
    'first token 123 ms · 12.3k prompt tokens (12.3k cached, 80 prefilled) · 64 generated · 2.5 s · stop: eos · pack 7 · session plan turn 3 · 1 files not in full',
  );
  assert.equal(formatAnswerStats({ text: '' }), '');
  // As lore lsp sends it: the server's elapsed time, queueing, retrieved files.
  assert.equal(
    formatAnswerStats({ text: 'x', elapsedMs: 1234, queuedMs: 2500, generatedTokens: 3, retrieved: ['a.go', 'b.go'], retrievedFull: ['a.go'], omitted: [] }, 9999),
    'queued 2.5 s · 3 generated · 1.2 s · saw in full: a.go · as excerpts: b.go',
  );
});

test('command results: answers, strings, other values', () => {
  assert.deepEqual(commandResultMarkdown({ text: '**hi**', generatedTokens: 2 }), {
    markdown: '**hi**',
    answer: { text: '**hi**', generatedTokens: 2 },
  });
  assert.equal(commandResultMarkdown('plain').markdown, 'plain');
  assert.equal(commandResultMarkdown(null).markdown, '_(no answer)_');
  assert.equal(commandResultMarkdown({ text: '' }).markdown, '_(empty answer)_');
  assert.equal(commandResultMarkdown({ a: 1 }).markdown, '```json\n{\n  "a": 1\n}\n```');
  // A value containing a fence gets a longer one.
  assert.match(commandResultMarkdown({ a: '```' }).markdown, /^````json\n/);
});
