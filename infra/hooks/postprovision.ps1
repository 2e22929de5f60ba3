# azd postprovision hook (issue 13), PowerShell twin of postprovision.sh — same steps, same messages:
# create or update the partner's multi-tenant app registration idempotently (multi-tenant sign-in audience, the
# consent redirect URI, the source's application permission, and with PARTNER_CREDENTIAL=federated the federated
# credential trusting the deployed user-assigned identity). Dry run: -DryRun or POSTPROVISION_DRY_RUN=1 (reads only,
# prints "would: ..." for each change). Needs the Azure CLI signed in as someone who may manage the app.
param([switch]$DryRun)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if ($env:POSTPROVISION_DRY_RUN -eq '1') { $DryRun = $true }
$GraphAppId = '00000003-0000-0000-c000-000000000000'
$LegacyAppId = '8ee8fdad-f234-4243-8f3b-15c294843740' # Microsoft Threat Protection (api.security.microsoft.com)
$AppName = if ($env:PARTNER_APP_NAME) { $env:PARTNER_APP_NAME } else { 'Defender Incident Collector' }
$App = $env:PARTNER_CLIENT_ID
$Credential = if ($env:PARTNER_CREDENTIAL) { $env:PARTNER_CREDENTIAL } else { 'federated' }
$Source = if ($env:INCIDENT_SOURCE) { $env:INCIDENT_SOURCE } else { 'graph' }
$script:Changes = 0

function Need([string]$Name) {
  if (-not [Environment]::GetEnvironmentVariable($Name)) {
    [Console]::Error.WriteLine("postprovision: $Name is not set in the azd environment (run 'azd provision' first).")
    exit 2
  }
}

# Not named 'az': a function of that name would shadow the CLI it calls.
function Invoke-AzCli([string[]]$Arguments) {
  $out = & az @Arguments
  if ($LASTEXITCODE -ne 0) { throw "az $($Arguments[0..2] -join ' ') failed (exit $LASTEXITCODE)" }
  return $out
}

function Change([string]$What, [string[]]$Arguments) {
  $script:Changes++
  if ($DryRun) { Write-Output "would: $What" }
  else { Write-Output "change: $What"; Invoke-AzCli $Arguments | Out-Null }
}

Need 'CONSENT_REDIRECT_URI'

