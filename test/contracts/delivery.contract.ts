/**
 * The SubscriptionStore, DeliveryStateStore and SubscriptionSecretStore behaviours the delivery engine and the
 * subscription commands rely on; run against the in-memory fakes and the Table adapters on Azurite.
 */
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../../shared/domain/errors.js';
import type { SubscriptionRecord } from '../../shared/domain/subscription.js';
import type { DeadLetter, DeliveryStateStore, SubscriptionSecretStore, SubscriptionStore } from '../../shared/ports.js';
import { newTenantId } from './ids.js';

const newSubId = () => `sub-${randomUUID()}`;

function webhook(id = newSubId()): SubscriptionRecord {
  return {
    id,
    kind: 'webhook',
    url: 'https://receiver.example/hook',
    filters: { tenants: [newTenantId()], minSeverity: 'medium', types: ['incident.created'] },
    status: 'active',
    createdAt: '2026-11-24T12:00:00.000Z',
  };
}

/** Register the SubscriptionStore contract's tests. */
export function subscriptionStoreContract(name: string, setup: () => SubscriptionStore): void {
  describe(`SubscriptionStore contract: ${name}`, () => {
    it('adds, reads back every field, lists, and removes', async () => {
      const store = setup();
      const a = webhook();
      const la: SubscriptionRecord = {
        id: newSubId(),
        kind: 'log-analytics',
        endpoint: 'https://dce.example.ingest.monitor.azure.com',
        ruleId: `dcr-${'c'.repeat(32)}`,
        stream: 'Custom-Incidents_CL',
        filters: {},
        status: 'active',
        createdAt: '2026-11-24T12:00:01.000Z',
      };
      await store.add(a);
      await store.add(la);
      expect(await store.get(a.id)).toEqual(a);
      expect(await store.get(la.id)).toEqual(la);
      const listed = await store.list();
      expect(listed).toEqual(expect.arrayContaining([a, la]));
      await store.remove(a.id);
      expect(await store.get(a.id)).toBeUndefined();
      await expect(store.remove(a.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('setStatus disables with a reason and enables again (the reason cleared); unknown → NotFoundError', async () => {
      const store = setup();
      const a = webhook();
      await store.add(a);
      expect(await store.setStatus(a.id, 'disabled', 'HTTP_410')).toEqual({
        ...a,
        status: 'disabled',
        disabledReason: 'HTTP_410',
      });
      expect(await store.setStatus(a.id, 'active')).toEqual(a);
      await expect(store.setStatus(newSubId(), 'active')).rejects.toBeInstanceOf(NotFoundError);
    });
  });
}

/** Register the DeliveryStateStore contract's tests. */
export function deliveryStateStoreContract(name: string, setup: () => DeliveryStateStore): void {
  describe(`DeliveryStateStore contract: ${name}`, () => {
    it('a cursor is created once, then moves only from the version read; a reset wins over a stale save', async () => {
      const store = setup();
      const sub = newSubId();
      const t = newTenantId();
      expect(await store.pair(sub, t)).toEqual({ pending: [] });
      const v1 = await store.saveCursor(sub, t, 3);
      expect(v1).toBeDefined();
      expect(await store.saveCursor(sub, t, 4)).toBeUndefined(); // exists now: create refused
      const v2 = await store.saveCursor(sub, t, 5, v1);
      expect(v2).toBeDefined();
      expect(await store.saveCursor(sub, t, 6, v1)).toBeUndefined(); // stale version
      await store.resetCursor(sub, t, 0);
      expect(await store.saveCursor(sub, t, 9, v2)).toBeUndefined(); // the replay moved it
      const pair = await store.pair(sub, t.toUpperCase());
      expect(pair).toMatchObject({ cursor: 0, replayed: true, pending: [] });
      expect(await store.saveCursor(sub, t, 2, pair.cursorVersion)).toBeDefined();
      expect(await store.pair(sub, t)).toMatchObject({ cursor: 2, replayed: true });
    });

    it('pending incidents and dead letters round-trip; pair() reads only its tenant; purge empties it', async () => {
      const store = setup();
      const sub = newSubId();
      const t1 = newTenantId();
      const t2 = newTenantId();
      const p1 = {
        tenantId: t1,
        incidentId: 'inc/with#odd?chars',
        sequences: [4, 7],
        attempt: 2,
        nextAttemptAt: '2026-11-24T12:05:00.000Z',
        lastErrorCode: 'HTTP_500',
        lastError: 'answered 500',
      };
      const p2 = {
        tenantId: t2,
        incidentId: '9',
        sequences: [1],
        attempt: 0,
        nextAttemptAt: '2026-11-24T12:00:00.000Z',
      };
      await store.putPending(sub, p1);
      await store.putPending(sub, p2);
      await store.saveCursor(sub, t1, 7);
      const letter: DeadLetter = {
        subscriptionId: sub,
        tenantId: t1,
        sequence: 2,
        incidentId: '5',
        eventId: `${t1}/5/2026-11-01T00:00:00Z`,
        type: 'incident.created',
        eventTime: '2026-11-24T11:00:00.000Z',
        attempts: 8,
        lastErrorCode: 'TIMEOUT',
        lastError: 'no answer within 15 s',
        deadLetteredAt: '2026-11-25T12:00:00.000Z',
      };
      await store.addDeadLetter(letter);

      expect(await store.pair(sub, t1)).toMatchObject({ cursor: 7, pending: [p1] });
      const state = await store.state(sub);
      expect(state.cursors).toEqual(new Map([[t1, 7]]));
      expect(state.pending).toEqual(expect.arrayContaining([p1, p2]));
      expect(state.pending).toHaveLength(2);
      expect(state.deadLetters).toEqual([letter]);

      await store.deletePending(sub, t1, p1.incidentId);
      await store.deleteDeadLetter(sub, t1, 2);
      expect((await store.state(sub)).deadLetters).toEqual([]);
      expect((await store.pair(sub, t1)).pending).toEqual([]);
      await store.purge(sub);
      const empty = await store.state(sub);
      expect([empty.cursors.size, empty.pending.length, empty.deadLetters.length]).toEqual([0, 0, 0]);
    });
  });
}

/** Register the SubscriptionSecretStore contract's tests. */
export function subscriptionSecretsContract(name: string, setup: () => SubscriptionSecretStore): void {
  describe(`SubscriptionSecretStore contract: ${name}`, () => {
    it('put, get, delete; a missing secret is NotFoundError', async () => {
      const store = setup();
      const id = newSubId();
      await store.put(id, 'whsec_c2VjcmV0LXZhbHVlLW9mLTI0LWJ5dGVzISE=');
      expect(await store.get(id)).toBe('whsec_c2VjcmV0LXZhbHVlLW9mLTI0LWJ5dGVzISE=');
      await store.delete(id);
      await expect(store.get(id)).rejects.toBeInstanceOf(NotFoundError);
      await store.delete(id); // idempotent
    });
  });
}
