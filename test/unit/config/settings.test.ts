import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { describe, it, mock } from 'node:test';
import { ConfigError } from '../../../src/config/config-error.js';
import { loadSettings } from '../../../src/config/settings.js';
import { loadDataSettings } from '../../../src/config/data-settings.js';

describe('settings from the environment', () => {
  it('has working defaults for a fresh machine', () => {
    const settings = loadSettings({});
    assert.equal(settings.port, 8080);
    assert.equal(settings.host, '0.0.0.0');
    assert.equal(settings.configPath, './webhook_config.yaml');
    assert.equal(settings.configPathIsDefault, true);
    assert.equal(settings.dataDir, './data');
    assert.equal(settings.logLevel, 'info');
    assert.equal(settings.mongodbUri, undefined);
    assert.equal(settings.requestTimeoutMs, 10_000);
    assert.equal(settings.headersTimeoutMs, 5_000);
    assert.equal(settings.apiTokens.size, 0);
    assert.equal(settings.apiTokens.matches(''), false);
  });

  it('reads every variable', () => {
    const settings = loadSettings({
      PORT: '0',
      HOST: '127.0.0.1',
      TW_CONFIG: '/etc/tw/webhook_config.yaml',
      TW_DATA_DIR: '/var/lib/tw',
      LOG_LEVEL: 'DEBUG',
      MONGODB_URI: 'mongodb://db:27017/tw',
      TW_REQUEST_TIMEOUT_MS: '30000',
      TW_HEADERS_TIMEOUT_MS: '30000',
    });
    assert.equal(settings.port, 0);
    assert.equal(settings.host, '127.0.0.1');
    assert.equal(settings.configPath, '/etc/tw/webhook_config.yaml');
    assert.equal(settings.configPathIsDefault, false);
    assert.equal(settings.dataDir, '/var/lib/tw');
    assert.equal(settings.logLevel, 'debug');
    assert.equal(settings.mongodbUri, 'mongodb://db:27017/tw');
    assert.equal(settings.requestTimeoutMs, 30_000);
    assert.equal(settings.headersTimeoutMs, 30_000);
  });

  it('treats blank variables as unset', () => {
    assert.equal(loadSettings({ PORT: ' ', MONGODB_URI: '' }).port, 8080);
    assert.equal(loadSettings({ MONGODB_URI: '' }).mongodbUri, undefined);
  });

  const invalid: [NodeJS.ProcessEnv, RegExp][] = [
    [{ PORT: '80a' }, /PORT must be an integer from 0 to 65535, got '80a'/],
    [{ PORT: '65536' }, /PORT must be an integer/],
    [{ PORT: '-1' }, /PORT must be an integer/],
    [{ LOG_LEVEL: 'verbose' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got 'verbose'/],
    [{ TW_REQUEST_TIMEOUT_MS: '0' }, /TW_REQUEST_TIMEOUT_MS must be an integer from 1/],
    [{ TW_HEADERS_TIMEOUT_MS: '20000' }, /TW_HEADERS_TIMEOUT_MS \(20000\) must not exceed TW_REQUEST_TIMEOUT_MS \(10000\)/],
  ];
  for (const [env, message] of invalid) {
    it(`rejects ${JSON.stringify(env)} with a ConfigError`, () => {
      assert.throws(
        () => loadSettings(env),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
      );
    });
  }
});

describe('data settings from the environment', () => {
  it('keeps everything for good and backs up only on request by default, into the data directory', () => {
    assert.deepEqual(loadDataSettings({}, '/var/lib/tw'), {
      retention: { days: 0, rawBodyDays: 0 },
      backup: { directory: '/var/lib/tw/backups', intervalHours: 0, keep: 7 },
    });
  });

  it('reads every variable', () => {
    const env = { TW_RETENTION_DAYS: '90', TW_RAW_BODY_RETENTION_DAYS: '7', TW_BACKUP_DIR: '/backups', TW_BACKUP_INTERVAL_HOURS: '24', TW_BACKUP_KEEP: '3' };
    assert.deepEqual(loadDataSettings(env, '/var/lib/tw'), {
      retention: { days: 90, rawBodyDays: 7 },
      backup: { directory: '/backups', intervalHours: 24, keep: 3 },
    });
    assert.deepEqual(loadDataSettings({ TW_RETENTION_DAYS: '0', TW_RAW_BODY_RETENTION_DAYS: '30' }, '.').retention, { days: 0, rawBodyDays: 30 });
  });

  for (const [env, message] of [
    [{ TW_RETENTION_DAYS: '30', TW_RAW_BODY_RETENTION_DAYS: '31' }, /TW_RAW_BODY_RETENTION_DAYS \(31\) must not exceed TW_RETENTION_DAYS \(30\)/],
    [{ TW_RETENTION_DAYS: '36501' }, /TW_RETENTION_DAYS must be an integer from 0 to 36500/],
    [{ TW_BACKUP_KEEP: '0' }, /TW_BACKUP_KEEP must be an integer from 1 to 1000/],
  ] as const) {
    it(`rejects ${JSON.stringify(env)} with a ConfigError`, () => {
      assert.throws(
        () => loadDataSettings(env, '.'),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
      );
    });
  }
});

describe('API tokens', () => {
  const { apiTokens } = loadSettings({ TW_API_TOKEN: 'tw_first_0123456789, tw_second_0123456789,,' });

  it('accepts any listed token and nothing else', () => {
    assert.equal(apiTokens.size, 2);
    assert.equal(apiTokens.matches('tw_first_0123456789'), true);
    assert.equal(apiTokens.matches('tw_second_0123456789'), true);
    assert.equal(apiTokens.matches('tw_first_012345678'), false);
    assert.equal(apiTokens.matches(''), false);
  });

  it('refuses a key shorter than 16 bytes, counting without naming it', () => {
    assert.throws(
      () => loadSettings({ TW_API_TOKEN: 'tw_first_0123456789, fifteen-bytes!!' }),
      (error: unknown) => error instanceof ConfigError && /at least 16 bytes \(1 of 2 shorter\)/.test(error.message) && !error.message.includes('fifteen'),
    );
    assert.equal(loadSettings({ TW_API_TOKEN: 'sixteen-bytes!!!' }).apiTokens.size, 1);
  });

  it('compares hashes against every token in constant time', () => {
    const spy = mock.method(crypto, 'timingSafeEqual');
    syncBuiltinESMExports();
    try {
      assert.equal(apiTokens.matches('tw_first_0123456789'), true);
      assert.equal(spy.mock.callCount(), 2, 'no early exit on the first match');
    } finally {
      spy.mock.restore();
      syncBuiltinESMExports();
    }
  });
});
