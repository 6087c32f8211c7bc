/// The request an OpenAI-compatible provider receives: the caller's JSON as
/// written, with only `model` and `stream` set (and, for streams, a request
/// for usage), so fields the library does not know still reach the provider.
public enum OpenAIRequest {
    public static func body(_ request: JSON, modelID: String, stream: Bool) -> JSON {
        var body = request
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
