// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// One model's health as the router sees it, without calling any API.
public struct ModelHealth: Sendable, Equatable {
    public var model: String
    public var provider: String
    public var available: Bool
    /// Why the model is unavailable ("provider not registered", "cooldown (42s remaining)"); empty when available.
    public var reason: String
    /// The group the model is a deployment of; nil for a plain model.
    public var group: String?
    /// Calls in flight, the latency average and the last minute's usage.
    public var load = DeploymentLoad.Snapshot()
    /// The deployment's limits; nil when it has none.
    public var rpm: Int64?
    public var tpm: Int64?

    public init(model: String, provider: String, available: Bool, reason: String) {
        self.model = model
        self.provider = provider
        self.available = available
        self.reason = reason
    }

    public var json: JSON {
        var object: JSON = ["model": .string(model), "provider": .string(provider), "available": .bool(available)]
        if !reason.isEmpty { object.set("reason", .string(reason)) }
        if let group { object.set("group", .string(group)) }
        object.set("in_flight", .int(Int64(load.inFlight)))
        if let latency = load.latencyMs { object.set("latency_ms", .int(Int64.clamping(latency.rounded()) ?? 0)) }
        object.set("requests_this_minute", .int(load.requestsThisMinute))
        object.set("tokens_this_minute", .int(load.tokensThisMinute))
        if let rpm { object.set("rpm", .int(rpm)) }
        if let tpm { object.set("tpm", .int(tpm)) }
        return object
    }

    /// "42s", "1m30s", "2h" — whole seconds, rounded up so a cooling model never shows 0s.
    static func formatRemaining(_ ms: Int64) -> String {
        let seconds = (ms + 999) / 1000
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return seconds % 60 == 0 ? "\(seconds / 60)m" : "\(seconds / 60)m\(seconds % 60)s" }
        let minutes = (seconds % 3600) / 60
        return minutes == 0 ? "\(seconds / 3600)h" : "\(seconds / 3600)h\(minutes)m"
    }
}
