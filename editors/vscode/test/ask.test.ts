import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import {
  CancellationTokenSource,
  createProtocolConnection,
  ErrorCodes,
  LSPErrorCodes,
  ProtocolConnection,
  ResponseError,
  WorkDoneProgress,
} from 'vscode-languageserver-protocol/node';
import {
  buildAskParams,
  CANCELLED,
  formatLocation,
  isCancellation,
  parseLocationArgument,
  runAsk,
  toRange,
  untilCancelled,
  WorkDoneUpdate,
} from '../src/lib/ask';
import { AskParams, AskPartialProgress, AskRequest, AskResult } from '../src/lib/protocol';

const pos = (line: number, character: number) => ({ line, character });

test('toRange orders the ends and keeps an empty selection (the cursor)', () => {
  assert.deepEqual(toRange({ start: pos(4, 2), end: pos(1, 0) }), { start: pos(1, 0), end: pos(4, 2) });
  assert.deepEqual(toRange({ start: pos(3, 9), end: pos(3, 1) }), { start: pos(3, 1), end: pos(3, 9) });
  assert.deepEqual(toRange({ start: pos(7, 5), end: pos(7, 5) }), { start: pos(7, 5), end: pos(7, 5) });
  assert.deepEqual(toRange({ start: pos(-1, 2.7), end: pos(NaN, 1) }), { start: pos(0, 1), end: pos(0, 2) });
});

test('toRange copies position objects into plain JSON', () => {
  class VPos {
    constructor(readonly line: number, readonly character: number) {}
    translate() {
      return this;
    }
  }
  const r = toRange({ start: new VPos(0, 1), end: new VPos(2, 0) });
  assert.equal(JSON.stringify(r), '{"start":{"line":0,"character":1},"end":{"line":2,"character":0}}');
});

test('buildAskParams: question, location, session, limits and tokens', () => {
  assert.deepEqual(buildAskParams({ question: '  Why?  ' }), { question: 'Why?' });
  assert.deepEqual(
    buildAskParams({
      question: 'What does this do?',
      uri: 'file:///src/p/a.go',
      selection: { start: pos(9, 4), end: pos(2, 0) },
      session: ' plan ',
      maxTokens: 256.9,
      partialResultToken: 'p1',
      workDoneToken: 7,
    }),
    {
      question: 'What does this do?',
      textDocument: { uri: 'file:///src/p/a.go' },
      range: { start: pos(2, 0), end: pos(9, 4) },
      session: 'plan',
      maxTokens: 256,
      partialResultToken: 'p1',
      workDoneToken: 7,
    },
  );
  // No document: the selection alone means nothing; 0 tokens and blank sessions are left out.
  assert.deepEqual(buildAskParams({ question: 'q', selection: { start: pos(1, 1), end: pos(1, 1) }, maxTokens: 0, session: ' ' }), {
    question: 'q',
  });
  assert.throws(() => buildAskParams({ question: '   ' }), /empty/);
});

test('formatLocation shows 1-based lines', () => {
  assert.equal(formatLocation('a.go'), 'a.go');
  assert.equal(formatLocation('a.go', { start: pos(0, 0), end: pos(0, 0) }), 'a.go:1');
  assert.equal(formatLocation('a.go', { start: pos(11, 2), end: pos(19, 4) }), 'a.go:12-20');
  // A selection ending at column 0 stops at the line before.
  assert.equal(formatLocation('a.go', { start: pos(11, 0), end: pos(13, 0) }), 'a.go:12-13');
  assert.equal(formatLocation('a.go', { start: pos(11, 0), end: pos(12, 0) }), 'a.go:12');
});

test('parseLocationArgument validates the server commands argument', () => {
  const arg = { uri: 'file:///a.go', range: { start: pos(3, 0), end: pos(1, 0) } };
  assert.deepEqual(parseLocationArgument(arg), { uri: 'file:///a.go', range: { start: pos(1, 0), end: pos(3, 0) } });
  assert.deepEqual(parseLocationArgument({ ...arg, question: 'Why?' })?.question, 'Why?');
  assert.equal(parseLocationArgument({ ...arg, question: '  ' })?.question, undefined);
  assert.equal(parseLocationArgument({ uri: 'file:///a.go' }), undefined);
  assert.equal(parseLocationArgument({ uri: 1, range: arg.range }), undefined);
  assert.equal(parseLocationArgument('file:///a.go'), undefined);
  assert.equal(parseLocationArgument(undefined), undefined);
});

