#!/usr/bin/env bash
# azd postprovision hook (issue 13): create or update the partner's multi-tenant app registration so that `azd up`
# leaves nothing to click but customer consent. Idempotent: every step reads first and changes only what differs.
#   - the app exists and is multi-tenant (AzureADMultipleOrgs);
#   - the consent redirect URI of the deployed app (CONSENT_REDIRECT_URI) is registered (Web platform);
#   - the application permission of the source: Graph SecurityIncident.Read.All, and while INCIDENT_SOURCE=m365d
#     the legacy Microsoft Threat Protection Incident.Read.All (role IDs are looked up, never hard-coded);
#   - with PARTNER_CREDENTIAL=federated, the federated credential trusting the deployed user-assigned identity
#     (issuer FEDERATED_ISSUER, subject MANAGED_IDENTITY_PRINCIPAL_ID, audience TOKEN_EXCHANGE_AUDIENCE).
# Dry run (`--dry-run` or POSTPROVISION_DRY_RUN=1): only reads, and prints "would: …" for each change.
# Inputs are the azd environment values (azd exports them to hooks). Needs the Azure CLI signed in as someone who
# may manage the app (Application Administrator, Cloud Application Administrator or the app's owner).
set -euo pipefail

DRY_RUN="${POSTPROVISION_DRY_RUN:-0}"
[[ "${1:-}" == "--dry-run" ]] && DRY_RUN=1

GRAPH_APP_ID="00000003-0000-0000-c000-000000000000"
LEGACY_APP_ID="8ee8fdad-f234-4243-8f3b-15c294843740" # Microsoft Threat Protection (api.security.microsoft.com)
APP_NAME="${PARTNER_APP_NAME:-Defender Incident Collector}"
APP="${PARTNER_CLIENT_ID:-}"
CHANGES=0

say() { printf '%s\n' "$*"; }
change() {
  # change "<description>" az <args…>: run it, or in dry-run only say it.
  local what="$1"
  shift
  CHANGES=$((CHANGES + 1))
  if [[ "$DRY_RUN" == "1" ]]; then
    say "would: $what"
  else
    say "change: $what"
    "$@" >/dev/null
  fi
}
need() {
  if [[ -z "${!1:-}" ]]; then
    say "postprovision: $1 is not set in the azd environment (run 'azd provision' first)." >&2
    exit 2
  fi
}

need CONSENT_REDIRECT_URI
CREDENTIAL="${PARTNER_CREDENTIAL:-federated}"
SOURCE="${INCIDENT_SOURCE:-graph}"

# 1. The app registration, multi-tenant. A new app is created only when PARTNER_CLIENT_ID is empty; a set one is
# never replaced: a failing `az ad app show` (expired login, other tenant, throttling) or a not-found answer stops
# the hook with the reason, so an operator error never leaves a second app with PARTNER_CLIENT_ID re-pointed.
if [[ -n "$APP" ]]; then
  if ! show_error="$(az ad app show --id "$APP" --query appId -o tsv 2>&1 >/dev/null)"; then
    if grep -qE 'Request_ResourceNotFound|does not exist' <<<"$show_error"; then
      say "postprovision: the app registration PARTNER_CLIENT_ID $APP does not exist in the signed-in tenant." >&2
      say "  Sign in to the partner tenant (az login --tenant …), or clear it (azd env set PARTNER_CLIENT_ID '') to create a new app." >&2
      exit 3
    fi
    say "postprovision: could not read the app registration $APP (nothing changed):" >&2
    say "$show_error" >&2
    exit 1
  fi
elif [[ "$DRY_RUN" == "1" ]]; then
  say "would: create the multi-tenant app registration '$APP_NAME'"
  CHANGES=$((CHANGES + 1))
else
  APP="$(az ad app create --display-name "$APP_NAME" --sign-in-audience AzureADMultipleOrgs --query appId -o tsv)"
  say "change: created the multi-tenant app registration '$APP_NAME' ($APP)"
  CHANGES=$((CHANGES + 1))
  azd env set PARTNER_CLIENT_ID "$APP" >/dev/null
  say "note: PARTNER_CLIENT_ID is now $APP in the azd environment; run 'azd provision' once more so the app setting uses it."
fi

