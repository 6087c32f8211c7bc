// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// A provider the machine can name; it is never called (the tests play the driver).
private final class NamedProvider: ChatProvider, @unchecked Sendable {
    let name: String
    init(_ name: String) { self.name = name }
    func chat(_ call: ChatCall) throws(ModelsError) -> ChatAnswer { throw ModelsError(.api, "not called") }
    func openStream(_ call: ChatCall) throws(ModelsError) -> any ProviderStream { throw ModelsError(.api, "not called") }
}

/// The shared state, as the test sets it.
private struct FakeView: RouteStateMachine.View {
    var cooling: [String: Int64] = [:]
    var limited: [String: Int64] = [:]
    var loads: [String: DeploymentLoad.Snapshot] = [:]
    var number = 0.5
    func random() -> Double { number }
    func cooldownRemainingMs(_ model: String) -> Int64 { cooling[model] ?? 0 }
    func load(_ model: String) -> DeploymentLoad.Snapshot { loads[model] ?? .init() }
    func msUntilBelow(_ model: String, rpm: Int64?, tpm: Int64?) -> Int64 { limited[model] ?? 0 }
}

private let providers: [String: any ChatProvider] = ["a": NamedProvider("a"), "b": NamedProvider("b"), "c": NamedProvider("c")]
private let server503 = ModelsError.api(status: 503, message: "busy")
private let auth401 = ModelsError.api(status: 401, message: "bad key")

private func model(_ name: String) -> RouteStateMachine.Entry { .model(RoutedModel(name, providers: providers)) }

private func group(_ name: String, _ deployments: [ModelGroup.Deployment], strategy: ModelGroup.Strategy = .weighted) -> RouteStateMachine.Entry {
    .group(name: name, strategy: strategy, deployments: deployments.map { (RoutedModel($0.model, providers: providers), $0) })
}

private func machine(_ entries: [RouteStateMachine.Entry], retries: Int = 0, policy: FallbackPolicy = FallbackPolicy(),
                     cooldownWaitMs: Int64 = 0, timeoutMs: Int64 = 10_000) -> RouteStateMachine {
    let settings = RouteStateMachine.Settings(retry: RetryPolicy(maxRetries: retries, baseMs: 100, maxMs: 1_000), policy: policy,
                                              timeoutMs: timeoutMs, streamConnectTimeoutMs: 1_000, cooldownWaitMs: cooldownWaitMs)
    let listed = Dictionary(uniqueKeysWithValues: (policy.contextWindowFallbacks + policy.contentPolicyFallbacks).map { ($0, model($0)) })
    return RouteStateMachine(entries: entries, settings: settings, startMs: 0, listed: listed)
}

/// The model the next action sends to, or nil when it is not a send.
private func sent(_ action: RouteStateMachine.Action) -> String? {
    if case .send(let a) = action { return a.model.name }
    return nil
}

private func failure(_ action: RouteStateMachine.Action) -> ModelsError? {
    if case .fail(let e) = action { return e }
    return nil
}

@Suite struct RouteStateMachineTests {
    @Test func primaryThenFallbacksInOrder() {
        var m = machine([model("a/1"), model("b/2"), model("c/3")])
        let view = FakeView()
        #expect(sent(m.next(now: 0, view: view)) == "a/1")
        _ = m.failed(server503, now: 10, view: FakeView())
        #expect(sent(m.next(now: 10, view: view)) == "b/2")
        _ = m.failed(server503, now: 20, view: FakeView())
        #expect(sent(m.next(now: 20, view: view)) == "c/3")
        _ = m.failed(auth401, now: 30, view: FakeView())
        let error = failure(m.next(now: 30, view: view))
        #expect(error?.code == .allFailed && error?.status == 401)
        #expect(error?.message.contains("a/1: busy") == true)
    }

