// Starting, stopping and restarting `lore lsp` through vscode-languageclient.
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  Executable,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  State,
} from 'vscode-languageclient/node';
import {
  clientShowsAnswers,
  configurationItem,
  initializationOptions,
  LoreSettings,
  readSettings,
  SECTION,
  serverLaunch,
} from './lib/config';
import { ServerCommands } from './lib/protocol';
import { findExecutable } from './lib/which';

export function currentSettings(): LoreSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  return readSettings((key) => cfg.get(key));
}

/** Runs one of the server's commands whose result is an answer (see extension.ts). */
export type ServerCommandRunner = (
  command: string,
  args: unknown[],
  send: (workDoneToken: string, token: vscode.CancellationToken) => Promise<unknown>,
) => Promise<unknown>;

/** The server commands whose results are answers, shown in the answer panel when lore.showAnswers is "panel". */
export const ANSWER_COMMANDS: ReadonlySet<string> = new Set<string>([
  ServerCommands.ask,
  ServerCommands.explain,
  ServerCommands.plan,
  ServerCommands.summarizeChanges,
]);

export class LoreServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  /** Why the server is not running, when it is not. */
  problem: string | undefined = 'not started: lore starts with the first Lore command (or set lore.autoStart)';
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly runAnswerCommand: ServerCommandRunner,
  ) {}

  /** The running client, or undefined. */
  get running(): LanguageClient | undefined {
    return this.client && this.client.state === State.Running ? this.client : undefined;
  }

  /** The running client, starting the server when needed; undefined (after telling the user) when it cannot start. */
  async ensure(): Promise<LanguageClient | undefined> {
    if (this.running) {
      return this.running;
    }
    return this.start();
  }

  start(): Promise<LanguageClient | undefined> {
    if (!this.starting) {
      this.starting = this.doStart().finally(() => {
        this.starting = undefined;
        this.changed.fire();
      });
    }
    return this.starting;
  }

  private async doStart(): Promise<LanguageClient | undefined> {
    if (this.client) {
      if (this.client.state === State.Running) {
        return this.client;
      }
      await this.stopClient();
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || folder.uri.scheme !== 'file') {
      this.problem = 'no folder is open';
      void vscode.window.showWarningMessage('lore: open a folder (a repository) first.');
      return undefined;
    }
    const settings = currentSettings();
    const launch = serverLaunch(settings);
    const cwd = folder.uri.fsPath;
    const found = findExecutable(launch.command, { cwd });
    if (!found) {
      this.problem = `${launch.command} not found`;
      this.output.appendLine(`lore: ${launch.command} not found (PATH=${process.env.PATH ?? ''})`);
      void vscode.window
        .showErrorMessage(
          `lore: cannot start the language server: "${launch.command}" was not found. Install lore (make build puts it in bin/) and set lore.path.`,
          'Open Settings',
        )
        .then((pick) => {
          if (pick === 'Open Settings') {
            void vscode.commands.executeCommand('workbench.action.openSettings', 'lore.path');
          }
        });
      return undefined;
    }
    const server: Executable = {
      command: found,
      args: launch.args,
      options: { cwd, env: { ...process.env, ...launch.env } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }],
      workspaceFolder: folder,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // The server's settings go as initializationOptions, then as
      // didChangeConfiguration {lore: …} (sendSettings) and as answers to
      // workspace/configuration, always in lore lsp's own form (see lib/config).
      initializationOptions: () => initializationOptions(currentSettings()),
      middleware: {
        executeCommand: (command, args, next) => {
          if (!ANSWER_COMMANDS.has(command) || !clientShowsAnswers(currentSettings())) {
            return next(command, args);
          }
          return this.runAnswerCommand(command, args, async (workDoneToken, token) => {
            const client = this.running;
            if (!client) {
              throw new Error('the lore language server is not running');
            }
            return client.sendRequest(
              ExecuteCommandRequest.type,
              { command, arguments: args, workDoneToken },
              token,
            );
          });
        },
        workspace: {
          configuration: async (params, token, next) => {
            const settings = currentSettings();
            const answers = params.items.map((item) => configurationItem(item.section, settings));
            if (answers.every((a) => a.handled)) {
              return answers.map((a) => a.value);
            }
            const rest = await next(params, token);
            if (!Array.isArray(rest)) {
              return rest;
            }
            return answers.map((a, i) => (a.handled ? a.value : rest[i]));
          },
        },
      },
    };
    const client = new LanguageClient('lore', 'lore', server, clientOptions);
    this.client = client;
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped && this.client === client) {
        this.problem = 'the language server stopped (see the lore output)';
      }
      this.changed.fire();
    });
    this.output.appendLine(`lore: starting ${found} ${launch.args.join(' ')} in ${cwd}`);
    try {
      await client.start();
    } catch (err) {
      this.problem = `cannot start ${found} lsp: ${errorMessage(err)}`;
      this.output.appendLine(`lore: ${this.problem}`);
      return undefined;
    }
    this.problem = undefined;
    return client;
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) {
      return;
    }
    try {
      if (client.needsStop()) {
        await client.stop(5000);
      }
    } catch (err) {
      this.output.appendLine(`lore: stopping the language server: ${errorMessage(err)}`);
    }
    try {
      await client.dispose(1000);
    } catch {
      // already gone
    }
  }

  /** Sends the current settings to the running server. */
  async sendSettings(): Promise<void> {
    const client = this.running;
    if (!client) {
      return;
    }
    try {
      await client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { [SECTION]: initializationOptions(currentSettings()) },
      });
    } catch (err) {
      this.output.appendLine(`lore: sending the settings: ${errorMessage(err)}`);
    }
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.stopClient();
    this.problem = 'stopped';
    this.changed.fire();
  }

  async restart(): Promise<LanguageClient | undefined> {
    await this.stop();
    return this.start();
  }

  dispose(): void {
    void this.stop();
    this.changed.dispose();
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}
