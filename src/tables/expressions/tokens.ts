/**
 * The lexer shared by every expression kind. It never fails: a character outside the grammar becomes
 * an `unknown` token, so the parser reports it as DynamoDB does ("Syntax error; token: \"-\", near:
 * \"a-b\""), with the neighbouring tokens as context.
 *
 * Lexical rules (DynamoDB's, as observed): a bare name starts with a letter and continues with letters,
 * digits and `_`; `#name` and `:value` placeholders continue with at least one letter, digit or `_`.
 */

export type TokenType =
  | 'identifier'
  | 'name' // #placeholder
  | 'value' // :placeholder
  | 'number' // list index digits
  | 'punctuation'
  | 'unknown'
  | 'end';

export interface Token {
  readonly type: TokenType;
  readonly text: string;
  /** UTF-16 offset of the first character in the expression. */
  readonly start: number;
  readonly end: number;
}

const punctuation = new Set(['(', ')', '[', ']', ',', '.', '=', '<', '>', '+', '-']);

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isWordPart(code: number): boolean {
  return isLetter(code) || isDigit(code) || code === 95;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (type: TokenType, start: number, end: number): void => {
    tokens.push({ type, text: source.slice(start, end), start, end });
  };
  while (i < source.length) {
    const code = source.charCodeAt(i);
    const start = i;
    if (isSpace(code)) {
      i++;
      continue;
    }
    if (isLetter(code)) {
      while (i < source.length && isWordPart(source.charCodeAt(i))) i++;
      push('identifier', start, i);
    } else if (isDigit(code)) {
      while (i < source.length && isDigit(source.charCodeAt(i))) i++;
      push('number', start, i);
    } else if (
      (code === 35 || code === 58) &&
      i + 1 < source.length &&
      isWordPart(source.charCodeAt(i + 1))
    ) {
      i++;
      while (i < source.length && isWordPart(source.charCodeAt(i))) i++;
      push(code === 35 ? 'name' : 'value', start, i);
    } else if (code === 60 && (source[i + 1] === '>' || source[i + 1] === '=')) {
      i += 2;
      push('punctuation', start, i);
    } else if (code === 62 && source[i + 1] === '=') {
      i += 2;
      push('punctuation', start, i);
    } else if (punctuation.has(source.charAt(i))) {
      i++;
      push('punctuation', start, i);
    } else {
      // One code point, so a message never splits a surrogate pair.
      i += code >= 0xd800 && code < 0xdc00 && i + 1 < source.length ? 2 : 1;
      push('unknown', start, i);
    }
  }
  tokens.push({ type: 'end', text: '<EOF>', start: source.length, end: source.length });
  return tokens;
}
