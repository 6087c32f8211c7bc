// SPDX-License-Identifier: Apache-2.0
import ModelsProviders
/// What a call routes: a chat (or stream) request, or an embeddings request.
/// Indirect: both cases are one reference, so no payload leaves bytes of the
/// enum unwritten (valgrind reports copies of a multi-payload enum whose
/// smaller payload does as reads of uninitialised memory).
indirect enum CallRequest {
    case chat(ChatRequest)
    case embeddings(EmbeddingsRequest)

    /// The model the caller asked for, if any.
    var model: String? {
        switch self {
        case .chat(let r): return r.model
        case .embeddings(let r): return r.model
        }
    }

    /// The operation's name in the events (`gen_ai.operation.name`).
    var operation: StaticString {
        switch self {
        case .chat: return "chat"
        case .embeddings: return "embeddings"
        }
    }

    var isEmbeddings: Bool {
        if case .embeddings = self { return true }
        return false
    }
}
