// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore

/// The object behind `models_router *`.
final class RouterObject: OpaqueHandle {
    let router: Router
    init(_ router: Router) { self.router = router }
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
    do throws(ModelsError) {
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
    RouterObject.release(r)
}

/// The most fallbacks models_router_set_models() takes.
private let maxFallbacks: UInt = 10_000

@_cdecl("models_router_set_models")
public func models_router_set_models(_ r: OpaquePointer?, _ primary: UnsafePointer<CChar>?,
                                     _ fallbacks: UnsafePointer<UnsafePointer<CChar>?>?, _ count: UInt,
                                     _ err: ErrorOut?) -> Int32 {
    do throws(ModelsError) {
        let router = try routerObject(r, function: "models_router_set_models").router
        guard let primary else { throw .invalidArgument("models_router_set_models: primary is NULL") }
        guard let primaryName = CStrings.string(primary, limit: 4096) else {
            throw .invalidArgument("models_router_set_models: primary is not valid UTF-8 or longer than 4096 bytes")
        }
        // size_t: printed unsigned, as the caller passed it.
        guard count <= maxFallbacks else {
            throw .invalidArgument("models_router_set_models: n_fallbacks is \(count), more than the limit of \(maxFallbacks)")
        }
        guard count == 0 || fallbacks != nil else {
            throw .invalidArgument("models_router_set_models: fallbacks is NULL but n_fallbacks is \(count)")
        }
        var names: [String] = []
        for i in 0..<Int(count) {
            guard let p = fallbacks![i] else { throw .invalidArgument("models_router_set_models: fallbacks[\(i)] is NULL") }
            guard let name = CStrings.string(p, limit: 4096) else {
                throw .invalidArgument("models_router_set_models: fallbacks[\(i)] is not valid UTF-8 or longer than 4096 bytes")
            }
            names.append(name)
        }
        try router.setModels(primary: primaryName, fallbacks: names)
        return succeed(err)
    } catch {
        return fail(error, err)
    }
}

@_cdecl("models_router_health")
public func models_router_health(_ r: OpaquePointer?) -> UnsafeMutablePointer<CChar>? {
    guard let r else { return nil }
    return CStrings.copy(JSON.array(RouterObject.from(r).router.health().map(\.json)).serialized())
}

@_cdecl("models_router_metrics")
public func models_router_metrics(_ r: OpaquePointer?) -> UnsafeMutablePointer<CChar>? {
    guard let r else { return nil }
    return CStrings.copy(RouterObject.from(r).router.metrics.prometheusText())
}

@_cdecl("models_router_providers")
public func models_router_providers(_ r: OpaquePointer?) -> UnsafeMutablePointer<CChar>? {
    guard let r else { return nil }
    return CStrings.copy(JSON.array(RouterObject.from(r).router.providerNames.map { .string($0) }).serialized())
}

@_cdecl("models_router_set_cooldown")
public func models_router_set_cooldown(_ r: OpaquePointer?, _ c: OpaquePointer?) -> Int32 {
    guard let r else { return ModelsCode.invalidArgument.rawValue }
    RouterObject.from(r).router.setCooldown(c.map { CooldownObject.from($0).cooldown })
    return ModelsCode.ok.rawValue
}

public typealias EventFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int) -> Void

@_cdecl("models_router_set_event_handler")
public func models_router_set_event_handler(_ r: OpaquePointer?, _ fn: EventFunction?, _ user: UnsafeMutableRawPointer?) -> Int32 {
    guard let r else { return ModelsCode.invalidArgument.rawValue }
    let events = RouterObject.from(r).router.events
    guard let fn else {
        events.set(nil)
        return ModelsCode.ok.rawValue
    }
    // The caller's pointer as bits: handed back as it was given, never dereferenced.
    let userBits = UInt(bitPattern: user)
    events.set { text in
        fn(UnsafeMutableRawPointer(bitPattern: userBits), text.baseAddress?.assumingMemoryBound(to: CChar.self), text.count)
    }
    return ModelsCode.ok.rawValue
}
