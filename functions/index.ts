/**
 * The Functions app entry (package.json "main" → dist/functions/index.js): importing each file registers its
 * function. Nothing here builds clients; services are created on the first invocation.
 */
import './collectSchedule.js';
import './collectTenant.js';
import './collectTenantPoison.js';
import './consentLink.js';
import './consentCallback.js';
import './tenantsList.js';
import './tenantGet.js';
import './tenantCollect.js';
import './tenantDisable.js';
import './tenantEnable.js';
import './tenantDelete.js';
import './health.js';
