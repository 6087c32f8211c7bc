// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import Glibc
import ModelsCore
import ModelsProviders
import ModelsTransport

/// One chat or stream call on an `Engine`: drives its `RouteStateMachine` from
/// the engine's timers and transfer events instead of sleeps and blocking
/// reads. Lives on the engine's thread: every method runs there.
///
///     start ─▶ decide ─▶ .wait ──────────── timer ─▶ decide
///                     ─▶ .send ─▶ (rate wait ─ timer) ─▶ transfer ─▶ done ─▶ answered / failed ─▶ decide
///                     ─▶ .fail ─▶ finish
///
/// A stream's chunks are held until its first word (as `PrimedStream` does
/// for the blocking path), so that a stream failing before it is retried or
/// falls back invisibly; after that, chunks go to the caller as they come and
/// an error ends the call.
final class EngineCall {
    struct Handlers {
        /// A stream's chunk (NUL follows in memory); false stops the stream.
        var chunk: ChunkOutlet.PushChunk?
        var thinking: ChunkOutlet.Thinking?
        /// Called once: the answer (nil for a stream) or the error.
        var done: (Result<ChatAnswer?, ModelsError>) -> Void
        /// A stream's first word came from this model (before its chunks go out).
        var opened: ((String) -> Void)? = nil
        /// A stream's tokens, just before `done`.
        var usage: (((input: Int64, output: Int64)) -> Void)? = nil
    }

    let id: UInt64
    unowned let engine: Engine
    var plan: CallPlan
    var ledger: CallLedger
    let view: Router.LiveView
    var handlers: Handlers
    let cancellation: Cancellation?
    /// The key of the engine's listener on `cancellation`.
    var listenerKey: Int?

    enum Phase { case deciding, waiting(untilMs: Int64), rateWait(untilMs: Int64), sending, done }
    var phase = Phase.deciding
    /// The time the engine's timer heap holds for this call (.max: none).
    var scheduledMs = Int64.max

    // The attempt in progress.
    var attempt: RouteStateMachine.Attempt?
    var began: Int64 = 0
    var sentAt: Int64 = 0
    private var limiter: RateLimiter?
    private(set) var transfer: EngineTransfer?
    private var chatExchange: ChatExchange?
    private var streamExchange: StreamExchange?
    private var sentInstead = false
    private(set) var decoder: (any StreamDecoder)?
    private var body: [UInt8] = []
    private var callbackError: ModelsError?
    private var lastEventMs: Int64 = 0
    /// When the stream's end marker came: the rest of the body gets a moment, no more.
    private var endMarkerMs: Int64?
    /// The attempt running on a worker thread (a provider that blocks), by its token.
    private var offThreadToken: Cancellation?
    /// That attempt's stream sent something (its idle timeout counts from then).
    private var offThreadOpened = false
    private(set) var offThreadUsage: (input: Int64, output: Int64)?

    // A stream's first word.
    private(set) var committed = false
    private var heldBytes: [UInt8] = []
    private var heldPieces: [(start: Int, count: Int, isThinking: Bool)] = []
    var end: Router.CallEnd?

    // Hedging (EngineCall+Hedge.swift).
    var race: HedgeRace
    /// The hedge this call started, while it runs or answers for this call.
    var hedgeCall: EngineCall?
    /// The call this one is the hedge of.
    weak var hedgeOf: EngineCall?
    /// This call's own attempt lost the race to its hedge: closed at the next `cancel`.
    var lostRace = false
    /// `stream_recovery: "resume"`: what the caller got, to go on after a break (see `StreamResume`).
    /// A hedge (`hedgeOf` set) has none: a break after a hedge won is not resumed.
    var resume: StreamResume?
    /// The attempt in progress broke: its tokens are in `resume`'s count already.
    private var resumeCounted = false
    private lazy var outlet = ChunkOutlet(push: { [unowned self] bytes in self.chunk(bytes) },
                                          onThinking: handlers.thinking == nil ? nil : { [unowned self] text in self.thinking(text) })

    init(id: UInt64, engine: Engine, plan: CallPlan, ledger: CallLedger, view: Router.LiveView, handlers: Handlers,
         cancellation: Cancellation?) {
        self.id = id
        self.engine = engine
        self.plan = plan
        self.ledger = ledger
        self.view = view
        self.handlers = handlers
        self.cancellation = cancellation
        race = HedgeRace(afterMs: plan.hedgeAfterMs)
        if plan.stream && (plan.options.streamRecovery ?? engine.router.config.streamRecovery) == .resume { resume = StreamResume() }
    }

