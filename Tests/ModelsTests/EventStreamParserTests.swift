// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// AWS's binary event-stream framing, as ConverseStream sends it.
@Suite struct EventStreamParserTests {
    static let messages: [EventStreamMessage] = [
        EventStreamMessage(headers: [(":message-type", .string("event")), (":event-type", .string("messageStart")),
                                     (":content-type", .string("application/json"))], payload: Array(#"{"role":"assistant"}"#.utf8)),
        EventStreamMessage(headers: [], payload: []),
        EventStreamMessage(headers: [("t", .bool(true)), ("f", .bool(false)), ("b", .byte(-2)), ("s", .short(-300)),
                                     ("i", .int(70_000)), ("l", .long(-5_000_000_000)), ("bytes", .bytes([0, 1, 255])),
                                     ("ts", .timestamp(1_700_000_000_000)), ("u", .uuid(Array(0..<16)))],
                           payload: Array(repeating: 0x61, count: 300)),
    ]

    static var stream: [UInt8] { messages.flatMap { $0.encoded() } }

    static func parse(_ pieces: [[UInt8]], max: Int = EventStreamParser.defaultMaxMessageBytes) throws(ModelsError) -> [EventStreamMessage] {
        var parser = EventStreamParser(maxMessageBytes: max)
        var out: [EventStreamMessage] = []
        for piece in pieces { try parser.feed(piece) { out.append($0) } }
        #expect(parser.atMessageBoundary)
        return out
    }

    @Test func wholeStreamGivesEachMessage() throws {
        #expect(try Self.parse([Self.stream]) == Self.messages)
    }

    @Test func everySplitPointGivesTheSameMessages() throws {
        let bytes = Self.stream
        for cut in 0...bytes.count {
            #expect(try Self.parse([Array(bytes[..<cut]), Array(bytes[cut...])]) == Self.messages, "cut at \(cut)")
        }
        // Three pieces, every pair of cuts in the first two messages.
        let firstTwo = Self.messages[0].encoded().count + Self.messages[1].encoded().count
        for a in 0...firstTwo {
            for b in a...firstTwo where (a + b) % 3 == 0 {
                #expect(try Self.parse([Array(bytes[..<a]), Array(bytes[a..<b]), Array(bytes[b...])]) == Self.messages)
            }
        }
        // Byte by byte.
        #expect(try Self.parse(bytes.map { [$0] }) == Self.messages)
    }

    @Test func aCorruptPreludeCRCIsRefusedBeforeTheBodyIsRead() {
        var bytes = Self.messages[0].encoded()
        bytes[9] ^= 1
        #expect(throws: ModelsError.self) { _ = try Self.parse([Array(bytes[..<12])]) }
        do { _ = try Self.parse([bytes]) } catch { #expect(error.code == .protocol && error.message.contains("prelude fails its CRC")) }
    }

    @Test func aCorruptMessageCRCOrPayloadIsRefused() {
        for index in [20, Self.messages[0].encoded().count - 1] {
            var bytes = Self.messages[0].encoded()
            bytes[index] ^= 0x40
            do {
                _ = try Self.parse([bytes])
                Issue.record("byte \(index) changed and accepted")
            } catch {
                #expect(error.code == .protocol && error.message.contains("fails its CRC check"), "\(error.message)")
            }
        }
    }

    @Test func anOversizedMessageIsRefusedFromItsPrelude() {
        let big = EventStreamMessage(headers: [], payload: Array(repeating: 1, count: 5000)).encoded()
        do {
            _ = try Self.parse([Array(big[..<12])], max: 4096)
            Issue.record("accepted")
        } catch {
            #expect(error.message.contains("over the limit of 4096"))
        }
        #expect((try? Self.parse([big], max: 5016)) != nil)
    }

    @Test func impossibleLengthsAreRefused() {
        func prelude(_ total: UInt32, _ headers: UInt32) -> [UInt8] {
            var b = [total, headers].flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - UInt32($0) * 8)) } }
            let crc = CRC32.checksum(b)
            b += (0..<4).map { UInt8(truncatingIfNeeded: crc >> (24 - UInt32($0) * 8)) }
            return b
        }
        for (total, headers, words) in [(15, 0, "fewer than"), (20, 5, "do not fit"), (UInt32.max, 0, "over the limit")] as [(UInt32, UInt32, String)] {
            do {
                _ = try Self.parse([prelude(total, headers)])
                Issue.record("\(total)/\(headers) accepted")
            } catch {
                #expect(error.message.contains(words), "\(error.message)")
            }
        }
    }

    @Test func badHeadersAreRefused() {
        // A header with type 42, and a string header that runs past the headers.
        for head in [[1, 0x61, 42], [1, 0x61, 7, 0, 9, 0x62]] as [[UInt8]] {
            var b: [UInt8] = []
            let total = UInt32(16 + head.count)
            for v in [total, UInt32(head.count)] { b += (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - UInt32($0) * 8)) } }
            var crc = CRC32.checksum(b)
            b += (0..<4).map { UInt8(truncatingIfNeeded: crc >> (24 - UInt32($0) * 8)) }
            b += head
            crc = CRC32.checksum(b)
            b += (0..<4).map { UInt8(truncatingIfNeeded: crc >> (24 - UInt32($0) * 8)) }
            #expect(throws: ModelsError.self) { _ = try Self.parse([b]) }
        }
    }

    @Test func afterAnErrorEveryFeedFails() {
        var parser = EventStreamParser()
        var bytes = Self.messages[1].encoded()
        bytes[0] = 0xff
        #expect(throws: ModelsError.self) { try parser.feed(bytes) { _ in } }
        #expect(throws: ModelsError.self) { try parser.feed(Self.messages[1].encoded()) { _ in } }
    }

    @Test func crc32MatchesZlib() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }
}
