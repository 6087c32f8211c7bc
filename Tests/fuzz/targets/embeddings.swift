// SPDX-License-Identifier: Apache-2.0
// EmbeddingsRequest(text:) and EmbeddingsAnswer.read: a caller's embeddings
// request and a provider's answer, whatever their bytes. A request is refused
// with invalid_argument or accepted with an "input" whose body for a provider
// is valid JSON holding the caller's members and the new model; an answer is
// refused with protocol or api, or accepted as an object whose "data" is an
// array and whose text, with its model set, parses to the same members.
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEmbeddings(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        do throws(ModelsError) {
            let request = try EmbeddingsRequest(text: bytes)
            invariant(request.inputCount >= 1, "accepted a request with \(request.inputCount) inputs")
            guard let body = try? JSON.parse(request.body(modelID: "m\u{0}\"x")) else {
                invariant(false, "the body for the provider is not valid JSON")
                return 0
            }
            invariant(body["model"]?.string == "m\u{0}\"x", "the body does not name the model id")
            invariant(body["input"] == request.json["input"], "the body's input differs from the caller's")
        } catch {
            invariant(error.code == .invalidArgument, "a request refused with \(error.code)")
        }
        do throws(ModelsError) {
            var answer = try EmbeddingsAnswer.read(Array(bytes), provider: "p", status: 200, secrets: [])
            answer.setModel("p/m\u{1}")
            guard let json = try? JSON.parse(answer.serializedBytes()) else {
                invariant(false, "an accepted answer does not serialize to valid JSON")
                return 0
            }
            invariant(json["data"]?.kind == .array, "an accepted answer has no data array")
            invariant(json["model"]?.string == "p/m\u{1}", "the answer does not name the model")
            _ = answer.usage
        } catch {
            invariant(error.code == .protocol || error.code == .api, "an answer refused with \(error.code)")
        }
        return 0
    }
}
