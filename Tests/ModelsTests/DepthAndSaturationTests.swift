// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// Issue 12: JSON nested beyond `JSON.maxDepth` is refused before jansson's
/// recursive parser sees it; the writer needs no recursion; numbers from
/// outside saturate instead of trapping.
@Suite struct JSONDepthTests {
    static func nested(_ depth: Int, open: String = "[", close: String = "]") -> String {
        String(repeating: open, count: depth) + "0" + String(repeating: close, count: depth)
    }

    @Test func parsesUpToTheLimitAndRefusesOneMore() throws {
        _ = try JSON.parse(Self.nested(JSON.maxDepth))
        #expect(throws: JSONParseError.self) { try JSON.parse(Self.nested(JSON.maxDepth + 1)) }
        do {
            _ = try JSON.parse("{\"a\":\n" + Self.nested(100_000) + "}")
            Issue.record("parsed")
        } catch {
            #expect(error.message == "nested deeper than \(JSON.maxDepth) levels")
            #expect(error.line == 2 && error.column == JSON.maxDepth)
        }
    }

    @Test func bracketsInStringsDoNotCount() throws {
        let text = "[\"" + String(repeating: "[{", count: 5_000) + "\\\"]\"]"
        #expect(try JSON.parse(text).count == 1)
    }

    /// Seeded differential check: on valid JSON with brackets, quotes and
    /// backslashes inside strings, the pre-check finds exactly the depth the
    /// validating scanner reports.
    @Test func preCheckAgreesWithTheScanner() {
        var rng = SplitMix64(state: 0xDE_E9)
        let scanner = JSONScanner(keys: "a")
        let strings = ["\"[\"", "\"]]}\"", "\"\\\"[\"", "\"\\\\\"", "\"{\\\\\"", "\"\\u005b\"", "1", "null", "\"\""]
        func value(_ depth: Int) -> String {
            guard depth > 0, rng.chance(85) else { return rng.pick(strings) }
            let n = 1 + rng.below(3)
            if rng.chance(50) { return "[" + (0..<n).map { _ in value(depth - 1) }.joined(separator: ",") + "]" }
            return "{" + (0..<n).map { i in "\"k\(i)\":" + value(depth - 1) }.joined(separator: ",") + "}"
        }
        for _ in 0..<2_000 {
            let text = value(rng.below(12))
            text.utf8CString.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw.dropLast())
                let scan = scanner.scan(bytes)
                #expect(scan.isValid, "\(text)")
                #expect(JSONScanner.offsetBeyondDepth(bytes, limit: scan.depth) == nil, "\(text)")
                if scan.depth > 0 { #expect(JSONScanner.offsetBeyondDepth(bytes, limit: scan.depth - 1) != nil, "\(text)") }
            }
        }
    }

    @Test func scannerReportsTheDepth() {
        let scanner = JSONScanner(keys: "a")
        for depth in [0, 1, 7, 300, 2047] {
            let text = Self.nested(depth)
            let scan = text.utf8CString.withUnsafeBytes { scanner.scan(UnsafeRawBufferPointer(rebasing: $0.dropLast())) }
            #expect(scan.isValid && scan.depth == depth)
        }
    }

    @Test func requestsTooDeepAreInvalidArguments() {
        for depth in [JSON.maxDepth + 1, 2_000, 100_000] {
            let text = "{\"messages\":[],\"x\":" + Self.nested(depth) + "}"
            #expect {
                _ = try text.utf8CString.withUnsafeBytes { try ChatRequest(text: UnsafeRawBufferPointer(rebasing: $0.dropLast())) }
            } throws: { error in
                (error as? ModelsError)?.code == .invalidArgument && "\(error)".contains("nested deeper than")
            }
        }
    }

    @Test func theWriterHasNoDepthLimit() {
        var value: JSON = 0
        for i in 0..<20_000 { value = i % 2 == 0 ? .array([value]) : .object([("k", value)]) }
        let text = value.serialized()
        #expect(text.hasPrefix("{\"k\":[{\"k\":[") && text.hasSuffix("]}]}"))
        #expect(text.utf8.count == 10_000 * ("{\"k\":[".utf8.count + 2) + 1)
    }
}

@Suite struct SaturatingTests {
    @Test func int64Arithmetic() {
        #expect(Int64.max.saturatingAdd(1) == .max)
        #expect(Int64.min.saturatingAdd(-1) == .min)
        #expect(Int64(5).saturatingAdd(-7) == -2)
        #expect(Int64.min.saturatingSubtract(1) == .min)
        #expect(Int64(0).saturatingSubtract(.min) == .max)
        #expect(Int64.max.saturatingSubtract(-1) == .max)
        #expect(Int64(3).saturatingSubtract(5) == -2)
        #expect(Int64.max.saturatingMultiply(2) == .max)
        #expect(Int64.min.saturatingMultiply(2) == .min)
        #expect(Int64.min.saturatingMultiply(-1) == .max)
        #expect(Int64(-4).saturatingMultiply(1000) == -4000)
    }

    @Test func doublesClamp() {
        #expect(Int64.clamping(.nan) == nil)
        #expect(Int64.clamping(.infinity) == .max)
        #expect(Int64.clamping(-.infinity) == .min)
        #expect(Int64.clamping(9.3e18) == .max)
        #expect(Int64.clamping(-9.3e18) == .min)
        #expect(Int64.clamping(9_223_372_036_854_774_784.0) == 9_223_372_036_854_774_784)
        #expect(Int64.clamping(-9_223_372_036_854_775_808.0) == .min)
        #expect(Int64.clamping(-2.9) == -2)
    }
}
