// lore for VS Code: starts `lore lsp`, adds Lore: Ask / Plan / Explain
// Selection / Status, streams answers into a panel and shows the daemon's
// state in the status bar. The logic that needs no editor lives in ./lib.
import * as vscode from 'vscode';
import { WorkDoneProgress } from 'vscode-languageclient/node';
import { commandResultMarkdown, formatAnswerStats } from './lib/answer';
import {
  AskInput,
  CANCELLED,
  EXPLAIN_QUESTION,
  formatLocation,
  newProgressToken,
  parseLocationArgument,
  runAsk,
  untilCancelled,
  WorkDoneUpdate,
} from './lib/ask';
import { RESTART_KEYS, SECTION, startsWithWindow } from './lib/config';
import { LoreStatus, ServerCommands, UiCommands } from './lib/protocol';
import { statusListItems } from './lib/status';
import { StreamBuffer } from './lib/stream';
import { AnswerView } from './lib/page';
import { AnswerPanel } from './panel';
import { currentSettings, errorMessage, LoreServer } from './server';
import { StatusBar } from './statusBar';

let server: LoreServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('lore');
  server = new LoreServer(output, runServerAnswerCommand);
  const srv = server;
  const statusBar = new StatusBar(srv);
  context.subscriptions.push(output, srv, statusBar);

  context.subscriptions.push(
    vscode.commands.registerCommand(UiCommands.ask, () => askCommand(srv, 'ask')),
    vscode.commands.registerCommand(UiCommands.plan, () => askCommand(srv, 'plan')),
    vscode.commands.registerCommand(UiCommands.explain, () => askCommand(srv, 'explain')),
    vscode.commands.registerCommand(UiCommands.status, () => statusCommand(srv, statusBar, output)),
    vscode.commands.registerCommand(UiCommands.summarizeChanges, async () => {
      // The server's command (registered once it runs): `git diff HEAD`, summarized.
      if (await srv.ensure()) {
        await vscode.commands.executeCommand(ServerCommands.summarizeChanges);
      }
    }),
    vscode.commands.registerCommand(UiCommands.generate, async () => {
      // The server runs `lore generate` on a plan (ask --plan, lore.plan) and
      // sends the edits as a workspace edit annotated for confirmation:
      // VS Code shows its refactor preview, a diff, before applying.
      const plan = await vscode.window.showInputBox({
        prompt: 'Plan to hand to the larger tier (empty: the newest)',
        placeHolder: 'plan name',
      });
      if (plan === undefined) {
        return;
      }
      if (await srv.ensure()) {
        await vscode.commands.executeCommand(ServerCommands.generate, plan.trim() ? { plan: plan.trim() } : {});
      }
    }),
    vscode.commands.registerCommand(UiCommands.restart, async () => {
      await srv.restart();
      statusBar.refresh();
    }),
    vscode.commands.registerCommand(UiCommands.stop, () => {
      if (!AnswerPanel.stopCurrent()) {
        void vscode.window.showInformationMessage('lore: no answer is running.');
      }
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.autoStart`) && !srv.running && startsWithWindow(currentSettings(), folderCount())) {
        void srv.start().then(() => statusBar.refresh());
        return;
      }
      const restartFor = RESTART_KEYS.filter((k) => e.affectsConfiguration(`${SECTION}.${k}`));
      if (restartFor.length) {
        output.appendLine(`lore: ${restartFor.map((k) => `${SECTION}.${k}`).join(', ')} changed: restarting the language server`);
        void srv.restart().then(() => statusBar.refresh());
      } else if (e.affectsConfiguration(SECTION)) {
        void srv.sendSettings();
        statusBar.refresh();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      if (!srv.running && startsWithWindow(currentSettings(), folderCount())) {
        void srv.start();
      }
    }),
  );

  // The extension activates on its commands and at start-up. Starting the
  // server starts (or finds) the repository's daemon, which loads the model
  // and prefills: at start-up only with lore.autoStart, otherwise the first
  // Lore command starts it (srv.ensure).
  if (startsWithWindow(currentSettings(), folderCount())) {
    void srv.start();
  }
}

function folderCount(): number {
  return vscode.workspace.workspaceFolders?.length ?? 0;
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}

type AskKind = 'ask' | 'plan' | 'explain';

const TITLES: Record<AskKind, string> = { ask: 'Ask', plan: 'Plan', explain: 'Explain' };

function relativePath(uri: vscode.Uri): string {
  return vscode.workspace.asRelativePath(uri, false);
}

/** Lore: Ask, Lore: Plan and Lore: Explain Selection. */
async function askCommand(srv: LoreServer, kind: AskKind): Promise<void> {
  const settings = currentSettings();
  const editor = vscode.window.activeTextEditor;
  // The server answers about files of the repository: other documents go without a location.
  const doc =
    editor && editor.document.uri.scheme === 'file' && vscode.workspace.getWorkspaceFolder(editor.document.uri)
      ? editor.document
      : undefined;
  let question: string | undefined;
  if (kind === 'explain') {
    if (!editor || !doc) {
      void vscode.window.showInformationMessage('lore: select code in a file of the workspace to explain.');
      return;
    }
    question = EXPLAIN_QUESTION;
  } else {
    question = await vscode.window.showInputBox({
      title: kind === 'plan' ? `Lore: Plan (session "${settings.planSession}")` : 'Lore: Ask',
      prompt:
        kind === 'plan'
          ? 'What should be planned? The planning session keeps the earlier turns.'
          : doc
            ? `A question about the repository (location: ${formatLocation(relativePath(doc.uri), editor!.selection)})`
            : 'A question about the repository',
      placeHolder: kind === 'plan' ? 'e.g. Add per-route retry settings' : 'e.g. Where are HTTP retries configured?',
      ignoreFocusOut: true,
    });
    if (question === undefined || question.trim() === '') {
      return;
    }
  }
  const client = await srv.ensure();
  if (!client) {
    return;
  }
  const input: Omit<AskInput, 'partialResultToken' | 'workDoneToken'> = {
    question,
    maxTokens: settings.maxTokens,
  };
  let location: string | undefined;
  // Plan questions are about the repository: the location goes along only when code is selected.
  if (editor && doc && (kind !== 'plan' || !editor.selection.isEmpty)) {
    input.uri = doc.uri.toString();
    input.selection = editor.selection;
    location = formatLocation(relativePath(doc.uri), input.selection);
  }
  if (kind === 'plan') {
    input.session = settings.planSession;
  }
  await streamAnswer(client, input, { title: TITLES[kind], question, location });
}

/** The panel's note for a work-done update: its message and percentage ("prefilling the repository: 1200/4800 tokens · 25%"). */
function workDoneNote(u: WorkDoneUpdate, last: string): string {
  const parts: string[] = [];
  if (u.message) {
    parts.push(u.message);
  }
  if (typeof u.percentage === 'number') {
    parts.push(`${Math.round(u.percentage)}%`);
  }
  return parts.length ? parts.join(' · ') : last;
}

/** Shows work-done updates in a withProgress notification while one is attached. */
class ProgressView {
  private progress: vscode.Progress<{ message?: string; increment?: number }> | undefined;
  private lastPct = 0;

  attach(p: vscode.Progress<{ message?: string; increment?: number }>, message: string): void {
    this.progress = p;
    p.report({ message });
  }

  detach(): void {
    this.progress = undefined;
  }

  report(u: WorkDoneUpdate): void {
    if (!this.progress || u.kind === 'end') {
      return;
    }
    const pct = typeof u.percentage === 'number' ? Math.max(0, Math.min(100, u.percentage)) : undefined;
    const increment = pct !== undefined && pct > this.lastPct ? pct - this.lastPct : undefined;
    if (pct !== undefined && pct > this.lastPct) {
      this.lastPct = pct;
    }
    this.progress.report({ message: u.message, increment });
  }
}

/**
 * Sends one lore/ask and streams its answer into the panel. A notification
 * shows the work-done progress (prefill, queue) until the first token
 * arrives; after that the panel's Stop button (or Lore: Stop Answer) cancels.
 */
async function streamAnswer(
  client: Parameters<typeof runAsk>[0],
  input: Omit<AskInput, 'partialResultToken' | 'workDoneToken'>,
  head: { title: string; question: string; location?: string },
): Promise<void> {
  const panel = AnswerPanel.show();
  const token = panel.begin({ ...head, markdown: '', phase: 'waiting', note: 'waiting for lore…' });
  const started = Date.now();
  let firstChunk: () => void = () => undefined;
  const gotFirstChunk = new Promise<void>((resolve) => (firstChunk = resolve));
  const buffer = new StreamBuffer((text, done) => {
    if (!done) {
      panel.update(token, { markdown: text, phase: 'streaming', note: '' });
    }
  });
  const progress = new ProgressView();
  let note = 'waiting for lore…';
  const work = runAsk(
    client,
    input,
    {
      onChunk: (t) => {
        buffer.append(t);
        firstChunk();
      },
      onWorkDone: (u) => {
        note = workDoneNote(u, note);
        if (buffer.chunks === 0) {
          panel.update(token, { note });
        }
        progress.report(u);
      },
    },
    token,
  );
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `lore: ${head.title.toLowerCase()}`, cancellable: true },
    async (p, ptoken) => {
      progress.attach(p, 'waiting for the answer…');
      const sub = ptoken.onCancellationRequested(() => panel.stop());
      try {
        await Promise.race([gotFirstChunk, work.catch(() => undefined)]);
      } finally {
        sub.dispose();
        progress.detach();
      }
    },
  );
  try {
    const outcome = await work;
    const text = buffer.finish(outcome.text);
    const elapsed = Date.now() - started;
    if (outcome.cancelled) {
      panel.finish(token, { markdown: text, phase: 'cancelled', note: 'stopped' });
    } else {
      panel.finish(token, {
        markdown: text === '' ? '_(empty answer)_' : text,
        phase: 'done',
        note: '',
        footer: outcome.result ? formatAnswerStats(outcome.result, elapsed) : '',
      });
    }
  } catch (err) {
    const text = buffer.finish();
    const msg = errorMessage(err);
    panel.finish(token, { markdown: text, phase: 'error', note: `error: ${msg}` });
    void vscode.window.showErrorMessage(`lore: ${msg}`);
  } finally {
    firstChunk();
  }
}

/**
 * The server's answer commands (code actions: lore.ask, lore.explain,
 * lore.plan, lore.summarizeChanges) run through here when lore.showAnswers is
 * on: the request goes to the server as usual, with a work-done token, and
 * the result shows in the answer panel. The result is also returned to
 * whoever executed the command.
 */
async function runServerAnswerCommand(
  command: string,
  args: unknown[],
  send: (workDoneToken: string, token: vscode.CancellationToken) => Promise<unknown>,
): Promise<unknown> {
  const loc = parseLocationArgument(args[0]);
  const titles: Record<string, string> = {
    [ServerCommands.ask]: 'Ask',
    [ServerCommands.explain]: 'Explain',
    [ServerCommands.plan]: 'Plan',
    [ServerCommands.summarizeChanges]: 'Summarize changes',
  };
  let location: string | undefined;
  if (loc) {
    try {
      location = formatLocation(relativePath(vscode.Uri.parse(loc.uri, true)), loc.range);
    } catch {
      location = loc.uri;
    }
  }
  const title = titles[command] ?? command;
  const panel = AnswerPanel.show();
  const token = panel.begin({
    title,
    question: loc?.question ?? '',
    location,
    markdown: '',
    phase: 'waiting',
    note: 'waiting for lore…',
  });
  const workDoneToken = newProgressToken('lore-command');
  const progress = new ProgressView();
  // Work-done progress of this command: waiting for the daemon, prefill, generating.
  const sub = server?.running?.onProgress(WorkDoneProgress.type, workDoneToken, (u) => {
    const update = u as WorkDoneUpdate;
    if (update.kind !== 'end') {
      panel.update(token, { note: workDoneNote(update, 'waiting for lore…') });
    }
    progress.report(update);
  });
  const started = Date.now();
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `lore: ${title.toLowerCase()}`, cancellable: true },
      (p, ptoken) => {
        progress.attach(p, 'waiting for the answer…');
        const s = ptoken.onCancellationRequested(() => panel.stop());
        return untilCancelled(send(workDoneToken, token), token).finally(() => {
          s.dispose();
          progress.detach();
        });
      },
    );
    if (result === CANCELLED) {
      panel.finish(token, { phase: 'cancelled', note: 'stopped' });
      return undefined;
    }
    const shown = commandResultMarkdown(result);
    const change: Partial<AnswerView> = {
      markdown: shown.markdown,
      phase: 'done',
      note: '',
      footer: shown.answer ? formatAnswerStats(shown.answer, Date.now() - started) : '',
    };
    // The server's default question (its first line: a summary's question carries the diff).
    if (!loc?.question && shown.answer?.question) {
      change.question = shown.answer.question.split('\n')[0];
    }
    panel.finish(token, change);
    return result;
  } catch (err) {
    if (token.isCancellationRequested) {
      panel.finish(token, { phase: 'cancelled', note: 'stopped' });
      return undefined;
    }
    const msg = errorMessage(err);
    panel.finish(token, { phase: 'error', note: `error: ${msg}` });
    void vscode.window.showErrorMessage(`lore: ${command}: ${msg}`);
    return undefined;
  } finally {
    sub?.dispose();
  }
}

/** Lore: Status: the daemon's status in a quick pick; a reduced file opens on selection. */
async function statusCommand(srv: LoreServer, statusBar: StatusBar, output: vscode.OutputChannel): Promise<void> {
  let s: LoreStatus | undefined;
  if (srv.running) {
    s = await statusBar.fetch();
    statusBar.render(s, statusBar.lastProblem);
  }
  if (!s) {
    const problem = statusBar.lastProblem ?? srv.problem ?? 'not running';
    const pick = await vscode.window.showWarningMessage(
      `lore: ${problem}.`,
      'Restart Server',
      'Show Log',
      'Open Settings',
    );
    if (pick === 'Restart Server') {
      await srv.restart();
      statusBar.refresh();
    } else if (pick === 'Show Log') {
      output.show(true);
    } else if (pick === 'Open Settings') {
      void vscode.commands.executeCommand('workbench.action.openSettings', 'lore.');
    }
    return;
  }
  type Item = vscode.QuickPickItem & { path?: string; action?: 'restart' | 'log' };
  const items: Item[] = statusListItems(s).map((i) => ({ label: i.label, description: i.description, path: i.path }));
  const omittedAt = items.findIndex((i) => i.path !== undefined);
  if (omittedAt >= 0) {
    items.splice(omittedAt, 0, { label: 'Files not in full', kind: vscode.QuickPickItemKind.Separator });
  }
  items.push(
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(debug-restart) Restart the language server', action: 'restart' },
    { label: '$(output) Show the lore log', action: 'log' },
  );
  const pick = await vscode.window.showQuickPick(items, {
    title: `lore: ${s.state ?? 'status'}${s.repo ? ` — ${s.repo}` : ''}`,
    matchOnDescription: true,
    placeHolder: 'Daemon status (select a file to open it)',
  });
  if (!pick) {
    return;
  }
  if (pick.action === 'restart') {
    await srv.restart();
    statusBar.refresh();
  } else if (pick.action === 'log') {
    output.show(true);
  } else if (pick.path) {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (folder) {
      await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, pick.path));
    }
  }
}
