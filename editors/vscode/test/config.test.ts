import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { clientShowsAnswers, configurationItem, DEFAULTS, expandHome, initializationOptions, readSettings, serverLaunch } from '../src/lib/config';

const getter = (o: Record<string, unknown>) => (k: string) => o[k];

test('defaults for missing or mistyped settings', () => {
  assert.deepEqual(readSettings(getter({})), DEFAULTS);
  assert.deepEqual(
    readSettings(getter({ path: '  ', model: 7, maxTokens: 'lots', hover: 'yes', showAnswers: 'shout', planSession: '', statusInterval: -3 })),
    { ...DEFAULTS, statusInterval: 1 },
  );
});

test('values are trimmed and clamped', () => {
  const s = readSettings(
    getter({ path: ' /opt/lore/bin/lore ', model: '~/m.gguf', autoStart: true, maxTokens: 512.7, hover: true, showAnswers: 'message', planSession: 'refactor', statusInterval: 10 }),
  );
  assert.deepEqual(s, {
    path: '/opt/lore/bin/lore',
    model: '~/m.gguf',
    autoStart: true,
    maxTokens: 512,
    hover: true,
    showAnswers: 'message',
    planSession: 'refactor',
    statusInterval: 10,
  });
  assert.equal(readSettings(getter({ maxTokens: '256' })).maxTokens, 256);
  assert.equal(readSettings(getter({ maxTokens: -1 })).maxTokens, 0);
  // The boolean form of showAnswers: on is the panel, off is none.
  assert.equal(readSettings(getter({ showAnswers: true })).showAnswers, 'panel');
  assert.equal(readSettings(getter({ showAnswers: false })).showAnswers, 'none');
});

test('server launch: lore lsp, LORE_MODEL only when a model is set', () => {
  assert.deepEqual(serverLaunch(DEFAULTS, '/home/u'), { command: 'lore', args: ['lsp'], env: {} });
  assert.deepEqual(serverLaunch({ ...DEFAULTS, path: '~/bin/lore', model: '~/models/q.gguf' }, '/home/u'), {
    command: '/home/u/bin/lore',
    args: ['lsp'],
    env: { LORE_MODEL: '/home/u/models/q.gguf' },
  });
});

test('expandHome', () => {
  assert.equal(expandHome('~', '/h'), '/h');
  assert.equal(expandHome('~/x', '/h'), '/h/x');
  assert.equal(expandHome('/abs/~/x', '/h'), '/abs/~/x');
  assert.equal(expandHome('~other/x', '/h'), '~other/x');
});

test('initializationOptions are lore lsp settings: no maxTokens 0, panel is none for the server', () => {
  assert.deepEqual(initializationOptions(DEFAULTS), { hover: false, showAnswers: 'none', commandReply: 'answer' });
  assert.deepEqual(initializationOptions({ ...DEFAULTS, hover: true, maxTokens: 300, showAnswers: 'document' }), {
    hover: true,
    maxTokens: 300,
    showAnswers: 'document',
    commandReply: 'started',
  });
  assert.equal(clientShowsAnswers(DEFAULTS), true);
  assert.equal(clientShowsAnswers({ ...DEFAULTS, showAnswers: 'message' }), false);
});

test('workspace/configuration answers for the lore section and its keys', () => {
  const s = { ...DEFAULTS, hover: true, model: '/m.gguf' };
  assert.deepEqual(configurationItem('lore', s), { handled: true, value: { hover: true, showAnswers: 'none', commandReply: 'answer' } });
  assert.deepEqual(configurationItem('lore.hover', s), { handled: true, value: true });
  assert.deepEqual(configurationItem('lore.showAnswers', s), { handled: true, value: 'none' });
  assert.deepEqual(configurationItem('lore.maxTokens', s), { handled: true, value: 0 });
  assert.deepEqual(configurationItem('lore.model', s), { handled: true, value: '/m.gguf' });
  assert.deepEqual(configurationItem('lore.nope', s), { handled: true, value: null });
  assert.deepEqual(configurationItem('editor', s), { handled: false, value: undefined });
  assert.deepEqual(configurationItem(undefined, s), { handled: false, value: undefined });
  assert.deepEqual(configurationItem('lorem', s), { handled: false, value: undefined });
});
