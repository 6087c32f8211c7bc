// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore

/// The object behind `models_error *`: a core error plus its message as a C string
/// that lives as long as the object.
final class ErrorObject: OpaqueHandle {
    let error: ModelsError
    let cMessage: UnsafeMutablePointer<CChar>?

    init(_ error: ModelsError) {
        self.error = error
        cMessage = CStrings.copy(error.message)
    }

    deinit { free(cMessage) }
}

public typealias ErrorOut = UnsafeMutablePointer<OpaquePointer?>

/// Stores the error in `*err` (when err is not NULL) and returns its code.
@discardableResult
func fail(_ error: ModelsError, _ err: ErrorOut?) -> Int32 {
    err?.pointee = ErrorObject(error).handle
    return error.code.rawValue
}

/// Sets `*err` to NULL on success, as the header promises.
@inline(__always) @discardableResult
func succeed(_ err: ErrorOut?) -> Int32 {
    err?.pointee = nil
    return ModelsCode.ok.rawValue
}

@_cdecl("models_error_code")
public func models_error_code(_ e: OpaquePointer?) -> Int32 {
    guard let e else { return ModelsCode.invalidArgument.rawValue }
    return ErrorObject.from(e).error.code.rawValue
}

nonisolated(unsafe) private let nullErrorMessage = CStrings.immortal("no error object (NULL)")

@_cdecl("models_error_message")
public func models_error_message(_ e: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let e else { return nullErrorMessage }
    return UnsafePointer(ErrorObject.from(e).cMessage) ?? nullErrorMessage
}

@_cdecl("models_error_status")
public func models_error_status(_ e: OpaquePointer?) -> Int32 {
    guard let e else { return 0 }
    return Int32(clamping: ErrorObject.from(e).error.status)
}

@_cdecl("models_error_retry_after_ms")
public func models_error_retry_after_ms(_ e: OpaquePointer?) -> Int64 {
    guard let e else { return 0 }
    return ErrorObject.from(e).error.retryAfterMs
}

nonisolated(unsafe) private let kindNames: [ErrorKind: UnsafePointer<CChar>] = Dictionary(
    uniqueKeysWithValues: ErrorKind.allCases.map { ($0, CStrings.immortal($0.rawValue)) })

@_cdecl("models_error_kind")
public func models_error_kind(_ e: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let e else { return nil }
    return kindNames[ErrorObject.from(e).error.kind]
}

@_cdecl("models_error_is_transient")
public func models_error_is_transient(_ e: OpaquePointer?) -> Int32 {
    guard let e else { return 0 }
    return ErrorObject.from(e).error.isTransient ? 1 : 0
}

@_cdecl("models_error_free")
public func models_error_free(_ e: OpaquePointer?) {
    guard let e else { return }
    ErrorObject.release(e)
}

@_cdecl("models_status_is_transient")
public func models_status_is_transient(_ status: Int32) -> Int32 {
    ModelsError.isTransientStatus(Int(status)) ? 1 : 0
}
