/** host.json and local.settings.json: the numbers the code relies on, and safe local defaults only. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { loadSettings } from '../../shared/config/settings.js';
import { MAX_DEQUEUE_COUNT } from '../../shared/usecases/queueWorker.js';

const readJson = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;

describe('host.json', () => {
  it('pins the bundle, the queue retry policy the worker assumes, the timeout, and never samples out errors', async () => {
    const host = (await readJson('host.json')) as {
      version: string;
      functionTimeout: string;
      extensionBundle: { id: string; version: string };
      extensions: { queues: Record<string, unknown> };
      logging: { applicationInsights: { samplingSettings: { excludedTypes: string } } };
    };
    expect(host.version).toBe('2.0');
    expect(host.extensionBundle).toEqual({ id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' });
    // The worker completes a transient failure on the last delivery instead of letting it go to poison.
    expect(host.extensions.queues.maxDequeueCount).toBe(MAX_DEQUEUE_COUNT);
    expect(host.extensions.queues).toMatchObject({
      batchSize: 32,
      newBatchThreshold: 16,
      visibilityTimeout: '00:01:00',
    });
    expect(host.functionTimeout).toBe('00:30:00');
    expect(host.logging.applicationInsights.samplingSettings.excludedTypes.split(';')).toEqual(
      expect.arrayContaining(['Exception', 'Request']),
    );
  });

  it('exports the host telemetry through OpenTelemetry, like the worker (issue 12)', async () => {
    const host = (await readJson('host.json')) as { telemetryMode?: string };
    expect(host.telemetryMode).toBe('OpenTelemetry');
  });
});

describe('local.settings.json', () => {
  it('is a valid local configuration with placeholders and no secret values', async () => {
    const local = (await readJson('local.settings.json')) as { IsEncrypted: boolean; Values: Record<string, string> };
    expect(local.IsEncrypted).toBe(false);
    expect(local.Values).toMatchObject({
      FUNCTIONS_WORKER_RUNTIME: 'node',
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      PARTNER_CLIENT_ID: '00000000-0000-0000-0000-000000000000',
    });
    expect(Object.keys(local.Values)).not.toContain('PARTNER_CLIENT_SECRET');
    expect(Object.keys(local.Values).filter((k) => /secret$|password|accountkey/i.test(k))).toEqual([]);
    expect(Object.values(local.Values).filter((v) => /AccountKey=|SharedAccessSignature=|sig=/i.test(v))).toEqual([]);
    // The host reads exactly these values as app settings: they must pass the settings contract.
    expect(() => loadSettings(local.Values)).not.toThrow();
  });
});