# 1. The app registration, multi-tenant. A new app is created only when PARTNER_CLIENT_ID is empty; a set one is
# never replaced: a failing `az ad app show` (expired login, other tenant, throttling) or a not-found answer stops
# the hook with the reason, so an operator error never leaves a second app with PARTNER_CLIENT_ID re-pointed.
if ($App) {
  # 'Continue' here: under 'Stop', Windows PowerShell turns redirected az stderr into a terminating error.
  $ErrorActionPreference = 'Continue'
  $showError = (& az ad app show --id $App --query appId -o tsv 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$_" }) -join "`n"
  $showExit = $LASTEXITCODE
  $ErrorActionPreference = 'Stop'
  if ($showExit -ne 0) {
    if ($showError -match 'Request_ResourceNotFound|does not exist') {
      [Console]::Error.WriteLine("postprovision: the app registration PARTNER_CLIENT_ID $App does not exist in the signed-in tenant.")
      [Console]::Error.WriteLine("  Sign in to the partner tenant (az login --tenant ...), or clear it (azd env set PARTNER_CLIENT_ID '') to create a new app.")
      exit 3
    }
    [Console]::Error.WriteLine("postprovision: could not read the app registration $App (nothing changed):")
    [Console]::Error.WriteLine($showError)
    exit 1
  }
}
else {
  $script:Changes++
  if ($DryRun) { Write-Output "would: create the multi-tenant app registration '$AppName'" }
  else {
    $App = Invoke-AzCli @('ad', 'app', 'create', '--display-name', $AppName, '--sign-in-audience', 'AzureADMultipleOrgs', '--query', 'appId', '-o', 'tsv')
    Write-Output "change: created the multi-tenant app registration '$AppName' ($App)"
    & azd env set PARTNER_CLIENT_ID $App | Out-Null
    Write-Output "note: PARTNER_CLIENT_ID is now $App in the azd environment; run 'azd provision' once more so the app setting uses it."
  }
}

if ($App) {
  $audience = Invoke-AzCli @('ad', 'app', 'show', '--id', $App, '--query', 'signInAudience', '-o', 'tsv')
  if ($audience -ne 'AzureADMultipleOrgs') {
    Change "make the app multi-tenant (signInAudience $audience -> AzureADMultipleOrgs)" @('ad', 'app', 'update', '--id', $App, '--sign-in-audience', 'AzureADMultipleOrgs')
  }

  # 2. The consent redirect URI (existing ones are kept).
  $uris = @(Invoke-AzCli @('ad', 'app', 'show', '--id', $App, '--query', 'web.redirectUris', '-o', 'tsv') | Where-Object { $_ })
  if ($uris -notcontains $env:CONSENT_REDIRECT_URI) {
    Change "add the redirect URI $($env:CONSENT_REDIRECT_URI)" (@('ad', 'app', 'update', '--id', $App, '--web-redirect-uris') + $uris + @($env:CONSENT_REDIRECT_URI))
  }

  # 3. The application permission(s) of the source.
  $permissions = @(, @($GraphAppId, 'SecurityIncident.Read.All')) # the leading comma keeps the pair one element
  if ($Source -eq 'm365d') { $permissions += , @($LegacyAppId, 'Incident.Read.All') }
  foreach ($p in $permissions) {
    $api, $role = $p
    $roleId = Invoke-AzCli @('ad', 'sp', 'show', '--id', $api, '--query', "appRoles[?value=='$role'].id", '-o', 'tsv')
    if (-not $roleId) { [Console]::Error.WriteLine("postprovision: the API $api has no application role $role in this tenant."); exit 1 }
    $held = @(Invoke-AzCli @('ad', 'app', 'show', '--id', $App, '--query', "requiredResourceAccess[?resourceAppId=='$api'].resourceAccess[].id", '-o', 'tsv'))
    if ($held -notcontains $roleId) {
      Change "add the application permission $role ($api)" @('ad', 'app', 'permission', 'add', '--id', $App, '--api', $api, '--api-permissions', "$roleId=Role")
    }
  }
}

# 4. The federated credential trusting the deployed identity (federated mode only).
if ($Credential -eq 'federated') {
  Need 'FEDERATED_ISSUER'; Need 'MANAGED_IDENTITY_PRINCIPAL_ID'; Need 'TOKEN_EXCHANGE_AUDIENCE'
  $issuer = $env:FEDERATED_ISSUER; $subject = $env:MANAGED_IDENTITY_PRINCIPAL_ID; $aud = $env:TOKEN_EXCHANGE_AUDIENCE
  $existing = ''
  if ($App) {
    $found = @(Invoke-AzCli @('ad', 'app', 'federated-credential', 'list', '--id', $App, '--query', "[?issuer=='$issuer' && subject=='$subject'].[name, audiences[0]]", '-o', 'tsv'))
    # StrictMode refuses an out-of-range index, so an empty answer is checked first.
    if ($found.Count -gt 0) { $existing = $found[0] }
  }
  $parts = if ($existing) { $existing -split "`t" } else { @() }
  $ficName = if ($parts.Count -ge 1 -and $parts[0]) { $parts[0] } else { "collector-$($subject.Substring(0, 8))" }
  $current = if ($parts.Count -ge 2) { $parts[1] } else { '' }
  $parameters = @{ name = $ficName; issuer = $issuer; subject = $subject; audiences = @($aud); description = "The incident collector's user-assigned identity (azd postprovision)" } | ConvertTo-Json -Compress
  if (-not $existing) {
    Change "add the federated credential $ficName (issuer $issuer, subject $subject, audience $aud)" @('ad', 'app', 'federated-credential', 'create', '--id', $App, '--parameters', $parameters)
  }
  elseif ($current -ne $aud) {
    Change "set the audience of federated credential $ficName to $aud (was $current)" @('ad', 'app', 'federated-credential', 'update', '--id', $App, '--federated-credential-id', $ficName, '--parameters', $parameters)
  }
}

if ($script:Changes -eq 0) { Write-Output 'postprovision: the app registration is up to date; nothing to change.' }
elseif ($DryRun) { Write-Output "postprovision: dry run, $($script:Changes) change(s) not made." }
else { Write-Output "postprovision: $($script:Changes) change(s) made. Customer administrators can now consent (incident-collector consent-link)." }
