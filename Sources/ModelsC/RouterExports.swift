import Glibc
import Models

/// The object behind `models_router *`.
final class RouterObject {
    let router: Router
    init(_ router: Router) { self.router = router }

    var handle: OpaquePointer { OpaquePointer(Unmanaged.passRetained(self).toOpaque()) }
    static func from(_ handle: OpaquePointer) -> RouterObject {
        Unmanaged<RouterObject>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }
}

@_cdecl("models_router_new")
public func models_router_new(_ configText: UnsafePointer<CChar>?, _ err: ErrorOut?) -> OpaquePointer? {
    guard let configText else {
        fail(.invalidArgument("models_router_new: config_json is NULL"), err)
        return nil
    }
    guard let bytes = CStrings.bytes(configText, limit: RouterConfig.maxTextBytes) else {
        fail(.invalidArgument("config: larger than the limit of \(RouterConfig.maxTextBytes) bytes"), err)
        return nil
    }
    do {
        let config = try RouterConfig(text: bytes)
        let router = try Router(config: config)
        succeed(err)
        return RouterObject(router).handle
    } catch {
        fail(error, err)
        return nil
    }
}

@_cdecl("models_router_free")
public func models_router_free(_ r: OpaquePointer?) {
    guard let r else { return }
    Unmanaged<RouterObject>.fromOpaque(UnsafeRawPointer(r)).release()
}
