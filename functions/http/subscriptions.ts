/**
 * The subscriptions admin API (function key, design §9): `GET /api/subscriptions` (the `list --json` items),
 * `POST /api/subscriptions` (201, the `add --json` object: `secret` only when generated), `DELETE
 * /api/subscriptions/{id}`, `POST /api/subscriptions/{id}/replay` (body `{ since?, tenants? }`).
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { InputError } from '../../shared/domain/errors.js';
import { BODY_FIELDS } from '../../shared/domain/subscription.js';
import { requireTimestamp } from '../../shared/domain/time.js';
import { invoke } from '../../shared/host/invoke.js';
import {
  addSubscription,
  listSubscriptions,
  parseSubscriptionBody,
  removeSubscription,
  replaySubscription,
} from '../../shared/usecases/subscriptions.js';
import { answerJson } from './answers.js';

export async function subscriptionsList(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'subscriptions.list', async () => {
      const views = await listSubscriptions(services.subscriptionDeps());
      return { status: 200, body: { subscriptions: views } };
    }),
  );
}

export async function subscriptionsAdd(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'subscriptions.add', async () => {
      const input = parseSubscriptionBody(await request.text());
      const added = await addSubscription(services.subscriptionDeps(), input, BODY_FIELDS);
      return { status: 201, body: added };
    }),
  );
}

export async function subscriptionDelete(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'subscriptions.remove', async () => {
      await removeSubscription(services.subscriptionDeps(), request.params.id ?? '');
      return { status: 200, body: { id: (request.params.id ?? '').toLowerCase(), removed: true } };
    }),
  );
}

export async function subscriptionReplay(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'subscriptions.replay', async () => {
      const text = await request.text();
      let body: { since?: unknown; tenants?: unknown } = {};
      try {
        body = text.trim() === '' ? {} : (JSON.parse(text) as typeof body);
      } catch {
        throw new InputError('body', 'The body must be a JSON object.');
      }
      if (body.since !== undefined && typeof body.since !== 'string')
        throw new InputError('since', 'since must be an ISO-8601 string.');
      if (
        body.tenants !== undefined &&
        (!Array.isArray(body.tenants) || body.tenants.some((t) => typeof t !== 'string'))
      )
        throw new InputError('tenants', 'tenants must be an array of tenant IDs.');
      const since = body.since === undefined ? undefined : requireTimestamp(body.since, 'since');
      const result = await replaySubscription(services.subscriptionDeps(), request.params.id ?? '', {
        ...(since !== undefined ? { since } : {}),
        ...(body.tenants !== undefined ? { tenants: body.tenants as string[] } : {}),
      });
      return { status: 202, body: result };
    }),
  );
}

app.http('subscriptionsList', {
  route: 'subscriptions',
  methods: ['GET'],
  authLevel: 'function',
  handler: subscriptionsList,
});
app.http('subscriptionsAdd', {
  route: 'subscriptions',
  methods: ['POST'],
  authLevel: 'function',
  handler: subscriptionsAdd,
});
app.http('subscriptionDelete', {
  route: 'subscriptions/{id}',
  methods: ['DELETE'],
  authLevel: 'function',
  handler: subscriptionDelete,
});
app.http('subscriptionReplay', {
  route: 'subscriptions/{id}/replay',
  methods: ['POST'],
  authLevel: 'function',
  handler: subscriptionReplay,
});