    var isDone: Bool { if case .done = phase { return true } else { return false } }

    // MARK: Deciding

    /// Asks the machine what to do next and does it, until the call waits or sends.
    func decide() {
        while true {
            if cancellation?.isCancelled == true { return cancel() }
            let (action, at) = engine.router.decide(&plan.machine, view: view)
            Router.log(plan.machine.takeNotes())
            switch action {
            case .fail(let error):
                ledger.callFailed(error)
                return finish(.failure(error))
            case .wait(let until):
                ledger.waiting(plan, ms: until - at)
                phase = .waiting(untilMs: until)
                return engine.schedule(self)
            case .send(let attempt):
                ledger.sending(attempt)
                self.attempt = attempt
                began = at
                sentAt = at
                if rateLimited(attempt, now: at) { return }
                if send() { return armHedge() }
            }
        }
    }

    /// Reserves the provider's rate limit; true when the call now waits for it
    /// (or the attempt failed for it and the call went on).
    private func rateLimited(_ attempt: RouteStateMachine.Attempt, now: Int64) -> Bool {
        guard let limiter = engine.router.rateLimiter(attempt.model.providerName) else { return false }
        let wait = limiter.reserve()
        guard wait > 0 else { return false }
        if now.saturatingAdd(wait) >= attempt.deadlineMs {
            limiter.cancelReservation()
            attemptFailed(ModelsError(.timeout, "rate limit of \(attempt.model.providerName) needs a wait of \(wait) ms, past the model's timeout",
                                      isTransient: true), decideNext: false)
            return false
        }
        Log.debug("rate limit: waiting \(wait) ms for \(attempt.model.providerName)")
        self.limiter = limiter
        phase = .rateWait(untilMs: now.saturatingAdd(wait))
        engine.schedule(self)
        return true
    }

    /// Starts the attempt's transfer; true when it is in flight, false when it
    /// failed at once (the machine was told; decide again).
    func send() -> Bool {
        guard let attempt else { return false }
        limiter = nil
        sentAt = MonotonicClock.nowMs()
        // The machine sends only models whose provider is registered.
        guard let provider = attempt.model.provider as? any ExchangeProvider else { return sendOffThread(attempt) }
        let request: HTTPRequest
        do throws(ModelsError) {
            if plan.request.isEmbeddings {
                guard let exchange = try provider.embeddingsExchange(plan.embeddingsCall(attempt, cancellation: nil)) else {
                    return sendOffThread(attempt)
                }
                request = exchange.request
                chatExchange = exchange
            } else if plan.stream {
                let exchange = try provider.streamExchange(continuing(plan.call(attempt, cancellation: nil), attempt))
                request = exchange.request
                streamExchange = exchange
            } else {
                let exchange = try provider.chatExchange(plan.call(attempt, cancellation: nil))
                request = exchange.request
                chatExchange = exchange
            }
            sentInstead = false
            try start(request)
        } catch {
            attemptFailed(error, decideNext: false)
            return false
        }
        return true
    }

    /// Runs the attempt of a provider that blocks (C and Python providers) on
    /// one of the engine's worker threads; its reports come back through the
    /// inbox (`offThread`). False when it failed at once.
    private func sendOffThread(_ attempt: RouteStateMachine.Attempt) -> Bool {
        guard let provider = attempt.model.provider else {
            attemptFailed(ModelsError(.noProvider, "no provider \"\(attempt.model.providerName)\""), decideNext: false)
            return false
        }
        resetAttemptState()
        let token = Cancellation()
        let job: () -> Void
        if plan.request.isEmbeddings {
            job = OffThreadAttempt.job(provider, plan.embeddingsCall(attempt, cancellation: token), token: token, engine: engine, id: id)
        } else {
            let call: ChatCall
            do throws(ModelsError) { call = try continuing(plan.call(attempt, cancellation: token), attempt) } catch {
                attemptFailed(error, decideNext: false)
                return false
            }
            job = OffThreadAttempt.job(provider, call, stream: plan.stream,
                                       thinking: handlers.thinking != nil, token: token, engine: engine, id: id)
        }
        guard engine.runOffThread(job) else {
            attemptFailed(ModelsError(.noMemory, "cannot create a thread for the provider \"\(attempt.model.providerName)\""),
                          decideNext: false)
            return false
        }
        offThreadToken = token
        offThreadOpened = false
        phase = .sending
        engine.schedule(self)
        return true
    }

