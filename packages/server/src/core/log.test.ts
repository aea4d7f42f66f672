import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from './config.ts';
import { createLogger, logFormat } from './log.ts';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(s) } };
}

describe('log format', () => {
  test('pretty exactly on a terminal, unless MERIDIAN_LOG_FORMAT or the caller says otherwise', () => {
    const env = {};
    assert.equal(logFormat({ env }, true), 'pretty');
    assert.equal(logFormat({ env }, false), 'json');
    assert.equal(logFormat({ env: { MERIDIAN_LOG_FORMAT: 'json' } }, true), 'json');
    assert.equal(logFormat({ env: { MERIDIAN_LOG_FORMAT: ' Pretty ' } }, false), 'pretty', 'forced in a pipe');
    assert.equal(
      logFormat({ env: { MERIDIAN_LOG_FORMAT: 'pretty' }, format: 'json' }, true),
      'json',
      'the caller wins',
    );
    assert.equal(logFormat({ env, pretty: true }, false), 'pretty');
    assert.equal(
      logFormat({ env, destination: capture().destination }, true),
      'json',
      'captured lines are JSON unless asked',
    );
    assert.throws(() => logFormat({ env: { MERIDIAN_LOG_FORMAT: 'xml' } }, true), ConfigError);
  });

  test('pretty: one readable line per entry with its fields, secrets redacted, no colour when captured', () => {
    const { lines, destination } = capture();
    const log = createLogger({ format: 'pretty', level: 'info', destination });
    log.child({ region: 'us-east-1' }).info(
      {
        requestId: 'R1',
        operation: 'PutObject',
        bucket: 'b',
        key: 'k',
        status: 200,
        durationMs: 1.5,
        headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, Signature=sig0123' },
        url: '/b/k?X-Amz-Credential=AKIDEXAMPLE%2Fx&X-Amz-Signature=sig4567',
        credentials: { secretAccessKey: 'wJalrXUtnFEMI' },
      },
      'PutObject 200 in 1.5 ms',
    );
    log.debug('below the level');
    assert.equal(lines.length, 1, lines.join(''));
    const line = lines[0];
    assert.match(line, /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: PutObject 200 in 1\.5 ms \{.*\}\n$/);
    for (const field of [
      '"region":"us-east-1"',
      '"requestId":"R1"',
      '"operation":"PutObject"',
      '"bucket":"b"',
      '"key":"k"',
      '"status":200',
      '"durationMs":1.5',
    ]) {
      assert.ok(line.includes(field), `${field} in ${line}`);
    }
    for (const secret of ['sig0123', 'sig4567', 'AKIDEXAMPLE', 'wJalrXUtnFEMI'])
      assert.ok(!line.includes(secret), `${secret} in ${line}`);
    assert.ok(!line.includes('\x1b['), 'no colour codes');
    assert.ok(!/"pid"|"hostname"/.test(line), 'no pid or host noise');
  });

  test('json: one object per line, the same fields and the same redaction', () => {
    const { lines, destination } = capture();
    createLogger({ format: 'json', level: 'info', destination }).warn(
      { requestId: 'R2', headers: { authorization: 'Signature=sig0123' }, url: '/b/k?X-Amz-Signature=sig4567' },
      'slow',
    );
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.deepEqual(
      [entry.level, entry.msg, entry.requestId, entry.url],
      [40, 'slow', 'R2', '/b/k?X-Amz-Signature=[redacted]'],
    );
    assert.deepEqual(entry.headers, { authorization: '[redacted]' });
  });
});
