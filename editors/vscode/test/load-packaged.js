// Loads the packaged extension's entry point under plain Node with a stub
// 'vscode' module: every module it needs must be inside the .vsix.
//   node test/load-packaged.js DIR/extension/out/src/extension.js
'use strict';
const Module = require('module');
const path = require('path');

const handler = {
  get(target, prop) {
    if (prop === '__esModule' || prop === 'then') {
      return undefined;
    }
    if (!(prop in target)) {
      target[prop] = new Proxy(function () {}, handler);
    }
    return target[prop];
  },
  construct() {
    return new Proxy(function () {}, handler);
  },
  apply() {
    return new Proxy(function () {}, handler);
  },
};
const stub = new Proxy(function () {}, handler);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === 'vscode') {
    return 'vscode';
  }
  // Nothing may come from outside the unpacked extension.
  const found = resolve.call(this, request, parent, ...rest);
  if (path.isAbsolute(found) && !found.startsWith(root)) {
    throw new Error(`${request} resolved outside the package: ${found}`);
  }
  return found;
};
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: stub };

const entry = path.resolve(process.argv[2]);
const root = path.resolve(path.dirname(entry), '..', '..');
const ext = require(entry);
for (const name of ['activate', 'deactivate']) {
  if (typeof ext[name] !== 'function') {
    console.error(`load-packaged: ${entry} exports no ${name}()`);
    process.exit(1);
  }
}
console.log("load-packaged: the packaged extension loads with only its own files (activate, deactivate)");
