// The Rhai parser as CodeMirror runs it: each snippet goes through
// StreamLanguage's real parser and @lezer/highlight's classHighlighter
// (the `tok-*` classes), and the test checks which class each piece gets.
// Run with `node --test rhai.test.mjs` after `tsc` (scripts/build-labextension.sh does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamLanguage } from '@codemirror/language';
import { classHighlighter, highlightTree } from '@lezer/highlight';
import { rhai } from './lib/rhai.js';

const language = StreamLanguage.define(rhai);

/** The highlighted pieces of `source` as [text, classes] pairs. */
function pieces(source) {
  const tree = language.parser.parse(source);
  const found = [];
  highlightTree(tree, classHighlighter, (from, to, classes) => {
    found.push([source.slice(from, to), classes]);
  });
  return found;
}

/** The classes of the piece `text` (the first one when it repeats). */
function classOf(source, text) {
  const piece = pieces(source).find(([t]) => t === text);
  assert.ok(piece, `no highlighted piece ${JSON.stringify(text)} in ${JSON.stringify(pieces(source))}`);
  return piece[1];
}

test('keywords, booleans, this and reserved words', () => {
  const source = 'let x = 1; const Y = true; fn f() { if x { return this; } else { throw "no"; } }';
  for (const word of ['let', 'const', 'fn', 'if', 'return', 'else', 'throw']) {
    assert.equal(classOf(source, word), 'tok-keyword', word);
  }
  assert.equal(classOf(source, 'true'), 'tok-bool');
  assert.equal(classOf('var a = 1;', 'var'), 'tok-invalid');
  for (const word of ['switch', 'while', 'loop', 'do', 'until', 'for', 'in', 'break', 'continue',
    'try', 'catch', 'import', 'export', 'as', 'private', 'global']) {
    assert.equal(classOf(`${word} `, word), 'tok-keyword', word);
  }
});

test('strings, escapes and a string continued on the next line', () => {
  assert.equal(classOf('let s = "a \\"quoted\\" word";', '"a \\"quoted\\" word"'), 'tok-string');
  const continued = pieces('let s = "one \\\ntwo"; let t = 1;');
  assert.deepEqual(continued.filter(([, c]) => c === 'tok-string').map(([t]) => t),
    ['"one \\', 'two"']);
  assert.equal(classOf('let s = "one \\\ntwo"; let t = 1;', 't'), 'tok-variableName');
});

test('back-tick strings interpolate code, across lines and nested braces', () => {
  const source = 'print(`sum ${a + #{b: 2}.b} and\n${f(1)} done`); let after = 0;';
  const found = pieces(source);
  const strings = found.filter(([, c]) => c === 'tok-string').map(([t]) => t);
  assert.deepEqual(strings, ['`sum ', ' and', ' done`'], 'the opening back-tick and text are one piece');
  assert.equal(classOf(source, 'a'), 'tok-variableName');
  assert.equal(classOf(source, '2'), 'tok-number');
  assert.equal(classOf(source, '${'), 'tok-punctuation');
  assert.equal(classOf(source, 'let'), 'tok-keyword', 'the string ended');
});

test('characters and raw strings', () => {
  assert.equal(classOf("let c = 'x';", "'x'"), 'tok-string');
  assert.equal(classOf("let c = '\\n';", "'\\n'"), 'tok-string');
  assert.equal(classOf('let r = #"a "quoted" \\ raw"#; let z = 1;', '#"a "quoted" \\ raw"#'), 'tok-string');
});

test('numbers: underscores, hex, octal, binary, floats, exponents, ranges', () => {
  for (const number of ['1_000_000', '0xFF_ff', '0o17', '0b1010_0101', '3.25', '1.5e-3', '2E10', '6.02e+23']) {
    assert.equal(classOf(`let n = ${number};`, number), 'tok-number', number);
  }
  const range = pieces('for i in 1..10 {}');
  assert.deepEqual(range.filter(([, c]) => c === 'tok-number').map(([t]) => t), ['1', '10']);
  assert.equal(classOf('for i in 1..10 {}', '..'), 'tok-operator');
  assert.deepEqual(pieces('0..=9').map(([t]) => t), ['0', '..=', '9']);
});

test('comments: line, doc, nested block', () => {
  assert.equal(classOf('let a = 1; // note', '// note'), 'tok-comment');
  assert.equal(classOf('/// Adds one.\nfn inc(x) { x + 1 }', '/// Adds one.'), 'tok-comment');
  const nested = '/* outer /* inner */ still outer */ let b = 2;';
  assert.equal(classOf(nested, '/* outer /* inner */ still outer */'), 'tok-comment');
  assert.equal(classOf(nested, 'let'), 'tok-keyword');
  const multiline = pieces('/* one\n/* two */\nthree */ x');
  assert.deepEqual(multiline.filter(([, c]) => c === 'tok-comment').map(([t]) => t),
    ['/* one', '/* two */', 'three */']);
});

test('the cell marker is its own token, only first on a line', () => {
  const source = '// %% Load the scene\nlet a = 1;\n  // %% [markdown]\nlet b = 2; // %% not a marker';
  const meta = pieces(source).filter(([, c]) => c === 'tok-meta').map(([t]) => t);
  assert.deepEqual(meta, ['// %% Load the scene', '// %% [markdown]']);
  assert.equal(classOf(source, '// %% not a marker'), 'tok-comment');
});

test('function names: definitions, calls, methods, properties', () => {
  const source = 'fn area(r) { r * r }\nlet s = area(2).to_string(); let w = img.width;';
  assert.equal(classOf(source, 'area'), 'tok-variableName tok-definition');
  assert.equal(pieces(source).filter(([t]) => t === 'area')[1][1], 'tok-variableName', 'a call');
  assert.equal(classOf(source, 'to_string'), 'tok-propertyName');
  assert.equal(classOf(source, 'width'), 'tok-propertyName');
  assert.equal(classOf('let m = x.type;', 'type'), 'tok-propertyName', 'a keyword after a dot is a property');
});

test('operators', () => {
  const source = 'a **= 2; b ?? c; d?.e; f != g && h || !i; j <<= 1; k in l; m !in n; o::p';
  for (const op of ['**=', '??', '?.', '!=', '&&', '||', '<<=', '!in', '::']) {
    assert.equal(classOf(source, op), 'tok-operator', op);
  }
});