test('isCancellation', () => {
  assert.ok(isCancellation(new ResponseError(LSPErrorCodes.RequestCancelled, 'c')));
  assert.ok(isCancellation(new ResponseError(LSPErrorCodes.ServerCancelled, 'c')));
  assert.ok(isCancellation({ name: 'Canceled' }));
  assert.ok(!isCancellation(new ResponseError(ErrorCodes.InternalError, 'x')));
  assert.ok(!isCancellation(new Error('x')));
  assert.ok(!isCancellation(undefined));
});

test('untilCancelled settles at the cancellation or with the promise', async () => {
  const never = new Promise<number>(() => undefined);
  const cts = new CancellationTokenSource();
  const p = untilCancelled(never, cts.token);
  cts.cancel();
  assert.equal(await p, CANCELLED);
  assert.equal(await untilCancelled(Promise.resolve(5), new CancellationTokenSource().token), 5);
  assert.equal(await untilCancelled(Promise.resolve(6)), 6);
  const done = new CancellationTokenSource();
  done.cancel();
  assert.equal(await untilCancelled(Promise.reject(new Error('late')), done.token), CANCELLED);
  await assert.rejects(untilCancelled(Promise.reject(new Error('boom')), new CancellationTokenSource().token), /boom/);
});

// ---------------------------------------------------------------------------
// runAsk over a real JSON-RPC connection to a fake `lore lsp`.

interface Pair {
  client: ProtocolConnection;
  server: ProtocolConnection;
  close(): void;
}

function connect(): Pair {
  const up = new PassThrough();
  const down = new PassThrough();
  const client = createProtocolConnection(down, up);
  const server = createProtocolConnection(up, down);
  client.listen();
  server.listen();
  return {
    client,
    server,
    close() {
      client.dispose();
      server.dispose();
      up.destroy();
      down.destroy();
    },
  };
}

const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));

test('runAsk streams the partial results and work-done progress, then returns the result', async (t) => {
  const { client, server, close } = connect();
  t.after(close);
  let seen: AskParams | undefined;
  server.onRequest(AskRequest, async (params): Promise<AskResult> => {
    seen = params;
    const work = params.workDoneToken!;
    await server.sendProgress(WorkDoneProgress.type, work, { kind: 'begin', title: 'prefilling', percentage: 0 });
    await server.sendProgress(WorkDoneProgress.type, work, { kind: 'report', percentage: 50, message: 'prefilling 50%' });
    await server.sendProgress(WorkDoneProgress.type, work, { kind: 'end' });
    for (const text of ['The ', 'answer', ' is **42**.']) {
      await server.sendProgress(AskPartialProgress, params.partialResultToken!, { text });
    }
    return {
      text: 'The answer is **42**.',
      packVersion: '3',
      ttftMs: 12,
      promptTokens: 100,
      cachedTokens: 90,
      prefilledTokens: 10,
      generatedTokens: 5,
      stopReason: 'eos',
      elapsedMs: 40,
      omitted: [],
      retrieved: [],
      retrievedFull: [],
      question: params.question,
    };
  });
  const chunks: string[] = [];
  const work: WorkDoneUpdate[] = [];
  const out = await runAsk(
    client,
    { question: 'What is the answer?', uri: 'file:///r/a.go', selection: { start: pos(5, 1), end: pos(5, 1) }, maxTokens: 64 },
    { onChunk: (c) => chunks.push(c), onWorkDone: (u) => work.push(u) },
  );
  assert.deepEqual(chunks, ['The ', 'answer', ' is **42**.']);
  assert.deepEqual(
    work.map((u) => u.kind),
    ['begin', 'report', 'end'],
  );
  assert.equal(work[1].percentage, 50);
  assert.equal(out.cancelled, false);
  assert.equal(out.text, 'The answer is **42**.');
  assert.equal(out.result?.stopReason, 'eos');
  assert.ok(seen);
  assert.equal(seen.question, 'What is the answer?');
  assert.deepEqual(seen.textDocument, { uri: 'file:///r/a.go' });
  assert.deepEqual(seen.range, { start: pos(5, 1), end: pos(5, 1) });
  assert.equal(seen.maxTokens, 64);
  assert.equal(typeof seen.partialResultToken, 'string');
  assert.equal(typeof seen.workDoneToken, 'string');
  assert.notEqual(seen.partialResultToken, seen.workDoneToken);
});

