import { z } from 'zod';
import { ApiError } from '../api-error';
import { capabilities, issueToken, type Caller } from '../auth';

const tokenRequest = z.looseObject({
  grant_type: z.literal('client_credentials'),
  client_id: z.string().min(1),
  client_secret: z.string().optional(),
  scope: z.string().optional(),
});

// Matches both the fake CDF's own `/oauth2/token` and Entra-style `/{tenant}/oauth2/v2.0/token`
// so a Toolkit configured with a realistic IDP_TOKEN_URL still lands here.
export function isTokenPath(path: string): boolean {
  return /\/oauth2\/(v2\.0\/)?token$/.test(path);
}

export function issueTokenResponse(body: unknown): {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
} {
  const parsed = tokenRequest.safeParse(body ?? {});
  if (!parsed.success) {
    throw new ApiError(400, 'fake-cdf: token request needs grant_type=client_credentials and client_id');
  }
  return { access_token: issueToken(parsed.data.client_id), token_type: 'Bearer', expires_in: 3600 };
}

export function inspectToken(caller: Caller, projects: readonly string[]): unknown {
  return {
    subject: 'sandbox',
    projects: projects.map((p) => ({ projectUrlName: p, groups: [1] })),
    capabilities: capabilities(caller.access),
  };
}
