/**
 * The XML of WeCom's event receiver, read defensively. WeCom sends one flat
 * `<xml>` element of named fields (text or CDATA), with at most a level or two
 * of nesting (a batch job's result), no attributes, no declarations. Anything
 * else is refused rather than guessed at: a DOCTYPE or an entity other than
 * XML's five and character references (no expansion attacks), attributes,
 * mixed content, a repeated field, more than {@link MAX_ELEMENTS} elements.
 */

/** Why a body was refused. */
export class CallbackXmlError extends Error {}

const MAX_DEPTH = 4;
const MAX_ELEMENTS = 256;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*/;
const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * The fields of a WeCom XML document: each element below the root by name
 * (nested ones as `Parent.Child`), its text with CDATA and entities resolved.
 */
export function parseCallbackXml(text: string): Map<string, string> {
  const parser = new Parser(text);
  return parser.document();
}

class Parser {
  readonly #text: string;
  #at = 0;
  #elements = 0;
  readonly #fields = new Map<string, string>();

  constructor(text: string) {
    this.#text = text;
  }

  document(): Map<string, string> {
    this.#skipSpace();
    if (this.#text.startsWith('<?xml', this.#at)) {
      const end = this.#text.indexOf('?>', this.#at);
      if (end < 0) throw new CallbackXmlError('the XML declaration does not end');
      this.#at = end + 2;
      this.#skipSpace();
    }
    const root = this.#openTag();
    if (root !== 'xml') throw new CallbackXmlError(`the root element is <${root}>, not <xml>`);
    this.#children('xml', '', 1);
    this.#skipSpace();
    if (this.#at !== this.#text.length) throw new CallbackXmlError('content follows the root element');
    return this.#fields;
  }

  /** Reads the content of `name` up to its end tag: text, or child elements (stored under `prefix`). */
  #children(name: string, prefix: string, depth: number): string | undefined {
    let text = '';
    let hasChildren = false;
    for (;;) {
      if (this.#at >= this.#text.length) throw new CallbackXmlError(`<${name}> does not end`);
      if (this.#text.startsWith('<![CDATA[', this.#at)) {
        const end = this.#text.indexOf(']]>', this.#at);
        if (end < 0) throw new CallbackXmlError('a CDATA section does not end');
        text += this.#text.slice(this.#at + 9, end);
        this.#at = end + 3;
      } else if (this.#text.startsWith('</', this.#at)) {
        this.#at += 2;
        const closing = this.#name();
        if (closing !== name || this.#text[this.#at] !== '>') throw new CallbackXmlError(`<${name}> is closed by </${closing}>`);
        this.#at++;
        if (hasChildren && text.trim() !== '') throw new CallbackXmlError(`<${name}> mixes text and elements`);
        return hasChildren ? undefined : text;
      } else if (this.#text[this.#at] === '<') {
        if (depth >= MAX_DEPTH) throw new CallbackXmlError(`elements nest deeper than ${MAX_DEPTH}`);
        const child = this.#openTag();
        hasChildren = true;
        const path = `${prefix}${child}`;
        const value = this.#children(child, `${path}.`, depth + 1);
        if (value !== undefined) {
          if (this.#fields.has(path)) throw new CallbackXmlError(`<${child}> appears twice`);
          this.#fields.set(path, value);
        }
      } else {
        const next = this.#text.indexOf('<', this.#at);
        const end = next < 0 ? this.#text.length : next;
        text += decodeEntities(this.#text.slice(this.#at, end));
        this.#at = end;
      }
    }
  }

  /** Reads `<name>` (no attributes, not self-closing) and returns the name. */
  #openTag(): string {
    if (this.#text[this.#at] !== '<') throw new CallbackXmlError('an element was expected');
    if (this.#text.startsWith('<!', this.#at) || this.#text.startsWith('<?', this.#at)) throw new CallbackXmlError('declarations, comments and processing instructions are not allowed');
    if (++this.#elements > MAX_ELEMENTS) throw new CallbackXmlError(`more than ${MAX_ELEMENTS} elements`);
    this.#at++;
    const name = this.#name();
    if (this.#text[this.#at] !== '>') throw new CallbackXmlError(`<${name}> has attributes or does not end`);
    this.#at++;
    return name;
  }

  #name(): string {
    const match = NAME.exec(this.#text.slice(this.#at, this.#at + 128));
    if (!match) throw new CallbackXmlError('an element name was expected');
    this.#at += match[0].length;
    return match[0];
  }

  #skipSpace(): void {
    while (this.#at < this.#text.length && /\s/.test(this.#text[this.#at]!)) this.#at++;
  }
}

function decodeEntities(text: string): string {
  return text.replace(/&([^;]{0,10});|&/g, (whole, entity: string | undefined) => {
    if (entity === undefined) throw new CallbackXmlError('a bare & in text');
    const named = ENTITIES[entity];
    if (named !== undefined) return named;
    const code = /^#x([0-9a-fA-F]{1,6})$/.exec(entity)?.[1] ?? /^#([0-9]{1,7})$/.exec(entity)?.[1];
    const point = code === undefined ? Number.NaN : Number.parseInt(code, entity.startsWith('#x') ? 16 : 10);
    if (!Number.isInteger(point) || point > 0x10ffff) throw new CallbackXmlError(`the entity ${whole} is not allowed`);
    return String.fromCodePoint(point);
  });
}
