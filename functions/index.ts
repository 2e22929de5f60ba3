/**
 * The Functions app entry (package.json "main" → dist/functions/index.js): importing each file registers its
 * function. Files live under their trigger (`http/`, `queue/`, `timer/`) and each exports its handler under its
 * registration name. Nothing here builds clients; services are created on the first invocation.
 */
import './telemetry.js';
import './timer/collectSchedule.js';
import './timer/pruneHistory.js';
import './timer/deliverEvents.js';
import './queue/collectTenant.js';
import './queue/collectTenantPoison.js';
import './http/consentLink.js';
import './http/consentCallback.js';
import './http/tenantsList.js';
import './http/tenantGet.js';
import './http/tenantCollect.js';
import './http/tenantDisable.js';
import './http/tenantEnable.js';
import './http/tenantDelete.js';
import './http/health.js';
import './http/status.js';
import './http/incidentsList.js';
import './http/incidentGet.js';
import './http/subscriptions.js';
