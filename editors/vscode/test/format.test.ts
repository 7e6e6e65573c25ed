import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { formatBytes, formatDuration, formatRate, formatTokens, percent } from '../src/lib/format';

test('formatTokens abbreviates thousands and millions', () => {
  assert.equal(formatTokens(0), '0');
  assert.equal(formatTokens(999), '999');
  assert.equal(formatTokens(1000), '1k');
  assert.equal(formatTokens(12345), '12.3k');
  assert.equal(formatTokens(99_960), '100k');
  assert.equal(formatTokens(123_456), '123k');
  assert.equal(formatTokens(999_999), '1M');
  assert.equal(formatTokens(1_234_567), '1.2M');
  assert.equal(formatTokens(250_000_000), '250M');
  assert.equal(formatTokens(undefined), '?');
  assert.equal(formatTokens(NaN), '?');
  assert.equal(formatTokens(-5), '0');
});

test('formatBytes uses binary units', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3 GiB');
  assert.equal(formatBytes(500 * 1024 ** 2), '500 MiB');
  assert.equal(formatBytes(undefined), '?');
});

test('formatDuration', () => {
  assert.equal(formatDuration(42), '42s');
  assert.equal(formatDuration(125), '2m 5s');
  assert.equal(formatDuration(3700), '1h 1m');
  assert.equal(formatDuration(90000), '1d 1h');
  assert.equal(formatDuration(undefined), '?');
});

test('percent never shows 0% for a non-zero part nor 100% for an unfinished one', () => {
  assert.equal(percent(0, 100), 0);
  assert.equal(percent(1, 100_000), 1);
  assert.equal(percent(45, 100), 45);
  assert.equal(percent(99_999, 100_000), 99);
  assert.equal(percent(100, 100), 100);
  assert.equal(percent(150, 100), 100);
  assert.equal(percent(5, 0), 0);
  assert.equal(percent(undefined, 10), 0);
});

test('formatRate', () => {
  assert.equal(formatRate(12.34), '12.3');
  assert.equal(formatRate(20), '20');
  assert.equal(formatRate(1234.5), '1.2k');
  assert.equal(formatRate(0), '?');
});
