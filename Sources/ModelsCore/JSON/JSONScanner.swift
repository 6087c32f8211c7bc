// SPDX-License-Identifier: Apache-2.0
/// A single-pass, allocation-free, validating JSON scanner: says whether bytes
/// are one JSON text and where the values of chosen top-level members are,
/// without building anything.
///
/// It exists for the stream hot path: `json_loadb` + `json_decref` of a
/// 174-byte `chat.completion.chunk` costs ~3.7 µs (95 % of a chunk's cost),
/// while a chunk usually only has to be *checked* and passed on unchanged.
/// This scan of the same chunk takes ~0.2 µs in a release build
/// (`bench/scanner_bench.swift`).
///
/// It accepts what jansson 2.14's `json_loadb(..., JSON_DECODE_ANY)` accepts
/// (without `JSON_ALLOW_NUL`; checked by a differential fuzz test in
/// `JSONScannerTests`), bar the one difference below:
/// - RFC 8259: exactly one value of any kind, with optional whitespace
///   (space, tab, LF, CR) around it; `true`, `false`, `null`; numbers per the
///   grammar (no leading zeros, no `+`, no `.5`, no `1.`, exponents allowed);
/// - strings: no raw byte below 0x20; only the escapes `\" \\ \/ \b \f \n \r
///   \t \uXXXX`; a `\u` high surrogate must be followed by a `\u` low
///   surrogate, and a lone low surrogate is an error; `\u0000` is rejected
///   (jansson refuses NUL without `JSON_ALLOW_NUL`, in keys and values);
/// - UTF-8 (anywhere, though outside strings any non-ASCII byte is an error
///   anyway): no overlong forms, no encoded surrogates (U+D800..U+DFFF), nothing
///   above U+10FFFF, no truncated sequence;
/// - depth: jansson counts every value, scalars included, and refuses a value
///   nested in 2048 or more containers (2048 nested `[]` are fine, 2048 `[`
///   around a `1` are not);
/// - numbers jansson cannot represent are rejected as jansson rejects them: an
///   integer (no `.`, no exponent) outside Int64, and a real whose value
///   overflows a Double (`1e400`, `1.8e308`; an underflow such as `1e-400` is
///   accepted, as strtod gives 0 or a subnormal). The rare real whose leading
///   digit sits at 10^308 is settled by converting its text with the standard
///   library (correctly rounded like strtod): the only path that allocates.
///
/// One known difference, on purpose: jansson 2.14 drops a single NUL byte read
/// right after a number or a literal (it pushes its lookahead byte back into a
/// buffer where NUL means "empty"), so it accepts `[1\0]` and `{"a":true\0}`.
/// The scanner rejects every raw NUL byte: such a chunk would reach C callers
/// cut short by its NUL. The differential test excludes that class alone.
///
/// Duplicate keys are allowed (jansson keeps the last value): the range
/// reported for a key is its last occurrence, the one `json_object_get` sees,
/// and `hasDuplicateKey` tells a caller that edits the text that there are others.
///
/// Keys are compared on their raw bytes between the quotes: a key spelled with
/// escapes (`"us\u0061ge"`) does not match `usage`. So that a caller can still
/// behave exactly like jansson, the result says whether any top-level key
/// contained a backslash (`topLevelKeyHasEscape`); the caller then falls back
/// to a full parse.
package struct JSONScanner: @unchecked Sendable { // its pointers are to static strings
    /// jansson's `JSON_PARSER_MAX_DEPTH`.
    static let maxDepth = 2048
    /// How many keys one scanner can look for (the result holds that many ranges).
    static let maxKeys = 4

    private typealias Key = (start: UnsafeRawPointer?, count: Int)
    private var keys: (Key, Key, Key, Key) = ((nil, 0), (nil, 0), (nil, 0), (nil, 0))
    private var keyCount = 0

    /// Looks for the top-level members `keys` (at most `maxKeys`; static strings,
    /// so their bytes outlive the scanner and no copy is needed).
    package init(keys: StaticString...) {
        precondition(keys.count <= Self.maxKeys, "JSONScanner looks for at most \(Self.maxKeys) keys")
        for (index, key) in keys.enumerated() {
            let entry: Key = (UnsafeRawPointer(key.utf8Start), key.utf8CodeUnitCount)
            switch index {
            case 0: self.keys.0 = entry
            case 1: self.keys.1 = entry
            case 2: self.keys.2 = entry
            default: self.keys.3 = entry
            }
        }
        keyCount = keys.count
    }

    /// The kind of the top-level value.
    package enum Kind: UInt8 { case object, array, string, number, boolean, null }

    /// What a scan found. Ranges are byte offsets into the scanned buffer.
    package struct Result {
        /// nil when the bytes are not one valid JSON text.
        package var kind: Kind?
        /// Where the scan stopped: the end of the text when valid, else the
        /// offset of the byte (or the start of the token) that made it invalid.
        var offset = 0
        /// Whether a top-level key contained an escape, so `range(of:)` may have
        /// missed a member spelled with escapes.
        package var topLevelKeyHasEscape = false
        /// Whether a requested key occurs more than once at the top level
        /// (the ranges are then those of its last occurrence).
        package var hasDuplicateKey = false
        /// The deepest nesting of containers seen (1 for `{}` or `[1]`), so a
        /// caller can refuse text nested deeper than `JSON.maxDepth`.
        package var depth = 0
        fileprivate var ranges: (Int, Int, Int, Int, Int, Int, Int, Int) = (-1, -1, -1, -1, -1, -1, -1, -1)
        fileprivate var keyStarts: (Int, Int, Int, Int) = (-1, -1, -1, -1)

        var isValid: Bool { kind != nil }

        /// The bytes of the value of the `index`th key given to the scanner, when
        /// the top level is an object with that member (its last occurrence).
        package func range(of index: Int) -> Range<Int>? {
            let (lower, upper): (Int, Int)
            switch index {
            case 0: (lower, upper) = (ranges.0, ranges.1)
            case 1: (lower, upper) = (ranges.2, ranges.3)
            case 2: (lower, upper) = (ranges.4, ranges.5)
            case 3: (lower, upper) = (ranges.6, ranges.7)
            default: return nil
            }
            return lower < 0 ? nil : lower..<upper
        }

        /// The whole member of the `index`th key, `"key": value`: from the key's
        /// opening quote to the end of the value (its last occurrence).
        package func memberRange(of index: Int) -> Range<Int>? {
            guard let value = range(of: index) else { return nil }
            let start: Int
            switch index {
            case 0: start = keyStarts.0
            case 1: start = keyStarts.1
            case 2: start = keyStarts.2
            default: start = keyStarts.3
            }
            return start..<value.upperBound
        }

        fileprivate mutating func setRange(_ index: Int, key: Int, _ lower: Int, _ upper: Int) {
            if range(of: index) != nil { hasDuplicateKey = true }
            switch index {
            case 0: (keyStarts.0, ranges.0, ranges.1) = (key, lower, upper)
            case 1: (keyStarts.1, ranges.2, ranges.3) = (key, lower, upper)
            case 2: (keyStarts.2, ranges.4, ranges.5) = (key, lower, upper)
            default: (keyStarts.3, ranges.6, ranges.7) = (key, lower, upper)
            }
        }
    }

    package func scan(_ bytes: UnsafeRawBufferPointer) -> Result {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return Result() }
        // One bit per open container (1 = object): 2048 bits on the stack.
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Self.maxDepth / 64) { stack in
            var cursor = Cursor(p: base, n: bytes.count, stack: stack.baseAddress!)
            return cursor.run(self)
        }
    }

    /// Where `bytes` first open a container `limit + 1` levels deep, or nil when
    /// they never do. Only brackets outside strings count; nothing else is
    /// checked (a parse that follows does that), so this runs before any
    /// recursive parser sees text from outside, in one pass and no memory.
    static func offsetBeyondDepth(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Int? {
        var depth = 0, inString = false, escaped = false
        for (i, c) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false } else if c == backslash { escaped = true } else if c == quote { inString = false }
                continue
            }
            switch c {
            case quote: inString = true
            case openBrace, openBracket:
                depth += 1
                if depth > limit { return i }
            case closeBrace, closeBracket: if depth > 0 { depth -= 1 }
            default: break
            }
        }
        return nil
    }

    /// Index of the requested key equal to `p[start..<end]`, or -1.
    @inline(__always)
    fileprivate func match(_ p: UnsafeRawPointer, _ start: Int, _ end: Int) -> Int {
        let count = end - start
        @inline(__always) func equal(_ key: Key) -> Bool {
            guard key.count == count, let k = key.start else { return false }
            var j = 0
            while j < count {
                if k.load(fromByteOffset: j, as: UInt8.self) != p.load(fromByteOffset: start + j, as: UInt8.self) { return false }
                j += 1
            }
            return true
        }
        if keyCount > 0 && equal(keys.0) { return 0 }
        if keyCount > 1 && equal(keys.1) { return 1 }
        if keyCount > 2 && equal(keys.2) { return 2 }
        if keyCount > 3 && equal(keys.3) { return 3 }
        return -1
    }
}

