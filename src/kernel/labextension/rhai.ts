/**
 * A CodeMirror 6 stream parser for Rhai (https://rhai.rs), as cleope's
 * scripts and notebooks use it.
 *
 * The keyword list is Rhai 1.x's own (the rhai crate's `Token::literal_syntax`
 * and `engine.rs` keywords). Token names are @lezer/highlight tag names
 * (`keyword`, `string`, `variableName.function`, ...), which StreamLanguage
 * turns into highlighting tags, so every editor theme styles them.
 */
import type { StreamParser, StringStream } from '@codemirror/language';

/** Statement and declaration keywords. */
const KEYWORDS = new Set([
  'let', 'const', 'fn', 'private', 'if', 'else', 'switch', 'do', 'while', 'until',
  'loop', 'for', 'in', 'break', 'continue', 'return', 'throw', 'try', 'catch',
  'import', 'export', 'as', 'global'
]);

/** Functions the Rhai engine itself defines (`engine.rs`). */
const BUILTINS = new Set([
  'print', 'debug', 'type_of', 'eval', 'Fn', 'call', 'curry', 'is_shared',
  'is_def_var', 'is_def_fn'
]);

/** Words Rhai reserves for future use: a script cannot use them as names. */
const RESERVED = new Set([
  'var', 'static', 'shared', 'goto', 'exit', 'match', 'case', 'public', 'protected',
  'new', 'use', 'with', 'module', 'package', 'super', 'thread', 'spawn', 'go',
  'await', 'async', 'sync', 'yield', 'default', 'void', 'null', 'nil'
]);

/** Operators, longest first so `**=` is not read as `*` then `*=`. */
const OPERATOR = /^(?:\*\*=|<<=|>>=|\.\.=|!in\b|\?\?|\?\.|\?\[|::|=>|==|!=|<=|>=|&&|\|\||<<|>>|\+=|-=|\*=|\/=|%=|&=|\|=|\^=|\*\*|\.\.|[-+*\/%=<>!&|^?:])/;

const NUMBER = [
  /^0x[0-9a-fA-F][0-9a-fA-F_]*/,
  /^0o[0-7][0-7_]*/,
  /^0b[01][01_]*/,
  // A decimal point needs a digit after it: `1..5` is a range, `1.max(2)` a call.
  /^\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d[\d_]*)?/
];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;

/** A cell marker, as src/runtime/cells.rs reads one: `// %%` first on its line. */
const CELL_MARKER = /^\/\/ %%/;

/** What the parser is inside of, innermost last. */
type Context =
  | { kind: 'template' } // a back-tick string
  | { kind: 'interpolation'; braces: number }; // `${ ... }` inside one

export interface RhaiState {
  /** Nesting depth of `/* ... *\/` comments (Rhai's nest). */
  commentDepth: number;
  /** Whether the open block comment is a doc comment (`/** ... *\/`). */
  docComment: boolean;
  /** A "..." string continued on the next line by a trailing `\`. */
  inString: boolean;
  /** The `#` count of an open raw string (`#"..."#`), 0 for none. */
  rawHashes: number;
  /** Back-tick strings and their interpolations. */
  contexts: Context[];
  /** The previous word, to name the function after `fn`. */
  previousWord: string | null;
  /** Whether the previous token was `.` (a property or method follows). */
  afterDot: boolean;
}

function top(state: RhaiState): Context | undefined {
  return state.contexts[state.contexts.length - 1];
}

/** Reads a block comment body, following nesting; returns its token name. */
function blockComment(stream: StringStream, state: RhaiState): string {
  const name = state.docComment ? 'docComment' : 'blockComment';
  while (!stream.eol()) {
    if (stream.match('/*')) {
      state.commentDepth++;
    } else if (stream.match('*/')) {
      state.commentDepth--;
      if (state.commentDepth === 0) {
        break;
      }
    } else {
      stream.next();
    }
  }
  return name;
}

/** Reads a "..." string up to its closing quote or the line's end. */
function doubleQuoted(stream: StringStream, state: RhaiState): string {
  state.inString = true;
  while (!stream.eol()) {
    const ch = stream.next();
    if (ch === '\\') {
      if (stream.eol()) {
        return 'string'; // a line continuation: the string goes on
      }
      stream.next();
    } else if (ch === '"') {
      state.inString = false;
      return 'string';
    }
  }
  state.inString = false; // an unterminated string ends with its line in Rhai
  return 'string';
}

/** Reads a raw string body up to `"` followed by its `#`s. */
function rawString(stream: StringStream, state: RhaiState): string {
  const end = '"' + '#'.repeat(state.rawHashes);
  while (!stream.eol()) {
    if (stream.match(end)) {
      state.rawHashes = 0;
      break;
    }
    stream.next();
  }
  return 'string';
}

/** Reads back-tick string text up to the closing back-tick or a `${`. */
function templateText(stream: StringStream, state: RhaiState): string {
  if (stream.match('${')) {
    state.contexts.push({ kind: 'interpolation', braces: 0 });
    return 'punctuation';
  }
  while (!stream.eol()) {
    if (stream.peek() === '`') {
      stream.next();
      state.contexts.pop();
      return 'string';
    }
    if (stream.match('${', false)) {
      return 'string';
    }
    stream.next();
  }
  return 'string';
}

