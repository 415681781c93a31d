/**
 * Builds `@cognite/sdk` clients per environment. Tokens are fetched at call time from the env var names in
 * the configuration (or a client-credentials token endpoint) and never leave this module.
 */
import { CogniteClient } from '@cognite/sdk';
import { ErrorType, PromotionError } from '../../contracts/errors';
import type { EnvironmentConfig } from '../../config/schema';
import { requireSecret } from '../secrets';

export type CdfClientFactory = (environment: string) => CogniteClient;

export function createCdfClientFactory(
  environments: Record<string, EnvironmentConfig>,
  secrets: NodeJS.ProcessEnv,
  appId = 'cdf-promotion-smoke-checks',
): CdfClientFactory {
  const cache = new Map<string, CogniteClient>();
  return (name) => {
    const cached = cache.get(name);
    if (cached) return cached;
    const env = environments[name];
    if (!env) throw new PromotionError(ErrorType.UnknownEnvironment, `unknown environment "${name}"`);
    const client = new CogniteClient({
      appId,
      project: env.cdfProject,
      baseUrl: env.baseUrl,
      oidcTokenProvider: () => fetchToken(env, secrets),
    });
    cache.set(name, client);
    return client;
  };
}

async function fetchToken(env: EnvironmentConfig, secrets: NodeJS.ProcessEnv): Promise<string> {
  const creds = env.credentials;
  const need = (name: string): string => requireSecret(secrets, name);
  if (creds.flow === 'token') return need(creds.tokenEnv);
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: need(creds.clientIdEnv),
    client_secret: need(creds.clientSecretEnv),
    scope: (creds.scopes ?? [`${env.baseUrl}/.default`]).join(' '),
  });
  if (creds.audience) body.set('audience', creds.audience);
  const res = await fetch(creds.tokenUrl, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  if (!res.ok) {
    const type = res.status === 429 || res.status >= 500 ? ErrorType.SmokeTransient : ErrorType.Configuration;
    throw new PromotionError(type, `token endpoint answered ${res.status}`);
  }
  const json = (await res.json()) as { access_token?: string };
  if (!json.access_token)
    throw new PromotionError(ErrorType.Configuration, 'token endpoint returned no access_token');
  return json.access_token;
}
