// SPDX-License-Identifier: Apache-2.0
/// An incremental Server-Sent Events parser (WHATWG HTML, "Event stream interpretation").
///
/// Feed it the response body in pieces split anywhere; it calls back once per complete
/// event, in order. It works on bytes: lines end in LF, CRLF or CR (a CRLF split across
/// two feeds is one line end), a UTF-8 BOM at the very start of the stream is skipped,
/// and field values pass through unchanged (invalid UTF-8 is replaced only when an
/// event is turned into a `String`).
///
/// Memory is bounded by the largest event, never by the stream's length: the data,
/// type and partial-line buffers are reused, and no event or line allocates in steady
/// state. A line that lies entirely inside one `feed` buffer is parsed in place.
///
/// Limits: an event whose data exceeds `maxEventBytes`, or a line longer than
/// `maxEventBytes` plus a small allowance for the field name (`maxLineBytes`), throws
/// `ModelsError(.protocol, ...)`. After `feed` throws, the stream is broken: call
/// `finish()` before feeding another stream.
public struct SSEParser: Sendable {
    public static let defaultMaxEventBytes = 1 << 20
    /// Bytes a line may have beyond `maxEventBytes`: room for `data: ` or any field name.
    static let lineAllowance = 64

    /// Where the line splitter stands between two feeds.
    enum State: Equatable {
        /// Nothing yet but the first `bomBytesMatched` bytes of a UTF-8 BOM (EF BB BF).
        case streamStart(bomBytesMatched: Int)
        /// Within the stream; any unfinished line is in `partialLine`.
        case lines
        /// The last feed ended with a CR that ended a line: an LF first in the next feed
        /// belongs to it (CRLF) and is skipped.
        case afterCR
    }

    /// The most data bytes one event may carry.
    public let maxEventBytes: Int
    /// The longest line accepted, terminator excluded.
    public let maxLineBytes: Int

    private(set) var state: State = .streamStart(bomBytesMatched: 0)
    /// The start of a line whose end has not arrived yet.
    private(set) var partialLine: [UInt8] = []
    private(set) var builder: SSEEventBuilder

    public init(maxEventBytes: Int = SSEParser.defaultMaxEventBytes) {
        precondition(maxEventBytes >= 0, "maxEventBytes must not be negative")
        self.maxEventBytes = maxEventBytes
        self.maxLineBytes = maxEventBytes > Int.max - Self.lineAllowance ? Int.max : maxEventBytes + Self.lineAllowance
        self.builder = SSEEventBuilder(maxDataBytes: maxEventBytes)
    }

    /// The last event ID string: the `id:` field's value as of the last blank line (the spec
    /// commits it when dispatching, even an event without data); empty when none.
    public var lastEventID: String { String(decoding: builder.lastEventID, as: UTF8.self) }

    /// The reconnection time in milliseconds from the last valid `retry:` field; nil if none.
    public var retryMs: Int? { builder.retryMs }

