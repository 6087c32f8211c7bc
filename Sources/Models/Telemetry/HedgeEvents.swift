// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

/// The events and log lines of a hedged call (`hedge_after_ms`): `hedge.start`
/// when the second attempt goes out, `hedge.end` once the race is over, with
/// the winner and what the other attempt cost.
extension CallObserver {
    func hedgeStarted(from: RoutedModel, to: RoutedModel, group: String?, afterMs: Int64) {
        Log.info("hedge: \(from.name) sent no first word within \(afterMs) ms; also sending the request to \(to.name)")
        emit("hedge.start") {
            $0.describe(to, group: group)
            $0.string("libmodels.hedge.from", from.name)
            $0.int("libmodels.hedge_after_ms", afterMs)
        }
    }

    /// The race is over. `winner`: "first" (the call's own attempt), "hedge"
    /// or "none" (both failed). `other`: the attempt that did not answer, how
    /// long it ran, the tokens it had reported and what they cost, and why it ended.
    func hedgeEnded(winner: String, model: String?, other: RoutedModel, otherMs: Int64, otherUsage: TokenUsage, otherError: ModelsError?) {
        let cost = prices.cost(other.name, otherUsage)
        if otherUsage.total > 0 { metrics.used(other.name, group: nil, otherUsage, costUSD: cost) }
        let tokens = otherUsage.total > 0 ? " (\(otherUsage.input) input, \(otherUsage.output) output tokens)" : ""
        switch winner {
        case "none": Log.info("hedge: neither attempt answered (\(other.name) ran \(otherMs) ms\(tokens))")
        default: Log.info("hedge: \(model ?? "?") answered first (the \(winner) attempt); \(other.name) ran \(otherMs) ms\(tokens)")
        }
        emit("hedge.end") {
            $0.string("libmodels.hedge.winner", winner)
            if let model { $0.string("gen_ai.response.model", model) }
            $0.string("libmodels.hedge.other_model", other.name)
            $0.int("libmodels.hedge.other_ms", otherMs)
            $0.usage(otherUsage)
            if let cost { $0.number("libmodels.cost_usd", cost) }
            if let otherError { $0.error(otherError) }
        }
    }
}
