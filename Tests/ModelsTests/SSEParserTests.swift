// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

// MARK: - Helpers

/// One dispatched event, copied out of the callback.
struct SSETestEvent: Equatable, Sendable, CustomStringConvertible {
    var type: String
    var data: String
    var id: String = ""

    init(_ data: String, type: String = "message", id: String = "") {
        self.type = type
        self.data = data
        self.id = id
    }

    var description: String { "(\(type), \(data.debugDescription), id \(id.debugDescription))" }
}

/// Everything observable about parsing one stream.
struct SSEOutcome: Equatable, CustomStringConvertible {
    var events: [SSETestEvent] = []
    var lastEventID = ""
    var retryMs: Int? = nil
    var truncated = false

    var description: String {
        "events \(events), lastEventID \(lastEventID.debugDescription), retry \(String(describing: retryMs)), truncated \(truncated)"
    }
}

/// Copies an event out, checking the invariants every event must hold.
func sseCopyEvent(_ ev: borrowing SSEEvent) -> SSETestEvent {
    // data[data.count] is NUL, for C callers.
    #expect(ev.data.baseAddress != nil)
    if let p = ev.data.baseAddress { #expect(p.load(fromByteOffset: ev.data.count, as: UInt8.self) == 0) }
    let isMessage = ev.typeEquals("message")
    #expect(isMessage == (ev.typeString == "message"))
    return SSETestEvent(ev.dataString, type: ev.typeString, id: ev.idString)
}

/// Feeds `input` in the pieces that `cuts` (sorted offsets) make, then finishes.
func parseSSE(_ input: [UInt8], cuts: [Int] = [], maxEventBytes: Int = SSEParser.defaultMaxEventBytes) throws(ModelsError) -> SSEOutcome {
    var parser = SSEParser(maxEventBytes: maxEventBytes)
    var out = SSEOutcome()
    var start = 0
    for end in cuts + [input.count] {
        // Each piece in its own allocation, so reading past a piece is caught by ASan-like tools.
        let piece = Array(input[start..<end])
        try piece.span.withUnsafeBytes { (buf) throws(ModelsError) in
            try parser.feed(buf) { ev in out.events.append(sseCopyEvent(ev)) }
        }
        start = end
    }
    out.truncated = parser.finish()
    out.lastEventID = parser.lastEventID
    out.retryMs = parser.retryMs
    return out
}

func parseSSE(_ input: String, cuts: [Int] = [], maxEventBytes: Int = SSEParser.defaultMaxEventBytes) throws(ModelsError) -> SSEOutcome {
    try parseSSE(Array(input.utf8), cuts: cuts, maxEventBytes: maxEventBytes)
}

/// A table row: an input stream and what parsing it must produce.
struct SSECase: Sendable, CustomStringConvertible {
    var name: String
    var input: [UInt8]
    var events: [SSETestEvent]
    var lastEventID = ""
    var retryMs: Int? = nil
    var truncated = false

    init(_ name: String, _ input: String, _ events: [SSETestEvent],
         lastEventID: String = "", retryMs: Int? = nil, truncated: Bool = false) {
        self.init(name, Array(input.utf8), events, lastEventID: lastEventID, retryMs: retryMs, truncated: truncated)
    }

    init(_ name: String, _ input: [UInt8], _ events: [SSETestEvent],
         lastEventID: String = "", retryMs: Int? = nil, truncated: Bool = false) {
        self.name = name
        self.input = input
        self.events = events
        self.lastEventID = lastEventID
        self.retryMs = retryMs
        self.truncated = truncated
    }

    var expected: SSEOutcome {
        SSEOutcome(events: events, lastEventID: lastEventID, retryMs: retryMs, truncated: truncated)
    }

    var description: String { name }
}

let sseBOM: [UInt8] = [0xEF, 0xBB, 0xBF]

/// The corpus: every row is parsed whole, and split at every byte boundary.
let sseCases: [SSECase] = [
    // Line endings.
    SSECase("LF", "data: a\n\ndata: b\n\n", [SSETestEvent("a"), SSETestEvent("b")]),
    SSECase("CRLF", "data: a\r\n\r\ndata: b\r\n\r\n", [SSETestEvent("a"), SSETestEvent("b")]),
    SSECase("CR", "data: a\r\rdata: b\r\r", [SSETestEvent("a"), SSETestEvent("b")]),
    SSECase("mixed endings", "data: a\rdata: b\r\ndata: c\n\r\n", [SSETestEvent("a\nb\nc")]),
    SSECase("LF CR is two line ends", "data: a\n\rdata: b\n\n", [SSETestEvent("a"), SSETestEvent("b")]),
    SSECase("CR CR LF", "data: a\r\r\ndata: b\n\n", [SSETestEvent("a"), SSETestEvent("b")]),
    SSECase("extra blank lines", "\n\n\ndata: a\n\n\n\n\r\n\r", [SSETestEvent("a")]),

    // Data.
    SSECase("multi-line data", "data: one\ndata: two\ndata: three\n\n", [SSETestEvent("one\ntwo\nthree")]),
    SSECase("data with empty value", "data:\n\n", [SSETestEvent("")]),
    SSECase("data with no colon", "data\n\n", [SSETestEvent("")]),
    SSECase("two empty data lines", "data\ndata\n\n", [SSETestEvent("\n")]),
    SSECase("wpt: data with empty values", "data:\n\ndata\ndata\n\ndata:test\n\n",
            [SSETestEvent(""), SSETestEvent("\n"), SSETestEvent("test")]),
    SSECase("data empty first line", "data:\ndata: x\n\n", [SSETestEvent("\nx")]),
    SSECase("colon in value", "data: a:b: c\n\n", [SSETestEvent("a:b: c")]),
    SSECase("only one space stripped", "data:  two\ndata:   three\ndata:none\n\n", [SSETestEvent(" two\n  three\nnone")]),
    SSECase("tab not stripped", "data:\tx\n\n", [SSETestEvent("\tx")]),
    SSECase("trailing spaces kept", "data: x  \n\n", [SSETestEvent("x  ")]),
    SSECase("UTF-8 data", "data: héllo 🙂\n\ndata: 日本語\r\n\r\n", [SSETestEvent("héllo 🙂"), SSETestEvent("日本語")]),
    SSECase("NUL in data kept", "data: a\u{0}b\n\n", [SSETestEvent("a\u{0}b")]),
    SSECase("no blank line: no event", "data: a\n", [], truncated: true),

    // Comments and unknown fields.
    SSECase("comments", ":\n: comment\ndata: a\n:another\n\n: trailing\n", [SSETestEvent("a")]),
    SSECase("comment only", ": keep-alive\n\n", []),
    SSECase("unknown fields ignored", "foo: bar\nDATA: no\nData: no\n data: no\ndata : no\ndata: yes\n\n", [SSETestEvent("yes")]),
    SSECase("field with no colon, unknown", "hello\ndata: a\n\n", [SSETestEvent("a")]),

    // Event types.
    SSECase("event type", "event: add\ndata: 1\n\n", [SSETestEvent("1", type: "add")]),
    SSECase("type resets after dispatch", "event: add\ndata: 1\n\ndata: 2\n\n",
            [SSETestEvent("1", type: "add"), SSETestEvent("2")]),
    SSECase("type resets on blank line without data", "event: add\n\ndata: 2\n\n", [SSETestEvent("2")]),
    SSECase("last event field wins", "event: a\nevent: b\ndata: x\n\n", [SSETestEvent("x", type: "b")]),
    SSECase("event with empty value", "event:\ndata: x\n\n", [SSETestEvent("x")]),
    SSECase("event no colon", "event\ndata: x\n\n", [SSETestEvent("x")]),
    SSECase("event after data", "data: x\nevent: late\n\n", [SSETestEvent("x", type: "late")]),
    SSECase("event type only: no dispatch", "event: lonely\n\n", []),
    SSECase("UTF-8 type", "event: ünï\ndata: x\n\n", [SSETestEvent("x", type: "ünï")]),

    // IDs.
    SSECase("id persists", "id: 1\ndata: a\n\ndata: b\n\n",
            [SSETestEvent("a", id: "1"), SSETestEvent("b", id: "1")], lastEventID: "1"),
    SSECase("id replaced", "id: 1\ndata: a\n\nid: 2\ndata: b\n\n",
            [SSETestEvent("a", id: "1"), SSETestEvent("b", id: "2")], lastEventID: "2"),
    SSECase("id with NUL ignored", "id: 1\ndata: a\n\nid: 2\u{0}x\ndata: b\n\n",
            [SSETestEvent("a", id: "1"), SSETestEvent("b", id: "1")], lastEventID: "1"),
    SSECase("empty id resets", "id: 1\ndata: a\n\nid\ndata: b\n\n",
            [SSETestEvent("a", id: "1"), SSETestEvent("b", id: "")], lastEventID: ""),
    SSECase("id on blank line without data", "id: 7\n\n", [], lastEventID: "7"),
    SSECase("id not terminated is discarded", "id: 1\ndata: a\n\nid: 2\n",
            [SSETestEvent("a", id: "1")], lastEventID: "1", truncated: true),
    SSECase("id keeps spaces after the first", "id:  x \ndata: a\n\n", [SSETestEvent("a", id: " x ")], lastEventID: " x "),

    // Retry.
    SSECase("retry", "retry: 1500\n", [], retryMs: 1500),
    SSECase("retry zero", "retry:0\n", [], retryMs: 0),
    SSECase("retry last valid wins", "retry: 10\nretry: 20\nretry: x\n", [], retryMs: 20),
    SSECase("retry non-digits ignored",
            "retry: 10a\nretry: -1\nretry: 1.5\nretry: +3\nretry:  7\nretry: 1 0\nretry:\nretry\n", []),
    SSECase("retry huge saturates", "retry: 99999999999999999999999999\n", [], retryMs: Int.max),
    SSECase("retry with data", "retry: 3000\ndata: a\n\n", [SSETestEvent("a")], retryMs: 3000),

    // BOM.
    SSECase("BOM skipped", sseBOM + Array("data: a\n\n".utf8), [SSETestEvent("a")]),
    SSECase("only one BOM skipped", sseBOM + sseBOM + Array("data: a\n\ndata: b\n\n".utf8), [SSETestEvent("b")]),
    SSECase("BOM later is not skipped", Array("data: a\n\n".utf8) + sseBOM + Array("data: b\n\n".utf8), [SSETestEvent("a")]),
    SSECase("BOM only", sseBOM, []),
    SSECase("partial BOM is line content", [0xEF, 0xBB, 0x0A] + Array("data: a\n\n".utf8), [SSETestEvent("a")]),
    SSECase("partial BOM then end", [0xEF, 0xBB], [], truncated: true),
    SSECase("partial BOM starts the first line", [0xEF] + Array("data: a\n\n".utf8), []),
    SSECase("partial BOM starts the first line (2)", [0xEF, 0xBB] + Array("data: a\n\ndata: b\n\n".utf8), [SSETestEvent("b")]),
    SSECase("BOM then LF", sseBOM + Array("\ndata: a\n\n".utf8), [SSETestEvent("a")]),

    // Truncation.
    SSECase("empty stream", "", []),
    SSECase("clean end", "data: a\n\n", [SSETestEvent("a")]),
    SSECase("partial line", "data: a\n\ndata: b", [SSETestEvent("a")], truncated: true),
    SSECase("partial event", "data: a\n\nevent: x\n", [SSETestEvent("a")], truncated: true),
    SSECase("ends in CR", "data: a\r\r", [SSETestEvent("a")]),
    SSECase("trailing comment is not truncation", "data: a\n\n: bye\n", [SSETestEvent("a")]),
    SSECase("partial comment is truncation", "data: a\n\n: by", [SSETestEvent("a")], truncated: true),

    // Realistic streams.
    SSECase("openai", """
        data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}

        data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hé 🙂"}}]}

        : OPENROUTER PROCESSING

        data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

        data: [DONE]


        """, [
            SSETestEvent(#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#),
            SSETestEvent(#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hé 🙂"}}]}"#),
            SSETestEvent(#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#),
            SSETestEvent("[DONE]"),
        ]),
    SSECase("anthropic", sseAnthropicStream, sseAnthropicEvents),
]

let sseAnthropicStream = """
    event: message_start\r
    data: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":25,"output_tokens":1}}}\r
    \r
    event: content_block_start\r
    data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\r
    \r
    event: ping\r
    data: {"type": "ping"}\r
    \r
    event: content_block_delta\r
    data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"héllo 🙂"}}\r
    \r
    event: content_block_stop\r
    data: {"type":"content_block_stop","index":0}\r
    \r
    event: message_delta\r
    data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}\r
    \r
    event: message_stop\r
    data: {"type":"message_stop"}\r
    \r

    """

let sseAnthropicEvents: [SSETestEvent] = [
    SSETestEvent(#"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":25,"output_tokens":1}}}"#, type: "message_start"),
    SSETestEvent(#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#, type: "content_block_start"),
    SSETestEvent(#"{"type": "ping"}"#, type: "ping"),
    SSETestEvent(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"héllo 🙂"}}"#, type: "content_block_delta"),
    SSETestEvent(#"{"type":"content_block_stop","index":0}"#, type: "content_block_stop"),
    SSETestEvent(#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}"#, type: "message_delta"),
    SSETestEvent(#"{"type":"message_stop"}"#, type: "message_stop"),
]

/// Small inputs for the exhaustive two-cut test (every pair of split points).
let sseSplitCorpus: [SSECase] = [
    SSECase("CRLF and UTF-8", "data: héllo 🙂\r\n\r\ndata: x\r\rid: 1\r\n", [SSETestEvent("héllo 🙂"), SSETestEvent("x")], truncated: true),
    SSECase("BOM and CRLF", sseBOM + Array("event: e\r\ndata: 🙂\r\n\r\n".utf8), [SSETestEvent("🙂", type: "e")]),
    SSECase("everything", "\u{FEFF}: c\rid: 9\nretry: 5\r\nevent: t\ndata\ndata:  é\r\n\rdata: z\n\n",
            [SSETestEvent("\n é", type: "t", id: "9"), SSETestEvent("z", id: "9")], lastEventID: "9", retryMs: 5),
]

// MARK: - Tests

@Suite struct SSEParserTests {
    @Test(arguments: sseCases + sseSplitCorpus)
    func parsesWhole(_ c: SSECase) throws {
        #expect(try parseSSE(c.input) == c.expected)
    }

    @Test(arguments: sseCases + sseSplitCorpus)
    func sameEventsWhenSplitAtEveryByte(_ c: SSECase) throws {
        let expected = c.expected
        for cut in 0...c.input.count {
            let got = try parseSSE(c.input, cuts: [cut])
            #expect(got == expected, "split at \(cut)")
        }
        #expect(try parseSSE(c.input, cuts: Array(0..<c.input.count)) == expected, "byte by byte")
        // Empty feeds in between change nothing.
        #expect(try parseSSE(c.input, cuts: [0, 0] + Array(0..<c.input.count).flatMap { [$0, $0] }) == expected, "with empty feeds")
    }

    @Test(arguments: sseSplitCorpus)
    func sameEventsWhenSplitAtEveryPairOfBytes(_ c: SSECase) throws {
        let expected = c.expected
        let n = c.input.count
        for a in 0...n {
            for b in a...n {
                let got = try parseSSE(c.input, cuts: [a, b])
                if got != expected {
                    Issue.record("cuts \(a), \(b): \(got) != \(expected)")
                    return
                }
            }
        }
    }

    @Test func crlfSplitBetweenCRAndLFIsOneLineEnd() throws {
        // With "\r" | "\n" as two feeds, the LF must not make a second (blank) line:
        // that would dispatch "a" before "b" is appended.
        let got = try parseSSE("data: a\r\ndata: b\r\n\r\n", cuts: [8])
        #expect(got.events == [SSETestEvent("a\nb")])
        // CR at the end of a feed dispatches at once; the LF that follows is swallowed.
        var parser = SSEParser()
        var seen: [String] = []
        try Array("data: a\r\r".utf8).span.withUnsafeBytes { (b) throws(ModelsError) in
            try parser.feed(b) { ev in seen.append(ev.dataString) }
        }
        #expect(seen == ["a"])
        try Array("\ndata: b\n\n".utf8).span.withUnsafeBytes { (b) throws(ModelsError) in
            try parser.feed(b) { ev in seen.append(ev.dataString) }
        }
        #expect(seen == ["a", "b"])
        #expect(parser.finish() == false)
    }

    @Test func bomSplitAcrossFeeds() throws {
        let input = sseBOM + Array("data: a\n\n".utf8)
        for cuts in [[1], [2], [1, 2], [1, 1, 2, 3], [3]] {
            #expect(try parseSSE(input, cuts: cuts).events == [SSETestEvent("a")], "cuts \(cuts)")
        }
    }

    @Test func eventAccessors() throws {
        // (#expect cannot capture a ~Copyable event, so the checks are gathered first.)
        var parser = SSEParser()
        var checks: [[Bool]] = []
        var strings: [[String]] = []
        try Array("event: content_block_delta\ndata: [DONE]\n\ndata: x\n\n".utf8).span.withUnsafeBytes { (b) throws(ModelsError) in
            try parser.feed(b) { ev in
                checks.append([
                    ev.typeEquals("content_block_delta"), ev.typeEquals("content_block"),
                    ev.typeEquals("content_block_deltaX"), ev.typeEquals("message"), ev.typeEquals(""),
                    ev.dataEquals("[DONE]"), ev.dataEquals("[DONE"), ev.dataEquals(""), ev.type.isEmpty,
                ])
                strings.append([ev.typeString, ev.dataString, String(ev.data.count)])
            }
        }
        #expect(checks == [
            [true, false, false, false, false, true, false, false, false],
            [false, false, false, true, false, false, false, false, true],
        ])
        #expect(strings == [["content_block_delta", "[DONE]", "6"], ["message", "x", "1"]])
    }

    @Test func typeEqualsIsByteExact() throws {
        let got = try parseSSE("event: Message\ndata: x\n\n")
        #expect(got.events == [SSETestEvent("x", type: "Message")])
        var parser = SSEParser()
        var matches: [Bool] = []
        try Array("event: Message\ndata: x\n\n".utf8).span.withUnsafeBytes { (b) throws(ModelsError) in
            try parser.feed(b) { ev in matches = [ev.typeEquals("message"), ev.typeEquals("Message")] }
        }
        #expect(matches == [false, true])
    }

    // MARK: Limits

    @Test func eventDataAtTheLimitIsAccepted() throws {
        // "1234\n56789" is 10 bytes.
        let got = try parseSSE("data: 1234\ndata: 56789\n\n", maxEventBytes: 10)
        #expect(got.events == [SSETestEvent("1234\n56789")])
        let single = try parseSSE("data: 0123456789\n\n", maxEventBytes: 10)
        #expect(single.events == [SSETestEvent("0123456789")])
    }

    @Test(arguments: [[], [3], [12], [17], Array(0..<26)])
    func oversizeEventThrows(cuts: [Int]) {
        // "12345\n67890" is 11 bytes.
        let input = "data: 12345\ndata: 67890\n\n"
        do {
            _ = try parseSSE(input, cuts: cuts.filter { $0 <= input.utf8.count }, maxEventBytes: 10)
            Issue.record("no error")
        } catch {
            #expect(error.code == .protocol)
            #expect(error.message.contains("larger than 10 bytes"))
        }
    }

    @Test func eventsBeforeAnOversizeEventAreDelivered() {
        var parser = SSEParser(maxEventBytes: 8)
        var seen: [String] = []
        let input = Array("data: ok\n\ndata: much too long\n\ndata: never\n\n".utf8)
        #expect(throws: ModelsError(.protocol, "SSE event data larger than 8 bytes")) {
            try input.span.withUnsafeBytes { (b) throws(ModelsError) in
                try parser.feed(b) { ev in seen.append(ev.dataString) }
            }
        }
        #expect(seen == ["ok"])
    }

    @Test func oversizeLineWithoutNewlineThrowsAndDoesNotBuffer() {
        var parser = SSEParser(maxEventBytes: 100)
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 64)
        var fed = 0
        var error: ModelsError?
        for _ in 0..<1000 {
            do {
                try chunk.span.withUnsafeBytes { (b) throws(ModelsError) in
                    try parser.feed(b) { _ in Issue.record("no event expected") }
                }
                fed += chunk.count
            } catch let e {
                error = e
                break
            }
        }
        #expect(error?.code == .protocol)
        #expect(error?.message.contains("larger than \(parser.maxLineBytes) bytes") == true)
        #expect(fed <= parser.maxLineBytes)
        #expect(parser.partialLine.count <= parser.maxLineBytes)
    }

    @Test(arguments: ["data: ", ": ", "event: ", "x"])
    func oversizeLineThrowsWhateverTheField(prefix: String) {
        let line = prefix + String(repeating: "z", count: 200) + "\n\n"
        for cuts in [[], [50], [150]] {
            #expect(throws: ModelsError.self) { try parseSSE(line, cuts: cuts, maxEventBytes: 100) }
            do {
                _ = try parseSSE(line, cuts: cuts, maxEventBytes: 100)
            } catch {
                #expect(error.code == .protocol)
                #expect(error.message.contains("larger than"))
            }
        }
    }

    @Test func maxEventBytesZero() throws {
        #expect(try parseSSE("data:\n\n", maxEventBytes: 0).events == [SSETestEvent("")])
        #expect(throws: ModelsError.self) { try parseSSE("data: x\n\n", maxEventBytes: 0) }
    }

    // MARK: Callback errors

    @Test func errorFromCallbackPropagatesAndStopsDelivery() {
        var parser = SSEParser()
        var seen: [String] = []
        let stop = ModelsError(.cancelled, "stopped by the caller")
        let input = Array("data: 1\n\ndata: 2\n\ndata: 3\n\n".utf8)
        #expect(throws: stop) {
            try input.span.withUnsafeBytes { (b) throws(ModelsError) in
                try parser.feed(b) { ev throws(ModelsError) in
                    seen.append(ev.dataString)
                    if ev.dataEquals("2") { throw stop }
                }
            }
        }
        #expect(seen == ["1", "2"])
    }

    @Test func errorFromCallbackOnBufferedLine() {
        // The failing event's line came from the partial-line buffer.
        var parser = SSEParser()
        var seen = 0
        let stop = ModelsError(.cancelled, "stop")
        #expect(throws: stop) {
            for piece in ["data: 1", "2\n", "\n", "data: 3\n\n"] {
                try Array(piece.utf8).span.withUnsafeBytes { (b) throws(ModelsError) in
                    try parser.feed(b) { _ throws(ModelsError) in
                        seen += 1
                        throw stop
                    }
                }
            }
        }
        #expect(seen == 1)
    }

    // MARK: Reuse and memory

    @Test func finishResetsForAnotherStream() throws {
        var parser = SSEParser()
        var seen: [String] = []
        func feed(_ s: [UInt8]) throws(ModelsError) {
            try s.span.withUnsafeBytes { (b) throws(ModelsError) in
                try parser.feed(b) { ev in seen.append(ev.dataString) }
            }
        }
        try feed(Array("id: 4\nretry: 9\ndata: a\n\ndata: cut".utf8))
        #expect(parser.finish() == true)
        #expect(parser.finish() == false)
        // A new stream: BOM allowed again; last event ID and retry persist.
        try feed(sseBOM + Array("data: b\n\n".utf8))
        #expect(parser.finish() == false)
        #expect(seen == ["a", "b"])
        #expect(parser.lastEventID == "4")
        #expect(parser.retryMs == 9)
    }

    @Test func memoryDoesNotGrowWithStreamLength() throws {
        var parser = SSEParser()
        let event = Array("event: delta\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"hello\"}}]}\r\n\r\n".utf8)
        var stream: [UInt8] = []
        for _ in 0..<200 { stream += event }
        var count = 0
        var capacities: (Int, Int, Int) = (0, 0, 0)
        for round in 0..<50 {
            // Odd-sized pieces, so lines and CRLFs straddle feeds.
            var off = 0
            while off < stream.count {
                let n = min(777, stream.count - off)
                try Array(stream[off..<(off + n)]).span.withUnsafeBytes { (b) throws(ModelsError) in
                    try parser.feed(b) { _ in count += 1 }
                }
                off += n
            }
            let now = (parser.builder.data.capacity, parser.builder.type.capacity, parser.partialLine.capacity)
            if round == 1 { capacities = now }
            if round > 1 { #expect(now == capacities) }
        }
        #expect(count == 200 * 50)
        #expect(capacities.0 < 256 && capacities.1 < 256 && capacities.2 < 256)
        #expect(parser.finish() == false)
    }

    @Test func largeEventRoundTrips() throws {
        // An event near the default limit, many data lines, fed in 16 KB pieces.
        let line = "data: " + String(repeating: "x", count: 1000) + "\n"
        let input = Array((String(repeating: line, count: 1000) + "\n").utf8)
        let cuts = Array(stride(from: 16384, to: input.count, by: 16384))
        let got = try parseSSE(input, cuts: cuts)
        #expect(got.events.count == 1)
        #expect(got.events.first?.data.utf8.count == 1000 * 1001 - 1)
    }

    @Test func openAIStreamEndsWithDone() throws {
        let c = sseCases.first { $0.name == "openai" }!
        var parser = SSEParser()
        var sawDone = false
        var chunks = 0
        try c.input.span.withUnsafeBytes { (b) throws(ModelsError) in
            try parser.feed(b) { ev in
                #expect(!sawDone, "nothing after [DONE]")
                if ev.dataEquals("[DONE]") { sawDone = true } else { chunks += 1 }
                let isMessage = ev.typeEquals("message")
                #expect(isMessage)
            }
        }
        #expect(sawDone)
        #expect(chunks == 3)
        #expect(parser.finish() == false)
    }

    @Test func anthropicStreamTypes() throws {
        let got = try parseSSE(sseAnthropicStream)
        #expect(got.events.map(\.type) == [
            "message_start", "content_block_start", "ping", "content_block_delta",
            "content_block_stop", "message_delta", "message_stop",
        ])
        #expect(got.truncated == false)
    }

    @Test func parseDigits() {
        func digits(_ s: String) -> Int? {
            Array(s.utf8).withUnsafeBytes { SSEEventBuilder.parseDigits($0) }
        }
        #expect(digits("0") == 0)
        #expect(digits("007") == 7)
        #expect(digits("9223372036854775807") == Int.max)
        #expect(digits("9223372036854775808") == Int.max)
        #expect(digits("") == nil)
        #expect(digits(" 1") == nil)
        #expect(digits("١") == nil)  // Arabic-Indic digit: not ASCII
    }
}
