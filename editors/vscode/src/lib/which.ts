// Finding the lore binary before starting it, so a missing one gets a clear
// message instead of a failed spawn.
import * as fs from 'fs';
import * as path from 'path';

export function isExecutableFile(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) {
      return false;
    }
    if (process.platform === 'win32') {
      return true;
    }
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface WhichOptions {
  /** The PATH to search; default process.env.PATH. */
  pathEnv?: string;
  /** Folder that relative paths such as "./bin/lore" start from. */
  cwd?: string;
  platform?: NodeJS.Platform;
  /** PATHEXT on Windows; default process.env.PATHEXT. */
  pathExt?: string;
  isExecutable?: (p: string) => boolean;
}

/**
 * The file a command runs: a command with a folder in it is taken as a path
 * (relative to cwd), a bare name is searched in PATH. Undefined when there is
 * no such executable file.
 */
export function findExecutable(command: string, opts: WhichOptions = {}): string | undefined {
  const platform = opts.platform ?? process.platform;
  const p = platform === 'win32' ? path.win32 : path.posix;
  const isExec = opts.isExecutable ?? isExecutableFile;
  const exts =
    platform === 'win32'
      ? ['', ...(opts.pathExt ?? process.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean)]
      : [''];
  const tryFile = (f: string): string | undefined => {
    for (const e of exts) {
      if (isExec(f + e)) {
        return f + e;
      }
    }
    return undefined;
  };
  if (command === '') {
    return undefined;
  }
  const hasDir = command.includes('/') || (platform === 'win32' && command.includes('\\'));
  if (hasDir) {
    const abs = p.isAbsolute(command) ? command : p.resolve(opts.cwd ?? process.cwd(), command);
    return tryFile(abs);
  }
  const dirs = (opts.pathEnv ?? process.env.PATH ?? '').split(platform === 'win32' ? ';' : ':');
  for (const d of dirs) {
    if (d === '') {
      continue;
    }
    const found = tryFile(p.join(d, command));
    if (found) {
      return found;
    }
  }
  return undefined;
}