private let quote: UInt8 = 0x22, backslash: UInt8 = 0x5C, colon: UInt8 = 0x3A, comma: UInt8 = 0x2C
private let openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D, openBracket: UInt8 = 0x5B, closeBracket: UInt8 = 0x5D
private let zero: UInt8 = 0x30, nine: UInt8 = 0x39, minus: UInt8 = 0x2D, plus: UInt8 = 0x2B, dot: UInt8 = 0x2E

/// The scan's state: a position in the bytes and the container stack. Every
/// step returns false on the first invalid byte, leaving `i` there.
private struct Cursor {
    let p: UnsafeRawPointer
    let n: Int
    let stack: UnsafeMutablePointer<UInt64>
    var i = 0
    var depth = 0
    var deepest = 0

    init(p: UnsafeRawPointer, n: Int, stack: UnsafeMutablePointer<UInt64>) {
        self.p = p
        self.n = n
        self.stack = stack
    }

    @inline(__always) func byte(_ at: Int) -> UInt8 { p.load(fromByteOffset: at, as: UInt8.self) }

    @inline(__always) mutating func skipWhitespace() {
        while i < n {
            let c = byte(i)
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    @inline(__always) mutating func push(object: Bool) {
        let word = depth >> 6, bit = UInt64(1) << UInt64(depth & 63)
        if object { stack[word] |= bit } else { stack[word] &= ~bit }
        depth += 1
        if depth > deepest { deepest = depth }
    }

    @inline(__always) func inObject() -> Bool {
        let d = depth - 1
        return stack[d >> 6] & (UInt64(1) << UInt64(d & 63)) != 0
    }

    mutating func run(_ scanner: JSONScanner) -> JSONScanner.Result {
        var result = JSONScanner.Result()
        var pendingKey = -1, memberStart = 0, memberKey = 0
        var kind = JSONScanner.Kind.null
        skipWhitespace()
        value: while true {
            // Expecting a value at i.
            guard i < n, depth < JSONScanner.maxDepth else { return fail(result) }
            let c = byte(i)
            var opened = false
            switch c {
            case openBrace:
                if depth == 0 { kind = .object }
                push(object: true)
                i += 1
                skipWhitespace()
                if i < n && byte(i) == closeBrace {
                    i += 1
                    depth -= 1
                } else {
                    opened = true
                }
            case openBracket:
                if depth == 0 { kind = .array }
                push(object: false)
                i += 1
                skipWhitespace()
                if i < n && byte(i) == closeBracket {
                    i += 1
                    depth -= 1
                } else {
                    continue value
                }
            case quote:
                if depth == 0 { kind = .string }
                i += 1
                var escaped = false
                guard string(&escaped) else { return fail(result) }
            case minus, zero...nine:
                if depth == 0 { kind = .number }
                guard number() else { return fail(result) }
            case 0x74: // t
                if depth == 0 { kind = .boolean }
                guard literal(0x72, 0x75, 0x65) else { return fail(result) }
            case 0x66: // f
                if depth == 0 { kind = .boolean }
                guard i + 5 <= n, byte(i + 1) == 0x61 else { return fail(result) }
                i += 1
                guard literal(0x6C, 0x73, 0x65) else { return fail(result) }
            case 0x6E: // n
                if depth == 0 { kind = .null }
                guard literal(0x75, 0x6C, 0x6C) else { return fail(result) }
            default:
                return fail(result)
            }
            // After a value: close containers until one expects more.
            while true {
                if opened {
                    // A non-empty object was just opened: its first member follows.
                    opened = false
                } else {
                    if depth == 1 && pendingKey >= 0 {
                        result.setRange(pendingKey, key: memberKey, memberStart, i)
                        pendingKey = -1
                    }
                    if depth == 0 {
                        skipWhitespace()
                        guard i == n else { return fail(result) }
                        result.kind = kind
                        result.offset = i
                        result.depth = deepest
                        return result
                    }
                    skipWhitespace()
                    guard i < n else { return fail(result) }
                    let c = byte(i)
                    if inObject() {
                        if c == closeBrace { i += 1; depth -= 1; continue }
                        guard c == comma else { return fail(result) }
                    } else {
                        if c == closeBracket { i += 1; depth -= 1; continue }
                        guard c == comma else { return fail(result) }
                        i += 1
                        skipWhitespace()
                        continue value
                    }
                    i += 1
                    skipWhitespace()
                }
                // A member of an object: "key" : value
                guard i < n, byte(i) == quote else { return fail(result) }
                i += 1
                let keyStart = i
                var escaped = false
                guard string(&escaped) else { return fail(result) }
                if depth == 1 {
                    if escaped {
                        result.topLevelKeyHasEscape = true
                    } else {
                        pendingKey = scanner.match(p, keyStart, i - 1)
                        memberKey = keyStart - 1
                    }
                }
                skipWhitespace()
                guard i < n, byte(i) == colon else { return fail(result) }
                i += 1
                skipWhitespace()
                if depth == 1 { memberStart = i }
                continue value
            }
        }
    }

    func fail(_ result: JSONScanner.Result) -> JSONScanner.Result {
        var result = result
        result.kind = nil
        result.offset = i
        result.depth = deepest
        return result
    }

    /// The rest of a literal whose first byte is at i.
    @inline(__always) mutating func literal(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool {
        guard i + 4 <= n, byte(i + 1) == a, byte(i + 2) == b, byte(i + 3) == c else { return false }
        i += 4
        return true
    }

    /// A string's contents from i (just after the opening quote) to just after
    /// the closing quote. `escaped` is set when it contains a backslash.
    @inline(__always) mutating func string(_ escaped: inout Bool) -> Bool {
        while i < n {
            let c = byte(i)
            if c >= 0x20 && c < 0x80 {
                if c == quote { i += 1; return true }
                if c == backslash {
                    escaped = true
                    guard escape() else { return false }
                } else {
                    i += 1
                }
            } else if c < 0x20 {
                return false
            } else {
                guard utf8(c) else { return false }
            }
        }
        return false
    }

    /// One escape sequence, the backslash at i.
    mutating func escape() -> Bool {
        guard i + 1 < n else { return false }
        switch byte(i + 1) {
        case quote, backslash, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: // " \ / b f n r t
            i += 2
            return true
        case 0x75: // u
            let v = hex4(i + 2)
            guard v > 0 else { return false } // invalid, or \u0000
            i += 6
            if v >= 0xDC00 && v <= 0xDFFF { return false } // lone low surrogate
            if v >= 0xD800 && v <= 0xDBFF {
                guard i + 1 < n, byte(i) == backslash, byte(i + 1) == 0x75 else { return false }
                let low = hex4(i + 2)
                guard low >= 0xDC00 && low <= 0xDFFF else { return false }
                i += 6
            }
            return true
        default:
            return false
        }
    }

    /// The value of four hex digits at `at`, or -1.
    @inline(__always) func hex4(_ at: Int) -> Int {
        guard at + 4 <= n else { return -1 }
        var v = 0
        for j in at..<at + 4 {
            let c = byte(j)
            let d: UInt8
            switch c {
            case zero...nine: d = c &- zero
            case 0x41...0x46: d = c &- 0x41 &+ 10
            case 0x61...0x66: d = c &- 0x61 &+ 10
            default: return -1
            }
            v = v << 4 | Int(d)
        }
        return v
    }

    /// One multi-byte UTF-8 sequence whose lead byte `c` (>= 0x80) is at i
    /// (the well-formed byte sequences of Unicode's table 3-7).
    mutating func utf8(_ c: UInt8) -> Bool {
        @inline(__always) func continuation(_ at: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            at < n && byte(at) >= low && byte(at) <= high
        }
        switch c {
        case 0xC2...0xDF:
            guard continuation(i + 1) else { return false }
            i += 2
        case 0xE0...0xEF:
            let low: UInt8 = c == 0xE0 ? 0xA0 : 0x80, high: UInt8 = c == 0xED ? 0x9F : 0xBF
            guard continuation(i + 1, low, high), continuation(i + 2) else { return false }
            i += 3
        case 0xF0...0xF4:
            let low: UInt8 = c == 0xF0 ? 0x90 : 0x80, high: UInt8 = c == 0xF4 ? 0x8F : 0xBF
            guard continuation(i + 1, low, high), continuation(i + 2), continuation(i + 3) else { return false }
            i += 4
        default:
            return false
        }
        return true
    }

    /// A number starting at i ('-' or a digit), with jansson's range checks.
    mutating func number() -> Bool {
        let start = i
        var negative = false
        if byte(i) == minus {
            negative = true
            i += 1
        }
        let integerStart = i
        guard i < n else { return false }
        let first = byte(i)
        if first == zero {
            i += 1
        } else if first > zero && first <= nine {
            i += 1
            while i < n && byte(i) >= zero && byte(i) <= nine { i += 1 }
        } else {
            return false
        }
        let integerDigits = i - integerStart
        var isReal = false
        var fractionStart = -1
        if i < n && byte(i) == dot {
            i += 1
            fractionStart = i
            guard i < n, byte(i) >= zero, byte(i) <= nine else { return false }
            while i < n && byte(i) >= zero && byte(i) <= nine { i += 1 }
            isReal = true
        }
        let fractionEnd = i
        var exponent = 0
        if i < n && (byte(i) == 0x65 || byte(i) == 0x45) { // e E
            i += 1
            var negativeExponent = false
            if i < n && (byte(i) == plus || byte(i) == minus) {
                negativeExponent = byte(i) == minus
                i += 1
            }
            guard i < n, byte(i) >= zero, byte(i) <= nine else { return false }
            while i < n && byte(i) >= zero && byte(i) <= nine {
                if exponent < 1 << 40 { exponent = exponent * 10 + Int(byte(i) - zero) } // saturates: far beyond any double
                i += 1
            }
            if negativeExponent { exponent = -exponent }
            isReal = true
        }
        if !isReal {
            // jansson stores integers in Int64 (strtoll) and rejects what overflows.
            if integerDigits < 19 { return true }
            if integerDigits > 19 { return false }
            let limit: StaticString = negative ? "9223372036854775808" : "9223372036854775807"
            let l = UnsafeRawPointer(limit.utf8Start)
            for j in 0..<19 {
                let a = byte(integerStart + j), b = l.load(fromByteOffset: j, as: UInt8.self)
                if a != b { return a < b }
            }
            return true
        }
        // A real overflows (strtod gives HUGE_VAL, jansson rejects it) when it
        // rounds above Double.greatestFiniteMagnitude (1.797...e308). Its leading
        // significant digit stands at 10^lead: below 308 it is finite, at 309 or
        // more it is not, at 308 it depends on the digits.
        if exponent == 0 && integerDigits <= 308 { return true }
        var lead: Int
        if first != zero {
            lead = integerDigits - 1
        } else {
            guard fractionStart >= 0 else { return true } // 0eN
            var k = fractionStart
            while k < fractionEnd && byte(k) == zero { k += 1 }
            if k == fractionEnd { return true } // zero
            lead = fractionStart - k - 1
        }
        lead += exponent
        if lead < 308 { return true }
        if lead > 308 { return false }
        let text = String(decoding: UnsafeRawBufferPointer(start: p + start, count: i - start), as: UTF8.self)
        guard let value = Double(text) else { return false }
        return value.isFinite
    }
}
