// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore
import ModelsProviders

nonisolated(unsafe) private let versionString = CStrings.immortal(LibraryVersion.string)

@_cdecl("models_version")
public func models_version() -> UnsafePointer<CChar> { versionString }

nonisolated(unsafe) private let codeNames: [Int32: UnsafePointer<CChar>] = Dictionary(
    uniqueKeysWithValues: ModelsCode.allCases.map { ($0.rawValue, CStrings.immortal($0.name)) })
nonisolated(unsafe) private let unknownCodeName = CStrings.immortal("MODELS_UNKNOWN_CODE")

@_cdecl("models_code_name")
public func models_code_name(_ code: Int32) -> UnsafePointer<CChar> {
    codeNames[code] ?? unknownCodeName
}

@_cdecl("models_free")
public func models_free(_ p: UnsafeMutableRawPointer?) { free(p) }

@_cdecl("models_model_id")
public func models_model_id(_ full: UnsafePointer<CChar>?) -> UnsafeMutablePointer<CChar>? {
    guard let full, let name = CStrings.string(full) else { return nil }
    return CStrings.copy(ModelName.modelID(name))
}

nonisolated(unsafe) private let knownBaseURLs: [(name: String, url: UnsafePointer<CChar>)] =
    KnownProviders.baseURLs.map { ($0.name, CStrings.immortal($0.url)) }

@_cdecl("models_default_base_url")
public func models_default_base_url(_ provider: UnsafePointer<CChar>?) -> UnsafePointer<CChar>? {
    guard let provider, let name = CStrings.string(provider, limit: 256) else { return nil }
    return knownBaseURLs.first(where: { $0.name == name })?.url
}

public typealias LogFunction = @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void

@_cdecl("models_set_log_handler")
public func models_set_log_handler(_ fn: LogFunction?, _ user: UnsafeMutableRawPointer?, _ minLevel: Int32) {
    let level = Log.Level(rawValue: min(max(minLevel, 0), 3)) ?? .info
    guard let fn else { Log.setSink(nil, minLevel: level); return }
    let userBits = UInt(bitPattern: user)
    Log.setSink({ level, message in
        message.withCString { fn(UnsafeMutableRawPointer(bitPattern: userBits), level.rawValue, $0) }
    }, minLevel: level)
}
