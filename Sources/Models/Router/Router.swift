/// Routes OpenAI-shaped chat requests to providers: the primary model, then each
/// fallback. Thread-safe: one router serves many threads at once.
public final class Router: Sendable {
    public let config: RouterConfig

    public init(config: RouterConfig) throws(ModelsError) {
        self.config = config
    }
}
