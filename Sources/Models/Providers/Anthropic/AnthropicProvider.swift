import Glibc

/// Anthropic's native Messages API behind the OpenAI-shaped interface: the
/// request and the answer are translated by the pure functions of
/// `AnthropicRequest`, `AnthropicResponse` and `AnthropicStreamTranslator`;
/// this type only does the HTTP and the one retry without thinking.
public final class AnthropicProvider: ChatProvider {
    /// The provider's name as configured ("anthropic", "anthropic-2", ...): messages and logs use it.
    public let name: String
    private let baseURL: String
    private let apiKey: String?
    private let headers: [(name: String, value: String)]
    private let thinking: ThinkingConfig

    public static let apiVersion = "2023-06-01"

    public init(name: String = "anthropic", baseURL: String, apiKey: String?, headers: [(name: String, value: String)] = [],
                thinking: ThinkingConfig) {
        self.name = name
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.headers = headers
        self.thinking = thinking
    }

    public func chat(_ call: ChatCall) throws(ModelsError) -> ChatAnswer {
        let body = try AnthropicRequest.translate(call.request.json, modelID: call.modelID, thinking: thinking, stream: false)
        let transfer = try sendRetryingWithoutThinking(body, call: call, stream: false)
        defer { transfer.close() }
        let bytes = try transfer.readBody(limit: call.limits.maxBodyBytes)
        let json: JSON
        do { json = try JSON.parse(bytes) } catch {
            throw ModelsError(.protocol, "\(name) answered with invalid JSON: \(error.message)")
        }
        // Some gateways answer 200 with an error body; report it as the error it is.
        if let (type, message) = AnthropicResponse.error(in: json) {
            let status = AnthropicResponse.status(forErrorType: type)
            throw .api(status: status, message: "\(name) answered with an error: \(type): \(Redact.secrets(message, known: secrets))",
                       kind: ErrorKind.refusal(status: status, codes: [type], message: message))
        }
        return ChatAnswer(json: try AnthropicResponse.translate(json, model: call.model, created: Int64(time(nil))))
    }

    public func openStream(_ call: ChatCall) throws(ModelsError) -> any ProviderStream {
        let body = try AnthropicRequest.translate(call.request.json, modelID: call.modelID, thinking: thinking, stream: true)
        let transfer = try sendRetryingWithoutThinking(body, call: call, stream: true)
        guard transfer.head.isEventStream else {
            let text = ProviderErrors.message(inBody: (try? transfer.readBody(limit: 64 << 10, truncate: true)) ?? [], secrets: secrets)
            transfer.close()
            throw ModelsError(.protocol, "\(name) did not answer with an event stream: \(text)")
        }
        return AnthropicStream(transfer: transfer, provider: name, model: call.model, secrets: secrets)
    }

    /// The key and the configured header values: an error message may quote them.
    private var secrets: [String] { (apiKey.map { [$0] } ?? []) + headers.map(\.value) }

    /// Sends the request and waits for a 2xx head. A 400 that rejects thinking
    /// is retried once with thinking removed, as a user of the API would.
    private func sendRetryingWithoutThinking(_ body: JSON, call: ChatCall, stream: Bool) throws(ModelsError) -> HTTPTransfer {
        var body = body
        var retried = false
        while true {
            let transfer = try HTTPTransfer(request(body, stream: stream), limits: call.limits, cancellation: call.cancellation)
            let head: HTTPResponseHead
            do { head = try transfer.awaitHead() } catch {
                transfer.close()
                throw error
            }
            if head.isSuccess { return transfer }
            let error = httpError(transfer)
            transfer.close()
            if !retried, body["thinking"] != nil, AnthropicRequest.isThinkingRejection(status: error.status, message: error.message) {
                Log.info("\(name) rejected extended thinking for \(call.modelID); retrying once without it")
                body = AnthropicRequest.withoutThinking(body)
                retried = true
                continue
            }
            throw error
        }
    }

    /// An HTTP error answer with Anthropic's error type next to its message
    /// ("anthropic answered HTTP 529: overloaded_error: Overloaded"), as stream
    /// error events are reported; other bodies as for any provider.
    private func httpError(_ transfer: HTTPTransfer) -> ModelsError {
        let body = (try? transfer.readBody(limit: 64 << 10, truncate: true)) ?? []
        guard let json = try? JSON.parse(body), let (type, message) = AnthropicResponse.error(in: json) else {
            return ProviderErrors.httpError(provider: name, head: transfer.head, body: body, secrets: secrets)
        }
        let status = transfer.head.status
        return .api(status: status, message: "\(name) answered HTTP \(status): \(type): \(Redact.secrets(message, known: secrets))",
                    retryAfterMs: transfer.head.retryAfterMs, kind: ErrorKind.refusal(status: status, codes: [type], message: message))
    }

    private func request(_ body: JSON, stream: Bool) -> HTTPRequest {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("Accept", stream ? "text/event-stream" : "application/json"),
            ("anthropic-version", Self.apiVersion),
        ]
        if let apiKey, !apiKey.isEmpty { headers.append(("x-api-key", apiKey)) }
        headers += self.headers
        return HTTPRequest(method: .post, url: baseURL + "/messages", headers: headers, body: body.serializedBytes())
    }
}

/// Anthropic's event stream, translated event by event into chunks.
final class AnthropicStream: ProviderStream {
    private let transfer: HTTPTransfer
    private var parser = SSEParser()
    private var translator: AnthropicStreamTranslator
    private var finished = false
    /// The API key: an error event may quote it back.
    private let secrets: [String]
    private let provider: String

    /// `model`: the full routed name (`anthropic/claude-sonnet-4-6`) every chunk carries.
    init(transfer: HTTPTransfer, provider: String, model: String, secrets: [String]) {
        self.transfer = transfer
        self.provider = provider
        self.secrets = secrets
        translator = AnthropicStreamTranslator(model: model, created: Int64(time(nil)), provider: provider)
    }

    deinit { transfer.close() }

    var usage: (input: Int64, output: Int64) { (translator.inputTokens, translator.outputTokens) }

    func pump(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        guard !finished else { return false }
        let more = try transfer.pump { bytes throws(ModelsError) in
            try self.parser.feed(bytes) { event throws(ModelsError) in try self.handle(event, outlet) }
        }
        if finished {
            transfer.finishQuietly()
            return false
        }
        if !more { throw ModelsError(.protocol, "stream from \(provider) ended before completion (no message_stop)") }
        return true
    }

    func close() { transfer.close() }

    func pauseAfterThisRead() { transfer.pauseAfterThisRead() }

    private func handle(_ event: borrowing SSEEvent, _ outlet: ChunkOutlet) throws(ModelsError) {
        guard !finished else { return }
        let data: JSON
        do { data = try JSON.parse(event.data) } catch {
            throw ModelsError(.protocol, "stream from \(provider) sent an event that is not valid JSON")
        }
        let type = event.type.count == 0 ? "" : event.typeString
        // Pings keep the connection busy, not the answer going: they do not reset the idle timer.
        if (type.isEmpty ? data["type"]?.string : type) != "ping" { transfer.noteEvent() }
        let output: AnthropicStreamTranslator.Output
        do { output = try translator.translate(type: type, data: data) } catch {
            var redacted = error
            redacted.message = Redact.secrets(error.message, known: secrets)
            throw redacted
        }
        switch output {
        case .chunk(let chunk):
            try outlet.chunk(json: chunk)
        case .thinking(let text):
            outlet.thinking(text)
        case .nothing:
            break
        case .end:
            finished = true
        }
    }
}
