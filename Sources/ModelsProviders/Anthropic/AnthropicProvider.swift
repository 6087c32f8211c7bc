// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore
import ModelsTransport

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
        return try answer(try transfer.readBody(limit: call.limits.maxBodyBytes), call: call)
    }

    /// A 2xx answer's body, translated.
    private func answer(_ bytes: [UInt8], call: ChatCall) throws(ModelsError) -> ChatAnswer {
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
            let body = (try? transfer.readBody(limit: ProviderExchange.errorBodyBytes, truncate: true)) ?? []
            transfer.close()
            throw notEventStream(body, call: call)
        }
        return AnthropicStream(transfer: transfer, provider: name, model: call.model, secrets: secrets(call),
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

    private func notEventStream(_ body: [UInt8], call: ChatCall) -> ModelsError {
        ModelsError(.protocol, "\(name) did not answer with an event stream: \(ProviderErrors.message(inBody: body, secrets: secrets(call)))")
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
            if !retried, let without = withoutThinking(body, after: error, call: call) {
                body = without
                retried = true
                continue
            }
            throw error
        }
    }

    /// The request body without thinking, when `error` is a 400 that rejects
    /// thinking and the body asked for it; nil otherwise.
    private func withoutThinking(_ body: JSON, after error: ModelsError, call: ChatCall) -> JSON? {
        guard body["thinking"] != nil, AnthropicRequest.isThinkingRejection(status: error.status, message: error.message) else { return nil }
        Log.info("\(name) rejected extended thinking for \(call.modelID); retrying once without it")
        return AnthropicRequest.withoutThinking(body)
    }

    /// An HTTP error answer with Anthropic's error type next to its message
    /// ("anthropic answered HTTP 529: overloaded_error: Overloaded"), as stream
    /// error events are reported; other bodies as for any provider.
    private func httpError(_ transfer: HTTPTransfer, secrets: [String]) -> ModelsError {
        httpError(transfer.head, (try? transfer.readBody(limit: ProviderExchange.errorBodyBytes, truncate: true)) ?? [], secrets: secrets)
    }

    private func httpError(_ head: HTTPResponseHead, _ body: [UInt8], secrets: [String]) -> ModelsError {
        guard let json = try? JSON.parse(body), let (type, message) = AnthropicResponse.error(in: json) else {
            return ProviderErrors.httpError(provider: name, head: head, body: body, secrets: secrets)
        }
        let status = head.status
        return .api(status: status, message: "\(name) answered HTTP \(status): \(type): \(Redact.secrets(message, known: secrets))",
                    retryAfterMs: head.retryAfterMs, kind: ErrorKind.refusal(status: status, codes: [type], message: message))
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

extension AnthropicProvider: ExchangeProvider {
    public func chatExchange(_ call: ChatCall) throws(ModelsError) -> ChatExchange {
        let body = try translate(call, stream: false)
        let secrets = secrets(call)
        return ChatExchange(
            request: request(body, stream: false, call: call), secrets: secrets,
            answer: { _, bytes throws(ModelsError) in try self.answer(bytes, call: call) },
            failure: { head, bytes in self.httpError(head, bytes, secrets: secrets) },
            retryInstead: { error in self.withoutThinking(body, after: error, call: call).map { self.request($0, stream: false, call: call) } })
    }

    public func streamExchange(_ call: ChatCall) throws(ModelsError) -> StreamExchange {
        let body = try translate(call, stream: true)
        let secrets = secrets(call), name = self.name, jsonAnswer = AnthropicRequest.jsonAnswerName(call.request.json)
        return StreamExchange(
            request: request(body, stream: true, call: call), secrets: secrets,
            failure: { head, bytes in self.httpError(head, bytes, secrets: secrets) },
            notEventStream: { _, bytes in self.notEventStream(bytes, call: call) },
            retryInstead: { error in self.withoutThinking(body, after: error, call: call).map { self.request($0, stream: true, call: call) } },
            decoder: { AnthropicStreamDecoder(provider: name, model: call.model, secrets: secrets, jsonAnswer: jsonAnswer) })
    }
}

/// Anthropic's event stream, translated event by event into chunks.
final class AnthropicStream: ProviderStream {
    private let transfer: HTTPTransfer
    private let decoder: AnthropicStreamDecoder

    /// `model`: the full routed name (`anthropic/claude-sonnet-4-6`) every chunk carries.
    init(transfer: HTTPTransfer, provider: String, model: String, secrets: [String], jsonAnswer: String?) {
        self.transfer = transfer
        decoder = AnthropicStreamDecoder(provider: provider, model: model, secrets: secrets, jsonAnswer: jsonAnswer)
    }

    deinit { transfer.close() }

    var usage: (input: Int64, output: Int64) { decoder.usage }

    func pump(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        guard !decoder.finished else { return false }
        let more = try transfer.pump { bytes throws(ModelsError) in
            try self.decoder.feed(bytes, to: outlet, onEvent: self.transfer.noteEvent)
        }
        if decoder.finished {
            transfer.finishQuietly()
            return false
        }
        if !more { throw decoder.endedEarly }
        return true
    }

    func close() { transfer.close() }

    func pauseAfterThisRead() { transfer.pauseAfterThisRead() }
}

/// Anthropic's event stream as bytes come: events parsed and translated into chunks.
final class AnthropicStreamDecoder: StreamDecoder {
    private var parser = SSEParser()
    private var translator: AnthropicStreamTranslator
    private(set) var finished = false
    /// The API key: an error event may quote it back.
    private let secrets: [String]
    private let provider: String

    init(provider: String, model: String, secrets: [String], jsonAnswer: String?) {
        self.provider = provider
        self.secrets = secrets
        translator = AnthropicStreamTranslator(model: model, created: Int64(time(nil)), provider: provider, jsonAnswer: jsonAnswer)
    }

    var usage: (input: Int64, output: Int64) { (translator.inputTokens, translator.outputTokens) }

    var endedEarly: ModelsError { ModelsError(.protocol, "stream from \(provider) ended before completion (no message_stop)") }

    func feed(_ bytes: UnsafeRawBufferPointer, to outlet: ChunkOutlet, onEvent: () -> Void) throws(ModelsError) {
        try parser.feed(bytes) { event throws(ModelsError) in try self.handle(event, outlet, onEvent) }
    }

    private func handle(_ event: borrowing SSEEvent, _ outlet: ChunkOutlet, _ onEvent: () -> Void) throws(ModelsError) {
        guard !finished else { return }
        let data: JSON
        do { data = try JSON.parse(event.data) } catch {
            throw ModelsError(.protocol, "stream from \(provider) sent an event that is not valid JSON")
        }
        let type = event.type.count == 0 ? "" : event.typeString
        // Pings keep the connection busy, not the answer going: they do not reset the idle timer.
        if (type.isEmpty ? data["type"]?.string : type) != "ping" { onEvent() }
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
