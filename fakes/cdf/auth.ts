import { randomBytes } from 'node:crypto';
import { ApiError } from './api-error';

export type AccessLevel = 'full' | 'readonly';

export interface Caller {
  token: string;
  access: AccessLevel;
}

// Tokens prefixed `readonly` model a permission-limited principal (e.g. a dry-run identity).
const READONLY_PREFIX = 'readonly';

export function authenticate(authorization: string | undefined): Caller {
  const match = /^Bearer\s+(\S.*)$/i.exec(authorization ?? '');
  const token = match?.[1]?.trim();
  if (!token) throw new ApiError(401, 'Unauthorized: missing or malformed bearer token');
  return { token, access: token.startsWith(READONLY_PREFIX) ? 'readonly' : 'full' };
}

export function issueToken(clientId: string): string {
  // The readonly prefix must come first so `authenticate` recognises the token.
  const prefix = clientId.startsWith(READONLY_PREFIX) ? `${READONLY_PREFIX}-sandbox` : 'sandbox';
  return `${prefix}-${clientId}-${randomBytes(8).toString('hex')}`;
}

const FULL_ACTIONS: Record<string, string[]> = {
  dataModelsAcl: ['READ', 'WRITE'],
  dataModelInstancesAcl: ['READ', 'WRITE', 'WRITE_PROPERTIES'],
  transformationsAcl: ['READ', 'WRITE'],
  datasetsAcl: ['READ', 'WRITE', 'OWNER'],
  assetsAcl: ['READ', 'WRITE'],
  sessionsAcl: ['LIST', 'CREATE', 'DELETE'],
  groupsAcl: ['LIST', 'READ', 'CREATE', 'UPDATE', 'DELETE'],
  projectsAcl: ['LIST', 'READ'],
};

const READ_ONLY_ACTIONS = new Set(['READ', 'LIST']);

export function capabilities(access: AccessLevel): Record<string, unknown>[] {
  return Object.entries(FULL_ACTIONS).map(([acl, actions]) => ({
    [acl]: {
      actions: access === 'full' ? actions : actions.filter((a) => READ_ONLY_ACTIONS.has(a)),
      scope: { all: {} },
    },
    projectScope: { allProjects: {} },
  }));
}
