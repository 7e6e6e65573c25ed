import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { escapeHtml, isAllowedLink, parseFileLink, renderMarkdown } from '../src/lib/markdown';

test('escapeHtml escapes the five HTML metacharacters', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('renders ordinary Markdown', () => {
  const html = renderMarkdown('# Title\n\nSome **bold** and `code`.\n\n```go\nfunc main() {}\n```\n\n- a\n- b\n');
  assert.match(html, /<h1>Title<\/h1>/);
  assert.match(html, /<strong>bold<\/strong>/);
  assert.match(html, /<code>code<\/code>/);
  assert.match(html, /<pre><code class="language-go">func main\(\) \{\}\n<\/code><\/pre>/);
  assert.match(html, /<li>a<\/li>/);
});

test('raw HTML in an answer is escaped, not rendered', () => {
  const html = renderMarkdown('Hi <script>alert(1)</script> <img src=x onerror=alert(1)>\n\n<div onclick="x()">block</div>');
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/i);
  assert.doesNotMatch(html, /<div/i);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /&lt;div onclick=&quot;x\(\)&quot;&gt;/);
});

test('dangerous link schemes are not rendered as links', () => {
  for (const href of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'vbscript:x', 'data:text/html,<b>', 'file:///etc/passwd', 'command:workbench.action.quit', 'vscode:extension/x']) {
    const html = renderMarkdown(`[click](${href})`);
    assert.doesNotMatch(html, /<a /, href);
  }
  const img = renderMarkdown('![x](javascript:alert(1))');
  assert.doesNotMatch(img, /<img/);
});

test('web, mail and repository links are rendered', () => {
  assert.match(renderMarkdown('[docs](https://example.org/a?b=1)'), /<a href="https:\/\/example\.org\/a\?b=1">docs<\/a>/);
  assert.match(renderMarkdown('[mail](mailto:a@example.org)'), /<a href="mailto:a@example\.org">/);
  assert.match(renderMarkdown('[the daemon](daemon/daemon.go)'), /<a href="daemon\/daemon\.go">/);
  assert.match(renderMarkdown('[line](daemon/daemon.go:120)'), /<a href="daemon\/daemon\.go:120">/);
  assert.match(renderMarkdown('[frag](#section)'), /<a href="#section">/);
});

test('only explicit URLs are linkified: file names stay text', () => {
  assert.doesNotMatch(renderMarkdown('See setup.py and README.md.'), /<a /);
  assert.match(renderMarkdown('See https://example.org for more.'), /<a href="https:\/\/example\.org">/);
});

test('a half-streamed answer renders without throwing', () => {
  const html = renderMarkdown('Here:\n\n```go\nfunc f() {\n');
  assert.match(html, /<pre><code class="language-go">func f\(\) \{\n<\/code><\/pre>/);
  assert.doesNotThrow(() => renderMarkdown('**unclosed [link]('));
});

test('isAllowedLink', () => {
  assert.ok(isAllowedLink('https://x'));
  assert.ok(isAllowedLink('http://x'));
  assert.ok(isAllowedLink('src/a.ts'));
  assert.ok(isAllowedLink('a.go:12:3'));
  assert.ok(!isAllowedLink('a.go:alert(1)'));
  assert.ok(!isAllowedLink('javascript:x'));
  assert.ok(!isAllowedLink(''));
  assert.ok(!isAllowedLink('java\tscript:x'));
  assert.ok(!isAllowedLink('\\\\server\\share'));
});

test('parseFileLink reads paths, lines and columns', () => {
  assert.deepEqual(parseFileLink('daemon/daemon.go'), { path: 'daemon/daemon.go' });
  assert.deepEqual(parseFileLink('./daemon/daemon.go:120'), { path: 'daemon/daemon.go', line: 120 });
  assert.deepEqual(parseFileLink('a.go:12:3'), { path: 'a.go', line: 12, column: 3 });
  assert.deepEqual(parseFileLink('a.go#L7'), { path: 'a.go', line: 7 });
  assert.deepEqual(parseFileLink('a.go#L7-L9'), { path: 'a.go', line: 7 });
  assert.deepEqual(parseFileLink('a.go#L7C2'), { path: 'a.go', line: 7, column: 2 });
  assert.deepEqual(parseFileLink('my%20file.go'), { path: 'my file.go' });
  assert.deepEqual(parseFileLink('a.go#intro'), { path: 'a.go' });
  assert.equal(parseFileLink('https://example.org/a.go'), undefined);
  assert.equal(parseFileLink('#L12'), undefined);
  assert.equal(parseFileLink('javascript:x'), undefined);
  assert.equal(parseFileLink(''), undefined);
});
