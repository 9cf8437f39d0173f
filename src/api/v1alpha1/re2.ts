/**
 * Offline twin of the API server's regular-expression check. The server compiles an event trigger's `reason` with
 * CEL's `matches()`, i.e. Go's `regexp` package (RE2 syntax); JavaScript's RegExp accepts a different language
 * (look-around, back-references, `\u` escapes) and rejects some RE2 forms (`(?i)`, `(?P<name>`, `\z`), so
 * `new RegExp()` cannot give the same verdict. This is a small parser of Go's syntax that accepts exactly what
 * `regexp.Compile` accepts for the patterns a policy can hold (at most 256 characters), and explains a refusal
 * with Go's own wording. Its tests compare it with Go's verdicts.
 */

/** A syntax error found in a pattern, worded as Go's regexp package words it. */
export interface Re2SyntaxError {
  readonly message: string;
}

/** Go's repetition limit: no counted repeat (alone or nested) may exceed 1000. */
const MAX_REPEAT = 1000;

const POSIX_CLASSES = new Set([
  'alnum',
  'alpha',
  'ascii',
  'blank',
  'cntrl',
  'digit',
  'graph',
  'lower',
  'print',
  'punct',
  'space',
  'upper',
  'word',
  'xdigit',
]);

/**
 * Go's Unicode class names (Go 1.26, Unicode 15): general categories, their long aliases, and scripts. Go looks
 * names up loosely (see canonicalName), which is why `\p{greek}` and `\p{uppercase letter}` compile.
 */
const GO_CATEGORIES =
  'C Cc Cf Cn Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs';
/** Go's category aliases (unicode.CategoryAliases) and the category each stands for. */
const GO_CATEGORY_ALIASES: Readonly<Record<string, string>> = {
  Cased_Letter: 'LC', Close_Punctuation: 'Pe', Combining_Mark: 'M', Connector_Punctuation: 'Pc', Control: 'Cc',
  Currency_Symbol: 'Sc', Dash_Punctuation: 'Pd', Decimal_Number: 'Nd', Enclosing_Mark: 'Me', Final_Punctuation: 'Pf',
  Format: 'Cf', Initial_Punctuation: 'Pi', Letter: 'L', Letter_Number: 'Nl', Line_Separator: 'Zl',
  Lowercase_Letter: 'Ll', Mark: 'M', Math_Symbol: 'Sm', Modifier_Letter: 'Lm', Modifier_Symbol: 'Sk',
  Nonspacing_Mark: 'Mn', Number: 'N', Open_Punctuation: 'Ps', Other: 'C', Other_Letter: 'Lo', Other_Number: 'No',
  Other_Punctuation: 'Po', Other_Symbol: 'So', Paragraph_Separator: 'Zp', Private_Use: 'Co', Punctuation: 'P',
  Separator: 'Z', Space_Separator: 'Zs', Spacing_Mark: 'Mc', Surrogate: 'Cs', Symbol: 'S', Titlecase_Letter: 'Lt',
  Unassigned: 'Cn', Uppercase_Letter: 'Lu', cntrl: 'Cc', digit: 'Nd', punct: 'P',
};
const GO_SCRIPTS =
  'Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali Bhaiksuki ' +
  'Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham Cherokee ' +
  'Chorasmian Common Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru Dogra Duployan ' +
  'Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi ' +
  'Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inherited ' +
  'Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li Kharoshthi ' +
  'Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani ' +
  'Makasar Malayalam Mandaic Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui ' +
  'Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari ' +
  'New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian ' +
  'Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya Osage Osmanya Pahawh_Hmong ' +
  'Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian ' +
  'Siddham SignWriting Sinhala Sogdian Sora_Sompeng Soyombo Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le ' +
  'Tai_Tham Tai_Viet Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai ' +
  'Vithkuqi Wancho Warang_Citi Yezidi Yi Zanabazar_Square';

/** Go's canonicalName: drops '_', '-' and ' ', upper-cases the first letter and lower-cases the rest. */
function canonicalName(name: string): string {
  let out = '';
  for (const c of name) {
    if (c === '_' || c === '-' || c === ' ') continue;
    // ASCII only, as Go changes the case of ASCII letters only.
    const ascii = /^[A-Za-z]$/.test(c);
    out += !ascii ? c : out === '' ? c.toUpperCase() : c.toLowerCase();
  }
  return out;
}

