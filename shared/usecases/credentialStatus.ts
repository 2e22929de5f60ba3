/**
 * The partner credential's expiry as health sees it (design §11, issue 13): read from the newest finished run's
 * `Runs` row (recorded when that run read the credential), never by a live call. The health use case calls
 * {@link partnerCredentialProblem} and turns `degraded` when the answer says so.
 */
import { credentialExpiryProblem, type CredentialProblem } from '../domain/partnerCredential.js';
import type { Clock, RunStore } from '../ports.js';

export type { CredentialProblem } from '../domain/partnerCredential.js';

/**
 * The problem the recorded partner credential poses now: `CREDENTIAL_EXPIRED` / `CREDENTIAL_EXPIRING` (within 30
 * days; `degraded: true`) or `CREDENTIAL_EXPIRY_UNKNOWN` (stored without an expiry; `degraded: false`). Undefined
 * when no run has finished, the newest run could not read the credential, or nothing is wrong. Storage errors
 * propagate (health reports those itself).
 */
export async function partnerCredentialProblem(deps: {
  readonly runs: Pick<RunStore, 'lastFinished'>;
  readonly clock: Clock;
}): Promise<CredentialProblem | undefined> {
  const credential = (await deps.runs.lastFinished())?.credential;
  return credential === undefined ? undefined : credentialExpiryProblem(credential, deps.clock.now());
}
