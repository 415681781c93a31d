/**
 * Git's allowed_signers file (ssh-keygen(1), ALLOWED SIGNERS), read as a registry of people's keys: a team that
 * already keeps one for signed commits can point `allowedSignersFile` at it. Only what can be honoured exactly is
 * accepted: ed25519 keys, literal principals, and the `namespaces` option (a key limited to other namespaces is
 * skipped). Wildcard principals, certificate authorities and validity windows are refused with the line number,
 * rather than read as something looser than they say.
 */
import { personNameSchema } from '../contracts/person-name';
import { SIGNATURE_NAMESPACE } from '../contracts/signed-statement';
import { parseSshPublicKey } from '../contracts/ssh-signature';

export interface AllowedSigner {
  person: string;
  key: string;
}

/** Splits on spaces outside double quotes (options such as namespaces="git,file" may hold no spaces anyway). */
function fields(line: string): string[] {
  return line.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
}

export function parseAllowedSigners(text: string): { signers: AllowedSigner[]; problems: string[] } {
  const signers: AllowedSigner[] = [];
  const problems: string[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const at = `line ${index + 1}`;
    const [principals, ...rest] = fields(line);
    let options: string[] = [];
    if (rest[0] !== undefined && !rest[0].startsWith('ssh-') && !rest[0].startsWith('ecdsa-')) {
      options = rest.shift()!.match(/(?:[^,"]+|"[^"]*")+/g) ?? [];
    }
    let usable = true;
    for (const option of options) {
      const [name, value] = option.split('=', 2) as [string, string | undefined];
      if (name.toLowerCase() === 'namespaces') {
        const namespaces = (value ?? '').replace(/^"|"$/g, '').split(',');
        usable = namespaces.includes(SIGNATURE_NAMESPACE);
      } else {
        problems.push(`${at}: option "${name}" is not supported (only namespaces)`);
        usable = false;
      }
    }
    const key = parseSshPublicKey(rest.join(' '));
    if (!key.ok) {
      problems.push(`${at}: ${key.why}`);
      continue;
    }
    if (!usable) continue;
    for (const principal of (principals ?? '').split(',')) {
      if (/[*?!]/.test(principal)) {
        problems.push(`${at}: wildcard principal "${principal}" is not supported: name each person`);
        continue;
      }
      const person = personNameSchema.safeParse(principal);
      if (!person.success) {
        problems.push(`${at}: principal "${principal.slice(0, 64)}" ${person.error.issues[0]!.message}`);
        continue;
      }
      signers.push({ person: person.data, key: key.key.canonical });
    }
  }
  return { signers, problems };
}
