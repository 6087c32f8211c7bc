// SPDX-License-Identifier: Apache-2.0
// Shared by every fuzz target (compiled into each one by scripts/fuzz).
import CModelsSupport
import Glibc
@testable import Models
@testable import ModelsCore

/// Stops the run when an invariant breaks: prints what broke and aborts, so
/// libFuzzer saves the input as a crash file.
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
               file: StaticString = #fileID, line: UInt = #line) {
    guard !condition() else { return }
    fputs("fuzz invariant failed at \(file):\(line): \(message())\n", stderr)
    abort()
}

/// The fuzzer's input as a buffer (never a nil base, so `JSON.parse` and the
/// scanner see the same bytes).
func withInput<R>(_ data: UnsafePointer<UInt8>?, _ size: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let data { return body(UnsafeRawBufferPointer(start: data, count: size)) }
    var empty: UInt8 = 0
    return withUnsafeBytes(of: &empty) { body(UnsafeRawBufferPointer(rebasing: $0[0..<0])) }
}

/// A hash of the input that picks a target's options, so the corpus files stay
/// the plain text they stand for (a JSON body, an SSE stream) and every input
/// still reaches every option.
func optionBits(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h
}

/// Serializes `value` and parses the text back: our own output must always be
/// valid JSON, and must mean what it meant.
func checkRoundTrip(_ value: JSON, _ what: String) {
    let text = value.serializedBytes()
    let back: JSON
    do { back = try JSON.parse(text) } catch {
        invariant(false, "\(what) serialized to invalid JSON (\(error.message)): \(String(decoding: text, as: UTF8.self))")
        return
    }
    invariant(back == value, "\(what) does not survive serialize + parse: \(String(decoding: text, as: UTF8.self))")
}

/// True when `s` could go into an HTTP header as it is: no control characters.
func isHeaderSafe(_ s: String) -> Bool {
    !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f })
}
