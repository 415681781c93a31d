import { ErrorType, PromotionError } from '../contracts/errors';

/**
 * Reads a secret from the worker's environment by the name the configuration gives. Read at the moment of
 * use, so secrets never pass through workflow inputs or history.
 */
export function requireSecret(secrets: NodeJS.ProcessEnv, name: string): string {
  const value = secrets[name];
  if (!value) {
    throw new PromotionError(
      ErrorType.Configuration,
      `environment variable ${name} is not set on the worker`,
    );
  }
  return value;
}
