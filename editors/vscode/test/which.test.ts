import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { findExecutable } from '../src/lib/which';

test('finds executables in PATH and by path, not plain files', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lore-which-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  fs.writeFileSync(path.join(a, 'lore'), 'not executable');
  fs.chmodSync(path.join(a, 'lore'), 0o644);
  fs.writeFileSync(path.join(b, 'lore'), '#!/bin/sh\n');
  fs.chmodSync(path.join(b, 'lore'), 0o755);
  fs.mkdirSync(path.join(a, 'dir-not-file'));
  const PATH = [a, '', b].join(':');
  if (process.platform !== 'win32') {
    assert.equal(findExecutable('lore', { pathEnv: PATH }), path.join(b, 'lore'));
    assert.equal(findExecutable('dir-not-file', { pathEnv: PATH }), undefined);
    assert.equal(findExecutable('nope', { pathEnv: PATH }), undefined);
    assert.equal(findExecutable(path.join(b, 'lore')), path.join(b, 'lore'));
    assert.equal(findExecutable('./b/lore', { cwd: dir }), path.join(b, 'lore'));
    assert.equal(findExecutable('./a/lore', { cwd: dir }), undefined);
    assert.equal(findExecutable('', { pathEnv: PATH }), undefined);
  }
});

test('Windows: PATHEXT and ; separators', () => {
  const have = new Set(['C:\\tools\\lore.EXE']);
  const found = findExecutable('lore', {
    platform: 'win32',
    pathEnv: 'C:\\nothing;C:\\tools',
    pathExt: '.COM;.EXE',
    isExecutable: (p) => have.has(p),
  });
  assert.equal(found, 'C:\\tools\\lore.EXE');
});
