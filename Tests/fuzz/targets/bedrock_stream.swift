// SPDX-License-Identifier: Apache-2.0
// EventStreamParser and BedrockStreamDecoder: a ConverseStream body (AWS's binary
// event-stream framing). The same bytes fed whole, byte by byte and in pieces
// (sizes picked from the input) give the same messages and the same error; no
// message is over the limit; every chunk the decoder hands on is JSON.
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

private struct Outcome: Equatable {
    var messages: [EventStreamMessage] = []
    var failed = false
    var boundary = false
}

private func parse(_ bytes: UnsafeRawBufferPointer, max: Int, pieces: (Int) -> Int) -> Outcome {
    var parser = EventStreamParser(maxMessageBytes: max)
    var outcome = Outcome()
    var offset = 0
    var step = 0
    do throws(ModelsError) {
        while offset < bytes.count {
            let n = min(Swift.max(1, pieces(step)), bytes.count - offset)
            step += 1
            try parser.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])) { message throws(ModelsError) in
                invariant(message.payload.count + EventStreamParser.overheadBytes <= max, "a message over \(max) bytes")
                outcome.messages.append(message)
            }
            offset += n
        }
    } catch {
        outcome.failed = true
    }
    outcome.boundary = parser.atMessageBoundary
    return outcome
}

/// The decoder on the same bytes: chunks must be JSON objects; errors are ModelsErrors.
private func decode(_ bytes: UnsafeRawBufferPointer) {
    let decoder = BedrockStreamDecoder(provider: "aws", model: "aws/m", secrets: ["SECRETKEY"], jsonAnswer: "json_answer")
    let outlet = ChunkOutlet(push: { chunk in
        invariant((try? JSON.parse(Array(chunk)))?.kind == .object, "a chunk that is not a JSON object")
        return true
    })
    do throws(ModelsError) {
        try decoder.feed(bytes, to: outlet, onEvent: {})
    } catch {
        invariant(!error.message.contains("SECRETKEY"), "a message shows a secret")
    }
    let usage = decoder.usage
    invariant(usage.input >= 0 && usage.output >= 0, "negative usage")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBedrockStream(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        let bits = optionBits(bytes)
        let limits = [EventStreamParser.defaultMaxMessageBytes, 16, 40, 300]
        let max = limits[Int(bits % UInt64(limits.count))]
        let whole = parse(bytes, max: max) { _ in Int.max }
        let bytewise = parse(bytes, max: max) { _ in 1 }
        let sizes = bits >> 8
        let pieces = parse(bytes, max: max) { step in Int((sizes >> UInt64((step % 16) * 4)) & 0xF) + 1 }
        invariant(whole == bytewise, "fed whole and byte by byte differ (limit \(max))")
        invariant(whole == pieces, "fed whole and in pieces differ (limit \(max))")
        decode(bytes)
        return 0
    }
}
