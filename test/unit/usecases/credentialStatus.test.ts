/** Health's view of the partner credential (design §11): from the newest finished run's record, on a moved clock. */
import { describe, expect, it } from '@jest/globals';
import type { RunRecord } from '../../../shared/ports.js';
import { partnerCredentialProblem } from '../../../shared/usecases/credentialStatus.js';

const run: RunRecord = {
  runId: 'r1',
  startedAt: '2027-02-01T00:00:00.000Z',
  finishedAt: '2027-02-01T00:05:00.000Z',
  trigger: 'schedule',
  tenantsPlanned: 1,
  tenantsOk: 1,
  tenantsFailed: 0,
  tenantsSkipped: 0,
  incidentsFetched: 0,
  incidentsChanged: 0,
  pages: 0,
  deadLetters: 0,
  credential: {
    kind: 'secret',
    name: 'partner-client-secret',
    version: 'v1',
    expiresOn: '2027-04-01T00:00:00.000Z',
    checkedAt: '2027-02-01T00:00:00.000Z',
  },
};
const runs = (last: RunRecord | undefined) => ({ lastFinished: async () => last });
const at = (iso: string) => ({ now: () => new Date(iso) });

describe('partnerCredentialProblem', () => {
  it('turns degraded 30 days before the recorded expiry, not before', async () => {
    expect(await partnerCredentialProblem({ runs: runs(run), clock: at('2027-03-01T23:59:59.000Z') })).toBeUndefined();
    expect(await partnerCredentialProblem({ runs: runs(run), clock: at('2027-03-02T00:00:00.000Z') })).toMatchObject({
      code: 'CREDENTIAL_EXPIRING',
      degraded: true,
    });
    expect(await partnerCredentialProblem({ runs: runs(run), clock: at('2027-04-02T00:00:00.000Z') })).toMatchObject({
      code: 'CREDENTIAL_EXPIRED',
      degraded: true,
    });
  });

  it('says nothing without a finished run or a recorded credential', async () => {
    const { credential: _drop, ...bare } = run;
    expect(
      await partnerCredentialProblem({ runs: runs(undefined), clock: at('2027-03-30T00:00:00Z') }),
    ).toBeUndefined();
    expect(await partnerCredentialProblem({ runs: runs(bare), clock: at('2027-03-30T00:00:00Z') })).toBeUndefined();
  });
});
