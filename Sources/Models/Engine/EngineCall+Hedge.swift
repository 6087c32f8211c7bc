// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import ModelsCore
import ModelsProviders
import ModelsTransport

/// Hedging on the engine (`hedge_after_ms`, issue 18): when the call's attempt
/// has sent no first word (a stream: its first content, tool call or thinking;
/// a chat: its whole answer) within `hedge_after_ms`, the same request also
/// goes to the next candidate (`RouteStateMachine.hedge`) as a second
/// `EngineCall`, the hedge, whose chunks and end go to this call's handlers.
/// The first of the two to send its first word wins (`HedgeRace`); the other
/// is cancelled at once (its connection closed, never reused). `HedgeRace`
/// holds the decisions; this file only carries them out.
///
/// The hedge is registered with the engine under an id of its own (for its
/// timers and transfers) but is not a call of the caller's: it is not counted
/// in flight, never calls the caller's completion itself, and never decides:
/// one attempt, no retry. When the call's own attempt fails while the hedge
/// runs, the hedge goes on alone; when the hedge fails too, the route machine
/// decides as after any failure (its retries, its fallbacks).
extension EngineCall {
    /// After the call's attempt went out: the hedge's timer starts (once per call).
    func armHedge() {
        guard race.isOn, hedgeOf == nil else { return }
        race.sent(at: sentAt)
        engine.schedule(self)
    }

    /// The hedge is due: starts it on the next candidate, when one can take the call now.
    func startHedge(now: Int64) {
        guard let first = attempt, !committed, hedgeCall == nil, let afterMs = race.afterMs else { return race.unavailable() }
        guard let (hedgeAttempt, machine) = plan.machine.hedge(now: now, view: view) else {
            Log.debug("hedge: \(first.model.name) sent no first word within \(afterMs) ms, and no other model can take the call now")
            return race.unavailable()
        }
        if let limiter = engine.router.rateLimiter(hedgeAttempt.model.providerName), limiter.reserve() > 0 {
            // A hedge never waits for a rate limit.
            limiter.cancelReservation()
            Log.debug("hedge: \(hedgeAttempt.model.providerName) is at its rate limit; no hedge")
            return race.unavailable()
        }
        var hedgePlan = plan
        hedgePlan.machine = machine
        hedgePlan.hedgeAfterMs = nil
        var forward = Handlers(done: { [unowned self] result in self.hedgeDone(result) })
        forward.chunk = { [unowned self] bytes in self.handlers.chunk?(bytes) ?? true }
        if handlers.thinking != nil { forward.thinking = { [unowned self] text in self.handlers.thinking?(text) } }
        forward.opened = { [unowned self] model in self.handlers.opened?(model) }
        forward.usage = { [unowned self] used in self.handlers.usage?(used) }
        let hedge = EngineCall(id: engine.newCallID(), engine: engine, plan: hedgePlan, ledger: ledger, view: view,
                               handlers: forward, cancellation: nil)
        hedge.hedgeOf = self
        hedge.resume = nil  // a break after the hedge won ends the stream (a hedge does not decide)
        hedge.attempt = hedgeAttempt
        hedge.began = now
        hedge.sentAt = now
        engine.router.load.begin(hedgeAttempt.model.name, at: now)
        ledger.observer.hedgeStarted(from: first.model, to: hedgeAttempt.model, group: hedgeAttempt.group, afterMs: afterMs)
        hedge.ledger.sending(hedgeAttempt)
        engine.register(hedge)
        race.started()
        hedgeCall = hedge
        if !hedge.send() {
            // Failed at once (its failure is counted): the call goes on with its own attempt.
            engine.unregister(hedge)
            hedgeCall = nil
            _ = race.failed(.hedge)
            race.unavailable()
        }
    }

    /// Asked at the first word (a chat: the answer): whether this attempt
    /// answers the call. The winner cancels the other attempt at once (through
    /// the engine's inbox, as this may run inside a libcurl callback).
    func winsRace() -> Bool {
        if let call = hedgeOf {
            switch call.race.firstWord(.hedge) {
            case .loses: return false
            case .wins(let cancel):
                if cancel == .first {
                    call.lostRace = true
                    engine.cancel(call.id)
                }
                return true
            }
        }
        guard race.isOn else { return true }
        switch race.firstWord(.first) {
        case .loses: return false
        case .wins(let cancel):
            if cancel == .hedge, let hedge = hedgeCall {
                hedge.lostRace = true
                engine.cancel(hedge.id)
            }
            return true
        }
    }

    /// `commit` refused the first word: the race was lost, or the caller's chunk callback stopped the stream.
    func commitRefused() {
        if !committed, raceAttemptFailed(ModelsError(.cancelled, "lost the hedge race")) { return }
        finish(.failure(ModelsError(.cancelled, "stopped by the chunk callback")))
    }

