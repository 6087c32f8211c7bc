import CModelsSupport

/// The request an OpenAI-compatible provider receives: the caller's JSON as
/// written, with only `model` and `stream` set (and, for streams, a request
/// for usage), so fields the library does not know still reach the provider.
public enum OpenAIRequest {
    public static func body(_ request: JSON, modelID: String, stream: Bool) -> JSON {
        // A shallow copy: only top-level members change, and the one nested
        // value touched (stream_options) is copied by `update` as it is shared.
        // Deep-copying the whole request (messages and all) cost more than
        // sending it.
        var body = request
        if request.kind == .object, let top = json_copy(request.raw) { body = JSON(owning: top) }
        body.set("model", .string(modelID))
        if stream {
            body.set("stream", true)
            body.update("stream_options") { options in
                if options.kind == .object { options.set("include_usage", true) } else { options = ["include_usage": true] }
            }
        } else {
            body.set("stream", nil)
            body.set("stream_options", nil)
        }
        return body
    }
}