test('runAsk keeps the chunks when the result has no text, and stops listening afterwards', async (t) => {
  const { client, server, close } = connect();
  t.after(close);
  let token: string | number | undefined;
  server.onRequest(AskRequest, async (params) => {
    token = params.partialResultToken!;
    await server.sendProgress(AskPartialProgress, token, { text: 'part one, ' });
    await server.sendProgress(AskPartialProgress, token, 'part two');
    return { text: '' };
  });
  const chunks: string[] = [];
  const out = await runAsk(client, { question: 'q' }, { onChunk: (c) => chunks.push(c) });
  assert.equal(out.text, 'part one, part two');
  // A late chunk for the finished question is not delivered.
  await server.sendProgress(AskPartialProgress, token!, { text: 'late' });
  await tick(20);
  assert.deepEqual(chunks, ['part one, ', 'part two']);
});

test('two questions at once keep their streams apart', async (t) => {
  const { client, server, close } = connect();
  t.after(close);
  server.onRequest(AskRequest, async (params) => {
    const n = params.question;
    for (let i = 0; i < 3; i++) {
      await server.sendProgress(AskPartialProgress, params.partialResultToken!, { text: `${n}${i} ` });
      await tick(1);
    }
    return { text: '' };
  });
  const [a, b] = await Promise.all([runAsk(client, { question: 'a' }), runAsk(client, { question: 'b' })]);
  assert.equal(a.text, 'a0 a1 a2 ');
  assert.equal(b.text, 'b0 b1 b2 ');
});

test('cancelling sends $/cancelRequest and keeps the text so far', async (t) => {
  const { client, server, close } = connect();
  t.after(close);
  let serverSawCancel = false;
  server.onRequest(AskRequest, async (params, token) => {
    await server.sendProgress(AskPartialProgress, params.partialResultToken!, { text: 'Partial' });
    await new Promise<void>((resolve) => token.onCancellationRequested(() => resolve()));
    serverSawCancel = true;
    throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
  });
  const cts = new CancellationTokenSource();
  const out = await runAsk(client, { question: 'q' }, { onChunk: () => cts.cancel() }, cts.token);
  assert.deepEqual({ text: out.text, cancelled: out.cancelled }, { text: 'Partial', cancelled: true });
  await tick(20);
  assert.ok(serverSawCancel, 'the server got $/cancelRequest');
});

test('cancelling settles at once even when the server never answers', async (t) => {
  const { client, server, close } = connect();
  t.after(close);
  server.onRequest(AskRequest, () => new Promise<AskResult>(() => undefined));
  const cts = new CancellationTokenSource();
  setTimeout(() => cts.cancel(), 20);
  const started = Date.now();
  const out = await runAsk(client, { question: 'q' }, {}, cts.token);
  assert.equal(out.cancelled, true);
  assert.ok(Date.now() - started < 2000);
});

test('an already-cancelled token sends nothing and returns cancelled', async (t) => {
  const { client, server, close } = connect();
  t.after(close);
  let asked = false;
  server.onRequest(AskRequest, () => {
    asked = true;
    return { text: 'x' };
  });
  const cts = new CancellationTokenSource();
  cts.cancel();
  const out = await runAsk(client, { question: 'q' }, {}, cts.token);
  assert.deepEqual(out, { text: '', cancelled: true });
  await tick(10);
  assert.equal(asked, false);
});

test('server errors reject with their message', async (t) => {
  const { client, server, close } = connect();
  t.after(close);
  server.onRequest(AskRequest, () => {
    throw new ResponseError(ErrorCodes.InternalError, 'no daemon: model file not found');
  });
  await assert.rejects(runAsk(client, { question: 'q' }), /model file not found/);
});

test('an empty question is refused before anything is sent', async (t) => {
  const { client, server, close } = connect();
  t.after(close);
  let asked = false;
  server.onRequest(AskRequest, () => {
    asked = true;
    return { text: '' };
  });
  await assert.rejects(runAsk(client, { question: ' ' }), /empty/);
  await tick(10);
  assert.equal(asked, false);
});