/**
 * How a Unicode class Go knows is spelled for RE2's strict lookup (re2js): a class name, or — for Go's special
 * classes that RE2 does not name — a range. Keyed by Go's canonical name.
 */
type ClassSpelling = { readonly name: string } | { readonly ascii: true } | { readonly assigned: true };

let unicodeClasses: Map<string, ClassSpelling> | undefined;

/** The class Go finds for `name` (after Go's loose name matching), or undefined when Go knows none. */
function unicodeClass(name: string): ClassSpelling | undefined {
  if (unicodeClasses === undefined) {
    // Go looks the canonical name up in maps keyed by the raw names: a category or script whose raw name is
    // not canonical ("Old_Italic", "LC") is found only through an alias or a special case, exactly as here.
    const m = new Map<string, ClassSpelling>();
    for (const n of [...GO_CATEGORIES.split(' '), ...GO_SCRIPTS.split(' ')]) if (canonicalName(n) === n) m.set(n, { name: n });
    for (const [alias, category] of Object.entries(GO_CATEGORY_ALIASES)) m.set(canonicalName(alias), { name: category });
    m.set('Any', { name: 'Any' });
    m.set('Lc', { name: 'LC' });
    m.set('Ascii', { ascii: true });
    m.set('Assigned', { assigned: true });
    unicodeClasses = m;
  }
  return unicodeClasses.get(canonicalName(name));
}

/** `cls` spelled for re2js: inside a character class (`inClass`) as class content, else as a whole atom. */
function spellClass(cls: ClassSpelling, negated: boolean, inClass: boolean): string {
  if ('name' in cls) return `\\${negated ? 'P' : 'p'}{${cls.name}}`;
  // Assigned is everything but the unassigned code points (Cn).
  if ('assigned' in cls) return `\\${negated ? 'p' : 'P'}{Cn}`;
  if (inClass) return negated ? '\\x{80}-\\x{10FFFF}' : '\\x00-\\x7F';
  return negated ? '[^\\x00-\\x7F]' : '[\\x00-\\x7F]';
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isOctal = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9A-Fa-f]$/.test(c);
const isAlnum = (c: string): boolean => /^[0-9A-Za-z]$/.test(c);
const isWordName = (s: string): boolean => /^[0-9A-Za-z_]+$/.test(s);

/** A parsed piece of the pattern, only as much structure as the repeat-size check needs. */
interface Node {
  /** Counted repeat `{min,max}` (max -1: unbounded), or undefined for anything else. */
  readonly repeat?: { min: number; max: number };
  readonly subs: Node[];
  /** Parentheses and `|` are markers on the parse stack, not operands a repetition may apply to. */
  readonly pseudo?: 'paren' | 'bar';
}

/** Go's repeatIsValid: the product of nested counted repeats must stay within 1000. */
function repeatIsValid(node: Node, n: number): boolean {
  let limit = n;
  if (node.repeat) {
    let m = node.repeat.max;
    if (m === 0) return true;
    if (m < 0) m = node.repeat.min;
    if (m > limit) return false;
    if (m > 0) limit = Math.floor(limit / m);
  }
  return node.subs.every((s) => repeatIsValid(s, limit));
}

class SyntaxFailure extends Error {}

/** A span of the pattern (code-point indexes, end exclusive) to be spelled differently for re2js. */
interface Rewrite {
  readonly from: number;
  readonly to: number;
  readonly text: string;
}

class Parser {
  private pos = 0;
  private readonly chars: string[];
  /** Where Go's spelling differs from what re2js compiles, in pattern order (see re2jsSource). */
  readonly rewrites: Rewrite[] = [];

  constructor(private readonly pattern: string) {
    this.chars = [...pattern];
  }

  private fail(what: string, text: string): never {
    throw new SyntaxFailure(`error parsing regexp: ${what}: \`${text}\``);
  }

  private peek(offset = 0): string | undefined {
    return this.chars[this.pos + offset];
  }

  private rest(from = this.pos): string {
    return this.chars.slice(from).join('');
  }

  private slice(from: number, to = this.pos): string {
    return this.chars.slice(from, to).join('');
  }

