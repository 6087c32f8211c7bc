// SPDX-License-Identifier: Apache-2.0
// ChunkInspector naming the model: any bytes as a stream chunk, delivered with
// and without the routed name, to a plain outlet and to one that wants the
// thinking (the parsed path). A chunk is refused alike either way; a chunk
// delivered with the name is valid JSON and means exactly the provider's chunk
// with its "model" set to the name (added when missing, one "model" only),
// whether it was spliced or written out again.
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders

private let names = ["p/m", "openai/gpt-4o", "a/we\"ird\\name", "p/\u{e9}\u{1F600}", "p/x\u{7f}y", "m"]

/// The chunks `inspector` delivers for `bytes` (NUL-terminated copy), or nil when it refuses it.
private func deliver(_ bytes: UnsafeRawBufferPointer, model: String?, thinking: Bool) -> [[UInt8]]? {
    var inspector = ChunkInspector(source: "p", model: model)
    var pushed: [[UInt8]] = []
    let outlet = thinking
        ? ChunkOutlet(push: { chunk in
            let nul = chunk.baseAddress.map { $0.load(fromByteOffset: chunk.count, as: UInt8.self) } ?? 0
            invariant(nul == 0, "a chunk is not NUL-terminated")
            pushed.append(Array(chunk))
            return true
        }, onThinking: { _ in })
        : ChunkOutlet()
    let copy = Array(bytes) + [0]
    let failed = copy.withUnsafeBytes { all -> Bool in
        do throws(ModelsError) {
            try inspector.deliver(UnsafeRawBufferPointer(rebasing: all.dropLast()), to: outlet)
            return false
        } catch {
            return true
        }
    }
    if failed { return nil }
    while let chunk = outlet.popQueued() { pushed.append(Array(chunk)) }
    return pushed
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChunkModel(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        let name = names[Int(optionBits(bytes) % UInt64(names.count))]
        for thinking in [false, true] {
            let plain = deliver(bytes, model: nil, thinking: thinking)
            let named = deliver(bytes, model: name, thinking: thinking)
            invariant((plain == nil) == (named == nil), "refused with one name and not the other (thinking \(thinking))")
            guard let plain, let named else { continue }
            invariant(plain.count == 1 && named.count == 1, "one chunk in, \(plain.count) and \(named.count) out")
            invariant(plain[0] == Array(bytes), "without a name the chunk is not passed on as it is")
            guard var expected = try? JSON.parse(bytes) else {
                invariant(false, "a delivered chunk does not parse")
                return 0
            }
            expected.set("model", .string(name))
            let text = named[0]
            guard let got = try? JSON.parse(text) else {
                invariant(false, "the named chunk is not valid JSON: \(String(decoding: text, as: UTF8.self))")
                return 0
            }
            invariant(got == expected, "the named chunk means something else: \(String(decoding: text, as: UTF8.self))")
            let scan = text.withUnsafeBytes { JSONScanner(keys: "model").scan($0) }
            invariant(scan.isValid && !scan.hasDuplicateKey, "the named chunk has more than one \"model\"")
        }
        return 0
    }
}
