// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

/// What a model's tokens cost, in US dollars per million tokens (the config's
/// `prices`). There is no built-in list: prices change, and a stale one would
/// report wrong costs silently.
public struct Price: Sendable, Equatable {
    public var inputPerMillion: Double
    public var outputPerMillion: Double
    /// Prompt tokens read from the provider's cache; nil: charged as input.
    public var cachedInputPerMillion: Double?

    public init(inputPerMillion: Double, outputPerMillion: Double, cachedInputPerMillion: Double? = nil) {
        (self.inputPerMillion, self.outputPerMillion, self.cachedInputPerMillion) = (inputPerMillion, outputPerMillion, cachedInputPerMillion)
    }

    /// The largest price per million tokens accepted.
    static let maxPerMillion = 1_000_000.0

    /// The cost of `usage` in US dollars: uncached input, cached input and
    /// output tokens, each at its price. Finite for any counts (at most about
    /// 2.8e19 dollars for three times Int64.max tokens at the largest price).
    public func cost(of usage: TokenUsage) -> Double {
        let cached = min(usage.cachedInput, usage.input)
        let uncached = usage.input.saturatingSubtract(cached)
        let dollars = Double(uncached) * inputPerMillion + Double(cached) * (cachedInputPerMillion ?? inputPerMillion)
            + Double(usage.output) * outputPerMillion
        return dollars / 1_000_000
    }
}

/// Prices by model or deployment name ("openai/gpt-4o").
public struct PriceTable: Sendable, Equatable {
    public var prices: [String: Price] = [:]

    public init(_ prices: [String: Price] = [:]) { self.prices = prices }

    public var isEmpty: Bool { prices.isEmpty }

    public func has(_ model: String) -> Bool { !prices.isEmpty && prices[model] != nil }

    /// The cost of `usage` on `model`; nil when the table has no price for it.
    public func cost(_ model: String, _ usage: TokenUsage) -> Double? {
        guard !prices.isEmpty, let price = prices[model] else { return nil }
        return price.cost(of: usage)
    }

    static let keys = ["input_per_million", "output_per_million", "cached_input_per_million"]

    /// Reads the config's `prices` object: `{"provider/model": {"input_per_million":
    /// 2.5, "output_per_million": 10, "cached_input_per_million": 1.25}}`.
    static func read(_ top: ConfigReader) throws(ModelsError) -> PriceTable {
        var table = PriceTable()
        for (model, value) in try top.objectMembers("prices") ?? [] {
            if let problem = ModelName.problem(with: model) {
                throw .invalidArgument("config: \"prices\" has a key that \(problem); keys are model names such as \"openai/gpt-4o\"")
            }
            let r = try ConfigReader(value, path: "prices.\(model)", allowed: keys)
            func price(_ key: String) throws(ModelsError) -> Double? {
                guard let v = r.object[key] else { return nil }
                guard let d = v.double, d.isFinite, d >= 0, d <= Price.maxPerMillion else {
                    throw .invalidArgument("config: \"prices.\(model).\(key)\" must be a number from 0 to \(Int(Price.maxPerMillion)) (US dollars per million tokens)")
                }
                return d
            }
            guard let input = try price("input_per_million"), let output = try price("output_per_million") else {
                let missing = r.has("input_per_million") ? "output_per_million" : "input_per_million"
                throw .invalidArgument("config: \"prices.\(model).\(missing)\" is required")
            }
            table.prices[model] = Price(inputPerMillion: input, outputPerMillion: output,
                                        cachedInputPerMillion: try price("cached_input_per_million"))
        }
        return table
    }
}