  /** Parses the whole pattern; throws SyntaxFailure with Go's message on the first error. */
  parse(): void {
    // The stack mirrors Go's parser: operands, plus paren and bar markers.
    const stack: Node[] = [];
    const groups: number[] = [];
    let lastRepeat = '';
    while (this.pos < this.chars.length) {
      let repeat = '';
      const start = this.pos;
      const c = this.chars[this.pos]!;
      switch (c) {
        case '(': {
          if (this.peek(1) === '?') {
            const opened = this.parsePerlFlags();
            if (opened) {
              groups.push(stack.length);
              stack.push({ subs: [], pseudo: 'paren' });
            }
            break;
          }
          this.pos++;
          groups.push(stack.length);
          stack.push({ subs: [], pseudo: 'paren' });
          break;
        }
        case '|':
          this.pos++;
          stack.push({ subs: [], pseudo: 'bar' });
          break;
        case ')': {
          const open = groups.pop();
          if (open === undefined) this.fail('unexpected )', this.pattern);
          this.pos++;
          const inner = stack.splice(open).filter((n) => n.pseudo === undefined);
          stack.push({ subs: inner });
          break;
        }
        case '[':
          this.parseClass();
          stack.push({ subs: [] });
          break;
        case '*':
        case '+':
        case '?': {
          this.pos++;
          repeat = this.applyRepeat(stack, start, lastRepeat, undefined);
          break;
        }
        case '{': {
          const counted = this.parseRepeatCount();
          if (counted === undefined) {
            // Not a well-formed {n,m}: Go reads the brace as a literal.
            this.pos++;
            stack.push({ subs: [] });
            break;
          }
          const { min, max } = counted;
          if (min < 0 || min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
            this.fail('invalid repeat count', this.slice(start));
          }
          repeat = this.applyRepeat(stack, start, lastRepeat, counted);
          break;
        }
        case '\\':
          this.parseEscapeOutsideClass(stack);
          break;
        default:
          // Literals, '.', '^' and '$' are all operands a repetition may apply to.
          this.pos++;
          stack.push({ subs: [] });
      }
      lastRepeat = repeat;
    }
    if (groups.length > 0) this.fail('missing closing )', this.pattern);
  }

  /** Consumes an optional lazy '?', checks the operand and nesting, and returns the operator text (for messages). */
  private applyRepeat(stack: Node[], start: number, lastRepeat: string, counted: { min: number; max: number } | undefined): string {
    const before = this.rest(start);
    if (this.peek() === '?') this.pos++;
    if (lastRepeat !== '') {
      this.fail('invalid nested repetition operator', lastRepeat.slice(0, lastRepeat.length - this.rest().length));
    }
    const top = stack[stack.length - 1];
    if (top === undefined || top.pseudo !== undefined) this.fail('missing argument to repetition operator', this.slice(start));
    const node: Node = counted ? { repeat: counted, subs: [top] } : { subs: [top] };
    stack[stack.length - 1] = node;
    if (counted && (counted.min >= 2 || counted.max >= 2) && !repeatIsValid(node, MAX_REPEAT)) {
      this.fail('invalid repeat count', this.slice(start));
    }
    return before;
  }

  /** Go's parseInt for repeat counts: no leading zeros; 8 digits or more count as too large (-1). */
  private parseInt(): number | undefined {
    const start = this.pos;
    if (!isDigit(this.peek())) return undefined;
    if (this.peek() === '0' && isDigit(this.peek(1))) return undefined;
    while (isDigit(this.peek())) this.pos++;
    const digits = this.slice(start);
    return digits.length >= 8 ? -1 : Number(digits);
  }

  /** Parses `{n}`, `{n,}` or `{n,m}` at the cursor; undefined (cursor unchanged) when it is not one. */
  private parseRepeatCount(): { min: number; max: number } | undefined {
    const save = this.pos;
    this.pos++;
    const min = this.parseInt();
    if (min === undefined) {
      this.pos = save;
      return undefined;
    }
    let max = min;
    if (this.peek() === ',') {
      this.pos++;
      if (this.peek() === '}') max = -1;
      else {
        const m = this.parseInt();
        if (m === undefined) {
          this.pos = save;
          return undefined;
        }
        max = m;
      }
    }
    if (this.peek() !== '}') {
      this.pos = save;
      return undefined;
    }
    this.pos++;
    return { min, max };
  }