    @Test func retriesWaitForTheirBackoffThenResend() {
        var m = machine([model("a/1")], retries: 2)
        let view = FakeView()
        #expect(sent(m.next(now: 0, view: view)) == "a/1")
        #expect(m.failed(server503, now: 5, view: FakeView()) == .init(coolDown: false, retryInMs: 100))
        guard case .wait(let until) = m.next(now: 5, view: view) else { Issue.record("no wait"); return }
        #expect(until == 105)  // base 100 ms, jitter 0.5 → × 1
        #expect(m.waitReason == .retry)
        #expect(sent(m.next(now: until, view: view)) == "a/1")
        _ = m.failed(server503, now: 200, view: FakeView())
        guard case .wait = m.next(now: 200, view: view) else { Issue.record("no second wait"); return }
        #expect(sent(m.next(now: 400, view: view)) == "a/1")
        // The last attempt: the model is cooled down, and alone its own error comes back.
        #expect(m.failed(server503, now: 410, view: FakeView()) == .init(coolDown: true))
        #expect(failure(m.next(now: 410, view: view)) == server503)
        #expect(m.takeNotes().contains { $0.message.contains("retrying in 100 ms") })
    }

    @Test func aGroupTriesItsOtherDeploymentsBeforeTheNextFallback() {
        let deployments = [ModelGroup.Deployment(model: "a/x", weight: 1), ModelGroup.Deployment(model: "b/x", weight: 1)]
        var m = machine([group("smart", deployments), model("c/3")])
        let view = FakeView(number: 0.1)
        let first = sent(m.next(now: 0, view: view))
        #expect(first == "a/x")
        #expect(m.failed(server503, now: 1, view: FakeView()) == .init(coolDown: true))
        #expect(sent(m.next(now: 1, view: view)) == "b/x")
        _ = m.failed(server503, now: 2, view: FakeView())
        #expect(sent(m.next(now: 2, view: view)) == "c/3")
        m.succeeded()
    }

    @Test func aGroupIsInCooldownOnlyWhenEveryDeploymentIs() {
        let deployments = [ModelGroup.Deployment(model: "a/x"), ModelGroup.Deployment(model: "b/x")]
        var one = machine([group("smart", deployments)])
        #expect(sent(one.next(now: 0, view: FakeView(cooling: ["a/x": 5_000]))) == "b/x")
        var both = machine([group("smart", deployments)])
        let error = failure(both.next(now: 0, view: FakeView(cooling: ["a/x": 5_000, "b/x": 3_000])))
        #expect(error?.code == .allCooldown)
        #expect(error?.retryAfterMs == 3_000)
        #expect(error?.message.contains("smart: every deployment is in cooldown") == true)
    }

    @Test func allCooldownCarriesTheTimeUntilTheFirstIsBack() {
        var m = machine([model("a/1"), model("b/2")])
        let error = failure(m.next(now: 100, view: FakeView(cooling: ["a/1": 9_000, "b/2": 4_000])))
        #expect(error?.code == .allCooldown && error?.retryAfterMs == 4_000)
    }

    @Test func cooldownWaitWaitsOnceForTheFirstToComeBack() {
        var m = machine([model("a/1"), model("b/2")], cooldownWaitMs: 5_000)
        let cooling = FakeView(cooling: ["a/1": 9_000, "b/2": 4_000])
        guard case .wait(let until) = m.next(now: 100, view: cooling) else { Issue.record("no wait"); return }
        #expect(until == 4_100)
        #expect(m.waitReason == .cooldown)
        #expect(sent(m.next(now: until, view: FakeView(cooling: ["a/1": 4_900]))) == "b/2")
        // Too far away: fail at once.
        var far = machine([model("a/1")], cooldownWaitMs: 1_000)
        #expect(failure(far.next(now: 0, view: FakeView(cooling: ["a/1": 9_000])))?.code == .allCooldown)
        // Never past the call's deadline, whatever cooldown_wait_ms says.
        var late = machine([model("a/1")], cooldownWaitMs: 60_000, timeoutMs: 2_000)
        #expect(failure(late.next(now: 0, view: FakeView(cooling: ["a/1": 9_000])))?.code == .allCooldown)
    }

