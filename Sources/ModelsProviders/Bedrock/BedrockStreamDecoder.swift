// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore

/// ConverseStream's body as bytes come: event-stream messages parsed
/// (`EventStreamParser`) and translated into chunks (`BedrockStreamTranslator`).
/// A message of type `exception` or `error` ends the stream with the error it
/// names: `throttlingException` is a rate limit (429), `serviceUnavailableException`
/// 503, `internalServerException` and `modelStreamErrorException` 500,
/// `validationException` 400 (see `BedrockResponse.status(forException:)`).
final class BedrockStreamDecoder: StreamDecoder {
    private var parser = EventStreamParser()
    private var translator: BedrockStreamTranslator
    private let secrets: [String]
    private let provider: String

    init(provider: String, model: String, secrets: [String], jsonAnswer: String?) {
        self.provider = provider
        self.secrets = secrets
        translator = BedrockStreamTranslator(model: model, created: Int64(time(nil)), provider: provider, jsonAnswer: jsonAnswer)
    }

    var finished: Bool { translator.finished }
    var usage: (input: Int64, output: Int64) { (translator.inputTokens, translator.outputTokens) }
    var endedEarly: ModelsError { ModelsError(.protocol, "stream from \(provider) ended before completion (no metadata event)") }

    func feed(_ bytes: UnsafeRawBufferPointer, to outlet: ChunkOutlet, onEvent: () -> Void) throws(ModelsError) {
        try parser.feed(bytes) { message throws(ModelsError) in try self.handle(message, outlet, onEvent) }
    }

    private func handle(_ message: EventStreamMessage, _ outlet: ChunkOutlet, _ onEvent: () -> Void) throws(ModelsError) {
        guard !translator.finished else { return }
        onEvent()
        switch message.string(":message-type") ?? "event" {
        case "exception":
            throw Self.exception(message.string(":exception-type") ?? "exception", payload: message.payload, provider: provider, secrets: secrets)
        case "error":
            let code = message.string(":error-code") ?? "error"
            let text = message.string(":error-message") ?? "the stream reported an error without a message"
            throw Self.streamError(code, text, provider: provider, secrets: secrets)
        case "event":
            let type = message.string(":event-type") ?? ""
            let data: JSON
            do { data = try JSON.parse(message.payload) } catch {
                throw ModelsError(.protocol, "stream from \(provider) sent a \(type.isEmpty ? "message" : "\"\(type)\" event") that is not valid JSON")
            }
            switch try translator.translate(type: type, data: data) {
            case .chunk(let chunk): try outlet.chunk(json: chunk)
            case .thinking(let text): outlet.thinking(text)
            case .nothing: break
            case .end(let chunk): try outlet.chunk(json: chunk)
            }
        default:
            return  // message types yet to come
        }
    }

    static func exception(_ type: String, payload: [UInt8], provider: String, secrets: [String]) -> ModelsError {
        let json = try? JSON.parse(payload)
        let text = json?["message"]?.string ?? json?["Message"]?.string ?? "the stream reported \(type) without a message"
        return streamError(type, text, provider: provider, secrets: secrets)
    }

    static func streamError(_ type: String, _ text: String, provider: String, secrets: [String]) -> ModelsError {
        let status = BedrockResponse.status(forException: type)
        let shownType = String(type.prefix(100).unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.map(Character.init))
        return .api(status: status, message: "stream from \(provider): \(shownType): \(Redact.secrets(text, known: secrets))",
                    kind: ErrorKind.refusal(status: status == 400 ? 0 : status, codes: [type], message: text))
    }
}
