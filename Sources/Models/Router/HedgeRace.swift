// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// Hedging's decisions for one call (`hedge_after_ms`, issue 18), pure like
/// `RouteStateMachine`: when the hedge is due, which of the two attempts wins,
/// and what the failure of one of them means. The driver (`EngineCall`) keeps
/// the clock, the transfers and the route machine, which picks the hedge's
/// model (`RouteStateMachine.hedge`).
///
///     off                                    (hedging is off for the call)
///     idle ─ sent(at) ─▶ armed(at + after) ─ next(now) ─▶ .hedge ─ started ─▶ racing
///                      └ failed(.first) ─▶ idle                 └ unavailable ─▶ spent
///     racing ─ firstWord(lane) ─▶ won(lane)     (.wins(cancel: the other))
///            ─ failed(lane)    ─▶ alone(other)  (.otherGoesOn)
///     alone(l) ─ firstWord(l)  ─▶ won(l);  failed(l) ─▶ spent (.decide: the route machine goes on)
///
/// At most one hedge per call: once started (or found unavailable) it never re-arms.
struct HedgeRace: Equatable {
    enum Lane: Equatable {
        /// The call's own attempt.
        case first
        /// The second attempt, on the next candidate.
        case hedge

        var other: Lane { self == .first ? .hedge : .first }
    }

    enum State: Equatable {
        case off
        /// No attempt in flight yet (or the last one failed before the hedge was due).
        case idle
        /// The hedge is due at this time, unless the attempt answers first.
        case armed(atMs: Int64)
        case racing
        /// One lane failed; the other goes on alone.
        case alone(Lane)
        case won(Lane)
        /// The hedge was tried (or there was nothing to hedge with) and is over.
        case spent
    }

    enum Decision: Equatable {
        case none
        case wait(untilMs: Int64)
        /// Start the hedge now.
        case hedge
    }

    enum Outcome: Equatable {
        /// This lane answers the call; the other one, when given, is cancelled at once.
        case wins(cancel: Lane?)
        /// The other lane won already: this one is dropped.
        case loses
    }

    enum AfterFailure: Equatable {
        /// The other lane is still running: nothing to decide yet.
        case otherGoesOn
        /// No lane is running: the route machine decides (retry, fall back, fail).
        case decide
    }

    let afterMs: Int64?
    private(set) var state: State

    /// `afterMs` nil or not above 0: hedging is off.
    init(afterMs: Int64?) {
        if let afterMs, afterMs > 0 {
            self.afterMs = afterMs
            state = .idle
        } else {
            self.afterMs = nil
            state = .off
        }
    }

    var isOn: Bool { state != .off }

    /// The lane that won, once one did.
    var winner: Lane? {
        if case .won(let lane) = state { return lane }
        return nil
    }

    /// Both lanes are (or were) running.
    var hedged: Bool {
        switch state {
        case .racing, .alone: return true
        case .won, .spent, .off, .idle, .armed: return false
        }
    }

    /// The call's attempt was sent at `nowMs`: the hedge is armed, unless one ran already.
    mutating func sent(at nowMs: Int64) {
        guard state == .idle, let afterMs else { return }
        state = .armed(atMs: nowMs.saturatingAdd(afterMs))
    }

    /// When the driver must look again (nil: no hedge timer).
    var dueMs: Int64? {
        if case .armed(let at) = state { return at }
        return nil
    }

    func next(now: Int64) -> Decision {
        guard case .armed(let at) = state else { return .none }
        return now >= at ? .hedge : .wait(untilMs: at)
    }

    func isDue(now: Int64) -> Bool { next(now: now) == .hedge }

    /// The hedge went out.
    mutating func started() {
        if case .armed = state { state = .racing }
    }

    /// Nothing could take the hedge (no other candidate, a rate limit, a send
    /// that failed at once): the call goes on with its one attempt, never hedged again.
    mutating func unavailable() {
        if case .armed = state { state = .spent }
        if case .racing = state { state = .spent }
    }

    /// `lane` sent its first word (a stream) or its whole answer (a chat).
    mutating func firstWord(_ lane: Lane) -> Outcome {
        switch state {
        case .off:
            return .wins(cancel: nil)
        case .idle, .armed, .spent:
            guard lane == .first else { return .loses }
            state = .won(.first)
            return .wins(cancel: nil)
        case .racing:
            state = .won(lane)
            return .wins(cancel: lane.other)
        case .alone(let running):
            guard running == lane else { return .loses }
            state = .won(lane)
            return .wins(cancel: nil)
        case .won(let winner):
            return winner == lane ? .wins(cancel: nil) : .loses
        }
    }

    /// `lane`'s attempt failed before its first word.
    mutating func failed(_ lane: Lane) -> AfterFailure {
        switch state {
        case .off, .idle, .spent, .won:
            return .decide
        case .armed:
            // The call's attempt failed before the hedge was due: the next attempt re-arms it.
            if lane == .first { state = .idle }
            return .decide
        case .racing:
            state = .alone(lane.other)
            return .otherGoesOn
        case .alone(let running):
            guard running == lane else { return .otherGoesOn }
            state = .spent
            return .decide
        }
    }
}