function comment(stream: StringStream, state: RhaiState): string | null {
  if (stream.match(/^\/\/[/!](?!\/)/)) {
    stream.skipToEnd();
    return 'docComment';
  }
  if (stream.match('//')) {
    stream.skipToEnd();
    return 'lineComment';
  }
  if (stream.match('/*')) {
    state.commentDepth = 1;
    // `/**/` is empty, not a doc comment; `/***` neither.
    state.docComment = stream.match(/^\*(?![*/])/, false) !== null;
    return blockComment(stream, state);
  }
  return null;
}

function word(stream: StringStream, state: RhaiState, text: string, afterDot: boolean): string {
  if (afterDot) {
    // `x.type` or `m.len()`: after a dot even a keyword names a property.
    state.previousWord = null;
    return stream.match(/^\s*\(/, false) ? 'propertyName.function' : 'propertyName';
  }
  const previous = state.previousWord;
  state.previousWord = text;
  if (KEYWORDS.has(text)) {
    return 'keyword';
  }
  if (text === 'true' || text === 'false') {
    return 'bool';
  }
  if (text === 'this') {
    return 'self';
  }
  if (RESERVED.has(text)) {
    return 'invalid';
  }
  if (previous === 'fn') {
    return 'variableName.definition';
  }
  if (stream.match(/^!?\s*\(/, false)) {
    return BUILTINS.has(text) ? 'variableName.function.standard' : 'variableName.function';
  }
  return 'variableName';
}

/** Continues a string or comment that an earlier line or token opened. */
function continued(stream: StringStream, state: RhaiState): string | null {
  if (state.commentDepth > 0) {
    return blockComment(stream, state);
  }
  if (state.rawHashes > 0) {
    return rawString(stream, state);
  }
  if (state.inString) {
    return doubleQuoted(stream, state);
  }
  if (top(state)?.kind === 'template') {
    return templateText(stream, state);
  }
  return null;
}

/** Strings, characters and numbers. */
function literal(stream: StringStream, state: RhaiState): string | null {
  if (stream.eat('"')) {
    return doubleQuoted(stream, state);
  }
  if (stream.eat('`')) {
    state.contexts.push({ kind: 'template' });
    return 'string';
  }
  const raw = stream.match(/^(#+)"/) as RegExpMatchArray | null;
  if (raw) {
    state.rawHashes = raw[1].length;
    return rawString(stream, state);
  }
  if (stream.peek() === "'") {
    // A character: 'a', '\n', '\u{1F600}'.
    if (stream.match(/^'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|[^\\'])'/u)) {
      return 'character';
    }
    stream.next();
    return 'invalid';
  }
  return NUMBER.some(pattern => stream.match(pattern)) ? 'number' : null;
}

/** Operators and punctuation; tracks braces inside `${ ... }`. */
function symbol(stream: StringStream, state: RhaiState): string | null {
  const ch = stream.peek() as string;
  const context = top(state);
  if (context?.kind === 'interpolation') {
    // Braces inside `${ ... }` (blocks, `#{` maps) must close before it does.
    if (ch === '{' || stream.match('#{', false)) {
      context.braces++;
    } else if (ch === '}') {
      if (context.braces === 0) {
        stream.next();
        state.contexts.pop(); // back into the string
        return 'punctuation';
      }
      context.braces--;
    }
  }
  if (stream.match('#{')) {
    return 'brace';
  }
  // A property or method name follows `.` and `?.` (but not `..`).
  if (stream.match('?.') || (ch === '.' && !stream.match('..', false) && stream.next())) {
    state.afterDot = true;
    return 'operator';
  }
  if (stream.match(OPERATOR)) {
    return 'operator';
  }
  stream.next();
  const kinds: [string, string][] = [['{}', 'brace'], ['()', 'paren'], ['[]', 'squareBracket'], [';,', 'punctuation']];
  return kinds.find(([chars]) => chars.includes(ch))?.[1] ?? null;
}

function token(stream: StringStream, state: RhaiState): string | null {
  const inside = continued(stream, state);
  if (inside !== null) {
    return inside;
  }
  if (stream.eatSpace()) {
    return null;
  }
  // A cell marker (`// %%`, `// %% Title`, `// %% [markdown]`) starts a
  // line; the whole line is the marker. Elsewhere `// %%` is a comment.
  const firstOnLine = stream.string.slice(0, stream.pos).trim() === '';
  if (firstOnLine && stream.match(CELL_MARKER)) {
    stream.skipToEnd();
    state.previousWord = null;
    return 'meta';
  }
  const commented = comment(stream, state);
  if (commented !== null) {
    return commented;
  }
  const afterDot = state.afterDot;
  state.afterDot = false;
  const identifier = stream.match(IDENTIFIER) as RegExpMatchArray | null;
  if (identifier) {
    return word(stream, state, identifier[0], afterDot);
  }
  state.previousWord = null;
  return literal(stream, state) ?? symbol(stream, state);
}

/** The Rhai parser for `StreamLanguage.define`. */
export const rhai: StreamParser<RhaiState> = {
  name: 'rhai',
  startState: () => ({
    commentDepth: 0,
    docComment: false,
    inString: false,
    rawHashes: 0,
    contexts: [],
    previousWord: null,
    afterDot: false
  }),
  copyState: state => ({
    ...state,
    contexts: state.contexts.map(context => ({ ...context }))
  }),
  token,
  languageData: {
    commentTokens: { line: '//', block: { open: '/*', close: '*/' } },
    closeBrackets: { brackets: ['(', '[', '{', '"', '`'] }
  }
};
