// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders
import ModelsTransport

/// The blocking calls (`Router.chat`, `Router.openStream`) of a call that is
/// hedged (`hedge_after_ms`): two transfers raced inside one call need the
/// engine, so the call runs on a private `Engine` that the caller's own thread
/// drives (`process`) until the answer, the stream's first word or the error.
/// No other thread is involved: the caller's callbacks (a stream's chunks and
/// thinking) run on the caller's thread, as for every blocking call, and never
/// inside libcurl's callbacks (the engine's handlers only queue what comes).
/// Cancellation (`models_call_cancel`, `models_stream_cancel`) reaches the
/// engine through its call's token and wakes the thread waiting in `process`.
/// Connections come from the process-wide share, as every transfer's do.
extension Router {
    /// Whether a call with `options` is hedged.
    func hedges(_ options: CallOptions) -> Bool { (options.hedgeAfterMs ?? config.hedgeAfterMs ?? 0) > 0 }

    /// A hedged chat, on a private engine driven by this thread.
    func chatOnEngine(_ request: ChatRequest, options: CallOptions, cancellation: Cancellation?) throws(ModelsError) -> ChatAnswer {
        let engine = try Engine(router: self)
        var result: Result<ChatAnswer, ModelsError>?
        try engine.chat(request, options: options, cancellation: cancellation) { result = $0 }
        while result == nil { engine.process(timeoutMs: -1) }
        return try result!.get()
    }

    /// A hedged stream, open once its first word came (as `openStream` promises).
    func openStreamOnEngine(_ request: ChatRequest, options: CallOptions, cancellation: Cancellation?) throws(ModelsError) -> ChatStream {
        let feed = try EngineFeed(router: self, caller: cancellation)
        var handlers = EngineCall.Handlers(chunk: { [unowned feed] bytes in feed.add(bytes, thinking: false) },
                                           thinking: { [unowned feed] text in _ = feed.add(text, thinking: true) },
                                           done: { [unowned feed] result in feed.ended(result) })
        handlers.opened = { [unowned feed] model in feed.model = model }
        handlers.usage = { [unowned feed] used in feed.usage = used }
        try feed.engine.submit(.chat(request), options: options, stream: true, cancellation: feed.token, handlers: handlers)
        let model = try feed.waitForOpen()
        return ChatStream(stream: feed, model: model, maxCollectBytes: config.maxResponseBytes)
    }
}

/// A stream call on a private engine, read as a `ProviderStream`: `pump`
/// drives the engine on the reading thread and hands over what came, in order.
final class EngineFeed: ProviderStream {
    let engine: Engine
    /// The engine call's own token: cancelled by the caller's (when given) and by `close`.
    let token = Cancellation()
    private let caller: Cancellation?
    private var callerKey: Int?
    var model: String?
    var usage: (input: Int64, output: Int64) = (0, 0)
    /// Chunks (each followed by a NUL) and thinking, in the order they came.
    private var bytes: [UInt8] = []
    private var pieces: [(start: Int, count: Int, thinking: Bool)] = []
    private var result: Result<ChatAnswer?, ModelsError>?

    init(router: Router, caller: Cancellation?) throws(ModelsError) {
        engine = try Engine(router: router)
        self.caller = caller
        if let caller {
            callerKey = caller.addListener { [token] in token.cancel() }
            if caller.isCancelled { token.cancel() }
        }
    }

    deinit {
        if let callerKey { caller?.removeListener(callerKey) }
    }

    /// From the engine's handlers (inside `process`): kept for `pump`.
    func add(_ piece: UnsafeRawBufferPointer, thinking: Bool) -> Bool {
        pieces.append((bytes.count, piece.count, thinking))
        bytes.append(contentsOf: piece)
        if !thinking { bytes.append(0) }
        return true
    }

    func ended(_ result: Result<ChatAnswer?, ModelsError>) { self.result = result }

    /// Drives the engine until the first word (the model that sent it) or the error.
    func waitForOpen() throws(ModelsError) -> String {
        while model == nil && result == nil { engine.process(timeoutMs: -1) }
        if let model { return model }
        if case .failure(let error) = result { throw error }
        throw ModelsError(.protocol, "the stream ended before it opened")
    }

    func pump(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        while pieces.isEmpty && result == nil { engine.process(timeoutMs: -1) }
        if !pieces.isEmpty {
            let (all, list) = (bytes, pieces)
            bytes = []
            pieces = []
            let failure: ModelsError? = all.withUnsafeBytes { buffer in
                for p in list {
                    let piece = UnsafeRawBufferPointer(rebasing: buffer[p.start..<p.start + p.count])
                    if p.thinking {
                        outlet.thinking(piece)
                    } else {
                        do throws(ModelsError) { try outlet.chunk(piece) } catch { return error }
                    }
                }
                return nil
            }
            if let failure { throw failure }
            return true
        }
        if case .failure(let error) = result { throw error }
        return false
    }

    /// Stops the call when it is still going (its transfers closed), then lets the engine go.
    func close() {
        guard result == nil else { return }
        token.cancel()
        while result == nil { engine.process(timeoutMs: -1) }
    }
}
