/**
 * Test-side hooks on the simulators that the simulator API does not offer directly: rewriting a route's answer
 * (a nextLink loop, an empty page that still has a nextLink) and capturing every token Entra issues (so the
 * secret-hygiene scan knows the exact values to look for). Both wrap the simulator's route method at run time.
 */
import type { EntraSim, SimRequest } from '../../devstack/stack.js';
import type { RouteContext, SimResponse, SimServer } from '../../devstack/simServer.js';

type Route = (ctx: RouteContext) => Promise<SimResponse>;
export type AnswerRewrite = (req: SimRequest, answer: SimResponse) => SimResponse;

interface Routable {
  route: Route;
}

/** Install a rewriter on `sim`; `set(undefined)` turns it off again. Installing twice keeps one wrapper. */
export function answerRewriter(sim: SimServer): { set(rewrite: AnswerRewrite | undefined): void } {
  const target = sim as unknown as Routable & { __rewriter?: { set(rewrite: AnswerRewrite | undefined): void } };
  if (target.__rewriter) return target.__rewriter;
  const original = target.route.bind(sim);
  let current: AnswerRewrite | undefined;
  target.route = async (ctx) => {
    const answer = await original(ctx);
    return current ? current(ctx.req, answer) : answer;
  };
  target.__rewriter = { set: (rewrite) => void (current = rewrite) };
  return target.__rewriter;
}

/**
 * Every access token the Entra simulator hands out from now on (token endpoint and managed-identity endpoint) is
 * added to `into`; with `assertions`, every client assertion presented to the token endpoint is added there.
 */
export function captureIssuedTokens(entra: EntraSim, into: Set<string>, assertions?: Set<string>): void {
  answerRewriter(entra).set((req, answer) => {
    const body = answer.body as { access_token?: unknown } | undefined;
    if ((req.kind === 'token' || req.kind === 'managed_identity') && typeof body?.access_token === 'string')
      into.add(body.access_token);
    return answer;
  });
  if (assertions) entra.onClientAssertion = (assertion) => void assertions.add(assertion);
}