    /// What the attempt on a worker thread reported (the engine's thread).
    func offThread(_ report: OffThreadReport) {
        guard let token = offThreadToken, report.attempt === token, !isDone else { return }
        switch report.kind {
        case .answer(let answer):
            offThreadToken = nil
            answered(answer)
        case .chunk(let bytes):
            offThreadOpened = true
            lastEventMs = MonotonicClock.nowMs()
            let more = bytes.withUnsafeBytes { all in chunk(UnsafeRawBufferPointer(rebasing: all[..<(all.count - 1)])) }
            if !more { transferFailed(ModelsError(.cancelled, "stopped by the chunk callback")) }
        case .thinking(let bytes):
            offThreadOpened = true
            lastEventMs = MonotonicClock.nowMs()
            bytes.withUnsafeBytes { thinking($0) }
        case .ended(let usage):
            offThreadToken = nil
            offThreadUsage = usage
            if !committed && !commit() { return commitRefused() }
            finish(.success(nil))
        case .failed(let error, let usage):
            offThreadUsage = usage
            transferFailed(error)
        }
    }

    private func start(_ request: HTTPRequest) throws(ModelsError) {
        guard let attempt else { return }
        resetAttemptState()
        let transfer = try EngineTransfer(request, connectTimeoutMs: attempt.deadlineMs - MonotonicClock.nowMs(), owner: self)
        try engine.add(transfer)
        self.transfer = transfer
        phase = .sending
        engine.schedule(self)
    }

    private func resetAttemptState() {
        body = []
        callbackError = nil
        decoder = nil
        offThreadUsage = nil
        endMarkerMs = nil
        heldBytes = []
        heldPieces = []
        resumeCounted = false
    }

    /// The call of an attempt that continues a resumed stream asks for the rest of the answer.
    private func continuing(_ call: ChatCall, _ attempt: RouteStateMachine.Attempt) throws(ModelsError) -> ChatCall {
        guard resume?.hasDelivered == true else { return call }
        var call = call
        call.request = try engine.router.continuation(call.request, attempt, &resume!)
        return call
    }

    // MARK: Timers

    /// When the call next needs the engine's attention.
    var wakeMs: Int64 {
        switch phase {
        case .deciding, .done: return .max
        case .waiting(let until), .rateWait(let until): return until
        case .sending:
            guard let attempt else { return .max }
            let hedge = race.dueMs ?? .max
            if transfer == nil, offThreadToken != nil {
                guard plan.stream && offThreadOpened else { return min(attempt.deadlineMs, hedge) }
                let idle = lastEventMs.saturatingAdd(plan.idleTimeoutMs)
                return min(idle, plan.streamDeadline?.atMs ?? .max, hedge)
            }
            var at = Int64.max
            if let transfer, !transfer.headParser.isComplete || !plan.stream { at = attempt.deadlineMs }
            if plan.stream, transfer?.headParser.isComplete == true {
                at = min(at, lastEventMs.saturatingAdd(plan.idleTimeoutMs))
                if let total = plan.streamDeadline { at = min(at, total.atMs) }
            }
            if let endMarkerMs { at = min(at, endMarkerMs + 200) }
            return min(at, hedge)
        }
    }

