// The answer panel: one webview that shows the current question and its
// streamed answer. A new question in the panel stops the one before it.
import * as vscode from 'vscode';
import { parseFileLink } from './lib/markdown';
import { AnswerView, makeNonce, pageHtml, updateMessage } from './lib/page';

export class AnswerPanel implements vscode.Disposable {
  private static current: AnswerPanel | undefined;

  static show(): AnswerPanel {
    if (AnswerPanel.current) {
      AnswerPanel.current.panel.reveal(undefined, true);
      return AnswerPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      'lore.answer',
      'lore',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, enableCommandUris: false, localResourceRoots: [], retainContextWhenHidden: true },
    );
    AnswerPanel.current = new AnswerPanel(panel);
    return AnswerPanel.current;
  }

  /** Stops the answer the panel is showing, if any. */
  static stopCurrent(): boolean {
    return AnswerPanel.current?.stop() ?? false;
  }

  private view: AnswerView = { title: 'lore', markdown: '', phase: 'done' };
  /** The source of the running question's token, until it ends or is stopped. */
  private cts: vscode.CancellationTokenSource | undefined;
  /** The token of the question on show (stays after a stop, so its last text still lands). */
  private token: vscode.CancellationToken | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  private constructor(private readonly panel: vscode.WebviewPanel) {
    panel.webview.html = pageHtml({ cspSource: panel.webview.cspSource, nonce: makeNonce(), view: this.view });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
    );
  }

  /**
   * Shows a new question and returns the token that its request must honour:
   * it is cancelled by the Stop button, by the next question, and when the
   * panel closes.
   */
  begin(view: AnswerView): vscode.CancellationToken {
    this.stop();
    this.cts = new vscode.CancellationTokenSource();
    this.token = this.cts.token;
    this.view = { ...view };
    this.panel.title = `lore: ${view.title}`;
    this.post();
    return this.token;
  }

  /** Changes part of the view of the question the token belongs to; ignored once another question replaced it. */
  update(token: vscode.CancellationToken, change: Partial<AnswerView>): void {
    if (this.disposed || this.token !== token) {
      return;
    }
    this.view = { ...this.view, ...change };
    this.post();
  }

  /** The last update of the question the token belongs to. */
  finish(token: vscode.CancellationToken, change: Partial<AnswerView>): void {
    if (this.disposed || this.token !== token) {
      return;
    }
    this.view = { ...this.view, ...change };
    this.post();
    this.cts?.dispose();
    this.cts = undefined;
  }

  /** Cancels the running question; false when none runs. */
  stop(): boolean {
    const cts = this.cts;
    if (!cts) {
      return false;
    }
    this.cts = undefined;
    cts.cancel();
    cts.dispose();
    if (this.view.phase === 'waiting' || this.view.phase === 'streaming') {
      this.view = { ...this.view, phase: 'cancelled', note: 'stopped' };
      this.post();
    }
    return true;
  }

  private post(): void {
    if (!this.disposed) {
      void this.panel.webview.postMessage(updateMessage(this.view));
    }
  }

  private onMessage(m: unknown): void {
    if (m === null || typeof m !== 'object') {
      return;
    }
    const msg = m as { type?: unknown; href?: unknown };
    if (msg.type === 'ready') {
      this.post();
    } else if (msg.type === 'stop') {
      this.stop();
    } else if (msg.type === 'link' && typeof msg.href === 'string') {
      void openLink(msg.href);
    }
  }

  dispose(): void {
    if (this.disposed) {
      return;
    }
    this.stop();
    this.disposed = true;
    if (AnswerPanel.current === this) {
      AnswerPanel.current = undefined;
    }
    for (const d of this.disposables) {
      d.dispose();
    }
    this.panel.dispose();
  }
}

/** Web links open outside VS Code; repository paths (with a line) open in the editor. */
async function openLink(href: string): Promise<void> {
  if (/^(https?|mailto):/i.test(href)) {
    await vscode.env.openExternal(vscode.Uri.parse(href, true));
    return;
  }
  const link = parseFileLink(href);
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!link || !folder) {
    return;
  }
  const target = link.path.startsWith('/') ? vscode.Uri.file(link.path) : vscode.Uri.joinPath(folder.uri, link.path);
  try {
    await vscode.workspace.fs.stat(target);
  } catch {
    void vscode.window.showWarningMessage(`lore: ${link.path} is not in the workspace.`);
    return;
  }
  const options: vscode.TextDocumentShowOptions = { viewColumn: vscode.ViewColumn.One };
  if (link.line) {
    const pos = new vscode.Position(link.line - 1, (link.column ?? 1) - 1);
    options.selection = new vscode.Range(pos, pos);
  }
  await vscode.window.showTextDocument(target, options);
}
