/**
 * Template text for the simulated Defender data, lifted from Microsoft's documented samples
 * (/work/shared/reference/samples) so the shapes and oddities are real: the zero-width space at the end of an
 * Office 365 incident name, U+FFFD bullets in `recommendedActions`, legacy PascalCase vs Graph camelCase.
 */

export type Severity = 'informational' | 'low' | 'medium' | 'high';
export type IncidentStatus = 'active' | 'inProgress' | 'resolved' | 'redirected';
export type Classification = 'unknown' | 'truePositive' | 'falsePositive' | 'informationalExpectedActivity';
export type EntityKind =
  'device' | 'file' | 'process' | 'user' | 'ip' | 'mailbox' | 'mailMessage' | 'mailCluster' | 'registryKey';

export interface AlertTemplate {
  readonly title: string;
  readonly description: string;
  readonly category: string;
  readonly severity: Severity;
  readonly graphServiceSource: string;
  readonly legacyServiceSource: string;
  readonly graphDetectionSource: string;
  readonly legacyDetectionSource: string;
  readonly detectorId: string;
  readonly mitreTechniques: readonly string[];
  readonly investigationState: string;
  readonly threatFamilyName: string | null;
  /** How the alert ID looks for this product (`da…_…` for MDE, `fa…` for MDO, `ca…` for MCAS). */
  readonly idStyle: 'mde' | 'mdo' | 'mcas';
  readonly entities: readonly EntityKind[];
  /** Legacy entities in the sparse form observed live (vs the documented all-fields-null form). */
  readonly sparseLegacyEntities: boolean;
}

export interface IncidentTemplate {
  readonly title: string;
  readonly description: string;
  readonly alerts: readonly number[];
}

const FFFD = '\uFFFD';

export const RECOMMENDED_ACTIONS = [
  'Collect artifacts and determine scope',
  `${FFFD}\tReview the machine timeline for suspicious activities that may have occurred before and after the time of the alert, and record additional related artifacts (files, IPs/URLs) `,
  `${FFFD}\tLook for the presence of relevant artifacts on other systems. Identify commonalities and differences between potentially compromised systems.`,
  `${FFFD}\tSubmit relevant files for deep analysis and review resulting detailed behavioral information.`,
  `${FFFD}\tSubmit undetected files to the MMPC malware portal`,
  '',
  'Initiate containment & mitigation ',
  `${FFFD}\tContact the user to verify intent and initiate local remediation actions as needed.`,
  `${FFFD}\tUpdate AV signatures and run a full scan. The scan might reveal and remove previously-undetected malware components.`,
  `${FFFD}\tEnsure that the machine has the latest security updates. In particular, ensure that you have installed the latest software, web browser, and Operating System versions.`,
  `${FFFD}\tIf credential theft is suspected, reset all relevant users passwords.`,
  `${FFFD}\tBlock communication with relevant URLs or IPs at the organization${FFFD}s perimeter.`,
].join('\n');