    @Test func rateLimitedDeploymentsAreSkippedThenWaitedForWithinTheDeadline() {
        let deployments = [ModelGroup.Deployment(model: "a/x", rpm: 10), ModelGroup.Deployment(model: "b/x", rpm: 10)]
        var m = machine([group("smart", deployments)], timeoutMs: 10_000)
        #expect(sent(m.next(now: 0, view: FakeView(limited: ["a/x": 30_000]))) == "b/x")
        var waiting = machine([group("smart", deployments)], timeoutMs: 10_000)
        guard case .wait(let until) = waiting.next(now: 0, view: FakeView(limited: ["a/x": 3_000, "b/x": 2_000])) else {
            Issue.record("no wait"); return
        }
        #expect(until == 2_000)
        #expect(waiting.waitReason == .rateLimit)
        var failing = machine([group("smart", deployments)], timeoutMs: 1_000)
        let error = failure(failing.next(now: 0, view: FakeView(limited: ["a/x": 3_000, "b/x": 2_000])))
        #expect(error?.code == .allCooldown && error?.retryAfterMs == 2_000)
        #expect(error?.message.contains("a/x at its rpm limit of 10 requests a minute, b/x at its rpm limit of 10 requests a minute") == true)
        // A fallback that can answer now is tried before any wait for a limit.
        var falling = machine([group("smart", deployments), model("c/3")], timeoutMs: 10_000)
        #expect(sent(falling.next(now: 0, view: FakeView(limited: ["a/x": 3_000, "b/x": 2_000]))) == "c/3")
    }

    @Test func leastBusyGroupFollowsTheLoad() {
        let deployments = [ModelGroup.Deployment(model: "a/x"), ModelGroup.Deployment(model: "b/x")]
        var m = machine([group("smart", deployments, strategy: .leastBusy)])
        let view = FakeView(loads: ["a/x": .init(inFlight: 4), "b/x": .init(inFlight: 1)])
        #expect(sent(m.next(now: 0, view: view)) == "b/x")
    }

    @Test func fallbackOnAndPerKindListsDecideWhereToGo() {
        var stop = machine([model("a/1"), model("b/2")], policy: FallbackPolicy(fallbackOn: [.server]))
        _ = stop.next(now: 0, view: FakeView())
        _ = stop.failed(auth401, now: 1, view: FakeView())
        #expect(failure(stop.next(now: 1, view: FakeView())) == auth401)

        let tooLong = ModelsError.api(status: 400, message: "prompt is too long", kind: .contextWindow)
        var switching = machine([model("a/1"), model("b/2")], policy: FallbackPolicy(contextWindowFallbacks: ["c/long"]))
        _ = switching.next(now: 0, view: FakeView())
        _ = switching.failed(tooLong, now: 1, view: FakeView())
        #expect(sent(switching.next(now: 1, view: FakeView())) == "c/long")
        _ = switching.failed(tooLong, now: 2, view: FakeView())
        #expect(failure(switching.next(now: 2, view: FakeView()))?.code == .allFailed)
    }

    @Test func unregisteredProvidersAreNamedWhenNothingElseWorked() {
        var m = machine([model("nowhere/1")])
        let error = failure(m.next(now: 0, view: FakeView()))
        #expect(error?.code == .noProvider && error?.message.contains("\"nowhere\"") == true)
    }

    @Test func cancellationEndsTheCallAtOnce() {
        var m = machine([model("a/1"), model("b/2")], retries: 3)
        _ = m.next(now: 0, view: FakeView())
        _ = m.failed(ModelsError(.cancelled, "cancelled"), now: 1, view: FakeView())
        #expect(failure(m.next(now: 1, view: FakeView()))?.code == .cancelled)
    }
}
