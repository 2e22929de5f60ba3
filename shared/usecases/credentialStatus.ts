/**
 * The partner credential's expiry as health sees it (design §11, issue 13): read from the newest finished run's
 * `Runs` row (recorded when that run read the credential), never by a live call. The health use case calls
 * {@link partnerCredentialProblem} and turns `degraded` when the answer says so.
 */
import { credentialExpiryProblem, type CredentialProblem } from '../domain/partnerCredential.js';
import type { Clock, RunRecord, RunStore } from '../ports.js';

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
  /** The newest finished run when the caller has read it already (health does), so it is not read twice. */
  readonly lastFinished?: RunRecord;
}): Promise<CredentialProblem | undefined> {
  const run = deps.lastFinished ?? (await deps.runs.lastFinished());
  const credential = run?.credential;
  return credential === undefined ? undefined : credentialExpiryProblem(credential, deps.clock.now());
}