export const ALERT_TEMPLATES: readonly AlertTemplate[] = [
  {
    title: 'Suspicious execution of hidden file',
    description:
      'A hidden file has been launched. This activity could indicate a compromised host. Attackers often hide files associated with malicious tools to evade file system inspection and defenses.',
    category: 'DefenseEvasion',
    severity: 'low',
    graphServiceSource: 'microsoftDefenderForEndpoint',
    legacyServiceSource: 'MicrosoftDefenderATP',
    graphDetectionSource: 'antivirus',
    legacyDetectionSource: 'WindowsDefenderAv',
    detectorId: 'e0da400f-affd-43ef-b1d5-afc2eb6f2756',
    mitreTechniques: ['T1564.001'],
    investigationState: 'UnsupportedOs',
    threatFamilyName: null,
    idStyle: 'mde',
    entities: ['device', 'file', 'process', 'registryKey'],
    sparseLegacyEntities: false,
  },
  {
    title: "'Mimikatz' hacktool was detected",
    description:
      'Readily available tools, such as hacking programs, can be used by unauthorized individuals to spy on users. When used by attackers, these tools are often installed without authorization and used to compromise targeted machines.\n\nThese tools are often used to collect personal information from browser records, record key presses, access email and instant messages, record voice and video conversations, and take screenshots.\n\nThis detection might indicate that Microsoft Defender Antivirus has stopped the tool from being installed and used effectively. However, it is prudent to check the machine for the files and processes associated with the detected tool.',
    category: 'Malware',
    severity: 'low',
    graphServiceSource: 'microsoftDefenderForEndpoint',
    legacyServiceSource: 'MicrosoftDefenderATP',
    graphDetectionSource: 'antivirus',
    legacyDetectionSource: 'WindowsDefenderAv',
    detectorId: '2c9d8d3e-1a4b-4f7c-9a55-0e1f3c5b7d21',
    mitreTechniques: [],
    investigationState: 'UnsupportedOs',
    threatFamilyName: 'Mimikatz',
    idStyle: 'mde',
    entities: ['device', 'file'],
    sparseLegacyEntities: false,
  },
  {
    title: 'Ransomware activity',
    description:
      'The user Test User2 (testUser2@contoso.com) manipulated 99 files with multiple extensions ending with the uncommon extension herunterladen. This is an unusual number of file manipulations and is indicative of a potential ransomware attack.',
    category: 'Impact',
    severity: 'medium',
    graphServiceSource: 'microsoftDefenderForCloudApps',
    legacyServiceSource: 'MicrosoftCloudAppSecurity',
    graphDetectionSource: 'microsoftDefenderForCloudApps',
    legacyDetectionSource: 'MCAS',
    detectorId: '7e3b1f2a-5c4d-4e6f-8a9b-0c1d2e3f4a5b',
    mitreTechniques: [],
    investigationState: 'UnsupportedAlertType',
    threatFamilyName: null,
    idStyle: 'mcas',
    entities: ['user', 'ip'],
    sparseLegacyEntities: false,
  },
  {
    title: 'Email messages containing malicious file removed after delivery\u200B',
    description: 'Emails with malicious file that were delivered and later removed -V1.0.0.3',
    category: 'InitialAccess',
    severity: 'informational',
    graphServiceSource: 'microsoftDefenderForOffice365',
    legacyServiceSource: 'MicrosoftDefenderForOffice365',
    graphDetectionSource: 'microsoftDefenderForOffice365',
    legacyDetectionSource: 'OfficeATP',
    detectorId: '4b1820ec-39dc-45f3-abf6-5ee80df51fd2',
    mitreTechniques: ['T1566.001'],
    investigationState: 'PendingApproval',
    threatFamilyName: null,
    idStyle: 'mdo',
    entities: ['mailbox', 'file', 'mailMessage', 'user', 'mailCluster'],
    sparseLegacyEntities: true,
  },
  {
    title: 'Suspicious PowerShell command line',
    description:
      'A suspicious PowerShell activity was observed on the machine. This behavior may indicate that PowerShell was used during installation, exploration, or in some cases in lateral movement activities which are used by attackers to invoke modules, download external payloads, or get more information about the system.',
    category: 'Execution',
    severity: 'medium',
    graphServiceSource: 'microsoftDefenderForEndpoint',
    legacyServiceSource: 'MicrosoftDefenderATP',
    graphDetectionSource: 'microsoftDefenderForEndpoint',
    legacyDetectionSource: 'WindowsDefenderAtp',
    detectorId: '9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    mitreTechniques: ['T1059.001', 'T1105'],
    investigationState: 'Running',
    threatFamilyName: null,
    idStyle: 'mde',
    entities: ['device', 'process', 'user', 'ip'],
    sparseLegacyEntities: false,
  },
  {
    title: 'Anonymous IP address',
    description: 'Sign-in from an anonymous IP address (e.g. Tor browser, anonymizer VPNs).',
    category: 'InitialAccess',
    severity: 'high',
    graphServiceSource: 'microsoftDefenderForCloudApps',
    legacyServiceSource: 'MicrosoftCloudAppSecurity',
    graphDetectionSource: 'microsoftDefenderForCloudApps',
    legacyDetectionSource: 'MCAS',
    detectorId: 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e',
    mitreTechniques: ['T1078'],
    investigationState: 'UnsupportedAlertType',
    threatFamilyName: null,
    idStyle: 'mcas',
    entities: ['user', 'ip'],
    sparseLegacyEntities: false,
  },
];

export const INCIDENT_TEMPLATES: readonly IncidentTemplate[] = [
  {
    title:
      'Multi-stage incident involving Initial access & Command and control on multiple endpoints reported by multiple sources',
    description:
      'Microsoft observed Raspberry Robin worm activity spreading through infected USB on multiple devices in your environment. From available intel, these infections could be a potential precursor activity to ransomware deployment. ...',
    alerts: [0, 4, 1],
  },
  { title: 'Ransomware activity', description: '', alerts: [2, 5] },
  { title: "'Mimikatz' hacktool was detected on one endpoint", description: '', alerts: [1, 0] },
  { title: 'Email messages containing malicious file removed after delivery\u200B', description: '', alerts: [3, 3] },
  {
    title: 'Suspicious PowerShell activity on multiple endpoints',
    description: 'PowerShell was used to download and run a payload on several devices.',
    alerts: [4, 0, 5],
  },
  { title: 'Anonymous IP address involving one user', description: '', alerts: [5, 2] },
];

export const ANALYSTS = [
  'KaiC@contoso.onmicrosoft.com',
  'DavidS@contoso.onmicrosoft.com',
  'secop123@contoso.com',
  'secop2@contoso.com',
];
export const COMMENTS = [
  'Demo incident',
  'test comment for docs',
  'pen testing',
  'Escalated to tier 2',
  'Benign: approved admin tool',
  'Waiting for the device owner',
];
export const SYSTEM_TAGS = [[], [], ['Defender Experts'], ['Ransomware']] as const;
export const CUSTOM_TAGS = [[], [], ['Demo'], ["Yossi's playground", "Don't mess with the Zohan"], ['Tier2']] as const;
export const FIRST_NAMES = ['pov', 'testUser2', 'kai', 'david', 'nir', 'maria', 'li', 'omar', 'anna', 'jose'];
export const HOST_SUFFIXES = ['middleeast.corp.contoso.com', 'europe.corp.contoso.com', 'corp.fabrikam.com', 'tempDns'];
export const OS_PLATFORMS = [
  { graph: 'Windows10', legacy: 'Windows10', version: '21H2', build: 19044 },
  { graph: 'WindowsServer2016', legacy: 'WindowsServer2016', version: '1607', build: 14393 },
  { graph: 'Windows11', legacy: 'Windows11', version: 'Other', build: 22424 },
];
export const FILE_NAMES = [
  { name: 'MsSense.exe', path: 'C:\\Program Files\\temp' },
  { name: 'Detector.UnitTests.dll', path: 'C:\\Agent\\_work\\_temp\\Deploy_SYSTEM 2020-09-06 12_14_54\\Out' },
  { name: 'powershell.exe', path: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0' },
  { name: '2020-01-24-Ursnif-malspam-example-2-of-4-0750-UTC.eml', path: '' },
];
