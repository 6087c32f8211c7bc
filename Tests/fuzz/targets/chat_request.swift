// SPDX-License-Identifier: Apache-2.0
// ChatRequest(text:): the caller's request as it enters the library, checked by
// JSONScanner and a byte walk over `messages` without building a tree. It must
// accept and refuse exactly as the tree path, ChatRequest(json:) after jansson,
// with the same message, the same model, and a text that parses to the same JSON.
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        let fromText: Result<ChatRequest, ModelsError>
        do throws(ModelsError) { fromText = .success(try ChatRequest(text: bytes)) } catch { fromText = .failure(error) }
        guard let tree = try? JSON.parse(bytes) else {
            guard case .failure(let error) = fromText else {
                invariant(false, "a request jansson cannot parse was accepted")
                return 0
            }
            invariant(error.code == .invalidArgument, "threw \(error.code) for invalid JSON")
            return 0
        }
        let fromTree: Result<ChatRequest, ModelsError>
        do throws(ModelsError) { fromTree = .success(try ChatRequest(json: tree)) } catch { fromTree = .failure(error) }
        switch (fromText, fromTree) {
        case (.success(let a), .success(let b)):
            invariant(a.model == b.model, "model \(a.model ?? "nil") from the text, \(b.model ?? "nil") from the tree")
            invariant(a.json == tree, "the checked text does not parse to the caller's JSON")
        case (.failure(let a), .failure(let b)):
            invariant(a == b, "refused with \"\(a.message)\" from the text, \"\(b.message)\" from the tree")
        case (.success, .failure(let b)):
            invariant(false, "the text path accepts what the tree path refuses (\(b.message))")
        case (.failure(let a), .success):
            invariant(false, "the text path refuses what the tree path accepts (\(a.message))")
        }
        return 0
    }
}