  /** `(?…`: flags, named captures or a non-capturing group. Returns true when a group was opened. */
  private parsePerlFlags(): boolean {
    const start = this.pos;
    const t = this.rest();
    if (t.startsWith('(?P<') || t.startsWith('(?<')) {
      const nameStart = t.startsWith('(?P<') ? 4 : 3;
      const end = t.indexOf('>');
      if (end < 0) this.fail('invalid named capture', t);
      const name = t.slice(nameStart, end);
      if (!isWordName(name)) this.fail('invalid named capture', t.slice(0, end + 1));
      this.pos = start + [...t.slice(0, end + 1)].length;
      // Matching needs no captures, and re2js refuses a repeated name that Go accepts: a plain group is the same.
      this.rewrites.push({ from: start, to: this.pos, text: '(' });
      return true;
    }
    this.pos += 2;
    let sign = 1;
    let sawFlag = false;
    for (;;) {
      const c = this.peek();
      if (c === undefined) break;
      this.pos++;
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        sawFlag = true;
        continue;
      }
      if (c === '-') {
        if (sign < 0) break;
        sign = -1;
        sawFlag = false;
        continue;
      }
      if (c === ':' || c === ')') {
        if (sign < 0 && !sawFlag) break;
        return c === ':';
      }
      break;
    }
    return this.fail('invalid or unsupported Perl syntax', this.slice(start));
  }

  /** An escape outside a character class. */
  private parseEscapeOutsideClass(stack: Node[]): void {
    const start = this.pos;
    const next = this.peek(1);
    if (next === 'A' || next === 'b' || next === 'B' || next === 'z') {
      this.pos += 2;
      stack.push({ subs: [] });
      return;
    }
    if (next === 'Q') {
      // Literal text up to \E (or the end).
      const t = this.rest(start + 2);
      const end = t.indexOf('\\E');
      const lit = end < 0 ? t : t.slice(0, end);
      this.pos = start + 2 + [...lit].length + (end < 0 ? 0 : 2);
      for (let i = 0; i < [...lit].length; i++) stack.push({ subs: [] });
      return;
    }
    if (next === 'p' || next === 'P') {
      this.parseUnicodeClass(false);
      stack.push({ subs: [] });
      return;
    }
    if (next !== undefined && 'dDsSwW'.includes(next)) {
      this.pos += 2;
      stack.push({ subs: [] });
      return;
    }
    this.parseEscape();
    stack.push({ subs: [] });
  }

  /** `\pL`, `\p{Greek}`, `\P{^Lu}`; `inClass` when inside `[…]`. */
  private parseUnicodeClass(inClass: boolean): void {
    const start = this.pos;
    let negated = this.peek(1) === 'P';
    this.pos += 2;
    const c = this.peek();
    if (c === undefined) this.fail('invalid character class range', this.slice(start));
    let name: string;
    if (c === '{') {
      const t = this.rest();
      const end = t.indexOf('}');
      if (end < 0) this.fail('invalid character class range', this.rest(start));
      name = t.slice(1, end);
      this.pos += [...t.slice(0, end + 1)].length;
    } else {
      name = c;
      this.pos++;
    }
    if (name.startsWith('^')) {
      name = name.slice(1);
      negated = !negated;
    }
    const cls = unicodeClass(name);
    if (cls === undefined) this.fail('invalid character class range', this.slice(start));
    // Go matches names loosely ("greek", "Uppercase Letter"); re2js knows only the exact names.
    this.rewrites.push({ from: start, to: this.pos, text: spellClass(cls, negated, inClass) });
  }

  /** Go's parseEscape: octal, hex, C escapes and escaped punctuation. Returns the code point. */
  private parseEscape(): number {
    const start = this.pos;
    this.pos++;
    const c = this.peek();
    if (c === undefined) this.fail('trailing backslash at end of expression', '');
    this.pos++;
    if (c >= '1' && c <= '7' && !isOctal(this.peek())) this.fail('invalid escape sequence', this.slice(start));
    if (c >= '0' && c <= '7') {
      let v = Number(c);
      for (let i = 0; i < 2 && isOctal(this.peek()); i++) v = v * 8 + Number(this.chars[this.pos++]);
      return v;
    }
    switch (c) {
      case 'x': {
        if (this.peek() === '{') {
          this.pos++;
          let digits = '';
          while (isHex(this.peek())) digits += this.chars[this.pos++]!;
          if (this.peek() !== '}' || digits === '' || Number.parseInt(digits, 16) > 0x10ffff) {
            this.fail('invalid escape sequence', this.slice(start));
          }
          this.pos++;
          return Number.parseInt(digits, 16);
        }
        if (!isHex(this.peek()) || !isHex(this.peek(1))) this.fail('invalid escape sequence', this.slice(start));
        this.pos += 2;
        return Number.parseInt(this.slice(this.pos - 2), 16);
      }
      case 'a':
        return 7;
      case 'f':
        return 12;
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 't':
        return 9;
      case 'v':
        return 11;
      default:
        if (c.codePointAt(0)! < 0x80 && !isAlnum(c)) return c.codePointAt(0)!;
        return this.fail('invalid escape sequence', this.slice(start));
    }
  }

  /** One character of a class (a literal or an escape); returns its code point. */
  private parseClassChar(classStart: number): number {
    const c = this.peek();
    if (c === undefined) this.fail('missing closing ]', this.rest(classStart));
    if (c === '\\') return this.parseEscape();
    this.pos++;
    return c.codePointAt(0)!;
  }

  /** `[…]`, including `[^…]`, ranges, POSIX `[:alpha:]`, Perl `\d` and Unicode `\pL` classes. */
  private parseClass(): void {
    const classStart = this.pos;
    this.pos++;
    if (this.peek() === '^') this.pos++;
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('missing closing ]', this.rest(classStart));
      if (c === ']' && !first) {
        this.pos++;
        return;
      }
      first = false;
      if (c === '[' && this.peek(1) === ':') {
        const t = this.rest();
        const end = t.indexOf(':]', 2);
        if (end >= 0) {
          const raw = t.slice(2, end);
          const name = raw.startsWith('^') ? raw.slice(1) : raw;
          if (!POSIX_CLASSES.has(name)) this.fail('invalid character class range', t.slice(0, end + 2));
          this.pos += [...t.slice(0, end + 2)].length;
          continue;
        }
      }
      if (c === '\\') {
        const n = this.peek(1);
        if (n === 'p' || n === 'P') {
          this.parseUnicodeClass(true);
          continue;
        }
        if (n !== undefined && 'dDsSwW'.includes(n)) {
          this.pos += 2;
          continue;
        }
      }
      const rangeStart = this.pos;
      const lo = this.parseClassChar(classStart);
      if (this.peek() === '-' && this.peek(1) !== undefined && this.peek(1) !== ']') {
        this.pos++;
        const hi = this.parseClassChar(classStart);
        if (hi < lo) this.fail('invalid character class range', this.slice(rangeStart));
      }
    }
  }
}

