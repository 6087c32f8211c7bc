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
        let body = try translate(call, stream: false)
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
            throw .api(status: status, message: "\(name) answered with an error: \(type): \(Redact.secrets(message, known: secrets(call)))",
                       kind: ErrorKind.refusal(status: status, codes: [type], message: message))
        }
        return ChatAnswer(json: try AnthropicResponse.translate(json, model: call.model, created: Int64(time(nil)),
                                                                jsonAnswer: AnthropicRequest.jsonAnswerName(call.request.json)))
    }

    public func openStream(_ call: ChatCall) throws(ModelsError) -> any ProviderStream {
        let body = try translate(call, stream: true)
        let transfer = try sendRetryingWithoutThinking(body, call: call, stream: true)
        guard transfer.head.isEventStream else {
            let text = ProviderErrors.message(inBody: (try? transfer.readBody(limit: 64 << 10, truncate: true)) ?? [], secrets: secrets(call))
            transfer.close()
            throw ModelsError(.protocol, "\(name) did not answer with an event stream: \(text)")
        }
        return AnthropicStream(transfer: transfer, provider: name, model: call.modelID, secrets: secrets(call),
                               jsonAnswer: AnthropicRequest.jsonAnswerName(call.request.json))
    }

    /// The request in Anthropic's terms; the fields dropped on the way are logged.
    private func translate(_ call: ChatCall, stream: Bool) throws(ModelsError) -> JSON {
        let body = try AnthropicRequest.translate(call.request.json, modelID: call.modelID, thinking: thinking,
                                                  stream: stream, provider: name)
        let dropped = AnthropicParameters.droppedFields(call.request.json)
        if !dropped.isEmpty { Log.debug("\(name): not sent (no Anthropic equivalent): \(dropped.joined(separator: ", "))") }
        return body
    }

    /// The key, the configured header values and the call's extra header
    /// values: an error message may quote them.
    private func secrets(_ call: ChatCall) -> [String] {
        (apiKey.map { [$0] } ?? []) + headers.map(\.value) + call.extraHeaders.map(\.value)
    }

    /// Sends the request and waits for a 2xx head. A 400 that rejects thinking
    /// is retried once with thinking removed, as a user of the API would.
    private func sendRetryingWithoutThinking(_ body: JSON, call: ChatCall, stream: Bool) throws(ModelsError) -> HTTPTransfer {
        var body = body
        var retried = false
        while true {
            let transfer = try HTTPTransfer(request(body, stream: stream, call: call), limits: call.limits, cancellation: call.cancellation)
            let head: HTTPResponseHead
            do { head = try transfer.awaitHead() } catch {
                transfer.close()
                throw error
            }
            if head.isSuccess { return transfer }
            let error = httpError(transfer, secrets: secrets(call))
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
    private func httpError(_ transfer: HTTPTransfer, secrets: [String]) -> ModelsError {
        let body = (try? transfer.readBody(limit: 64 << 10, truncate: true)) ?? []
        guard let json = try? JSON.parse(body), let (type, message) = AnthropicResponse.error(in: json) else {
            return ProviderErrors.httpError(provider: name, head: transfer.head, body: body, secrets: secrets)
        }
        let status = transfer.head.status
        return .api(status: status, message: "\(name) answered HTTP \(status): \(type): \(Redact.secrets(message, known: secrets))",
                    retryAfterMs: transfer.head.retryAfterMs, kind: ErrorKind.refusal(status: status, codes: [type], message: message))
    }

    private func request(_ body: JSON, stream: Bool, call: ChatCall) -> HTTPRequest {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("Accept", stream ? "text/event-stream" : "application/json"),
            ("anthropic-version", Self.apiVersion),
        ]
        if let apiKey, !apiKey.isEmpty { headers.append(("x-api-key", apiKey)) }
        headers += self.headers
        var request = HTTPRequest(method: .post, url: baseURL + "/messages", headers: headers, body: body.serializedBytes())
        request.add(extraHeaders: call.extraHeaders, extraQuery: call.extraQuery)
        return request
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

    init(transfer: HTTPTransfer, provider: String, model: String, secrets: [String], jsonAnswer: String?) {
        self.transfer = transfer
        self.provider = provider
        self.secrets = secrets
        translator = AnthropicStreamTranslator(model: model, created: Int64(time(nil)), provider: provider, jsonAnswer: jsonAnswer)
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
