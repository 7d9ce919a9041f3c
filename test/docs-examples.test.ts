/**
 * The README's and docs' TypeScript examples stay true: every ```ts block is type-checked against the
 * library's sources (as a module of its own; names a fragment uses without declaring, like `sluice` or
 * `handler`, are declared for it with the library's types), and the self-contained ones (they open an
 * engine and close it) run, each in its own process. A renamed method, a changed option or a wrong
 * result shape in the docs fails here.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const documents = ['README.md', 'docs/config.md', 'docs/http-api.md', 'docs/design/group-limits.md', 'docs/design/cluster.md', 'docs/design/queues.md'];
// Under .sluice/ (git-ignored), so the examples' imports resolve from the repository's node_modules.
const work = join(repo, '.sluice', `docs-examples-${process.pid}`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Example {
  document: string;
  line: number;
  code: string;
}

function examples(): Example[] {
  const found: Example[] = [];
  for (const document of documents) {
    const lines = readFileSync(join(repo, document), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
      const start = i + 1;
      while (i + 1 < lines.length && !/^```\s*$/.test(lines[i + 1]!)) i++;
      found.push({ document, line: start + 1, code: lines.slice(start, i + 1).join('\n') });
      i++;
    }
  }
  return found;
}

/**
 * What fragments use without declaring it, with the library's types. A name is declared only when the
 * example neither declares nor imports it.
 */
const ambient: Record<string, string> = {
  Sluice: 'import { Sluice } from "sluice";',
  sluice: 'declare const sluice: import("sluice").Sluice;',
  handler: 'declare const handler: import("sluice").FunctionHandler<any, any>;',
  token: 'declare const token: string;',
  resize: 'declare function resize(url: string): Promise<void>;',
  readImageList: 'declare function readImageList(): AsyncIterable<{ url: string }>;',
  listItems: 'declare function listItems(scheduledTime: Date): AsyncIterable<unknown>;',
  DynamoDBStreamEvent: 'type DynamoDBStreamEvent = import("sluice").DynamoDBStreamEvent;',
};

function declares(code: string, name: string): boolean {
  return new RegExp(`(\\b(const|let|var|function|type|interface|class)\\s+${name}\\b)|(import[^;]*\\b${name}\\b[^;]*from)`).test(code);
}

const source = join(repo, 'src/index.ts').replace(/\.ts$/, '.js');
function moduleText(example: Example): string {
  const prelude = Object.entries(ambient)
    .filter(([name, declaration]) => new RegExp(`\\b${name}\\b`).test(example.code) && !declares(example.code, name) && declaration)
    .map(([, declaration]) => declaration.replace(/from "sluice"/, "from 'sluice'"));
  // 'sluice' is this repository: its sources, not a build.
  const local = (text: string) => text.replace(/from 'sluice'/g, `from '${relative(work, source)}'`).replace(/import\("sluice"\)/g, `import('${relative(work, source)}')`);
  return [`// ${example.document}:${example.line}`, ...prelude.map(local), local(example.code), 'export {};', ''].join('\n');
}

const all = examples();
const fileOf = (example: Example, index: number) => join(work, `example-${index}-${example.document.replace(/[/.]/g, '-')}-${example.line}.ts`);
/** Open an engine and close it (or only open an in-memory one): safe to run on their own. */
const runnable = (example: Example) => /Sluice\.open\(/.test(example.code) && (/sluice\.close\(\)/.test(example.code) || /sqlite::memory:/.test(example.code));

describe('the README and docs examples', () => {
  it('are found (the extraction works)', () => {
    expect(all.length).toBeGreaterThanOrEqual(12);
    expect(all.filter(runnable).length).toBeGreaterThanOrEqual(2);
  });

  it('type-check against the library', () => {
    mkdirSync(work, { recursive: true });
    const files = all.map((example, index) => {
      const file = fileOf(example, index);
      writeFileSync(file, moduleText(example));
      return file;
    });
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      allowImportingTsExtensions: false,
      types: ['node'],
      typeRoots: [join(repo, 'node_modules/@types')],
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((diagnostic) => diagnostic.file && files.includes(diagnostic.file.fileName))
      .map((diagnostic) => {
        const file = diagnostic.file!;
        const { line } = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        const origin = file.text.split('\n')[0]!.replace('// ', '');
        return `${origin} (+${line - 1}): ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  }, 120_000);

  for (const [index, example] of all.entries()) {
    if (!runnable(example)) continue;
    it(`run: ${example.document}:${example.line}`, async () => {
      mkdirSync(work, { recursive: true });
      const file = fileOf(example, index);
      writeFileSync(file, moduleText(example));
      const cwd = join(work, `run-${index}`);
      mkdirSync(cwd, { recursive: true });
      const tsxLoader = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
      const result = await new Promise<{ code: number; output: string }>((resolve) =>
        execFile(process.execPath, ['--import', tsxLoader, file], { cwd, timeout: 60_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? 1 : 0, output: stdout + stderr }),
        ),
      );
      expect(result.code, result.output).toBe(0);
    }, 90_000);
  }
});
