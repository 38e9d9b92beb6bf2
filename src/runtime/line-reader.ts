const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/**
 * Splits a byte stream into its lines, each decoded as UTF-8 once. Lines are cut at the newline byte, which
 * never occurs inside a multi-byte character, so a character split over two chunks is whole by the time its
 * line is decoded. A line that lies in one chunk is decoded where it lies; one split over chunks is joined once.
 */
export class LineReader {
  readonly #onLine: (line: string) => void;
  /** The start of a line that has not ended yet: the chunks it came in. */
  #partial: Buffer[] = [];

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  /** Reads a chunk: calls `onLine` for each line it ends, and keeps the start of the next. */
  push(chunk: Buffer): void {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE);
    while (newline !== -1) {
      if (this.#partial.length > 0) {
        this.#partial.push(chunk.subarray(0, newline));
        this.#flush();
      } else {
        this.#emit(chunk, start, newline);
      }
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) this.#partial.push(chunk.subarray(start));
  }

  /** The stream has ended: its last line, if it had no newline, is a line too. */
  end(): void {
    if (this.#partial.length > 0) this.#flush();
  }

  #flush(): void {
    const joined = Buffer.concat(this.#partial);
    this.#partial = [];
    this.#emit(joined, 0, joined.length);
  }

  #emit(bytes: Buffer, start: number, end: number): void {
    // A line may end in "\r\n"; a blank line carries nothing.
    if (end > start && bytes[end - 1] === CARRIAGE_RETURN) end--;
    if (end > start) this.#onLine(bytes.toString('utf8', start, end));
  }
}