    /// The engine's timer came: does what is due at `now`.
    func timerFired(now: Int64) {
        switch phase {
        case .deciding, .done: return
        case .waiting(let until):
            guard now >= until else { return engine.schedule(self) }
            phase = .deciding
            decide()
        case .rateWait(let until):
            guard now >= until else { return engine.schedule(self) }
            if send() { armHedge() } else { decide() }
        case .sending:
            if race.isDue(now: now) { startHedge(now: now) }
            if transfer == nil, offThreadToken != nil, let attempt { return offThreadTimerFired(attempt, now: now) }
            guard let attempt, let transfer else { return }
            if endMarkerMs.map({ now >= $0 + 200 }) == true {
                // The end marker came but not the end of the body: done, the connection is not kept.
                return transferDone(CURLE_OK)
            }
            let head = transfer.headParser.isComplete
            if (!head || !plan.stream) && now >= attempt.deadlineMs {
                let startMs = sentAt
                return transferFailed(ModelsError(.timeout, head
                    ? "the answer from \(transfer.host) did not complete within \(attempt.deadlineMs - startMs) ms"
                    : "no response from \(transfer.host) within \(attempt.deadlineMs - startMs) ms", isTransient: true))
            }
            if plan.stream && head {
                if let total = plan.streamDeadline, now >= total.atMs {
                    return transferFailed(ModelsError(.timeout, "the stream from \(transfer.host) did not end within \(total.afterMs) ms",
                                                      isTransient: true))
                }
                if now - lastEventMs >= plan.idleTimeoutMs {
                    return transferFailed(ModelsError(.timeout, "the stream from \(transfer.host) sent no event for \(plan.idleTimeoutMs) ms",
                                                      isTransient: true))
                }
            }
            engine.schedule(self)
        }
    }

    private func offThreadTimerFired(_ attempt: RouteStateMachine.Attempt, now: Int64) {
        let name = attempt.model.providerName
        if plan.stream && offThreadOpened {
            if let total = plan.streamDeadline, now >= total.atMs {
                return transferFailed(ModelsError(.timeout, "the stream of provider \(name) did not end within \(total.afterMs) ms",
                                                  isTransient: true))
            }
            if now - lastEventMs >= plan.idleTimeoutMs {
                return transferFailed(ModelsError(.timeout, "the stream of provider \(name) sent nothing for \(plan.idleTimeoutMs) ms",
                                                  isTransient: true))
            }
        } else if now >= attempt.deadlineMs {
            return transferFailed(ModelsError(.timeout, "provider \(name) did not answer within \(attempt.deadlineMs - sentAt) ms",
                                              isTransient: true))
        }
        engine.schedule(self)
    }

    // MARK: Transfer events (inside libcurl's callbacks)

    func headArrived() {
        // The stream's idle time counts from here (its timer is now sooner than the headers' deadline).
        lastEventMs = MonotonicClock.nowMs()
        engine.schedule(self)
    }

    func transferFailedInCallback(_ error: ModelsError) {
        if callbackError == nil { callbackError = error }
    }

