// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders

/// Hedging's pure decisions (issue 18): `HedgeRace` (when, who wins, what a
/// failure means) and `RouteStateMachine.hedge` (which model the hedge goes to).

private final class Named: ChatProvider, @unchecked Sendable {
    let name: String
    init(_ name: String) { self.name = name }
    func chat(_ call: ChatCall) throws(ModelsError) -> ChatAnswer { throw ModelsError(.api, "not called") }
    func openStream(_ call: ChatCall) throws(ModelsError) -> any ProviderStream { throw ModelsError(.api, "not called") }
}

private struct View: RouteStateMachine.View {
    var cooling: [String: Int64] = [:]
    var number = 0.1
    func random() -> Double { number }
    func cooldownRemainingMs(_ model: String) -> Int64 { cooling[model] ?? 0 }
    func load(_ model: String) -> DeploymentLoad.Snapshot { .init() }
    func msUntilBelow(_ model: String, rpm: Int64?, tpm: Int64?) -> Int64 { 0 }
}

private let providers: [String: any ChatProvider] = ["a": Named("a"), "b": Named("b"), "c": Named("c")]
private func model(_ name: String) -> RouteStateMachine.Entry { .model(RoutedModel(name, providers: providers)) }
private func group(_ name: String, _ models: [String]) -> RouteStateMachine.Entry {
    .group(name: name, strategy: .weighted,
           deployments: models.map { (RoutedModel($0, providers: providers), ModelGroup.Deployment(model: $0, weight: 1)) })
}
private func machine(_ entries: [RouteStateMachine.Entry], retries: Int = 0) -> RouteStateMachine {
    let settings = RouteStateMachine.Settings(retry: RetryPolicy(maxRetries: retries, baseMs: 100, maxMs: 1_000), policy: FallbackPolicy(),
                                              timeoutMs: 10_000, streamConnectTimeoutMs: 1_000)
    return RouteStateMachine(entries: entries, settings: settings, startMs: 0)
}
private func sent(_ action: RouteStateMachine.Action) -> String? {
    if case .send(let a) = action { return a.model.name }
    return nil
}
private let busy = ModelsError.api(status: 503, message: "busy")

@Suite struct HedgeRaceTests {
    @Test func offWithoutADuration() {
        for after: Int64? in [nil, 0, -5] {
            var race = HedgeRace(afterMs: after)
            race.sent(at: 0)
            #expect(!race.isOn && race.dueMs == nil && race.next(now: 1_000_000) == .none)
            #expect(race.firstWord(.first) == .wins(cancel: nil))
        }
    }

    @Test func dueAfterTheDurationFromTheSend() {
        var race = HedgeRace(afterMs: 300)
        #expect(race.next(now: 0) == .none)
        race.sent(at: 1_000)
        #expect(race.dueMs == 1_300)
        #expect(race.next(now: 1_299) == .wait(untilMs: 1_300))
        #expect(race.next(now: 1_300) == .hedge)
    }

    @Test func aFirstWordInTimeMeansNoHedge() {
        var race = HedgeRace(afterMs: 300)
        race.sent(at: 0)
        #expect(race.firstWord(.first) == .wins(cancel: nil))
        #expect(race.winner == .first && race.dueMs == nil && race.next(now: 10_000) == .none)
    }

    @Test func theFirstToAnswerWinsAndTheOtherIsCancelled() {
        for winner in [HedgeRace.Lane.first, .hedge] {
            var race = HedgeRace(afterMs: 300)
            race.sent(at: 0)
            race.started()
            #expect(race.hedged && race.dueMs == nil)
            #expect(race.firstWord(winner) == .wins(cancel: winner.other))
            #expect(race.firstWord(winner.other) == .loses)
            #expect(race.winner == winner)
            // A late failure of the loser decides nothing.
            #expect(race.failed(winner.other) == .decide && race.winner == winner)
        }
    }

    @Test func oneFailingLetsTheOtherGoOnAlone() {
        var race = HedgeRace(afterMs: 300)
        race.sent(at: 0)
        race.started()
        #expect(race.failed(.first) == .otherGoesOn)
        #expect(race.firstWord(.first) == .loses)
        #expect(race.firstWord(.hedge) == .wins(cancel: nil))

        var both = HedgeRace(afterMs: 300)
        both.sent(at: 0)
        both.started()
        #expect(both.failed(.hedge) == .otherGoesOn)
        #expect(both.failed(.first) == .decide)
        #expect(both.state == .spent)
        // At most one hedge per call: a retry does not re-arm it.
        both.sent(at: 5_000)
        #expect(both.dueMs == nil)
    }

