#!/usr/bin/env node
/**
 * Sluice as a dependency of another project, on each supported Node.js: `npm pack` this repository, install
 * the tarball into a fresh project (as `npm init -y` makes it: CommonJS) and check, under each Node.js
 * version asked for:
 *   esm    `import { Sluice } from 'sluice'`: a queue feeding a function through a trigger, a table's stream
 *          feeding another, and `close()`, after which the process exits by itself;
 *   cjs    `require('sluice')`: the same engine (one module instance shared with `import`);
 *   types  `tsc` on a TypeScript app importing sluice and typing its handlers from it (ESM and CommonJS),
 *          with skipLibCheck off and nothing installed but sluice, typescript and @types/node;
 *   cli    the installed `sluice` bin: --version, `init`, `start` (config and handler in TypeScript),
 *          then SIGTERM: it stops and exits 0.
 * It also checks the tarball's contents.
 *
 *   node test/package/check.mjs                 # Node.js 22 and 24 (the supported versions)
 *   node test/package/check.mjs --node 24,system # 'system' is the Node.js running this script
 *
 * Other Node.js versions come from the npm registry's `node-<platform>-<arch>` packages (the official
 * binaries and headers), installed once into $TMPDIR/sluice-node-binaries; better-sqlite3 is compiled for
 * each version against those headers. CI (.ci/run) runs it after `npm test`; it takes a few minutes, most
 * of it compiling better-sqlite3.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'consumer');
const args = process.argv.slice(2);
const nodeArg = args.includes('--node') ? args[args.indexOf('--node') + 1] : '22,24';
const keep = args.includes('--keep');
const versions = nodeArg.split(',').map((v) => v.trim()).filter(Boolean);
const results = [];
const started = Date.now();

function log(line) {
  process.stdout.write(`[package] ${line}\n`);
}

/** Runs a command to completion; resolves with its exit code and output. Never rejects. */
function run(command, commandArgs, options = {}) {
  return new Promise((done) => {
    const child = spawn(command, commandArgs, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      output += `\n[timed out after ${options.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

function record(name, ok, detail = '') {
  results.push({ name, ok });
  log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

/** The tarball, as `npm pack` makes it (its prepare script builds dist/). */
function pack(workDir) {
  const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', workDir], { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')));
  return { tarball: join(workDir, info.filename), files: info.files.map((file) => file.path) };
}

function checkContents(files) {
  const required = ['dist/index.js', 'dist/index.d.ts', 'dist/cjs/index.cjs', 'dist/cli/main.js', 'README.md', 'LICENSE'];
  const missing = required.filter((file) => !files.includes(file));
  record('tarball: entry points present', missing.length === 0, missing.length ? `missing ${missing.join(', ')}` : `${files.length} files`);
  const stray = files.filter((file) => /\.(test|spec)\.|^src\/|^test\/|\.db$/.test(file));
  record('tarball: no sources, tests or databases', stray.length === 0, stray.slice(0, 5).join(', '));
  const stowaways = ['dist/bench/', 'dist/conformance/', 'dist/testkit/', 'dist/examples/'].filter((prefix) =>
    files.some((file) => file.startsWith(prefix)),
  );
  record('tarball: no bench/, conformance/, testkit/ or examples/', stowaways.length === 0, stowaways.join(', '));
}

/** The Node.js binary for a version: 'system' is this process's; a major version comes from the registry. */
async function nodeFor(version) {
  if (version === 'system') return { bin: process.execPath, dir: undefined };
  const name = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  const prefix = join(tmpdir(), 'sluice-node-binaries', version);
  const dir = join(prefix, 'node_modules', name);
  const bin = join(dir, 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), '{"private":true}\n');
    log(`installing ${name}@${version} into ${prefix}`);
    const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', `${name}@${version}`], { cwd: prefix, timeoutMs: 300_000 });
    if (installed.code !== 0 || !existsSync(bin)) throw new Error(`installing ${name}@${version} failed:\n${installed.output}`);
  }
  return { bin, dir };
}

/** PATH and npm settings under which `node`, `npm` and `npx` run the given Node.js and build addons for it. */
function envFor(node, workDir, label) {
  const binDir = join(workDir, `bin-${label}`);
  mkdirSync(binDir, { recursive: true });
  if (!existsSync(join(binDir, 'node'))) symlinkSync(node.bin, join(binDir, 'node'));
  const env = { ...process.env, PATH: `${binDir}:${process.env.PATH}`, npm_config_update_notifier: 'false' };
  for (const key of Object.keys(env)) if (key.startsWith('npm_') && key !== 'npm_config_update_notifier') delete env[key];
  // node-gyp compiles better-sqlite3 against these headers (the package ships include/node).
  if (node.dir) env.npm_config_nodedir = node.dir;
  delete env.NODE_OPTIONS;
  return env;
}

async function makeProject(tarball, workDir, label, env) {
  const dir = join(workDir, `consumer-${label}`);
  mkdirSync(dir, { recursive: true });
  // What `npm init -y` makes: no "type", so .js files are CommonJS.
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${label}`, version: '1.0.0', private: true }, null, 2)}\n`);
  for (const file of ['esm.mjs', 'cjs.js', 'worker-handler.mjs', 'app.mts', 'app.cts', 'tsconfig.json']) writeFileSync(join(dir, file), readFileSync(join(fixtures, file)));
  const typescript = JSON.parse(readFileSync(join(repo, 'node_modules/typescript/package.json'), 'utf8')).version;
  const installStart = Date.now();
  const installed = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `typescript@${typescript}`, '@types/node@22'],
    { cwd: dir, env, timeoutMs: 900_000 },
  );
  const engineWarnings = installed.output.split('\n').filter((line) => /EBADENGINE.*package:/.test(line));
  record(`node ${label}: npm install of the tarball`, installed.code === 0, `${Math.round((Date.now() - installStart) / 1000)} s`);
  if (installed.code !== 0) log(installed.output.slice(-4000));
  if (engineWarnings.length) log(`node ${label}: engine warnings: ${engineWarnings.join('; ')}`);
  return installed.code === 0 ? dir : undefined;
}

async function checkVersion(label, dir, env) {
  const version = (await run('node', ['--version'], { env })).output.trim();
  log(`node ${label}: ${version}`);
  const esm = await run('node', ['esm.mjs'], { cwd: dir, env, timeoutMs: 60_000 });
  record(`node ${label}: import (esm.mjs), work, close() and exit`, esm.code === 0 && esm.output.includes('esm ok'), esm.code === 0 ? '' : esm.output.slice(-2000));
  const cjs = await run('node', ['cjs.js'], { cwd: dir, env, timeoutMs: 60_000 });
  record(`node ${label}: require('sluice') (cjs.js)`, cjs.code === 0 && cjs.output.includes('cjs ok'), cjs.code === 0 ? '' : cjs.output.slice(-2000));
  // Where Node.js cannot require() an ES module (here: turned off), the error says what to do.
  const noRequireEsm = await run('node', ['--no-experimental-require-module', 'cjs.js'], { cwd: dir, env, timeoutMs: 60_000 });
  const clear = noRequireEsm.code !== 0 && noRequireEsm.output.includes("require('sluice') needs a Node.js that can require() ES modules");
  record(`node ${label}: require('sluice') without require(esm) fails with a clear error`, clear, clear ? '' : noRequireEsm.output.slice(-600));
  const tsc = await run('node', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { cwd: dir, env, timeoutMs: 120_000 });
  record(`node ${label}: tsc on an app importing sluice (app.mts, app.cts)`, tsc.code === 0, tsc.code === 0 ? '' : tsc.output.slice(-3000));
  await checkCli(label, dir, env);
}

async function checkCli(label, dir, env) {
  const bin = join(dir, 'node_modules/.bin/sluice');
  const packageVersion = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version;
  const version = await run(bin, ['--version'], { cwd: dir, env });
  record(`node ${label}: sluice --version`, version.output.trim() === packageVersion, version.output.trim());
  rmSync(join(dir, 'app'), { recursive: true, force: true });
  const init = await run(bin, ['init', 'app'], { cwd: dir, env });
  record(`node ${label}: sluice init prints runnable next steps`, init.code === 0 && init.output.includes('npx sluice start'), init.code === 0 ? '' : init.output);
  // The scaffold's package.json names sluice; here it is the parent project's, as after `npm i sluice`.
  const node = spawn(bin, ['start', '--port', '0', '--log-level', 'info'], { cwd: join(dir, 'app'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  node.stdout.on('data', (chunk) => (output += chunk));
  node.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((done) => node.on('exit', (code, signal) => done({ code, signal })));
  const listening = await new Promise((done) => {
    const timer = setTimeout(() => done(false), 60_000);
    const poll = setInterval(() => {
      if (output.includes('Sluice listening on')) {
        clearTimeout(timer);
        clearInterval(poll);
        done(true);
      }
    }, 100);
    void exited.then(() => {
      clearTimeout(timer);
      clearInterval(poll);
      done(output.includes('Sluice listening on'));
    });
  });
  record(`node ${label}: sluice start (TypeScript config and handler)`, listening, listening ? '' : output.slice(-3000));
  node.kill('SIGTERM');
  const timeout = new Promise((done) => setTimeout(() => done({ code: 'timeout' }), 20_000));
  const end = await Promise.race([exited, timeout]);
  if (end.code === 'timeout') node.kill('SIGKILL');
  record(`node ${label}: SIGTERM stops sluice start, exit 0`, end.code === 0, end.code === 0 ? '' : `${JSON.stringify(end)} ${output.slice(-2000)}`);
}

async function main() {
  const workDir = mkdtempSync(join(tmpdir(), 'sluice-package-'));
  log(`work dir ${workDir}; Node.js ${versions.join(', ')}`);
  try {
    const { tarball, files } = pack(workDir);
    log(`packed ${tarball} in ${Math.round((Date.now() - started) / 1000)} s`);
    checkContents(files);
    const nodes = await Promise.all(versions.map((version) => nodeFor(version)));
    // Installs (mostly compiling better-sqlite3) run side by side; the checks one version at a time.
    const envs = versions.map((version, i) => envFor(nodes[i], workDir, version));
    const dirs = await Promise.all(versions.map((version, i) => makeProject(tarball, workDir, version, envs[i])));
    for (const [i, version] of versions.entries()) if (dirs[i]) await checkVersion(version, dirs[i], envs[i]);
  } catch (error) {
    record('package check', false, error instanceof Error ? error.message : String(error));
  } finally {
    if (!keep) rmSync(workDir, { recursive: true, force: true });
  }
  const failed = results.filter((result) => !result.ok).length;
  log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
  process.stdout.write(`package: ${results.length - failed} passed, ${failed} failed\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}

await main();
