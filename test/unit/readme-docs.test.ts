// README is the user's manual and docs/ holds what contributors read: README keeps a table of
// contents whose links reach its own headings, stays short enough to read, and no relative link in
// README or docs/*.md points at a file or heading that is not there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ROOT } from '../support/cli.js';

const README = join(ROOT, 'README.md');
const DOCS = join(ROOT, 'docs');
const MAX_README_LINES = 700;

/** Markdown outside fenced code blocks, where `#` lines are comments, not headings. */
function prose(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (/^\s*```/.test(line)) fenced = !fenced;
    return !fenced && !/^\s*```/.test(line);
  });
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The headings of a document (outside code), each as the anchor a link uses; repeats are numbered. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(readFileSync(file, 'utf8'))) {
    const heading = /^#{1,6} (.+?)\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Relative links `[text](target)` outside code (spans and blocks), with their line. */
function links(file: string): { target: string; line: string }[] {
  return prose(readFileSync(file, 'utf8')).flatMap((line) =>
    [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1]!)
      .filter((target) => !/^[a-z]+:/i.test(target))
      .map((target) => ({ target, line })),
  );
}

const documents = [
  README,
  ...readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(DOCS, f)),
];

test('README opens with a table of contents whose links reach its own headings', () => {
  const text = readFileSync(README, 'utf8');
  const contents = /\n## Contents\n([\s\S]*?)\n## /.exec(text);
  assert.ok(contents, 'README has a "## Contents" section');
  assert.ok(text.indexOf('\n## Contents\n') < text.indexOf('\n## Quick start\n'), 'the contents come first');
  const listed = [...contents[1]!.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
  const own = anchors(README);
  for (const anchor of listed) assert.ok(own.has(anchor), `contents link #${anchor} has no heading`);
  // Every section, and the recipes users come for, are listed.
  const sections = prose(text)
    .filter((line) => line.startsWith('## ') && line !== '## Contents')
    .map((line) => slug(line.slice(3)));
  const recipes = ['kubectl', 'container-registries-docker-skopeo-podman', 'git', 'github-actions', 'gitlab-ci'];
  for (const anchor of [...sections, ...recipes])
    assert.ok(listed.includes(anchor), `#${anchor} is not in the contents`);
});

test(`README stays a user's document: at most ${MAX_README_LINES} lines`, () => {
  const lines = readFileSync(README, 'utf8').trimEnd().split('\n').length;
  assert.ok(lines <= MAX_README_LINES, `README has ${lines} lines`);
});

test('every relative link in README and docs/*.md reaches a file, and a heading there when it names one', () => {
  for (const file of documents) {
    for (const { target, line } of links(file)) {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const to = path ? join(dirname(file), decodeURIComponent(path)) : file;
      const where = `${relative(ROOT, file)}: ${target} (${line.trim()})`;
      assert.ok(existsSync(to), `no such file: ${where}`);
      if (anchor !== undefined && to.endsWith('.md')) assert.ok(anchors(to).has(anchor), `no such heading: ${where}`);
    }
  }
});