    /// Feeds the next bytes of the body, split anywhere (even inside a UTF-8 sequence or
    /// between CR and LF). Calls `onEvent` for each complete event, in order; the event is
    /// valid only during the call (`SSEEvent` is `~Copyable` and borrowed, so it cannot
    /// escape; copy out what you need). An event whose data exceeds `maxEventBytes`, or a line
    /// longer than `maxLineBytes`, throws `ModelsError(.protocol, ...)`. An error thrown by
    /// `onEvent` stops the parse and is rethrown.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer,
        onEvent: (borrowing SSEEvent) throws(ModelsError) -> Void
    ) throws(ModelsError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let end = bytes.count
        var i = 0
        switch state {
        case .streamStart(let matched):
            i = skipBOM(base, end, matched: matched)
        case .afterCR:
            if base.load(as: UInt8.self) == SSEBytes.lf { i = 1 }
            state = .lines
        case .lines:
            break
        }
        try splitLines(base, from: i, to: end, onEvent: onEvent)
    }

    /// The body ended. Per the spec an event not terminated by a blank line is discarded;
    /// returns true when such a partial event (a buffered `data`, `event` or `id` field, or
    /// a partial line) was discarded, so the caller can report a truncated stream.
    ///
    /// Resets the parser for a new stream (a reconnection); `lastEventID` and `retryMs` persist.
    public mutating func finish() -> Bool {
        var truncated = !partialLine.isEmpty
        if case .streamStart(let matched) = state, matched > 0 { truncated = true }
        if builder.discardPending() { truncated = true }
        partialLine.removeAll(keepingCapacity: true)
        state = .streamStart(bomBytesMatched: 0)
        return truncated
    }

    // MARK: - Lines

    /// Consumes the BOM (or the part of it) at the start of `base[0..<end]`, continuing a
    /// match of `matched` bytes from earlier feeds. Returns the index of the first byte
    /// after it and updates `state`.
    private mutating func skipBOM(_ base: UnsafeRawPointer, _ end: Int, matched: Int) -> Int {
        var m = matched
        var i = 0
        while i < end, m < 3, base.load(fromByteOffset: i, as: UInt8.self) == Self.bomByte(m) {
            m += 1
            i += 1
        }
        if m == 3 {
            state = .lines
        } else if i == end {
            state = .streamStart(bomBytesMatched: m)
        } else {
            // Not a BOM after all: the bytes that looked like one start the first line.
            for k in 0..<m { partialLine.append(Self.bomByte(k)) }
            state = .lines
        }
        return i
    }

    @inline(__always)
    private static func bomByte(_ k: Int) -> UInt8 { k == 0 ? 0xEF : (k == 1 ? 0xBB : 0xBF) }

    /// Splits `base[from..<end]` into lines and hands each to the builder. `memchr` finds
    /// the next CR and LF; each result is kept until passed, so every byte is scanned at
    /// most once per terminator kind whatever the line-ending style.
    @inline(__always)
    private mutating func splitLines(
        _ base: UnsafeRawPointer, from start: Int, to end: Int,
        onEvent: (borrowing SSEEvent) throws(ModelsError) -> Void
    ) throws(ModelsError) {
        var i = start
        var nextLF = -1
        var nextCR = -1
        while i < end {
            if nextLF < i { nextLF = SSEBytes.find(SSEBytes.lf, in: base, from: i, to: end) }
            if nextCR < i { nextCR = SSEBytes.find(SSEBytes.cr, in: base, from: i, to: end) }
            let lineEnd = min(nextLF, nextCR)
            if lineEnd == end {
                // No terminator: keep the start of the line for the next feed.
                let count = end - i
                guard partialLine.count + count <= maxLineBytes else { throw lineTooLong() }
                SSEBytes.append(base + i, count: count, to: &partialLine)
                return
            }
            let count = lineEnd - i
            if partialLine.isEmpty {
                // The whole line is in this buffer: parse it in place.
                guard count <= maxLineBytes else { throw lineTooLong() }
                try builder.processLine(UnsafeRawBufferPointer(start: base + i, count: count), onEvent: onEvent)
            } else {
                guard partialLine.count + count <= maxLineBytes else { throw lineTooLong() }
                SSEBytes.append(base + i, count: count, to: &partialLine)
                // Moved out for the call (the builder may not be borrowed with `self`);
                // moved back, emptied but with its capacity, afterwards.
                var line: [UInt8] = []
                swap(&line, &partialLine)
                defer {
                    line.removeAll(keepingCapacity: true)
                    swap(&line, &partialLine)
                }
                try line.span.withUnsafeBytes { (bytes) throws(ModelsError) in
                    try builder.processLine(bytes, onEvent: onEvent)
                }
            }
            i = lineEnd + 1
            if lineEnd == nextCR {
                if i == end {
                    state = .afterCR
                } else if base.load(fromByteOffset: i, as: UInt8.self) == SSEBytes.lf {
                    i += 1  // CRLF
                }
            }
        }
    }

    private func lineTooLong() -> ModelsError {
        ModelsError(.protocol, "SSE line larger than \(maxLineBytes) bytes")
    }
}
