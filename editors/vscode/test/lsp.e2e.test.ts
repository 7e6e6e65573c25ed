// End to end against a real `lore lsp` (skipped unless LORE_E2E_BIN names
// the lore binary; LORE_MODEL must name a GGUF model, e.g. the demo model
// from `make demo`, and LORE_LLAMA_LIB the llama.cpp libraries):
//
//   LORE_E2E_BIN=bin/lore LORE_MODEL=.lore-demo/demo.gguf \
//     LORE_LLAMA_LIB=third_party/llama scripts/vscode.sh test
//
// It speaks to the server exactly as the extension does: the same
// initializationOptions and workspace/configuration answers, lore/status
// through the status bar formatter, and lore/ask through runAsk.
import { strict as assert } from 'node:assert';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import {
  CancellationTokenSource,
  ConfigurationRequest,
  createProtocolConnection,
  ExecuteCommandRequest,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  ProtocolConnection,
  ShutdownRequest,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageserver-protocol/node';
import { runAsk } from '../src/lib/ask';
import { configurationItem, DEFAULTS, initializationOptions } from '../src/lib/config';
import { LoreStatus, StatusRequest } from '../src/lib/protocol';
import { statusBarView } from '../src/lib/status';

const bin = process.env.LORE_E2E_BIN;
const skip = !bin ? 'set LORE_E2E_BIN (and LORE_MODEL, LORE_LLAMA_LIB) to run against a real lore lsp' : false;

test('a real lore lsp: status, a streamed question, cancellation, a code-action command', { skip, timeout: 300_000 }, async (t) => {
  const lore = path.resolve(bin!);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lore-vscode-e2e-'));
  const repo = path.join(tmp, 'repo');
  fs.mkdirSync(repo);
  fs.writeFileSync(
    path.join(repo, 'retry.go'),
    'package demo\n\n// Retries is how often a request is retried.\nconst Retries = 3\n\nfunc Backoff(n int) int {\n\treturn n * n * 100\n}\n',
  );
  fs.writeFileSync(path.join(repo, 'README.md'), '# demo\n\nA tiny repository for the lore VS Code extension test.\n');
  execFileSync('git', ['init', '-q'], { cwd: repo });
  const env = {
    ...process.env,
    LORE_STATE_DIR: path.join(tmp, 'state'),
    LORE_RUNTIME_DIR: path.join(tmp, 'run'),
    LORE_CTX: process.env.LORE_CTX ?? '4096',
  };
  const child: ChildProcess = spawn(lore, ['lsp'], { cwd: repo, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const conn: ProtocolConnection = createProtocolConnection(child.stdout!, child.stdin!);
  conn.onRequest(ConfigurationRequest.type, (p) => p.items.map((i) => configurationItem(i.section, DEFAULTS).value ?? null));
  conn.onRequest(WorkDoneProgressCreateRequest.type, () => null);
  conn.listen();
  t.after(() => {
    conn.dispose();
    child.kill();
    try {
      execFileSync(lore, ['stop', '--repo', repo], { env, stdio: 'ignore', timeout: 30_000 });
    } catch {
      // no daemon left
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  try {
    const init = await conn.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(repo).toString(),
      workspaceFolders: [{ uri: pathToFileURL(repo).toString(), name: 'repo' }],
      capabilities: { window: { workDoneProgress: true }, workspace: { configuration: true } },
      initializationOptions: initializationOptions({ ...DEFAULTS, maxTokens: 16 }),
    });
    assert.deepEqual(init.capabilities.executeCommandProvider?.commands, [
      'lore.ask',
      'lore.explain',
      'lore.plan',
      'lore.status',
      'lore.summarizeChanges',
      'lore.cancel',
      'lore.generate',
    ]);
    assert.equal(init.capabilities.hoverProvider, undefined, 'no hover with lore.hover off');
    await conn.sendNotification(InitializedNotification.type, {});

    // The status bar's view of the daemon until it is ready.
    let status: LoreStatus | undefined;
    const deadline = Date.now() + 240_000;
    const seen = new Set<string>();
    while (Date.now() < deadline) {
      status = await conn.sendRequest(StatusRequest);
      seen.add(statusBarView(status).text);
      if (status.state === 'ready' || status.state === 'failed') {
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(status?.state, 'ready', `daemon state ${status?.state}: ${status?.error ?? ''}`);
    assert.match(statusBarView(status).text, /^\$\(book\) lore \S+ tok ready$/);
    assert.ok((status!.pack_tokens ?? 0) > 0);

    // A streamed question about the cursor in retry.go.
    const uri = pathToFileURL(path.join(repo, 'retry.go')).toString();
    const chunks: string[] = [];
    const work: string[] = [];
    const out = await runAsk(
      conn,
      { question: 'What does Backoff return?', uri, selection: { start: { line: 5, character: 5 }, end: { line: 5, character: 5 } }, maxTokens: 12 },
      { onChunk: (c) => chunks.push(c), onWorkDone: (u) => work.push(u.kind) },
    );
    assert.equal(out.cancelled, false);
    assert.ok(chunks.length > 0, 'partial results arrived');
    assert.equal(chunks.join(''), out.text, 'the chunks concatenate to the result text');
    assert.equal(out.result?.generatedTokens, 12);
    assert.ok(work.includes('begin') && work.includes('end'), `work-done progress: ${work.join(',')}`);

    // Cancelled after the first chunk.
    const cts = new CancellationTokenSource();
    const cancelled = await runAsk(conn, { question: 'Describe the repository at length.', maxTokens: 400 }, { onChunk: () => cts.cancel() }, cts.token);
    assert.equal(cancelled.cancelled, true);

    // A code action's command without a question: the server's default question.
    const res = (await conn.sendRequest(ExecuteCommandRequest.type, {
      command: 'lore.explain',
      arguments: [{ uri, range: { start: { line: 5, character: 0 }, end: { line: 7, character: 1 } } }],
    })) as { text?: unknown; question?: unknown };
    assert.equal(typeof res.text, 'string');
    assert.match(String(res.question), /Explain/);

    await conn.sendRequest(ShutdownRequest.type);
    await conn.sendNotification(ExitNotification.type);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- lore lsp stderr ---\n${stderr.slice(-4000)}`);
  }
});
