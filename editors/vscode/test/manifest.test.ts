// The extension's manifest agrees with the code, and the modules under
// src/lib run without VS Code.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DEFAULTS, readSettings, startsWithWindow } from '../src/lib/config';
import { ServerCommands, UiCommands } from '../src/lib/protocol';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

test('every palette command is contributed with a "Lore: …" title, and none is a server command id', () => {
  const contributed = new Map<string, { title: string; category: string }>(
    pkg.contributes.commands.map((c: { command: string; title: string; category: string }) => [c.command, c]),
  );
  const server = new Set<string>(Object.values(ServerCommands));
  for (const id of Object.values(UiCommands)) {
    const c = contributed.get(id);
    assert.ok(c, `${id} is in contributes.commands`);
    assert.equal(c.category, 'Lore');
    assert.ok(!server.has(id), `${id} clashes with a server command`);
  }
  for (const id of contributed.keys()) {
    assert.ok(!server.has(id), `${id} is registered by the server's executeCommandProvider`);
  }
  const titles = Object.fromEntries([...contributed].map(([id, c]) => [id, `${c.category}: ${c.title}`]));
  assert.equal(titles[UiCommands.ask], 'Lore: Ask');
  assert.equal(titles[UiCommands.plan], 'Lore: Plan');
  assert.equal(titles[UiCommands.status], 'Lore: Status');
  assert.equal(titles[UiCommands.explain], 'Lore: Explain Selection');
});

test('activation: on the Lore commands, and at start-up only to honour lore.autoStart (default off)', () => {
  const events: string[] = pkg.activationEvents;
  const commands = pkg.contributes.commands.map((c: { command: string }) => c.command);
  assert.deepEqual(
    [...events].sort(),
    [...commands.map((c: string) => `onCommand:${c}`), 'onStartupFinished'].sort(),
    'activation events: the commands and onStartupFinished, nothing else (no workspaceContains:.git, no *)',
  );
  assert.equal(pkg.main, './out/src/extension.js');
  const auto = pkg.contributes.configuration.properties['lore.autoStart'];
  assert.equal(auto.type, 'boolean');
  assert.equal(auto.default, false);
  assert.equal(DEFAULTS.autoStart, false);
});

test('activation starts the server only with lore.autoStart and a folder', () => {
  assert.equal(startsWithWindow({ autoStart: false }, 1), false);
  assert.equal(startsWithWindow({ autoStart: true }, 0), false);
  assert.equal(startsWithWindow({ autoStart: true }, 2), true);
  assert.equal(startsWithWindow(readSettings(() => undefined), 1), false, 'the default does not start lore');
  assert.equal(startsWithWindow(readSettings((k) => (k === 'autoStart' ? 'yes' : undefined)), 1), false, 'a non-boolean is the default');
});

test('publisher metadata, licence, repository', () => {
  assert.ok(pkg.publisher && pkg.author && pkg.author.name);
  assert.equal(pkg.license, 'MIT');
  assert.equal(pkg.repository.type, 'git');
  assert.match(pkg.repository.url, /^https:\/\/\S+\.git$/);
  assert.equal(pkg.repository.directory, 'editors/vscode');
  const licence = fs.readFileSync(path.join(root, '..', '..', 'LICENSE'), 'utf8');
  assert.match(licence, /^MIT License/);
});

test('a walkthrough for getting a model, its media present', () => {
  const walks = pkg.contributes.walkthroughs;
  assert.equal(walks.length, 1);
  const steps: { id: string; media: { markdown?: string }; description: string }[] = walks[0].steps;
  assert.ok(steps.some((s) => s.id === 'model' && /lore model pull/.test(s.description)));
  for (const s of steps) {
    assert.ok(s.media.markdown, `${s.id} has markdown media`);
    assert.ok(fs.existsSync(path.join(root, s.media.markdown!)), `${s.media.markdown} exists`);
  }
});

test('every setting the code reads is contributed with the same default', () => {
  const props = pkg.contributes.configuration.properties;
  for (const [key, value] of Object.entries(DEFAULTS)) {
    assert.ok(props[`lore.${key}`], `lore.${key} is contributed`);
    assert.deepEqual(props[`lore.${key}`].default, value, `lore.${key} default`);
  }
  assert.equal(props['lore.hover'].default, false);
});

test('dependencies are pinned exactly', () => {
  for (const deps of [pkg.dependencies, pkg.devDependencies]) {
    for (const [name, version] of Object.entries(deps as Record<string, string>)) {
      assert.match(version, /^\d+\.\d+\.\d+$/, `${name}@${version}`);
    }
  }
  const types = pkg.devDependencies['@types/vscode'];
  assert.equal(pkg.engines.vscode, `^${types}`, 'engines.vscode matches @types/vscode');
});

test('src/lib imports no vscode and loads under plain Node', () => {
  const libSrc = path.join(root, 'src', 'lib');
  const files = fs.readdirSync(libSrc).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 8);
  for (const f of files) {
    const text = fs.readFileSync(path.join(libSrc, f), 'utf8');
    assert.doesNotMatch(text, /from ['"]vscode['"]|require\(['"]vscode['"]\)|from ['"]vscode-languageclient/, f);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(path.join(root, 'out', 'src', 'lib', f.replace(/\.ts$/, '.js')));
  }
});
