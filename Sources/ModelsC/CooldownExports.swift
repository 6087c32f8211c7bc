// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore

/// The object behind `models_cooldown *`. Routers that share the tracker hold
/// the core `Cooldown` itself, so freeing the handle while they use it is safe.
final class CooldownObject: OpaqueHandle {
    let cooldown: Cooldown
    init(_ cooldown: Cooldown) { self.cooldown = cooldown }
}

private func withCooldown<T>(_ c: OpaquePointer?, _ model: UnsafePointer<CChar>?, default value: T,
                             _ body: (Cooldown, String) -> T) -> T {
    guard let c, let model, let name = CStrings.string(model, limit: 4096) else { return value }
    return body(CooldownObject.from(c).cooldown, name)
}

@_cdecl("models_cooldown_new")
public func models_cooldown_new(_ baseMs: Int64, _ maxMs: Int64, _ multiplier: Double) -> OpaquePointer? {
    var config = CooldownConfig()
    if baseMs > 0 { config.baseMs = baseMs }
    if maxMs > 0 { config.maxMs = maxMs }
    if multiplier > 0, multiplier.isFinite { config.multiplier = max(1, multiplier) }
    if config.maxMs < config.baseMs { config.maxMs = config.baseMs }
    return CooldownObject(Cooldown(config: config)).handle
}

@_cdecl("models_cooldown_record_failure")
public func models_cooldown_record_failure(_ c: OpaquePointer?, _ model: UnsafePointer<CChar>?) {
    withCooldown(c, model, default: ()) { cooldown, name in _ = cooldown.recordFailure(name) }
}

@_cdecl("models_cooldown_record_success")
public func models_cooldown_record_success(_ c: OpaquePointer?, _ model: UnsafePointer<CChar>?) {
    withCooldown(c, model, default: ()) { cooldown, name in cooldown.recordSuccess(name) }
}

@_cdecl("models_cooldown_is_available")
public func models_cooldown_is_available(_ c: OpaquePointer?, _ model: UnsafePointer<CChar>?) -> Int32 {
    withCooldown(c, model, default: 1) { cooldown, name in cooldown.isAvailable(name) ? 1 : 0 }
}

@_cdecl("models_cooldown_remaining_ms")
public func models_cooldown_remaining_ms(_ c: OpaquePointer?, _ model: UnsafePointer<CChar>?) -> Int64 {
    withCooldown(c, model, default: 0) { cooldown, name in cooldown.remainingMs(name) }
}

@_cdecl("models_cooldown_available_from")
public func models_cooldown_available_from(_ c: OpaquePointer?, _ models: UnsafePointer<CChar>?) -> UnsafeMutablePointer<CChar>? {
    guard let c, let models, let bytes = CStrings.bytes(models, limit: 16 << 20),
          let json = try? JSON.parse(bytes), let items = json.array else { return nil }
    var names: [String] = []
    for item in items {
        guard let name = item.string else { return nil }
        names.append(name)
    }
    let available = CooldownObject.from(c).cooldown.availableFrom(names)
    return CStrings.copy(JSON.array(available.map { .string($0) }).serialized())
}

@_cdecl("models_cooldown_reset")
public func models_cooldown_reset(_ c: OpaquePointer?, _ model: UnsafePointer<CChar>?) {
    withCooldown(c, model, default: ()) { cooldown, name in cooldown.reset(name) }
}

@_cdecl("models_cooldown_reset_all")
public func models_cooldown_reset_all(_ c: OpaquePointer?) {
    guard let c else { return }
    CooldownObject.from(c).cooldown.resetAll()
}

@_cdecl("models_cooldown_gc")
public func models_cooldown_gc(_ c: OpaquePointer?) {
    guard let c else { return }
    CooldownObject.from(c).cooldown.gc()
}

@_cdecl("models_cooldown_free")
public func models_cooldown_free(_ c: OpaquePointer?) {
    guard let c else { return }
    CooldownObject.release(c)
}
