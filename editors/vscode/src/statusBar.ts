// The status bar item: pack freshness and tokens from `lore/status`, polled
// while the window has focus.
import * as vscode from 'vscode';
import { LoreStatus, StatusRequest, UiCommands } from './lib/protocol';
import { pollDelayMs, statusBarView } from './lib/status';
import { currentSettings, errorMessage, LoreServer } from './server';

const REQUEST_TIMEOUT_MS = 10_000;

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private polling = false;
  private disposed = false;
  private readonly disposables: vscode.Disposable[] = [];
  /** The last status received, and when. */
  last: LoreStatus | undefined;
  lastProblem: string | undefined;

  constructor(private readonly server: LoreServer) {
    this.item = vscode.window.createStatusBarItem('lore.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'lore';
    this.item.command = UiCommands.status;
    this.render(undefined, server.problem);
    this.item.show();
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeWindowState((s) => {
        if (s.focused) {
          this.refresh();
        }
      }),
      server.onDidChange(() => this.refresh()),
    );
    this.refresh();
  }

  /** Polls now (and then on the usual schedule). */
  refresh(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    void this.poll();
  }

  /** Fetches the status once; undefined (and the reason in lastProblem) when it cannot. */
  async fetch(): Promise<LoreStatus | undefined> {
    const client = this.server.running;
    if (!client) {
      this.last = undefined;
      this.lastProblem = this.server.problem ?? 'not running';
      return undefined;
    }
    const cts = new vscode.CancellationTokenSource();
    const timeout = setTimeout(() => cts.cancel(), REQUEST_TIMEOUT_MS);
    try {
      const s = await client.sendRequest(StatusRequest, cts.token);
      this.last = s ?? undefined;
      this.lastProblem = s ? undefined : 'no status';
      return this.last;
    } catch (err) {
      this.last = undefined;
      this.lastProblem = cts.token.isCancellationRequested ? 'lore/status timed out' : errorMessage(err);
      return undefined;
    } finally {
      clearTimeout(timeout);
      cts.dispose();
    }
  }

  private async poll(): Promise<void> {
    if (this.disposed || this.polling) {
      return;
    }
    this.polling = true;
    try {
      if (vscode.window.state.focused) {
        const s = await this.fetch();
        this.render(s, this.lastProblem);
      }
    } finally {
      this.polling = false;
    }
    if (!this.disposed) {
      const delay = pollDelayMs(this.last, currentSettings().statusInterval);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.poll();
      }, delay);
    }
  }

  render(s: LoreStatus | undefined, problem?: string): void {
    const v = statusBarView(s, problem);
    this.item.text = v.text;
    this.item.tooltip = v.tooltip;
    this.item.backgroundColor =
      v.kind === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) {
      clearTimeout(this.timer);
    }
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