/**
 * Checks `pattern` against Go's RE2 syntax (what the API server's CEL `matches()` compiles). Returns undefined
 * when Go would compile it, or the error Go would report. Never throws.
 */
export function re2SyntaxError(pattern: string): Re2SyntaxError | undefined {
  const parsed = parse(pattern);
  return 'error' in parsed ? parsed.error : undefined;
}

function parse(pattern: string): { parser: Parser } | { error: Re2SyntaxError } {
  const parser = new Parser(pattern);
  try {
    parser.parse();
    return { parser };
  } catch (e: unknown) {
    if (e instanceof SyntaxFailure) return { error: { message: e.message } };
    // A bug in this parser must not make validation crash; reporting it keeps the verdict conservative.
    return { error: { message: `cannot check this regular expression: ${e instanceof Error ? e.message : String(e)}` } };
  }
}

/**
 * The same language as `pattern` (Go's RE2 syntax, as the API server validated it) spelled for re2js, the
 * linear-time RE2 engine the operator matches with. re2js follows RE2's stricter syntax in two places Go loosened:
 * Unicode class names (Go 1.25 matches them case- and separator-insensitively and knows the long category aliases)
 * and repeated capture names. Both are respelled here; captures become plain groups, since only whether the whole
 * input matches is asked. Returns the syntax error instead when Go would not compile `pattern`. Never throws.
 */
export function re2jsSource(pattern: string): { source: string } | { error: Re2SyntaxError } {
  const parsed = parse(pattern);
  if ('error' in parsed) return parsed;
  const chars = [...pattern];
  let out = '';
  let at = 0;
  for (const r of parsed.parser.rewrites) {
    out += chars.slice(at, r.from).join('') + r.text;
    at = r.to;
  }
  return { source: out + chars.slice(at).join('') };
}
