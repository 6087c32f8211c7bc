// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders
import ModelsTransport

/// A stream that survives breaks after its first word (`stream_recovery:
/// "resume"`), for the blocking API: it reads the answering attempt's stream
/// through a `StreamResume`, and when that stream breaks it drives the call's
/// routing again (a retry with backoff, or the next model) with a request
/// that asks for the rest of the answer. The caller sees one stream.
final class ResumingStream: ProviderStream {
    private let router: Router
    private var plan: CallPlan
    private var ledger: CallLedger
    private var view: Router.LiveView
    private let cancellation: Cancellation?
    private var attempt: RouteStateMachine.Attempt
    private var sentAt: Int64
    private var stream: any ProviderStream
    private(set) var state = StreamResume()
    /// What to call when the call is over: the answering attempt's.
    private var end: Router.CallEnd?
    private var ended = false
    /// The stream in `stream` broke: its tokens are in the state's count already.
    private var counted = false
    private var streamUsage: (input: Int64, output: Int64) { counted ? (0, 0) : stream.usage }

    init(router: Router, plan: CallPlan, ledger: CallLedger, view: Router.LiveView, cancellation: Cancellation?,
         attempt: RouteStateMachine.Attempt, sentAt: Int64, stream: any ProviderStream, end: Router.CallEnd) {
        self.router = router
        self.plan = plan
        self.ledger = ledger
        self.view = view
        self.cancellation = cancellation
        self.attempt = attempt
        self.sentAt = sentAt
        self.stream = stream
        self.end = end
        state.attemptCommitted(model: attempt.model.name)
    }

    deinit { stream.close() }

    /// The summed tokens of every attempt.
    var usage: (input: Int64, output: Int64) { state.totalUsage(streamUsage) }

    /// What to report when the call is over (once).
    func takeEnd() -> Router.CallEnd? {
        defer { end = nil }
        return end
    }

    func close() { stream.close() }

    func pump(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        guard !ended else { return false }
        var refused: ModelsError?
        let filter = ChunkOutlet(push: { [unowned self] bytes in
            do throws(ModelsError) { try self.deliver(bytes, to: outlet) } catch {
                refused = error
                return false
            }
            return true
        }, onThinking: outlet.wantsThinking && !state.isContinuing ? { outlet.thinking($0) } : nil)
        do {
            guard try stream.pump(filter) else { return try finish(outlet) }
            return true
        } catch {
            if let refused { throw refused }
            return try resume(after: error, outlet)
        }
    }

    private func deliver(_ bytes: UnsafeRawBufferPointer, to outlet: ChunkOutlet) throws(ModelsError) {
        switch state.filter(bytes) {
        case .pass: try outlet.chunk(bytes)
        case .drop: return
        case .replace(let json): try Self.deliver(json, to: outlet)
        }
    }

    private static func deliver(_ json: [UInt8], to outlet: ChunkOutlet) throws(ModelsError) {
        var bytes = json
        bytes.append(0)
        try bytes.withUnsafeBytes { all in
            Result { () throws(ModelsError) in try outlet.chunk(UnsafeRawBufferPointer(rebasing: all[..<json.count])) }
        }.get()
    }

    /// The stream ended cleanly: the text held for its overlap, then the summary of a resumed stream.
    private func finish(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        ended = true
        if let text = state.flush() { try Self.deliver(text, to: outlet) }
        if let summary = state.summaryChunk(lastUsage: streamUsage) { try Self.deliver(summary, to: outlet) }
        return false
    }

    private func resume(after error: ModelsError, _ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        stream.close()
        let decision = state.broke(error, model: attempt.model.name, usage: stream.usage)
        counted = true
        switch decision {
        case .fail(let error):
            throw error
        case .complete:
            Log.info("\(attempt.model.name): the stream broke after its finish (\(error.message)); its answer is complete")
            return try finish(outlet)
        case .resume(let transient):
            end = nil  // the ledger ends this attempt as failed
            router.noteResume(&plan, &ledger, attempt, transient, sentAt: sentAt, view: view, state: state)
            let (next, attempt, end) = try router.drive(&plan, &ledger, &view, cancellation: cancellation) {
                [cancellation] attempt, plan throws(ModelsError) in
                var call = plan.call(attempt, cancellation: cancellation)
                call.request = try router.continuation(call.request, attempt, &state)
                sentAt = MonotonicClock.nowMs()
                return try Router.primed(attempt, call)
            }
            stream = next
            counted = false
            self.attempt = attempt
            self.end = end
            state.attemptCommitted(model: attempt.model.name)
            return true
        }
    }
}
