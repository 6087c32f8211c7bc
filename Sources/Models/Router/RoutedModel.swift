// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

/// A model name with its provider's name, the provider (nil when none is
/// registered under that name) and the id the provider receives: looked up
/// once, when the models or the providers change, so a request does no lookups.
struct RoutedModel {
    let name: String
    let providerName: String
    let provider: (any ChatProvider)?
    let id: String

    init(_ name: String, providers: [String: any ChatProvider]) {
        self.name = name
        providerName = ModelName.provider(of: name)
        provider = providers[providerName]
        id = ModelName.modelID(name)
    }
}
