// SPDX-License-Identifier: Apache-2.0
// SSEParser: a response body in SSE form. The same bytes fed whole, byte by byte
// and in small pieces (sizes picked from the input) give the same events, the
// same error and, without an error, the same end state; every event's data is
// NUL-terminated and within the limit.
@testable import Models
@testable import ModelsCore

private struct Outcome: Equatable {
    var events: [[UInt8]] = []  // type, 0xFF, data, 0xFF, id
    var failed = false
    var truncated = false
    var lastEventID = ""
    var retryMs: Int?
}

private func run(_ bytes: UnsafeRawBufferPointer, maxEventBytes: Int, pieces: (Int) -> Int) -> Outcome {
    var parser = SSEParser(maxEventBytes: maxEventBytes)
    var outcome = Outcome()
    var offset = 0
    var step = 0
    do throws(ModelsError) {
        while offset < bytes.count {
            let n = min(max(1, pieces(step)), bytes.count - offset)
            step += 1
            try parser.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])) { (event) throws(ModelsError) in
                invariant(event.data.count <= maxEventBytes, "event data of \(event.data.count) bytes over \(maxEventBytes)")
                let nul = event.data.baseAddress.map { $0.load(fromByteOffset: event.data.count, as: UInt8.self) }
                invariant(nul == nil || nul == 0, "event data not NUL-terminated")
                outcome.events.append(Array(event.type) + [0xFF] + Array(event.data) + [0xFF] + Array(event.id))
            }
            offset += n
        }
    } catch {
        outcome.failed = true
    }
    // After a throw the stream is broken (finish() only resets): its state says nothing.
    let truncated = parser.finish()
    if !outcome.failed { outcome.truncated = truncated }
    outcome.lastEventID = parser.lastEventID
    outcome.retryMs = parser.retryMs
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSE(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        let bits = optionBits(bytes)
        let limits = [SSEParser.defaultMaxEventBytes, 0, 1, 7, 64, 200]
        let maxEventBytes = limits[Int(bits % UInt64(limits.count))]
        let whole = run(bytes, maxEventBytes: maxEventBytes) { _ in Int.max }
        let bytewise = run(bytes, maxEventBytes: maxEventBytes) { _ in 1 }
        let sizes = bits >> 8
        let pieces = run(bytes, maxEventBytes: maxEventBytes) { step in Int((sizes >> UInt64((step % 16) * 4)) & 0xF) + 1 }
        invariant(whole == bytewise, "fed whole and byte by byte differ (limit \(maxEventBytes)): \(whole) vs \(bytewise)")
        invariant(whole == pieces, "fed whole and in pieces differ (limit \(maxEventBytes)): \(whole) vs \(pieces)")
        return 0
    }
}