if [[ -n "$APP" ]]; then
  audience="$(az ad app show --id "$APP" --query signInAudience -o tsv)"
  if [[ "$audience" != "AzureADMultipleOrgs" ]]; then
    change "make the app multi-tenant (signInAudience $audience -> AzureADMultipleOrgs)" \
      az ad app update --id "$APP" --sign-in-audience AzureADMultipleOrgs
  fi

  # 2. The consent redirect URI (existing ones are kept).
  # (bash 3.2 on macOS has no array-reading builtin, and "${a[@]}" of an empty array fails under set -u, so the list is built
  # with a while-read loop and always holds at least the new URI.)
  current_uris="$(az ad app show --id "$APP" --query "web.redirectUris" -o tsv)"
  if ! grep -qxF "$CONSENT_REDIRECT_URI" <<<"$current_uris"; then
    uris=("--web-redirect-uris")
    while IFS= read -r uri; do
      [[ -n "$uri" ]] && uris+=("$uri")
    done <<<"$current_uris"
    uris+=("$CONSENT_REDIRECT_URI")
    change "add the redirect URI $CONSENT_REDIRECT_URI" az ad app update --id "$APP" "${uris[@]}"
  fi

  # 3. The application permission(s) of the source.
  permissions=("$GRAPH_APP_ID SecurityIncident.Read.All")
  [[ "$SOURCE" == "m365d" ]] && permissions+=("$LEGACY_APP_ID Incident.Read.All")
  for entry in "${permissions[@]}"; do
    api="${entry%% *}"
    role="${entry#* }"
    role_id="$(az ad sp show --id "$api" --query "appRoles[?value=='$role'].id" -o tsv)"
    if [[ -z "$role_id" ]]; then
      say "postprovision: the API $api has no application role $role in this tenant." >&2
      exit 1
    fi
    held="$(az ad app show --id "$APP" --query "requiredResourceAccess[?resourceAppId=='$api'].resourceAccess[].id" -o tsv)"
    if ! grep -qxF "$role_id" <<<"$held"; then
      change "add the application permission $role ($api)" \
        az ad app permission add --id "$APP" --api "$api" --api-permissions "$role_id=Role"
    fi
  done
fi

# 4. The federated credential trusting the deployed identity (federated mode only).
if [[ "$CREDENTIAL" == "federated" ]]; then
  need FEDERATED_ISSUER
  need MANAGED_IDENTITY_PRINCIPAL_ID
  need TOKEN_EXCHANGE_AUDIENCE
  existing=""
  if [[ -n "$APP" ]]; then
    existing="$(az ad app federated-credential list --id "$APP" \
      --query "[?issuer=='$FEDERATED_ISSUER' && subject=='$MANAGED_IDENTITY_PRINCIPAL_ID'].[name, audiences[0]]" -o tsv | head -n 1)"
  fi
  # An existing credential for this identity keeps its name; a new one is named after the identity.
  fic_name="$(cut -f1 <<<"$existing")"
  [[ -z "$fic_name" ]] && fic_name="collector-${MANAGED_IDENTITY_PRINCIPAL_ID:0:8}"
  existing="$(cut -s -f2 <<<"$existing")"
  parameters="{\"name\":\"$fic_name\",\"issuer\":\"$FEDERATED_ISSUER\",\"subject\":\"$MANAGED_IDENTITY_PRINCIPAL_ID\",\"audiences\":[\"$TOKEN_EXCHANGE_AUDIENCE\"],\"description\":\"The incident collector's user-assigned identity (azd postprovision)\"}"
  if [[ -z "$existing" ]]; then
    change "add the federated credential $fic_name (issuer $FEDERATED_ISSUER, subject $MANAGED_IDENTITY_PRINCIPAL_ID, audience $TOKEN_EXCHANGE_AUDIENCE)" \
      az ad app federated-credential create --id "$APP" --parameters "$parameters"
  elif [[ "$existing" != "$TOKEN_EXCHANGE_AUDIENCE" ]]; then
    change "set the audience of federated credential $fic_name to $TOKEN_EXCHANGE_AUDIENCE (was $existing)" \
      az ad app federated-credential update --id "$APP" --federated-credential-id "$fic_name" --parameters "$parameters"
  fi
fi

if [[ "$CHANGES" == "0" ]]; then
  say "postprovision: the app registration is up to date; nothing to change."
elif [[ "$DRY_RUN" == "1" ]]; then
  say "postprovision: dry run, $CHANGES change(s) not made."
else
  say "postprovision: $CHANGES change(s) made. Customer administrators can now consent (incident-collector consent-link)."
fi
