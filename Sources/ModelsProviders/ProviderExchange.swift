// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// One attempt at a provider as data, for a driver that does the I/O itself
/// (the `Engine`): the request to send and how to read what comes back. A
/// provider that speaks HTTP builds these from pure types; its blocking
/// `chat`/`openStream` read the answer with the same functions.
public struct ChatExchange {
    public var request: HTTPRequest
    /// Removed from any message built from the answer.
    public var secrets: [String]
    /// A 2xx answer's whole body → the answer (or the error it holds).
    public var answer: (_ head: HTTPResponseHead, _ body: [UInt8]) throws(ModelsError) -> ChatAnswer
    /// A non-2xx answer (its body cut at `ProviderExchange.errorBodyBytes`) → the error.
    public var failure: (_ head: HTTPResponseHead, _ body: [UInt8]) -> ModelsError
    /// After a non-2xx answer: a request to send instead, once (Anthropic without thinking).
    public var retryInstead: ((ModelsError) -> HTTPRequest?)?
}

public struct StreamExchange {
    public var request: HTTPRequest
    public var secrets: [String]
    public var failure: (_ head: HTTPResponseHead, _ body: [UInt8]) -> ModelsError
    /// A 2xx answer that is not an event stream (its body cut) → the error.
    public var notEventStream: (_ head: HTTPResponseHead, _ body: [UInt8]) -> ModelsError
    public var retryInstead: ((ModelsError) -> HTTPRequest?)?
    /// Reads the event stream's body into chunks.
    public var decoder: () -> any StreamDecoder
}

/// Turns a stream's body, as it arrives, into `chat.completion.chunk` objects.
public protocol StreamDecoder: AnyObject {
    /// Feeds body bytes: chunks and thinking go to `outlet`, `onEvent` is told
    /// of each event that counts for the idle timer.
    func feed(_ bytes: UnsafeRawBufferPointer, to outlet: ChunkOutlet, onEvent: () -> Void) throws(ModelsError)
    /// The end marker arrived; later bytes are ignored.
    var finished: Bool { get }
    var usage: (input: Int64, output: Int64) { get }
    /// The error for a body that ended before the end marker.
    var endedEarly: ModelsError { get }
}

/// A provider whose attempts an event loop can drive.
public protocol ExchangeProvider: ChatProvider {
    func chatExchange(_ call: ChatCall) throws(ModelsError) -> ChatExchange
    func streamExchange(_ call: ChatCall) throws(ModelsError) -> StreamExchange
    /// An embeddings attempt as data; nil (the default): run `embed` off the event loop.
    func embeddingsExchange(_ call: EmbeddingsCall) throws(ModelsError) -> ChatExchange?
}

public enum ProviderExchange {
    /// How much of an error answer's body is read.
    public static let errorBodyBytes = 64 << 10
}
