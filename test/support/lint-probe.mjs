// Lints code snippets as if they were files of the project, with the project's own ESLint config (minus type
// information, which files that do not exist cannot have). Reads [{file, code}] as JSON on stdin and prints
// [{file, messages: [{ruleId, message}]}]. Run in a child process: ESLint loads its config with import().
import { ESLint } from 'eslint';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const cases = JSON.parse(
  await new Promise((resolve) => {
    let text = '';
    process.stdin.on('data', (d) => (text += d));
    process.stdin.on('end', () => resolve(text));
  }),
);
const eslint = new ESLint({
  cwd: root,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parserOptions: { projectService: false } },
      rules: { '@typescript-eslint/no-floating-promises': 'off' },
    },
  ],
});
const out = [];
for (const c of cases) {
  const [result] = await eslint.lintText(c.code, { filePath: path.join(root, c.file) });
  out.push({
    file: c.file,
    messages: result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message })),
  });
}
process.stdout.write(JSON.stringify(out));