    /// The attempt in flight failed before its first word (its transfer is
    /// closed): true when the race handled it, false when the route machine decides.
    func raceAttemptFailed(_ error: ModelsError) -> Bool {
        if let call = hedgeOf {
            let lost = lostRace || call.race.winner == .first
            let model = attempt?.model.name
            endLane(lost ? ModelsError(.cancelled, "lost the hedge race") : error, report: call, winner: lost ? "first" : "none",
                    winnerModel: lost ? call.attempt?.model.name : nil)
            endHedge()
            if call.hedgeCall === self { call.hedgeCall = nil }
            if !lost, let model { call.hedgeFailed(model: model, error) }
            return true
        }
        if lostRace || race.winner == .hedge {
            // Lost to the hedge, which answers for the call now.
            lostRace = false
            endLane(ModelsError(.cancelled, "lost the hedge race"), report: self, winner: "hedge",
                    winnerModel: hedgeCall?.attempt?.model.name)
            return true
        }
        guard race.failed(.first) == .otherGoesOn else { return false }
        // The hedge goes on alone; if it fails too, the machine decides then.
        endLane(error, report: self, winner: "none", winnerModel: nil)
        return true
    }

    /// The hedge failed before its first word (the engine's thread, outside libcurl's callbacks).
    private func hedgeFailed(model: String, _ error: ModelsError) {
        guard !isDone else { return }
        plan.machine.hedgeFailed(model: model, error: error)
        guard race.failed(.hedge) == .decide else { return }
        // The call's own attempt had failed already: the machine goes on.
        phase = .deciding
        decide()
    }

    /// Ends this call's attempt without an answer: its transfer closed and not
    /// reused, the failure counted (a lost race as a cancelled attempt), and
    /// `hedge.end` told through `report` (the call's observer).
    private func endLane(_ error: ModelsError, report: EngineCall, winner: String, winnerModel: String?) {
        if let transfer { _ = cms_easy_setopt_long(transfer.easy, CURLOPT_FORBID_REUSE, 1) }
        let used = decoder?.usage ?? offThreadUsage ?? (0, 0)
        closeTransfer()
        if let attempt {
            ledger.attemptFailed(&plan, attempt, error, sentAt: sentAt, view: view)
            report.ledger.observer.hedgeEnded(winner: winner, model: winnerModel, other: attempt.model,
                                              otherMs: MonotonicClock.nowMs() - sentAt,
                                              otherUsage: TokenUsage(input: max(0, used.input), output: max(0, used.output)),
                                              otherError: winner == "none" ? error : nil)
        }
        attempt = nil
        phase = .deciding
    }

    /// The hedge leaves the engine quietly (it is not the caller's call).
    private func endHedge() {
        phase = .done
        engine.unregister(self)
        handlers = Handlers(done: { _ in })
    }

    /// `cancel` in a race: true when handled here (a lost attempt dropped, a hedge cancelled with its call).
    func cancelInRace() -> Bool {
        if let call = hedgeOf {
            // The winner is cancelled as the call would be (its end goes to the call).
            if committed { return false }
            if lostRace {
                _ = raceAttemptFailed(ModelsError(.cancelled, "lost the hedge race"))
            } else {
                // Cancelled with its call, which ends too: nothing to decide.
                endLane(ModelsError(.cancelled, "cancelled by the caller"), report: call, winner: "none", winnerModel: nil)
                endHedge()
                if call.hedgeCall === self { call.hedgeCall = nil }
            }
            return true
        }
        if lostRace, cancellation?.isCancelled != true {
            _ = raceAttemptFailed(ModelsError(.cancelled, "lost the hedge race"))
            return true
        }
        // The caller cancelled the call: its hedge too (a hedge that won ends the call with `.cancelled`).
        if let hedge = hedgeCall { hedge.cancel() }
        return isDone
    }

    /// The call is over: a hedge still running is dropped.
    func dropHedge() {
        guard let hedge = hedgeCall else { return }
        hedgeCall = nil
        if hedge.isDone { return }
        if hedge.committed {
            // The call ends while its hedge answers for it: only when freed with it.
            hedge.handlers = Handlers(done: { _ in })
            hedge.cancel()
            return
        }
        hedge.lostRace = true
        _ = hedge.raceAttemptFailed(ModelsError(.cancelled, "lost the hedge race"))
    }

    /// The hedge's `finish`: its end goes to the call, which ends with it when the hedge had won.
    func hedgeFinished(_ result: Result<ChatAnswer?, ModelsError>) {
        engine.unregister(self)
        let done = handlers.done
        handlers = Handlers(done: { _ in })
        withExtendedLifetime(self) { done(result) }
    }

    /// The hedge that won is over: so is the call.
    private func hedgeDone(_ result: Result<ChatAnswer?, ModelsError>) {
        let hedgeModel = hedgeCall?.attempt?.model.name
        hedgeCall = nil
        guard race.winner == .hedge else { return }
        if attempt != nil {
            // The lost attempt's cancel is still queued: it ends now.
            lostRace = false
            endLane(ModelsError(.cancelled, "lost the hedge race"), report: self, winner: "hedge", winnerModel: hedgeModel)
        }
        finish(result)
    }
}