    /// Body bytes; false fails the transfer (the error is kept for `transferDone`).
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let transfer, callbackError == nil else { return false }
        let head = transfer.headParser.head
        if plan.stream, head.isSuccess, head.isEventStream {
            if decoder == nil { decoder = streamExchange?.decoder() }
            guard let decoder, !decoder.finished else { return true }
            do {
                try decoder.feed(bytes, to: outlet, onEvent: { lastEventMs = MonotonicClock.nowMs() })
            } catch {
                callbackError = error
                return false
            }
            if decoder.finished && endMarkerMs == nil {
                endMarkerMs = MonotonicClock.nowMs()
                engine.schedule(self)
            }
            return true
        }
        // A whole answer, or an error's body (cut, not failed, at its limit).
        let isAnswer = head.isSuccess && !plan.stream
        let limit = isAnswer ? plan.maxResponseBytes : ProviderExchange.errorBodyBytes
        if bytes.count > limit - body.count {
            guard isAnswer else {
                body.append(contentsOf: bytes.prefix(max(0, limit - body.count)))
                return true
            }
            callbackError = ModelsError(.protocol, "the response body from \(transfer.host) is larger than \(limit) bytes")
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    // MARK: A stream's chunks

    private func chunk(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if committed { return deliver(bytes) }
        heldPieces.append((heldBytes.count, bytes.count, false))
        heldBytes.append(contentsOf: bytes)
        heldBytes.append(0)
        if ChunkDelta.carriesAnswer(bytes) || heldBytes.count > PrimedStream.maxHeldBytes { return commit() }
        return true
    }

    private func thinking(_ text: UnsafeRawBufferPointer) {
        if committed { return deliverThinking(text) }
        heldPieces.append((heldBytes.count, text.count, true))
        heldBytes.append(contentsOf: text)
        _ = commit()
    }

    /// The stream's first word came: the attempt answered; the held pieces go
    /// to the caller in order. False when the caller's chunk callback stopped the stream.
    private func commit() -> Bool {
        guard !committed, let attempt else { return true }
        guard winsRace() else { return false }
        committed = true
        handlers.opened?(attempt.model.name)
        end = ledger.answered(&plan, attempt, began: began, sentAt: sentAt, now: MonotonicClock.nowMs())
        resume?.attemptCommitted(model: attempt.model.name)
        let (bytes, pieces) = (heldBytes, heldPieces)
        heldBytes = []
        heldPieces = []
        return bytes.withUnsafeBytes { all in
            for piece in pieces {
                let slice = UnsafeRawBufferPointer(rebasing: all[piece.start..<piece.start + piece.count])
                if piece.isThinking { deliverThinking(slice) } else if !deliver(slice) { return false }
            }
            return true
        }
    }

    /// A chunk to the caller (through `resume` when the stream resumes); false when the caller stopped.
    private func deliver(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard resume != nil else { return handlers.chunk?(bytes) ?? true }
        switch resume!.filter(bytes) {
        case .pass: return handlers.chunk?(bytes) ?? true
        case .drop: return true
        case .replace(let json): return deliver(json: json)
        }
    }

    private func deliver(json: [UInt8]) -> Bool {
        var bytes = json
        bytes.append(0)
        return bytes.withUnsafeBytes { all in handlers.chunk?(UnsafeRawBufferPointer(rebasing: all[..<json.count])) ?? true }
    }

    /// Thinking to the caller, except a resumed attempt's (the caller had the first attempt's).
    private func deliverThinking(_ text: UnsafeRawBufferPointer) {
        if resume?.isContinuing == true { return }
        handlers.thinking?(text)
    }

    /// The answering stream broke: it ends the call, or (`stream_recovery: "resume"`) the call goes on with a continuation.
    private func broke(_ error: ModelsError) {
        guard resume != nil, let attempt else { return finish(.failure(error)) }
        let decision = resume!.broke(error, model: attempt.model.name, usage: decoder?.usage ?? offThreadUsage ?? (0, 0))
        resumeCounted = true
        switch decision {
        case .fail(let error): finish(.failure(error))
        case .complete:
            Log.info("\(attempt.model.name): the stream broke after its finish (\(error.message)); its answer is complete")
            finish(.success(nil))
        case .resume(let transient):
            end = nil  // the ledger ends this attempt as failed
            engine.router.noteResume(&plan, &ledger, attempt, transient, sentAt: sentAt, view: view, state: resume!)
            committed = false
            self.attempt = nil
            phase = .deciding
            decide()
        }
    }

    // MARK: The end of a transfer (outside libcurl's callbacks)

    /// libcurl reports the transfer over with `code`.
    func transferDone(_ code: CURLcode) {
        guard let transfer else { return }
        if code == CURLE_ABORTED_BY_CALLBACK, transfer.stoppedForStrayInput, callbackError == nil {
            // Its kept-alive connection held bytes that answer no request; libcurl
            // closed it. Started again on another connection (a few times at most).
            transfer.stoppedForStrayInput = false
            transfer.strayRestarts += 1
            Log.debug("a kept-alive connection to \(transfer.host) held bytes that answer no request; closed, not reused")
            engine.remove(transfer)
            if transfer.strayRestarts <= 3 {
                transfer.clearError()
                do { try engine.add(transfer); return } catch { return transferFailed(error) }
            }
            return transferFailed(ModelsError(.transport, "every kept-alive connection to \(transfer.host) held bytes that answer no request",
                                              isTransient: true))
        }
        if let error = callbackError ?? (endMarkerMs == nil ? transfer.error(for: code) : nil) { return transferFailed(error) }
        if code == CURLE_OK && callbackError == nil { transfer.markKept() }
        let head = transfer.head
        if !head.isSuccess {
            let error = (plan.stream ? streamExchange?.failure : chatExchange?.failure)?(head, body)
                ?? ModelsError(.protocol, "no exchange")
            let instead = plan.stream ? streamExchange?.retryInstead : chatExchange?.retryInstead
            if !sentInstead, let request = instead?(error) {
                engine.remove(transfer)
                self.transfer = nil
                sentInstead = true
                do { try start(request); return } catch { return transferFailed(error) }
            }
            return transferFailed(error)
        }
        if plan.stream {
            guard head.isEventStream, let decoder else {
                let error = head.isEventStream ? (decoder?.endedEarly ?? streamExchange?.decoder().endedEarly)
                    : streamExchange?.notEventStream(head, body)
                return transferFailed(error ?? ModelsError(.protocol, "the stream ended"))
            }
            guard decoder.finished else { return transferFailed(decoder.endedEarly) }
            // Ended cleanly; before its first word, it answered with what it sent.
            closeTransfer()
            if !committed && !commit() { return commitRefused() }
            return finish(.success(nil))
        }
        let result: Result<ChatAnswer, ModelsError>
        do throws(ModelsError) {
            result = .success(try chatExchange!.answer(head, body))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let answer): answered(answer)
        case .failure(let error): transferFailed(error)
        }
    }

