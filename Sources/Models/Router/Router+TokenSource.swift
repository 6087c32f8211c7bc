// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

extension Router {
    /// Serves the provider `name` of the config (or a known provider the config
    /// does not name, such as "openai") with its key or token from `auth`
    /// instead of the config and the environment. Replaces the provider
    /// registered under that name; requests already running finish with the
    /// old one. Thread-safe.
    package func setTokenSource(_ auth: TokenAuth, provider name: String, function: String) throws(ModelsError) {
        let pc: ProviderConfig
        if let configured = config.providers.first(where: { $0.name == name })?.config {
            pc = configured
        } else if KnownProviders.defaultBaseURL(name) != nil {
            pc = ProviderConfig()
        } else {
            throw .invalidArgument("\(function): no provider \"\(name)\" in the config's \"providers\", and it is not a known provider")
        }
        register(try ProviderRegistry.make(name: name, config: pc, shared: ProviderRegistry.shared(config), environment: { _ in nil },
                                           token: auth))
    }
}
