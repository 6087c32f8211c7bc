// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

extension ProviderRegistry {
    /// The providers of a config: one per entry of `providers`, then those the
    /// environment provides for the models the config names (see
    /// `build(_:models:shared:environment:)`).
    public static func build(_ config: RouterConfig, environment env: Environment = processEnvironment)
        throws(ModelsError) -> [String: any ChatProvider]
    {
        let groups = Set(config.modelGroups.map(\.name))
        let named = [config.primary] + config.fallbacks + config.fallbackPolicy.contextWindowFallbacks
            + config.fallbackPolicy.contentPolicyFallbacks
        let models = named.filter { !groups.contains($0) } + config.modelGroups.flatMap { $0.deployments.map(\.model) }
        let shared = Shared(thinking: config.thinking, exchangeTimeoutMs: min(config.timeoutMs, 30_000))
        return try build(config.providers, models: models, shared: shared, environment: env)
    }
}
