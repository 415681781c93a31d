/**
 * People are named by handles (alice, bob.smith, ops@example.com). Every name, in the configuration and in every
 * payload, is normalized before it is stored or compared, so case, compatibility forms (fullwidth letters,
 * ligatures) and invisible characters cannot make one person look like two, or two people look like one:
 *
 * 1. Unicode NFKC (fullwidth letters, ligatures become plain ones), then lower case;
 * 2. surrounding spaces removed;
 * 3. the result must be 1 to 64 characters of ASCII letters, digits and `.` `_` `-` `@` `+`, starting with a
 *    letter or digit. Anything else (control or format characters such as zero-width spaces and bidi overrides,
 *    spaces inside, other scripts, which hold look-alikes of Latin letters) is refused, not silently dropped.
 *
 * Pure and deterministic: workflows use it too.
 */
import { z } from 'zod';

export const PERSON_NAME_PATTERN = /^[a-z0-9][a-z0-9._@+-]{0,63}$/;
export const PERSON_NAME_RULE =
  'must be a handle of 1 to 64 ASCII letters, digits, ".", "_", "-", "@" or "+", starting with a letter or digit';

export function normalizePersonName(raw: string): string {
  // Case folding after NFKC: the charset check then requires plain ASCII, so no letter of another script
  // (dotless ı, ß, Cyrillic а) can be folded into a Latin one first.
  return raw
    .normalize('NFKC')
    .replace(/^[ \t]+|[ \t]+$/g, '')
    .toLowerCase();
}

export function isValidPersonName(name: string): boolean {
  return PERSON_NAME_PATTERN.test(name);
}

/** A zod schema that normalizes a name and refuses what is not a valid handle afterwards. */
export const personNameSchema = z
  .string()
  .max(256, 'is too long')
  .transform(normalizePersonName)
  .refine((name) => name.length > 0, 'must not be empty')
  .refine(isValidPersonName, PERSON_NAME_RULE);
