// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// The scanner must accept exactly what jansson's `json_loadb(JSON_DECODE_ANY)`
/// accepts (the flags `ChunkInspector` uses, bar the top-level kind): every
/// case below is checked against both.
@Suite struct JSONScannerTests {
    static let scanner = JSONScanner(keys: "error", "usage", "choices", "a")

    static func scan(_ bytes: [UInt8]) -> JSONScanner.Result {
        bytes.withUnsafeBytes { scanner.scan($0) }
    }

    /// Not `JSON.parse`: that one passes `JSON_ALLOW_NUL`.
    static func janssonAccepts(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buf in
            let base = buf.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer(bitPattern: 1)
            guard let root = json_loadb(base, buf.count, Int(JSON_DECODE_ANY), nil) else { return false }
            cms_json_decref(root)
            return true
        }
    }

    /// jansson 2.14 drops one NUL byte read just after a number or a literal (its
    /// lookahead byte is pushed back into a buffer where NUL means "empty"), so it
    /// accepts `[1\0]`; the scanner does not (see its doc comment). True when
    /// that explains a disagreement: the same text without its NUL bytes is valid.
    static func isJanssonSwallowedNUL(_ bytes: [UInt8]) -> Bool {
        let trailsTokenEnd = bytes.indices.contains { i in
            bytes[i] == 0 && i > 0 && ((bytes[i - 1] >= 0x30 && bytes[i - 1] <= 0x39) || bytes[i - 1] == 0x65 || bytes[i - 1] == 0x6C)
        }
        return trailsTokenEnd && scan(bytes.filter { $0 != 0 }).isValid
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let valid: [String] = [
        "{}", "[]", " \t\r\n{} \t\r\n", "1", "-0", "0", "0.5", "-0.0e0", "1e5", "1E+5", "1e-5", "12.34E-056",
        "true", "false", "null", #""""#, #""abc""#, #"[1,"a",true,false,null,{},[]]"#,
        #"{"a":1,"b":[{"c":{}}],"d":"x"}"#, #"{ "a" : 1 , "b" : 2 }"#,
        #""\" \\ \/ \b \f \n \r \t""#, #""\u0041\u00e9\uFFFF\uabcd""#, #""\ud83d\ude00""#, #""\uD800\uDC00\uDBFF\uDFFF""#,
        "\"é€😀\u{10FFFF}\u{7F}\"", "\"\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}\"",
        "9223372036854775807", "-9223372036854775808", "123456789012345678", "1.7976931348623157e308",
        "1.7976931348623158e308", "1e-400", "-1e-400", "0e999999999999999999", "0.000e400", "100e306", "10e307",
        "0.0000000001e317", #"{"a":1,"a":2}"#,
    ]

    static let invalid: [(String, [UInt8])] = [
        ("empty", []), ("whitespace only", bytes(" \n")), ("two values", bytes("1 2")), ("trailing comma array", bytes("[1,]")),
        ("trailing comma object", bytes(#"{"a":1,}"#)), ("missing value", bytes(#"{"a":}"#)), ("missing colon", bytes(#"{"a" 1}"#)),
        ("unquoted key", bytes("{a:1}")), ("number key", bytes("{1:1}")), ("unclosed object", bytes(#"{"a":1"#)),
        ("unclosed array", bytes("[1")), ("mismatched close", bytes("[1}")), ("extra close", bytes("{}}")),
        ("single quotes", bytes("'a'")), ("form feed whitespace", bytes("\u{0C}1")), ("NBSP whitespace", bytes("\u{A0}1")),
        ("leading zero", bytes("01")), ("negative leading zero", bytes("-01")), ("plus", bytes("+1")), ("dot first", bytes(".5")),
        ("dot last", bytes("1.")), ("minus only", bytes("-")), ("exponent without digits", bytes("1e")),
        ("exponent sign only", bytes("1e+")), ("dot exponent", bytes("1.e5")), ("hex", bytes("0x10")), ("NaN", bytes("NaN")),
        ("Infinity", bytes("-Infinity")), ("integer too big", bytes("9223372036854775808")),
        ("integer too small", bytes("-9223372036854775809")), ("integer 20 digits", bytes("10000000000000000000")),
        ("real overflow", bytes("1e400")), ("negative real overflow", bytes("-1e400")), ("real overflow at 1.8e308", bytes("1.8e308")),
        ("real overflow just past max", bytes("1.797693134862315808e308")), ("real overflow 309 digits", bytes("1" + String(repeating: "0", count: 309))),
        ("real overflow huge exponent", bytes("1e0000000000000000000000000000309")),
        ("TRUE", bytes("TRUE")), ("tru", bytes("tru")), ("truex", bytes("truex")), ("nul", bytes("nul")), ("fals", bytes("fals")),
        ("unclosed string", bytes(#""abc"#)), ("raw newline in string", bytes("\"a\nb\"")), ("raw tab in string", bytes("\"a\tb\"")),
        ("raw 0x1F in string", [0x22, 0x1F, 0x22]), ("raw NUL in string", [0x22, 0x00, 0x22]), ("raw NUL after value", [0x7B, 0x7D, 0x00]),
        ("bad escape", bytes(#""\x""#)), ("escaped single quote", bytes(#""\'""#)), ("short unicode escape", bytes(#""\u12""#)),
        ("non-hex unicode escape", bytes(#""\u12G4""#)), ("\\u0000", bytes(#""\u0000""#)), ("\\u0000 in key", bytes(#"{"\u0000":1}"#)),
        ("lone high surrogate", bytes(#""\ud800""#)), ("high surrogate then text", bytes(#""\ud800x""#)),
        ("high then high", bytes(#""\ud800\ud800""#)), ("high then non-surrogate", bytes(#""\ud800\u0041""#)),
        ("lone low surrogate", bytes(#""\udc00""#)), ("low then high", bytes(#""\udc00\ud800""#)),
        ("high surrogate then other escape", bytes(#""\ud800\n""#)),
        ("invalid byte 0xFF", [0x22, 0xFF, 0x22]), ("invalid byte 0xF5", [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22]),
        ("lone continuation", [0x22, 0x80, 0x22]), ("overlong 2-byte C0", [0x22, 0xC0, 0xAF, 0x22]),
        ("overlong 2-byte C1", [0x22, 0xC1, 0xBF, 0x22]), ("overlong 3-byte", [0x22, 0xE0, 0x80, 0xAF, 0x22]),
        ("overlong 4-byte", [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22]), ("UTF-8 surrogate D800", [0x22, 0xED, 0xA0, 0x80, 0x22]),
        ("UTF-8 surrogate DFFF", [0x22, 0xED, 0xBF, 0xBF, 0x22]), ("above U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]),
        ("truncated 2-byte", [0x22, 0xC3, 0x22]), ("truncated 3-byte", [0x22, 0xE2, 0x82, 0x22]),
        ("truncated 4-byte", [0x22, 0xF0, 0x9F, 0x98, 0x22]), ("truncated at end", [0x22, 0xF0, 0x9F]),
        ("UTF-8 outside a string", [0x5B, 0xC3, 0xA9, 0x5D]), ("BOM", [0xEF, 0xBB, 0xBF, 0x31]),
        ("comment", bytes("/* */1")),
    ]

    @Test func acceptsValidTexts() {
        for text in Self.valid {
            let bytes = Self.bytes(text)
            #expect(Self.janssonAccepts(bytes), "jansson disagrees with the table: \(text)")
            #expect(Self.scan(bytes).isValid, "rejected: \(text)")
        }
    }

    @Test func rejectsInvalidTexts() {
        for (name, bytes) in Self.invalid {
            #expect(!Self.janssonAccepts(bytes), "jansson disagrees with the table: \(name)")
            #expect(!Self.scan(bytes).isValid, "accepted: \(name)")
        }
    }

    @Test func rejectsANULByteThatJanssonDropsAfterANumber() {
        for bytes: [UInt8] in [[0x31, 0x00], [0x5B, 0x31, 0x00, 0x5D], [0x5B, 0x74, 0x72, 0x75, 0x65, 0x00, 0x5D]] {
            #expect(Self.janssonAccepts(bytes) && Self.isJanssonSwallowedNUL(bytes))
            #expect(!Self.scan(bytes).isValid)
        }
    }

    @Test func reportsTheTopLevelKind() {
        let kinds: [(String, JSONScanner.Kind)] = [
            ("{}", .object), (" [1] ", .array), (#""s""#, .string), ("-1.5", .number), ("true", .boolean), ("false", .boolean), ("null", .null),
        ]
        for (text, kind) in kinds { #expect(Self.scan(Self.bytes(text)).kind == kind, "\(text)") }
    }

    /// jansson counts every value, scalars included, up to 2048.
    @Test func limitsDepthLikeJansson() {
        func nested(_ count: Int, _ inner: String) -> [UInt8] {
            Self.bytes(String(repeating: "[", count: count) + inner + String(repeating: "]", count: count))
        }
        let objects = { (count: Int) in Self.bytes(String(repeating: #"{"a":"#, count: count) + "1" + String(repeating: "}", count: count)) }
        for (bytes, valid) in [(nested(2048, ""), true), (nested(2049, ""), false), (nested(2047, "1"), true),
                               (nested(2048, "1"), false), (objects(2047), true), (objects(2048), false)] {
            #expect(Self.janssonAccepts(bytes) == valid)
            #expect(Self.scan(bytes).isValid == valid)
        }
    }

    @Test func reportsTopLevelMemberRanges() {
        let text = #" { "id" : "x", "error" : { "message" : [1, 2] } , "usage":null,"choices":[{"usage":1}] } "#
        let bytes = Self.bytes(text)
        let result = Self.scan(bytes)
        #expect(result.kind == .object)
        #expect(!result.topLevelKeyHasEscape)
        func member(_ index: Int) -> String? {
            result.range(of: index).map { String(decoding: bytes[$0], as: UTF8.self) }
        }
        #expect(member(0) == #"{ "message" : [1, 2] }"#)
        #expect(member(1) == "null") // the nested "usage" is not a top-level member
        #expect(member(2) == #"[{"usage":1}]"#)
        #expect(member(3) == nil)
        #expect(result.range(of: 4) == nil)
        // The whole member, key included, for callers that remove it.
        #expect(result.memberRange(of: 0).map { String(decoding: bytes[$0], as: UTF8.self) } == #""error" : { "message" : [1, 2] }"#)
        #expect(result.memberRange(of: 3) == nil)
        #expect(!result.hasDuplicateKey)
    }

    @Test func reportsTheLastOfDuplicateKeysAsJanssonKeeps() {
        let bytes = Self.bytes(#"{"a":1,"b":2,"a":"last"}"#)
        let range = Self.scan(bytes).range(of: 3)
        #expect(range.map { String(decoding: bytes[$0], as: UTF8.self) } == #""last""#)
        #expect(Self.scan(bytes).hasDuplicateKey)
        // Only the keys looked for count: "b" twice is not reported.
        #expect(!Self.scan(Self.bytes(#"{"b":1,"b":2,"a":3}"#)).hasDuplicateKey)
    }

    @Test func flagsTopLevelKeysWithEscapesInsteadOfMatchingThem() {
        let escaped = Self.scan(Self.bytes(#"{"\u0065rror":1}"#))
        #expect(escaped.isValid && escaped.topLevelKeyHasEscape && escaped.range(of: 0) == nil)
        let nested = Self.scan(Self.bytes(#"{"x":{"\u0065rror":1},"y":"\n"}"#))
        #expect(nested.isValid && !nested.topLevelKeyHasEscape)
    }

    @Test func reportsNoMembersForOtherKinds() {
        let result = Self.scan(Self.bytes(#"["error","usage"]"#))
        #expect(result.kind == .array)
        #expect(result.range(of: 0) == nil && result.range(of: 1) == nil)
    }

    // MARK: - Differential fuzzing against jansson

    typealias Random = SplitMix64

    static let realChunks: [String] = [
        #"{"id":"chatcmpl-bench01","object":"chat.completion.chunk","created":1700000000,"model":"gpt-bench","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
        #"{"id":"chatcmpl-bench01","object":"chat.completion.chunk","created":1700000000,"model":"gpt-bench","choices":[{"index":0,"delta":{"content":"w00001 "},"finish_reason":null}]}"#,
        #"{"id":"chatcmpl-bench01","object":"chat.completion.chunk","created":1700000000,"model":"gpt-bench","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        #"{"id":"chatcmpl-bench01","object":"chat.completion.chunk","created":1700000000,"model":"gpt-bench","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9997,"total_tokens":10009}}"#,
        #"{"id":"c","choices":[{"index":0,"delta":{"reasoning_content":"Hmm \u00e9\ud83d\ude00 \"q\"\n","content":null},"logprobs":null}],"x":[1.5e-3,-0,true,false]}"#,
        "{\"choices\":[{\"delta\":{\"content\":\"héllo € 😀 \\t\\\\ \\/\"}}],\"n\":-12.5E+3}",
        #"{"error":{"message":"rate limited","type":"rate_limit","code":429}}"#,
    ]

    static let fragments: [[UInt8]] = {
        let texts = [#"\u0000"#, #"\ud800"#, #"\udc00"#, #"\ud800\udc00"#, #"\ud83d\ude00"#, #"\uDBFF\uDFFF"#, #"\x"#, #"\u12"#, "\\",
                     "é", "😀", "1e400", "1e308", "1.8e308", "9223372036854775808", "9223372036854775807", "-9223372036854775809",
                     "-0", "01", "1.", ".5", "1e", "+1", "true", "nul", "\"", ",", ":", "{}", "[]", "[", "]", "{", "}", " ", "\r\n",
                     "\"a\":", "1e-400", "0.5e308", "10e307", "99e307"]
        var out = texts.map { Array($0.utf8) }
        out += [[0x00], [0x01], [0x1F], [0x7F], [0x0C], [0x80], [0xBF], [0xC0, 0xAF], [0xC1, 0xBF], [0xC2], [0xC3, 0xA9], [0xE0, 0x80, 0x80],
                [0xE0, 0xA0, 0x80], [0xED, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEF, 0xBF, 0xBF], [0xF0, 0x80, 0x80, 0x80],
                [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xE2, 0x82]]
        return out
    }()

    static func mutate(_ input: [UInt8], _ random: inout Random) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + random.below(3)) {
            let at = bytes.isEmpty ? 0 : random.below(bytes.count + 1)
            switch random.below(7) {
            case 0: if at < bytes.count { bytes[at] = UInt8(truncatingIfNeeded: random.next()) }
            case 1: if at < bytes.count { bytes[at] = random.pick(fragments)[0] }
            case 2: bytes = Array(bytes[..<at])
            case 3: bytes.insert(contentsOf: random.pick(fragments), at: at)
            case 4: if at < bytes.count { bytes.remove(at: at) }
            case 5: // replace a byte of a string with a fragment, where the string rules apply
                let quotes = bytes.indices.filter { bytes[$0] == 0x22 }
                if let q = quotes.isEmpty ? nil : random.pick(quotes) { bytes.insert(contentsOf: random.pick(fragments), at: q + 1) }
            default: // the value of a number somewhere becomes a boundary number
                let digits = bytes.indices.filter { bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }
                if let d = digits.isEmpty ? nil : random.pick(digits) { bytes.replaceSubrange(d...d, with: randomNumber(&random)) }
            }
        }
        return bytes
    }

    /// Numbers near jansson's limits: long integers and reals around 1e308.
    static func randomNumber(_ random: inout Random) -> [UInt8] {
        var s = random.below(4) == 0 ? "-" : ""
        let digits = { (count: Int, random: inout Random) -> String in
            String((0..<count).map { _ in Character(String(random.below(10))) })
        }
        switch random.below(4) {
        case 0: s += String(1 + random.below(9)) + digits(17 + random.below(3), &random)
        case 1: s += random.pick(["9223372036854775807", "9223372036854775808", "9223372036854775806", "9223372036854775810"])
        case 2: s += "1" + digits(random.below(3), &random) + "." + digits(1 + random.below(20), &random) + "e" + String(300 + random.below(12))
        default:
            s += random.below(2) == 0 ? "1.797693134862315" + digits(1 + random.below(6), &random) + "e308"
                : "0." + String(repeating: "0", count: random.below(4)) + "1" + digits(random.below(5), &random) + "e" + String(305 + random.below(8))
        }
        return Array(s.utf8)
    }

    /// A random JSON text (usually valid) built from the grammar's pieces.
    static func randomValue(_ random: inout Random, depth: Int, into out: inout [UInt8]) {
        switch depth > 4 ? random.below(4) : random.below(7) {
        case 0: out += randomNumber(&random)
        case 1: out += Array(random.pick(["true", "false", "null", "0", "-0.5", "12e-3"]).utf8)
        case 2, 3:
            out.append(0x22)
            for _ in 0..<random.below(6) {
                out += random.below(3) == 0 ? random.pick(fragments) : Array(random.pick(["a", "bc", " ", "\\n", "\\\"", "é"]).utf8)
            }
            out.append(0x22)
        case 4, 5:
            out.append(0x7B)
            for k in 0..<random.below(4) {
                if k > 0 { out.append(0x2C) }
                out += Array(random.pick([#""error""#, #""usage""#, #""a""#, #""b""#, #""\u0061""#]).utf8) + [0x3A]
                randomValue(&random, depth: depth + 1, into: &out)
            }
            out.append(0x7D)
        default:
            out.append(0x5B)
            for k in 0..<random.below(4) {
                if k > 0 { out.append(0x2C) }
                randomValue(&random, depth: depth + 1, into: &out)
            }
            out.append(0x5D)
        }
    }

    /// For a valid object, each reported range must hold the value jansson finds
    /// for that key, and a missing range must mean jansson has no such member.
    static func checkRanges(_ bytes: [UInt8], _ result: JSONScanner.Result) {
        guard result.kind == .object, !result.topLevelKeyHasEscape, let root = try? JSON.parse(bytes) else { return }
        for (index, key) in ["error", "usage", "choices", "a"].enumerated() {
            let member = root[key]
            guard let range = result.range(of: index) else {
                #expect(member == nil, "missed \(key) in \(String(decoding: bytes, as: UTF8.self))")
                continue
            }
            #expect(member != nil && (try? JSON.parse(Array(bytes[range]))) == member,
                    "wrong range for \(key) in \(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func agreesWithJanssonOnRandomAndMutatedInputs() {
        var random = Random(state: 0x5EED_2026_1125)
        var accepted = 0, rejected = 0
        func check(_ bytes: [UInt8]) {
            let result = Self.scan(bytes)
            let jansson = Self.janssonAccepts(bytes)
            if jansson && !result.isValid && Self.isJanssonSwallowedNUL(bytes) { return } // a known difference
            #expect(result.isValid == jansson, "scanner \(result.isValid), jansson \(jansson): \(bytes)")
            if jansson { accepted += 1 } else { rejected += 1 }
            Self.checkRanges(bytes, result)
        }
        let chunks = Self.realChunks.map { Array($0.utf8) }
        for chunk in chunks { check(chunk) }
        for _ in 0..<6000 { check(Self.mutate(random.pick(chunks), &random)) }
        for _ in 0..<6000 {
            var out: [UInt8] = []
            Self.randomValue(&random, depth: 0, into: &out)
            check(random.below(3) == 0 ? Self.mutate(out, &random) : out)
        }
        for _ in 0..<2000 { check(Self.randomNumber(&random)) }
        // Deep nesting around a real chunk, on both sides of the limit.
        for _ in 0..<20 {
            let depth = 2040 + random.below(12)
            let wrapped = Array(repeating: 0x5B, count: depth) + random.pick(chunks) + Array(repeating: 0x5D, count: depth)
            check(random.below(2) == 0 ? wrapped : Self.mutate(wrapped, &random))
        }
        // Both outcomes must be well represented, or the test proves little.
        #expect(accepted > 3000 && rejected > 3000, "accepted \(accepted), rejected \(rejected)")
    }

    /// Every byte that matters in a string (quote, backslash, control,
    /// non-ASCII, a lone UTF-8 continuation) is judged as jansson judges it, at
    /// every offset (a guard for any word-at-a-time fast path: one that used
    /// eight-byte words was tried, and was slower on chat texts' short strings).
    @Test func findsEveryByteThatMattersAtEveryOffsetInAString() {
        let specials: [[UInt8]] = [[0x22], [0x5C, 0x6E], [0x5C], [0x00], [0x01], [0x1F], [0x7F], [0xC3, 0xA9], [0xC3], [0xA9],
                                   [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xFF], [0x80], [0x20], [0x21], [0x23], [0x5B], [0x5D]]
        for length in [7, 8, 9, 16, 23] {
            for offset in 0...length {
                for special in specials {
                    var body = Array(repeating: UInt8(ascii: "a"), count: length)
                    body.insert(contentsOf: special, at: offset)
                    let text = Array(#"{"k":""#.utf8) + body + Array(#"","n":1}"#.utf8)
                    let result = Self.scan(text)
                    #expect(result.isValid == Self.janssonAccepts(text), "\(special) at \(offset) of \(length)")
                    if result.isValid { #expect(result.offset == text.count) }
                }
            }
        }
    }
}