    /// The attempt answered a chat: the call's answer.
    private func answered(_ answer: ChatAnswer) {
        guard winsRace() else { return transferFailed(ModelsError(.cancelled, "lost the hedge race")) }
        var answer = answer
        closeTransfer()
        let end = ledger.answered(&plan, attempt!, began: began, sentAt: sentAt, now: MonotonicClock.nowMs())
        let summary = end(usage: answer.usage)
        answer.setModel(attempt!.model.name)
        if ledger.wantsSummary, let summary { answer.setMember("x_libmodels", summary.json) }
        finish(.success(answer))
    }

    /// The attempt in flight failed: a stream past its first word ends with
    /// the error; anything else is an attempt the machine may retry or fall back from.
    private func transferFailed(_ error: ModelsError) {
        closeTransfer()
        if committed { return broke(error) }
        if raceAttemptFailed(error) { return }
        // "resume": a stream that breaks before its first word is retried like a transient failure too.
        attemptFailed(resume != nil && plan.stream ? StreamResume.retryable(error) : error, decideNext: true)
    }

    private func attemptFailed(_ error: ModelsError, decideNext: Bool) {
        guard let attempt else { return }
        ledger.attemptFailed(&plan, attempt, error, sentAt: sentAt, view: view)
        self.attempt = nil
        phase = .deciding
        if decideNext { decide() }
    }

    func closeTransfer() {
        if let token = offThreadToken {
            // The worker's stream stops at its next chunk; what it reports later is ignored.
            token.cancel()
            offThreadToken = nil
        }
        guard let transfer else { return }
        engine.remove(transfer)
        self.transfer = nil
    }

    // MARK: Ending

    /// Cancelled by the caller: whatever the call was doing stops, and it ends with `.cancelled`.
    func cancel() {
        guard !isDone, !cancelInRace() else { return }
        let error = ModelsError(.cancelled, "cancelled by the caller")
        if case .rateWait = phase { limiter?.cancelReservation() }
        limiter = nil
        closeTransfer()
        if committed { return finish(.failure(error)) }
        if attempt != nil {
            ledger.attemptFailed(&plan, attempt!, error, sentAt: sentAt, view: view)
            attempt = nil
        }
        ledger.callFailed(error)
        finish(.failure(error))
    }

    func finish(_ result: Result<ChatAnswer?, ModelsError>) {
        guard !isDone else { return }
        phase = .done
        closeTransfer()
        dropHedge()
        var used: (input: Int64, output: Int64) = resumeCounted ? (0, 0) : decoder?.usage ?? offThreadUsage ?? (0, 0)
        if let resume {
            if case .success = result {
                // A resumed stream ends with the text held for its overlap, then its summary.
                var state = resume
                if let text = state.flush() { _ = deliver(json: text) }
                if let summary = state.summaryChunk(lastUsage: used) { _ = deliver(json: summary) }
                self.resume = state
            }
            used = resume.totalUsage(used)
        }
        if let usage = handlers.usage, plan.stream, race.winner != .hedge { usage(used) }
        if let end {
            self.end = nil
            let (input, output) = (max(0, used.input), max(0, used.output))
            var failure: ModelsError?
            if case .failure(let error) = result { failure = error }
            end(usage: TokenUsage(input: input, output: output), atHand: true, error: failure)
        }
        if hedgeOf != nil { return hedgeFinished(result) }
        engine.finished(self)
        let done = handlers.done
        handlers = Handlers(done: { _ in })
        done(result)
        // Counted out of `inFlight` once its completion returned, as models_engine_calls() promises.
        engine.completionReturned()
    }
}