    @Test func aFailureBeforeTheHedgeReArmsOnTheRetry() {
        var race = HedgeRace(afterMs: 300)
        race.sent(at: 0)
        #expect(race.failed(.first) == .decide)
        #expect(race.dueMs == nil)
        race.sent(at: 800)
        #expect(race.dueMs == 1_100)
    }

    @Test func nothingToHedgeWithSpendsIt() {
        var race = HedgeRace(afterMs: 300)
        race.sent(at: 0)
        race.unavailable()
        #expect(race.state == .spent && race.next(now: 10_000) == .none)
        race.sent(at: 20_000)
        #expect(race.dueMs == nil)
        #expect(race.firstWord(.first) == .wins(cancel: nil))
    }

    @Test func durationsSaturate() {
        var race = HedgeRace(afterMs: .max)
        race.sent(at: .max - 1)
        #expect(race.dueMs == .max)
    }
}

@Suite struct RouteStateMachineHedgeTests {
    @Test func theHedgeGoesToTheNextFallback() {
        var m = machine([model("a/1"), model("b/2"), model("c/3")])
        #expect(sent(m.next(now: 0, view: View())) == "a/1")
        guard let (attempt, hedged) = m.hedge(now: 300, view: View()) else { Issue.record("no hedge"); return }
        #expect(attempt.model.name == "b/2" && attempt.number == 0)
        // The machine itself is unchanged: a/1 is still its attempt.
        _ = m.failed(busy, now: 400, view: View())
        #expect(sent(m.next(now: 400, view: View())) == "b/2")
        // The hedge's machine has b/2 in progress: its failure moves on to c/3.
        var h = hedged
        _ = h.failed(busy, now: 500, view: View())
        #expect(sent(h.next(now: 500, view: View())) == "c/3")
    }

    @Test func aGroupHedgesWithItsOtherDeployment() {
        var m = machine([group("g", ["a/x", "b/x"]), model("c/3")])
        guard let first = sent(m.next(now: 0, view: View())) else { Issue.record("no send"); return }
        let hedge = m.hedge(now: 300, view: View())
        #expect(hedge?.attempt.model.name == (first == "a/x" ? "b/x" : "a/x"))
        #expect(hedge?.attempt.group == "g")
    }

    @Test func noHedgeWithoutAnotherCandidate() {
        var alone = machine([model("a/1")])
        _ = alone.next(now: 0, view: View())
        #expect(alone.hedge(now: 300, view: View()) == nil)
        // The only other candidate is cooling down: a hedge never waits.
        var cooling = machine([model("a/1"), model("b/2")])
        _ = cooling.next(now: 0, view: View())
        #expect(cooling.hedge(now: 300, view: View(cooling: ["b/2": 5_000])) == nil)
        // Nothing in flight (waiting for a retry's backoff): no hedge.
        var waiting = machine([model("a/1"), model("b/2")], retries: 1)
        _ = waiting.next(now: 0, view: View())
        _ = waiting.failed(busy, now: 10, view: View())
        #expect(waiting.hedge(now: 20, view: View()) == nil)
    }

    @Test func aModelWhoseHedgeFailedIsNotTriedAgain() {
        var m = machine([model("a/1"), model("b/2"), model("c/3")])
        #expect(sent(m.next(now: 0, view: View())) == "a/1")
        #expect(m.hedge(now: 300, view: View())?.attempt.model.name == "b/2")
        m.hedgeFailed(model: "b/2", error: busy)
        _ = m.failed(busy, now: 400, view: View())
        #expect(sent(m.next(now: 400, view: View())) == "c/3")
        _ = m.failed(ModelsError.api(status: 500, message: "down"), now: 500, view: View())
        guard case .fail(let error) = m.next(now: 500, view: View()) else { Issue.record("no failure"); return }
        #expect(error.code == .allFailed)
        #expect(error.message.contains("b/2: busy") && error.message.contains("c/3: down"))
        // In a group, the other deployment is skipped the same way.
        var g = machine([group("g", ["a/x", "b/x"]), model("c/3")])
        guard let first = sent(g.next(now: 0, view: View())) else { Issue.record("no send"); return }
        g.hedgeFailed(model: first == "a/x" ? "b/x" : "a/x", error: busy)
        _ = g.failed(busy, now: 400, view: View())
        #expect(sent(g.next(now: 400, view: View())) == "c/3")
    }

    @Test func aHedgeSkipsACoolingFallbackForTheNextOne() {
        var m = machine([model("a/1"), model("b/2"), model("c/3")])
        _ = m.next(now: 0, view: View())
        #expect(m.hedge(now: 300, view: View(cooling: ["b/2": 5_000]))?.attempt.model.name == "c/3")
    }
}
